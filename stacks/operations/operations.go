// Package operations holds the DR operations role: what an on-call engineer assumes to
// run the failover runbook, and nothing more.
//
// The role has no Route 53 write: creating or changing records and health checks is the
// Route 53 control plane, served from us-east-1, the region whose loss the runbook is
// for. Its levers are data-plane writes: the drain flags and the primary's gate override
// in the global table (through either region's DynamoDB endpoint) and, with FAILOVER_CONTROL=arc, routing-control
// state on the ARC cluster's regional endpoints.
package operations

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Config of the role.
type Config struct {
	Site site.Site
	Name string
	// Operators are the IAM roles and users trusted to assume the role; New declares
	// nothing without them.
	Operators []string
	// ExternalID, when set, is required in addition.
	ExternalID string
	// What the runbook looks at and touches.
	HealthCheckIDs []*string
	ZoneID         *string
	AlarmArns      []*string
	// TableArns are the table's ARNs in Regions (same order).
	TableArns  []*string
	Regions    []string
	BucketArns []*string
	// RoutingControlArns are the ARC routing controls; empty without FAILOVER_CONTROL=arc.
	RoutingControlArns []*string
}

// LeadingKeys is the condition that limits a DynamoDB statement to the items whose
// partition key is one of keys. ForAllValues: every key the request touches must be in
// the list. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
func LeadingKeys(keys ...string) iam.Condition {
	return iam.Condition{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: *jsii.Strings(keys...)}
}

// New declares the role, assumable only by the named operators, and returns its ARN; nil,
// and no role, without operators: a role the account root trusts would let any principal
// with sts:AssumeRole on it in, and an external id in the repository is no secret.
// Naming the principals in the trust policy is what keeps everyone else out.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
func New(scope constructs.Construct, id string, cfg Config) *string {
	if len(cfg.Operators) == 0 {
		return nil
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	var checks, objects []*string
	for _, hc := range cfg.HealthCheckIDs {
		checks = append(checks, jsii.String("arn:aws:route53:::healthcheck/"+*hc))
	}
	for _, b := range cfg.BucketArns {
		objects = append(objects, jsii.String(*b+"/"+function.ReceiptsPrefix+"*"))
	}
	var indexArns []*string
	for _, t := range cfg.TableArns {
		indexArns = append(indexArns, jsii.String(*t+"/index/"+control.AcceptIndex))
	}
	var drainKeys, peerKeys []string
	for _, r := range cfg.Regions {
		drainKeys = append(drainKeys, control.DrainKey(r))
		peerKeys = append(peerKeys, control.PeerKey(r))
	}
	policy := []iam.Statement{
		{Sid: "ReadHealthChecks", Actions: []string{"route53:GetHealthCheck", "route53:GetHealthCheckLastFailureReason", "route53:GetHealthCheckStatus"}, Resources: checks},
		{Sid: "ReadFailoverRecords", Actions: []string{"route53:GetHostedZone", "route53:ListResourceRecordSets"}, Resources: []*string{jsii.String("arn:aws:route53:::hostedzone/" + *cfg.ZoneID)}},
		{Sid: "ReadAlarmHistory", Actions: []string{"cloudwatch:DescribeAlarmHistory"}, Resources: cfg.AlarmArns},
		// Listing alarms by prefix or state is checked against every alarm.
		{Sid: "ListAlarms", Actions: []string{"cloudwatch:DescribeAlarms"}, Resources: []*string{jsii.String("*")}},
		// Metric reads have no resource-level permissions in CloudWatch.
		{Sid: "ReadReplicationMetrics", Actions: []string{"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics"}, Resources: []*string{jsii.String("*")}},
		{Sid: "ReadTableReplicaStatus", Actions: []string{"dynamodb:DescribeTable"}, Resources: cfg.TableArns},
		// Confirming that drill payments reached the other region reads them.
		{Sid: "CheckPaymentsReplicated", Actions: []string{"dynamodb:GetItem"}, Resources: cfg.TableArns},
		// drain/undrain: the only items this role may write are the two drain flags, in
		// either replica, so the surviving region's endpoint can drain the failed one.
		{Sid: "SetDrainFlags", Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, Resources: cfg.TableArns,
			Conditions: []iam.Condition{LeadingKeys(drainKeys...)}},
		// gate open|close: the override of the primary's failback gate, in either
		// replica (the command writes both, so either region may be gone).
		{Sid: "SetGateOverride", Actions: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Resources: cfg.TableArns,
			Conditions: []iam.Condition{LeadingKeys(control.OverrideKey(cfg.Site.Region))}},
		// status and failback-check evaluate the primary's gate as its /health does,
		// read-only: the secondary's accept index and the primary's copies of those
		// payments and of the gate's items.
		{Sid: "EvaluateFailbackGate", Actions: []string{"dynamodb:Query"}, Resources: indexArns},
		{Sid: "EvaluateFailbackGateHere", Actions: []string{"dynamodb:BatchGetItem"}, Resources: cfg.TableArns},
		// status and failback-check read what each region's peer probe saw of the other.
		{Sid: "ReadPeerObservations", Actions: []string{"dynamodb:GetItem"}, Resources: cfg.TableArns,
			Conditions: []iam.Condition{LeadingKeys(peerKeys...)}},
		{Sid: "ReadReceiptReplication", Actions: []string{"s3:GetReplicationConfiguration", "s3:ListBucket", "s3:ListBucketVersions"}, Resources: cfg.BucketArns},
		// Older versions hold the receipt of a payment another region overwrote.
		{Sid: "CheckReceiptsReplicated", Actions: []string{"s3:GetObject", "s3:GetObjectVersion"}, Resources: objects},
	}
	if len(cfg.RoutingControlArns) > 0 {
		// ARC data plane (cluster endpoints), on these routing controls only; the
		// configuration API (route53-recovery-control-config) stays out of reach.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_route53-recovery-cluster.html
		policy = append(policy,
			iam.Statement{Sid: "FlipRoutingControls", Actions: []string{"route53-recovery-cluster:GetRoutingControlState", "route53-recovery-cluster:UpdateRoutingControlState", "route53-recovery-cluster:UpdateRoutingControlStates"}, Resources: cfg.RoutingControlArns},
			// ListRoutingControls names no resource type in the service authorization
			// reference, so it is granted on "*"; it only reads names and states.
			iam.Statement{Sid: "ListRoutingControls", Actions: []string{"route53-recovery-cluster:ListRoutingControls"}, Resources: []*string{jsii.String("*")}},
		)
	}
	trust := iam.Statement{Principals: map[string][]*string{"AWS": *jsii.Strings(cfg.Operators...)}}
	if cfg.ExternalID != "" {
		trust.Conditions = []iam.Condition{{Test: "StringEquals", Variable: "sts:ExternalId", Values: []*string{jsii.String(cfg.ExternalID)}}}
	}
	role := iam.NewRole(c, "role", iam.RoleConfig{
		Site:   cfg.Site,
		Name:   cfg.Name,
		Trust:  trust,
		Policy: policy,
	})
	return role.Arn
}
