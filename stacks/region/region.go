// Package region holds the half of payments-dr that exists once per region, written once
// and declared for each site: the key, receipts bucket and alert topic (Base), and the
// serving path of function, API, custom domain and alarms (Serve).
package region

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdaeventsourcemapping"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/schedulerschedule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/lambda/conflict"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/jwksstore"
	"github.com/payments-dr/payments-dr/lambda/probe"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/encryption"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/metricregion"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/queue"
	"github.com/payments-dr/payments-dr/stacks/restapi"
	"github.com/payments-dr/payments-dr/stacks/site"
	"github.com/payments-dr/payments-dr/stacks/table"
	"github.com/payments-dr/payments-dr/stacks/waf"
)

// Base is what a region holds before anything serves from it.
type Base struct {
	Site    site.Site
	Config  config.Config
	KeyArn  *string
	Bucket  bucket.Bucket
	Topic   *monitoring.Topic
	Account *string
	scope   constructs.Construct
}

// BaseConfig is what a region's base needs.
type BaseConfig struct {
	Site      site.Site
	Config    config.Config
	AccountID *string
}

// NewBase declares the region's key, receipts bucket and alert topic, in a construct
// named after the site's role.
func NewBase(scope constructs.Construct, bc BaseConfig) *Base {
	s, cfg, accountID := bc.Site, bc.Config, bc.AccountID
	c := constructs.NewConstruct(scope, jsii.String(s.Role))
	key := encryption.New(c, "key", encryption.Config{
		Site: s, Name: cfg.Name("payments", s.Region), AccountID: accountID, DeletionWindowDays: 30,
		S3PublishesToTopics: true, PreventDestroy: cfg.DeletionProtection,
	})
	b := bucket.New(c, "receipts", bucket.Config{
		Site: s, Name: cfg.Name("payment-docs", s.Region), KMSKeyArn: key.Arn, PreventDestroy: cfg.DeletionProtection,
	})
	topic := monitoring.NewTopic(c, "alerts", monitoring.TopicConfig{
		Site: s, Name: cfg.Name("failover-alerts", s.Region), KMSKeyArn: key.Arn, AccountID: accountID, Email: cfg.AlertEmail,
		// Objects that fail to replicate out of this region's bucket, or miss RTC's
		// threshold, are reported per object to this region's topic.
		Buckets: []bucket.Bucket{b},
	})
	return &Base{Site: s, Config: cfg, KeyArn: key.Arn, Bucket: b, Topic: topic, Account: accountID, scope: c}
}

// AlarmName names an alarm of this region: {service}-{region}-{environment}.
func (b *Base) AlarmName(service string) string {
	return b.Config.Name(service, b.Site.Region)
}

// ServingConfig is what the serving path needs beyond the region's base.
type ServingConfig struct {
	Table table.Table
	// PaymentCode serves the API; WatchCode reads the table's stream for overwritten
	// payments; AuthorizerCode validates the callers' bearer tokens.
	PaymentCode, WatchCode, AuthorizerCode function.Code
	// OtherRegion receives this region's table writes; its lag is alarmed here.
	OtherRegion string
	// APIKeyValues: nil to generate the clients' API keys here, else the values
	// generated elsewhere, by client.
	APIKeyValues map[string]*string
	ZoneID       *string
}

