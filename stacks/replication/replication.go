// Package replication holds one direction of receipts replication: a role limited to the
// two buckets, a rule with Replication Time Control, and the alarms on its
// latency, backlog and failures, each in the region where S3 publishes its metric.
// payments-dr declares it twice, once each way, so receipts written in the secondary
// during a failover reach the primary.
package replication

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketreplicationconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/metricregion"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
)

// RTCMinutes is S3 Replication Time Control's only threshold: 99.99% of objects within it.
const RTCMinutes = 15

// Config of one direction.
type Config struct {
	RoleName string
	// AccountID owns both buckets: S3 may assume the role only on behalf of its buckets.
	AccountID *string
	From, To  bucket.Bucket
	// Topics by region: each alarm goes to the topic of the region where S3 publishes its
	// metric (metricregion), which is From's for failures and To's for latency and backlog.
	Topics monitoring.Topics
	// AlarmName builds an alarm name from a service word; it is the caller's naming scheme.
	AlarmName func(service string) string
}

// ReplicationTrust is the role's trust policy: the S3 service principal and
// sts:AssumeRole, as the S3 user guide gives it, plus aws:SourceAccount, so that S3 can
// assume the role only for a replication configuration of a bucket in this account
// (cross-service confused-deputy protection: "We recommend using these condition keys
// whenever access to one of your resources is granted to an AWS service principal").
// S3 includes the key when it acts for a bucket whose configuration triggered the call,
// as it does here; were it ever absent, AssumeRole would be denied and every receipt
// would fail to replicate with AssumeRoleNotPermitted, which the failed-replication
// alarm below (a CloudWatch metric, unaffected by this condition) pages on.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-metrics-events.html
func ReplicationTrust(accountID *string) iam.Statement {
	return iam.ServiceTrust("s3.amazonaws.com", iam.SourceAccount(accountID))
}

// Direction is what the stack and the recovery report need of one direction.
type Direction struct {
	RuleID string
}

// New declares the role, the replication configuration on From, and two alarms.
func New(scope constructs.Construct, id string, cfg Config) Direction {
	c := constructs.NewConstruct(scope, jsii.String(id))
	src, dst := cfg.From, cfg.To
	objects := func(b bucket.Bucket) *string { return jsii.String(*b.Arn + "/*") }
	role := iam.NewRole(c, "role", iam.RoleConfig{
		Site:  src.Site,
		Name:  cfg.RoleName,
		Trust: ReplicationTrust(cfg.AccountID),
		Policy: []iam.Statement{
			{Sid: "ReadSourceConfiguration", Actions: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resources: []*string{src.Arn}},
			{Sid: "ReadSourceVersions", Actions: []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"}, Resources: []*string{objects(src)}},
			{Sid: "WriteDestinationReplicas", Actions: []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}, Resources: []*string{objects(dst)}},
			// No KMS statement: S3 decrypts with the source key and encrypts with the
			// destination key through S3 in each key's region, which each key policy grants
			// this account's principals itself; an IAM grant would have no effect there
			// (package encryption).
		},
	})
	ruleID := "receipts-to-" + dst.Site.Region
	deps := append([]cdktf.ITerraformDependable{src.Versioning, dst.Versioning}, role.Grants...)
	s3bucketreplicationconfiguration.NewS3BucketReplicationConfigurationA(c, jsii.String("configuration"), &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationAConfig{
		Provider: src.Site.Provider,
		Bucket:   src.Name,
		Role:     role.Arn,
		Rule: &[]*s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRule{{
			Id:       jsii.String(ruleID),
			Status:   jsii.String("Enabled"),
			Priority: jsii.Number(1),
			Filter:   &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleFilter{Prefix: jsii.String("")},
			DeleteMarkerReplication: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDeleteMarkerReplication{
				Status: jsii.String("Enabled"),
			},
			SourceSelectionCriteria: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleSourceSelectionCriteria{
				SseKmsEncryptedObjects: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects{Status: jsii.String("Enabled")},
				// Replicas changed in the other region (metadata, tags) flow back too.
				ReplicaModifications: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleSourceSelectionCriteriaReplicaModifications{Status: jsii.String("Enabled")},
			},
			Destination: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestination{
				Bucket: dst.Arn,
				// Replicas are re-encrypted with the destination region's key, so they stay
				// readable when the source region (and its key) is gone.
				EncryptionConfiguration: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration{
					ReplicaKmsKeyId: dst.KMSKeyArn,
				},
				ReplicationTime: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestinationReplicationTime{
					Status: jsii.String("Enabled"),
					Time:   &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime{Minutes: jsii.Number(RTCMinutes)},
				},
				// RTC requires replication metrics; they are also what the alarms below watch.
				Metrics: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestinationMetrics{
					Status:         jsii.String("Enabled"),
					EventThreshold: &s3bucketreplicationconfiguration.S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold{Minutes: jsii.Number(RTCMinutes)},
				},
			},
		}},
		// S3 rejects a replication configuration unless both buckets are versioned, and
		// the role must be able to act the moment replication starts.
		DependsOn: &deps,
	})

	dims := map[string]*string{"SourceBucket": src.Name, "DestinationBucket": dst.Name, "RuleId": jsii.String(ruleID)}
	place := metricregion.Place{Source: src.Site.Region, Destination: dst.Site.Region}
	// Latency and backlog are measured in the destination's region, failures in the
	// source's (metricregion cites the page): the latency alarm pages from the region the
	// receipts are meant to reach, so it still fires when the source region is gone.
	cfg.Topics.Alarm("latency-alarm-"+src.Site.Role, monitoring.Alarm{
		Name:        cfg.AlarmName("receipts-replication-latency"),
		Description: "Receipts replication from " + src.Site.Region + " to " + dst.Site.Region + " is slower than Replication Time Control's 15-minute threshold.",
		Namespace:   "AWS/S3", Metric: "ReplicationLatency", Dimensions: dims, Place: place,
		Statistic: "Maximum", PeriodSeconds: 300, EvaluationPeriods: 1,
		Threshold: RTCMinutes * 60, Comparison: "GreaterThanThreshold",
	})
	// A backlog that has not drained for half an hour: receipts written in the source are
	// not yet readable here even if each one eventually makes it.
	cfg.Topics.Alarm("pending-alarm-"+src.Site.Role, monitoring.Alarm{
		Name:        cfg.AlarmName("receipts-replication-pending"),
		Description: "Receipts from " + src.Site.Region + " have been waiting to replicate to " + dst.Site.Region + " for 30 minutes.",
		Namespace:   "AWS/S3", Metric: "OperationsPendingReplication", Dimensions: dims, Place: place,
		Statistic: "Minimum", PeriodSeconds: 300, EvaluationPeriods: 2 * RTCMinutes / 5,
		Threshold: 0, Comparison: "GreaterThanThreshold",
	})
	cfg.Topics.Alarm("failed-alarm-"+src.Site.Role, monitoring.Alarm{
		Name:        cfg.AlarmName("receipts-replication-failed"),
		Description: "Receipts failed to replicate from " + src.Site.Region + " to " + dst.Site.Region + "; the copy there is missing objects.",
		Namespace:   "AWS/S3", Metric: "OperationsFailedReplication", Dimensions: dims, Place: place,
		Statistic: "Sum", PeriodSeconds: 300, EvaluationPeriods: 1,
		Threshold: 0, Comparison: "GreaterThanThreshold",
	})
	return Direction{RuleID: ruleID}
}
