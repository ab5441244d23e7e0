// Package replication holds one direction of receipts replication: a role limited to the
// two buckets and keys, a rule with Replication Time Control, and the alarms on its
// latency and failures. payments-dr declares it twice, once each way, so receipts
// written in the secondary during a failover reach the primary.
package replication

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketreplicationconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
)

// RTCMinutes is S3 Replication Time Control's only threshold: 99.99% of objects within it.
const RTCMinutes = 15

// Config of one direction.
type Config struct {
	RoleName  string
	From, To  bucket.Bucket
	AccountID *string
	// Topic in From's region: replication metrics are published there.
	Topic *monitoring.Topic
	// AlarmName builds an alarm name from a service word; it is the caller's naming scheme.
	AlarmName func(service string) string
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
	via := func(region string) iam.Condition {
		return iam.Condition{Test: "StringEquals", Variable: "kms:ViaService", Values: []*string{jsii.String("s3." + region + ".amazonaws.com")}}
	}
	role := iam.NewRole(c, "role", iam.RoleConfig{
		Site:  src.Site,
		Name:  cfg.RoleName,
		Trust: iam.ServiceTrust("s3.amazonaws.com", iam.SourceAccount(cfg.AccountID)),
		Policy: []iam.Statement{
			{Sid: "ReadSourceConfiguration", Actions: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resources: []*string{src.Arn}},
			{Sid: "ReadSourceVersions", Actions: []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"}, Resources: []*string{objects(src)}},
			{Sid: "WriteDestinationReplicas", Actions: []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}, Resources: []*string{objects(dst)}},
			{Sid: "DecryptWithSourceKey", Actions: []string{"kms:Decrypt"}, Resources: []*string{src.KMSKeyArn}, Conditions: []iam.Condition{via(src.Site.Region)}},
			{Sid: "EncryptWithDestinationKey", Actions: []string{"kms:Encrypt", "kms:GenerateDataKey"}, Resources: []*string{dst.KMSKeyArn}, Conditions: []iam.Condition{via(dst.Site.Region)}},
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
	cfg.Topic.Alarm("latency-alarm", monitoring.Alarm{
		Name:        cfg.AlarmName("receipts-replication-latency"),
		Description: "Receipts replication to " + dst.Site.Region + " is slower than Replication Time Control's 15-minute threshold.",
		Namespace:   "AWS/S3", Metric: "ReplicationLatency", Dimensions: dims,
		Statistic: "Maximum", PeriodSeconds: 300, EvaluationPeriods: 1,
		Threshold: RTCMinutes * 60, Comparison: "GreaterThanThreshold",
	})
	cfg.Topic.Alarm("failed-alarm", monitoring.Alarm{
		Name:        cfg.AlarmName("receipts-replication-failed"),
		Description: "Receipts failed to replicate to " + dst.Site.Region + "; the copy there is missing objects.",
		Namespace:   "AWS/S3", Metric: "OperationsFailedReplication", Dimensions: dims,
		Statistic: "Sum", PeriodSeconds: 300, EvaluationPeriods: 1,
		Threshold: 0, Comparison: "GreaterThanThreshold",
	})
	return Direction{RuleID: ruleID}
}