// Serve declares the function, the API with its domain, the region's alarms and the
// conflict watch, and returns the API: what the failover and the outputs need.
func (b *Base) Serve(cfg ServingConfig) restapi.API {
	s, c := b.Site, b.scope
	tableArn := cfg.Table.Arns[s.Region]
	fn := function.New(c, "function", function.Config{
		Site:        s,
		Name:        b.Config.Name("payment-processor", s.Region),
		Description: "payments API",
		Code:        cfg.PaymentCode,
		Environment: map[string]*string{"TABLE_NAME": cfg.Table.Name, "RECEIPTS_BUCKET": b.Bucket.Name, "PEER_REGION": jsii.String(cfg.OtherRegion),
			// Only the primary runs the failback gate (lambda/control, gate.go);
			// only the secondary indexes the payments it accepts.
			"DR_ROLE": jsii.String(s.Role)},
		Policy:           b.paymentPolicy(cfg, tableArn),
		KMSKeyArn:        b.KeyArn,
		LogRetentionDays: b.Config.LogRetentionDays,
	})
	// The authorizer depends on nothing in the other region: only the identity
	// provider's JWKS endpoint, whose keys it keeps while that endpoint is down, and this
	// region's replica of the table, where the region's authorizers keep a copy of the
	// last good key set for execution environments that start while the provider is
	// unreachable (lambda/jwksstore). Its role may read the two regions' copies and write
	// its own region's, in this replica only (fine-grained access on the partition key:
	// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
	// and write its own log group (and traces, as every function's). PutItem only: the
	// store never updates in place. No KMS grant: the key policy alone grants use of
	// the key, through DynamoDB (package encryption).
	keySetCopies := []*string{jsii.String(jwksstore.Key(s.Region)), jsii.String(jwksstore.Key(cfg.OtherRegion))}
	authorizer := function.New(c, "authorizer", function.Config{
		Site:        s,
		Name:        b.Config.Name("payment-authorizer", s.Region),
		Description: "validates callers' JWT bearer tokens",
		Code:        cfg.AuthorizerCode,
		Environment: map[string]*string{
			"AUTH_ISSUER":   jsii.String(b.Config.AuthIssuer),
			"AUTH_AUDIENCE": jsii.String(b.Config.AuthAudience),
			"AUTH_JWKS_URL": jsii.String(b.Config.AuthJWKSURL),
			"TABLE_NAME":    cfg.Table.Name,
			"PEER_REGION":   jsii.String(cfg.OtherRegion),
		},
		Policy: []iam.Statement{
			{Sid: "ReadKeySetCopies", Actions: []string{"dynamodb:GetItem"}, Resources: []*string{tableArn},
				Conditions: []iam.Condition{{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: keySetCopies}}},
			{Sid: "SaveOwnKeySetCopy", Actions: []string{"dynamodb:PutItem"}, Resources: []*string{tableArn},
				Conditions: []iam.Condition{{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: keySetCopies[:1]}}},
		},
		KMSKeyArn:        b.KeyArn,
		LogRetentionDays: b.Config.LogRetentionDays,
		// A call is bounded to 3 s (JWKS fetch ~1 s) in the function itself; 5 s is the
		// backstop, under API Gateway's 29 s integration timeout.
		TimeoutSeconds: AuthorizerTimeoutSeconds,
	})
	api := restapi.New(c, "api", restapi.Config{
		Site:              s,
		Authorizer:        &restapi.Authorizer{FunctionName: authorizer.Name, InvokeArn: authorizer.InvokeArn},
		Name:              b.Config.Name("payment-api", s.Region),
		FunctionName:      fn.Name,
		FunctionInvokeArn: fn.InvokeArn,
		KMSKeyArn:         b.KeyArn,
		LogRetentionDays:  b.Config.LogRetentionDays,
		Clients:           b.Config.APIClients(),
		APIKeyValues:      cfg.APIKeyValues,
		QuotaPerDay:       b.Config.APIQuotaPerDay,
		DomainName:        b.Config.DomainName,
		ZoneID:            cfg.ZoneID,
	})
	acl := waf.New(c, "waf", waf.Config{
		Site:             s,
		Name:             b.Config.Name("payment-api", s.Region),
		StageArn:         api.StageArn,
		RateLimit:        b.Config.WAFRateLimit,
		HealthFamilies:   restapi.HealthFamilies,
		HealthSecret:     api.HealthSecret,
		AccountID:        b.Account,
		KMSKeyArn:        b.KeyArn,
		LogRetentionDays: b.Config.LogRetentionDays,
	})
	api.ServingHealth = append(api.ServingHealth, acl.Rules)
	b.alarms(fn, api, cfg)
	b.watchOverwrites(cfg)
	return api
}

