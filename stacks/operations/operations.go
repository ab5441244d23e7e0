// Package operations holds the DR operations role: what an on-call engineer assumes to
// run the failover runbook, and nothing more.
package operations

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Config of the role.
type Config struct {
	Site       site.Site
	Name       string
	AccountID  *string
	ExternalID string
	// What the runbook looks at and touches.
	HealthCheckIDs []*string
	ZoneID         *string
	AlarmArns      []*string
	TableArns      []*string
	BucketArns     []*string
}

// New declares the role, assumable by principals of this account that present the
// external id, and returns its ARN.
func New(scope constructs.Construct, id string, cfg Config) *string {
	c := constructs.NewConstruct(scope, jsii.String(id))
	var checks, objects []*string
	for _, hc := range cfg.HealthCheckIDs {
		checks = append(checks, jsii.String("arn:aws:route53:::healthcheck/"+*hc))
	}
	for _, b := range cfg.BucketArns {
		objects = append(objects, jsii.String(*b+"/"+function.ReceiptsPrefix+"*"))
	}
	role := iam.NewRole(c, "role", iam.RoleConfig{
		Site: cfg.Site,
		Name: cfg.Name,
		Trust: iam.Statement{
			Principals: map[string][]*string{"AWS": {jsii.String(fmt.Sprintf("arn:aws:iam::%s:root", *cfg.AccountID))}},
			Conditions: []iam.Condition{{Test: "StringEquals", Variable: "sts:ExternalId", Values: []*string{jsii.String(cfg.ExternalID)}}},
		},
		Policy: []iam.Statement{
			// Inverting a check is how an operator forces or cancels a failover by hand.
			{Sid: "ReadAndFlipHealthChecks", Actions: []string{"route53:GetHealthCheck", "route53:GetHealthCheckLastFailureReason", "route53:GetHealthCheckStatus", "route53:UpdateHealthCheck"}, Resources: checks},
			{Sid: "ReadFailoverRecords", Actions: []string{"route53:GetHostedZone", "route53:ListResourceRecordSets"}, Resources: []*string{jsii.String("arn:aws:route53:::hostedzone/" + *cfg.ZoneID)}},
			{Sid: "ReadAlarmHistory", Actions: []string{"cloudwatch:DescribeAlarmHistory"}, Resources: cfg.AlarmArns},
			// Listing alarms by prefix or state is checked against every alarm.
			{Sid: "ListAlarms", Actions: []string{"cloudwatch:DescribeAlarms"}, Resources: []*string{jsii.String("*")}},
			// Metric reads have no resource-level permissions in CloudWatch.
			{Sid: "ReadReplicationMetrics", Actions: []string{"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics"}, Resources: []*string{jsii.String("*")}},
			{Sid: "ReadTableReplicaStatus", Actions: []string{"dynamodb:DescribeTable"}, Resources: cfg.TableArns},
			// Confirming that drill payments reached the other region reads them.
			{Sid: "CheckPaymentsReplicated", Actions: []string{"dynamodb:GetItem"}, Resources: cfg.TableArns},
			{Sid: "ReadReceiptReplication", Actions: []string{"s3:GetReplicationConfiguration", "s3:ListBucket", "s3:ListBucketVersions"}, Resources: cfg.BucketArns},
			// Older versions hold the receipt of a payment another region overwrote.
			{Sid: "CheckReceiptsReplicated", Actions: []string{"s3:GetObject", "s3:GetObjectVersion"}, Resources: objects},
		},
	})
	return role.Arn
}