func (b *Base) alarms(fn function.Function, api restapi.API, cfg ServingConfig) {
	t := b.Topic
	// The function's and the API's metrics are in their own region, this one.
	here := metricregion.Place{Resource: b.Site.Region}
	t.Alarm("function-errors", monitoring.Alarm{
		Name:        b.AlarmName("payment-processor-errors"),
		Description: "The payment function failed invocations in " + b.Site.Region + ".",
		Namespace:   "AWS/Lambda", Metric: "Errors", Dimensions: map[string]*string{"FunctionName": fn.Name}, Place: here,
		Statistic: "Sum", PeriodSeconds: 60, EvaluationPeriods: 3, Threshold: 5, Comparison: "GreaterThanOrEqualToThreshold",
	})
	t.Alarm("function-throttles", monitoring.Alarm{
		Name:        b.AlarmName("payment-processor-throttles"),
		Description: "The payment function is being throttled in " + b.Site.Region + "; payments are being refused.",
		Namespace:   "AWS/Lambda", Metric: "Throttles", Dimensions: map[string]*string{"FunctionName": fn.Name}, Place: here,
		Statistic: "Sum", PeriodSeconds: 60, EvaluationPeriods: 3, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold",
	})
	t.Alarm("api-5xx", monitoring.Alarm{
		Name:        b.AlarmName("payment-api-5xx"),
		Description: "The payments API answers 5XX in " + b.Site.Region + ".",
		Namespace:   "AWS/ApiGateway", Metric: "5XXError",
		Dimensions: map[string]*string{"ApiName": api.Name, "Stage": jsii.String(restapi.Stage)}, Place: here,
		Statistic: "Sum", PeriodSeconds: 60, EvaluationPeriods: 3, Threshold: 5, Comparison: "GreaterThanOrEqualToThreshold",
	})
	t.Alarm("table-replication-latency", monitoring.Alarm{
		Name:        b.AlarmName("payments-table-replication-latency"),
		Description: "Payments written in " + b.Site.Region + " take over a minute to reach " + cfg.OtherRegion + ".",
		Namespace:   "AWS/DynamoDB", Metric: "ReplicationLatency",
		Dimensions: map[string]*string{"TableName": cfg.Table.Name, "ReceivingRegion": jsii.String(cfg.OtherRegion)},
		// Writes made here, on their way to the other region: the writing region's metric.
		Place:     metricregion.Place{Writer: b.Site.Region},
		Statistic: "Average", PeriodSeconds: 60, EvaluationPeriods: 3, Threshold: TableReplicationLatencyThresholdMs,
		Comparison: "GreaterThanThreshold",
	})
}

// AuthorizerTimeoutSeconds is the authorizer function's timeout.
const AuthorizerTimeoutSeconds = 5

// TableReplicationLatencyThresholdMs bounds the payments RPO we watch: DynamoDB reports
// ReplicationLatency in milliseconds.
const TableReplicationLatencyThresholdMs = 60000

// watchOverwrites reads this region's stream of the table for payments that another
// region's write replaced or that were deleted. Global tables keep the last write, so a
// payment created under the same id in both regions within the replication lag is
// overwritten without an error anywhere; this makes it page someone.
func (b *Base) watchOverwrites(cfg ServingConfig) {
	s := b.Site
	stream := cfg.Table.StreamArns[s.Region]
	// A batch the watch still fails on after its retries is discarded, and with it the
	// only evidence of the overwrites it held: Lambda sends a record of it (shard and
	// sequence numbers, not the items) here instead, and the queue's depth pages. The
	// stream keeps the records themselves for 24 hours.
	// https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
	failures := queue.New(b.scope, "conflict-watch-failures", queue.Config{
		Site: s, Name: b.Config.Name("payment-conflict-watch-failures", s.Region), KMSKeyArn: b.KeyArn,
	})
	fn := function.New(b.scope, "conflict-watch", function.Config{
		Site:        s,
		Name:        b.Config.Name("payment-conflict-watch", s.Region),
		Description: "reports payments overwritten across regions",
		Code:        cfg.WatchCode,
		Environment: map[string]*string{"TABLE_NAME": cfg.Table.Name},
		Policy: []iam.Statement{
			{Sid: "ReadTableStream", Actions: []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}, Resources: []*string{stream}},
			// No dynamodb:ListStreams: the Service Authorization Reference lists no resource
			// type for it, so a grant scoped to this table's streams allows nothing (CDK's
			// grantTableListStreams grants it on "*" for that reason), and the event source
			// mapping is given the stream ARN, so nothing here needs to list streams.
			// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
			// The event source mapping sends the record of a discarded batch with the
			// function's role; the key is used through SQS (the key policy's statement).
			{Sid: "RecordDiscardedBatches", Actions: []string{"sqs:SendMessage"}, Resources: []*string{failures.Arn}},
		},
		KMSKeyArn:        b.KeyArn,
		LogRetentionDays: b.Config.LogRetentionDays,
		// The function prints Embedded Metric Format lines; Text keeps them as they are.
		LogFormat: "Text",
	})
	lambdaeventsourcemapping.NewLambdaEventSourceMapping(b.scope, jsii.String("conflict-watch-stream"), &lambdaeventsourcemapping.LambdaEventSourceMappingConfig{
		Provider:         s.Provider,
		FunctionName:     fn.Arn,
		EventSourceArn:   stream,
		StartingPosition: jsii.String("LATEST"),
		BatchSize:        jsii.Number(100),
		// Only changes and deletions can lose a payment; inserts are never findings.
		FilterCriteria: &lambdaeventsourcemapping.LambdaEventSourceMappingFilterCriteria{
			Filter: &[]*lambdaeventsourcemapping.LambdaEventSourceMappingFilterCriteriaFilter{{
				Pattern: jsii.String(`{"eventName":["MODIFY","REMOVE"]}`),
			}},
		},
		MaximumRetryAttempts:       jsii.Number(10),
		BisectBatchOnFunctionError: jsii.Bool(true),
		DestinationConfig: &lambdaeventsourcemapping.LambdaEventSourceMappingDestinationConfig{
			OnFailure: &lambdaeventsourcemapping.LambdaEventSourceMappingDestinationConfigOnFailure{DestinationArn: failures.Arn},
		},
		DependsOn: &fn.Ready,
	})
	t := b.Topic
	// The watch prints its metrics (EMF) here, and the two Lambda alarms watch it here.
	here := metricregion.Place{Resource: s.Region}
	for _, m := range []struct{ id, metric, what string }{
		{"overwritten-alarm", conflict.MetricOverwritten, "A payment acknowledged in one region was overwritten by a different request under the same id from another region"},
		{"removed-alarm", conflict.MetricRemoved, "A payment was deleted from the table"},
	} {
		t.Alarm(m.id, monitoring.Alarm{
			Name:        b.AlarmName("payments-" + strings.ToLower(m.metric)),
			Description: m.what + " (seen in " + s.Region + "); the conflict-watch function's log has both versions.",
			Namespace:   conflict.MetricNamespace, Metric: m.metric,
			Dimensions: map[string]*string{conflict.DimensionTable: cfg.Table.Name}, Place: here,
			Statistic: "Sum", PeriodSeconds: 60, EvaluationPeriods: 1, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold",
		})
	}
	t.Alarm("conflict-watch-iterator-age", monitoring.Alarm{
		Name:        b.AlarmName("payment-conflict-watch-lag"),
		Description: "The conflict watch in " + s.Region + " is over five minutes behind the table's stream; overwrites would be reported late.",
		Namespace:   "AWS/Lambda", Metric: "IteratorAge", Dimensions: map[string]*string{"FunctionName": fn.Name}, Place: here,
		Statistic: "Maximum", PeriodSeconds: 60, EvaluationPeriods: 5, Threshold: 300000, Comparison: "GreaterThanThreshold",
	})
	t.Alarm("conflict-watch-discarded", monitoring.Alarm{
		Name: b.AlarmName("payment-conflict-watch-discarded"),
		Description: "The conflict watch in " + s.Region + " gave up on a batch of the table's stream: overwrites in it went unchecked. " +
			"The message in " + b.Config.Name("payment-conflict-watch-failures", s.Region) + " names the shard and sequence numbers; the stream keeps the records 24 hours.",
		Namespace: "AWS/SQS", Metric: "ApproximateNumberOfMessagesVisible", Dimensions: map[string]*string{"QueueName": failures.Name}, Place: here,
		// Any record at all: nothing else sends to the queue, and nothing consumes it.
		Statistic: "Maximum", PeriodSeconds: 300, EvaluationPeriods: 1, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold",
	})
	t.Alarm("conflict-watch-errors", monitoring.Alarm{
		Name:        b.AlarmName("payment-conflict-watch-errors"),
		Description: "The conflict watch in " + s.Region + " fails; overwritten payments would go unreported.",
		Namespace:   "AWS/Lambda", Metric: "Errors", Dimensions: map[string]*string{"FunctionName": fn.Name}, Place: here,
		Statistic: "Sum", PeriodSeconds: 300, EvaluationPeriods: 1, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold",
	})
}

// Peer probe settings (lambda/cmd/peerwatch): each one-minute invocation runs ProbeRounds
// rounds ProbeInterval apart, so an outage shorter than a minute is still seen, and
// finishes well within ProbeTimeoutSeconds.
const (
	ProbeRounds         = 5
	ProbeInterval       = "10s"
	ProbeTimeoutSeconds = 60
	// ProbeSchedule: EventBridge Scheduler's rate expression.
	ProbeSchedule = "rate(1 minute)"
	// ProbeAsyncRetries and ProbeMaxEventAgeSeconds: an invocation that failed is not
	// retried, one not started within a minute is dropped (the next one is due).
	ProbeAsyncRetries       = 0
	ProbeMaxEventAgeSeconds = 60
	// ObservationWriteFailures in ObservationWritePeriodSeconds page: about 25 rounds
	// write in five minutes; one failure the SDK's retries did not absorb is noise, a
	// missing grant or an unusable key fails every round.
	ObservationWriteFailures      = 2
	ObservationWritePeriodSeconds = 300
)

// PeerConfig is what the peer probe needs: the other region and its API.
type PeerConfig struct {
	Table table.Table
	Code  function.Code
	// Region and APIHost of the region to watch: its regional execute-api host, not the
	// failover name, so the probe sees that region whatever DNS answers.
	Region  string
	APIHost *string
	// SelfAPIHost is this region's own execute-api host: the probe asks its /status
	// too, and a round where neither answers is unknown, not the peer down.
	SelfAPIHost *string
}

// WatchPeer declares this region's probe of the other region: the function, its
// one-minute schedule, and the alarms that page this region's topic when the peer or the
// failover name stops answering healthy. Everything is in this region, so the loss of the
// other one cannot stop the page.
func (b *Base) WatchPeer(cfg PeerConfig) {
	s := b.Site
	name := b.Config.Name("payment-peer-probe", s.Region)
	fn := function.New(b.scope, "peer-probe", function.Config{
		Site:        s,
		Name:        name,
		Description: "probes " + cfg.Region + "'s /status and the failover name's",
		Code:        cfg.Code,
		Environment: map[string]*string{
			"TABLE_NAME":          cfg.Table.Name,
			"PEER_REGION":         jsii.String(cfg.Region),
			"PEER_HEALTH_URL":     jsii.String("https://" + *cfg.APIHost + "/" + restapi.Stage + restapi.StatusPath),
			"FAILOVER_HEALTH_URL": jsii.String("https://" + b.Config.DomainName + restapi.StatusPath),
			"SELF_STATUS_URL":     jsii.String("https://" + *cfg.SelfAPIHost + "/" + restapi.Stage + restapi.StatusPath),
			"PROBE_ROUNDS":        jsii.String(fmt.Sprint(ProbeRounds)),
			"PROBE_INTERVAL":      jsii.String(ProbeInterval),
		},
		Policy: []iam.Statement{
			// The observation of the peer, in this region's replica, and nothing else:
			// ForAllValues:StringEquals on the partition key.
			// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
			{Sid: "RecordPeerObservation", Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}, Resources: []*string{cfg.Table.Arns[s.Region]},
				Conditions: []iam.Condition{{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: []*string{jsii.String(control.PeerKey(cfg.Region))}}}},
		},
		KMSKeyArn:        b.KeyArn,
		LogRetentionDays: b.Config.LogRetentionDays,
		// The probe prints Embedded Metric Format lines; Text keeps them as they are.
		LogFormat:      "Text",
		TimeoutSeconds: ProbeTimeoutSeconds,
		// Scheduler's own retry policy below covers delivery; this is Lambda's retry of an
		// invocation that failed or timed out. A retried probe would run its rounds a
		// minute or more late, beside the next scheduled one: rounds that overlap, out of
		// order, stamped late. The next minute's invocation is the retry.
		Async: &function.Async{MaxRetries: ProbeAsyncRetries, MaxEventAgeSeconds: ProbeMaxEventAgeSeconds},
	})
	// Scheduler assumes this role to invoke the function, in this account only.
	// https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html
	role := iam.NewRole(b.scope, "peer-probe-schedule-role", iam.RoleConfig{
		Site:   s,
		Name:   b.Config.Name("payment-peer-probe-schedule", s.Region),
		Trust:  iam.ServiceTrust("scheduler.amazonaws.com", iam.SourceAccount(b.Account)),
		Policy: []iam.Statement{{Sid: "InvokeProbe", Actions: []string{"lambda:InvokeFunction"}, Resources: []*string{fn.Arn}}},
	})
	deps := append([]cdktf.ITerraformDependable{}, role.Grants...)
	schedulerschedule.NewSchedulerSchedule(b.scope, jsii.String("peer-probe-schedule"), &schedulerschedule.SchedulerScheduleConfig{
		Provider:           s.Provider,
		Name:               jsii.String(name),
		Description:        jsii.String("Runs the peer probe of " + cfg.Region + " every minute"),
		ScheduleExpression: jsii.String(ProbeSchedule),
		// OFF: invoke on the minute, not anywhere in a window.
		FlexibleTimeWindow: &schedulerschedule.SchedulerScheduleFlexibleTimeWindow{Mode: jsii.String("OFF")},
		Target: &schedulerschedule.SchedulerScheduleTarget{
			Arn:     fn.Arn,
			RoleArn: role.Arn,
			// Scheduler invokes Lambda asynchronously
			// (https://docs.aws.amazon.com/lambda/latest/dg/with-scheduledevents-example.html);
			// a late invocation would only overlap the next one, which already runs.
			RetryPolicy: &schedulerschedule.SchedulerScheduleTargetRetryPolicy{
				MaximumRetryAttempts: jsii.Number(0), MaximumEventAgeInSeconds: jsii.Number(60),
			},
		},
		DependsOn: &deps,
	})
	t := b.Topic
	// EMF metrics land in the emitting function's region, this one.
	here := metricregion.Place{Resource: s.Region}
	for _, m := range []struct {
		id, metric, service, what string
		dims                      map[string]*string
	}{
		{"peer-healthy-alarm", "PeerHealthy", "payment-peer-" + cfg.Region + "-down",
			"The probe in " + s.Region + " sees " + cfg.Region + "'s /status fail or cannot get an answer through (state in the probe's log), or stopped reporting",
			map[string]*string{"TableName": cfg.Table.Name, "PeerRegion": jsii.String(cfg.Region)}},
		{"failover-name-healthy-alarm", "FailoverNameHealthy", "payment-failover-name-down",
			"The probe in " + s.Region + " sees https://" + b.Config.DomainName + "/status fail or cannot get an answer through (state in the probe's log), or stopped reporting",
			map[string]*string{"TableName": cfg.Table.Name, "DomainName": jsii.String(b.Config.DomainName)}},
	} {
		t.Alarm(m.id, monitoring.Alarm{
			Name:        b.AlarmName(m.service),
			Description: m.what + ": a page from outside the region it watches.",
			Namespace:   metricregion.PaymentsDRNamespace, Metric: m.metric, Dimensions: m.dims, Place: here,
			// 1 per healthy round, 0 otherwise: a minute mostly unhealthy breaches; a
			// probe that stopped reporting breaches too.
			Statistic: "Average", PeriodSeconds: 60, EvaluationPeriods: 1, Threshold: 0.5,
			Comparison: "LessThanThreshold", TreatMissingData: "breaching",
		})
	}
	// The handler returns nil whatever the write did (a failed write is not a reason to
	// probe again late), so Lambda's Errors never sees it: the probe publishes it.
	t.Alarm("observation-write-alarm", monitoring.Alarm{
		Name: b.AlarmName("payment-peer-observation-write-failed"),
		Description: "The probe in " + s.Region + " cannot write what it sees of " + cfg.Region + " into this region's replica (" +
			control.PeerKey(cfg.Region) + "; the error is in the probe's log): status and failback-check show a stale observation.",
		Namespace: probe.MetricNamespace, Metric: probe.MetricObservationWriteFailed,
		Dimensions: map[string]*string{probe.DimensionTable: cfg.Table.Name, probe.DimensionPeerRegion: jsii.String(cfg.Region)}, Place: here,
		Statistic: "Sum", PeriodSeconds: ObservationWritePeriodSeconds, EvaluationPeriods: 1,
		Threshold: ObservationWriteFailures, Comparison: "GreaterThanOrEqualToThreshold",
	})
	t.Alarm("peer-probe-errors", monitoring.Alarm{
		Name:        b.AlarmName("payment-peer-probe-errors"),
		Description: "The peer probe in " + s.Region + " fails; the loss of " + cfg.Region + " might not page.",
		Namespace:   "AWS/Lambda", Metric: "Errors", Dimensions: map[string]*string{"FunctionName": fn.Name}, Place: here,
		Statistic: "Sum", PeriodSeconds: 300, EvaluationPeriods: 1, Threshold: 1, Comparison: "GreaterThanOrEqualToThreshold",
	})
}

// paymentPolicy is the payment function's role. The primary's evaluates the
// failback gate (lambda/control, gate.go): it reads the secondary's accept index
// and checks each entry in its own replica, and keeps its watermark there.
// DynamoDB fine-grained access on the partition key:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
func (b *Base) paymentPolicy(cfg ServingConfig, tableArn *string) []iam.Statement {
	s := b.Site
	otherTable := cfg.Table.Arns[cfg.OtherRegion]
	notControl := iam.Condition{Test: "ForAllValues:StringNotLike", Variable: "dynamodb:LeadingKeys", Values: []*string{jsii.String(control.KeyPrefix + "*")}}
	policy := []iam.Statement{
		{Sid: "PaymentsTable", Actions: []string{"dynamodb:DescribeTable", "dynamodb:GetItem"}, Resources: []*string{tableArn}},
		// Writes of payments only: the control items (drain flags, peer observations,
		// overrides, key-set copies) each have their own writer, and a payment function
		// that could write them could drain a region or plant signing keys. Its reads of
		// them (/health) stay. StringNotLike with the set operator, since LeadingKeys
		// is multivalued: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
		{Sid: "PaymentItems", Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}, Resources: []*string{tableArn},
			Conditions: []iam.Condition{notControl}},
		// A payment not yet replicated here is read in the other region's replica
		// before answering 404 (payment.Service.Peer); payments only.
		{Sid: "ReadPaymentsInOtherReplica", Actions: []string{"dynamodb:GetItem"}, Resources: []*string{otherTable},
			Conditions: []iam.Condition{notControl}},
		{Sid: "ReceiptsObjects", Actions: []string{"s3:GetObject", "s3:PutObject"}, Resources: []*string{jsii.String(*b.Bucket.Arn + "/" + function.ReceiptsPrefix + "*")}},
		// HeadBucket (the health check) needs ListBucket; it also turns a missing
		// receipt into 404 rather than 403, which the replay path relies on.
		{Sid: "ReceiptsBucket", Actions: []string{"s3:ListBucket"}, Resources: []*string{b.Bucket.Arn}},
	}
	if s.Role != site.Primary {
		return policy
	}
	gateKey := jsii.String(control.GateKey(s.Region))
	return append(policy,
		// Query takes no LeadingKeys condition worth having here: the index holds
		// only keys (KEYS_ONLY), and only the secondary's payments.
		iam.Statement{Sid: "ReadSecondaryAcceptIndex", Actions: []string{"dynamodb:Query"}, Resources: []*string{cfg.Table.IndexArns[cfg.OtherRegion]}},
		// The operator's override, written through either region: both copies are read.
		iam.Statement{Sid: "ReadGateOverrideInOtherReplica", Actions: []string{"dynamodb:GetItem"}, Resources: []*string{otherTable},
			Conditions: []iam.Condition{{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: []*string{jsii.String(control.OverrideKey(s.Region))}}}},
		// Are the secondary's payments here? Keys only, consistent reads, 100 a call.
		iam.Statement{Sid: "CheckAcceptedPaymentsHere", Actions: []string{"dynamodb:BatchGetItem"}, Resources: []*string{tableArn}},
		// The gate's own watermark, and nothing else among the control items.
		iam.Statement{Sid: "GateWatermark", Actions: []string{"dynamodb:UpdateItem"}, Resources: []*string{tableArn},
			Conditions: []iam.Condition{{Test: "ForAllValues:StringEquals", Variable: "dynamodb:LeadingKeys", Values: []*string{gateKey}}}},
	)
}
