// Package monitoring holds one region's alert topic and the CloudWatch alarms that notify
// it. An alarm is declared through its topic, so it always lives in the topic's region:
// CloudWatch cannot notify a topic in another region. Which topic (and so which region)
// an alarm belongs to is decided by stacks/metricregion: the region where AWS publishes
// the alarm's metric.
package monitoring

import (
	"fmt"
	"sort"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketnotification"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/metricregion"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// ReplicationEvents are the S3 event notifications a receipts bucket sends its region's
// topic: an object that failed to replicate, and one that missed Replication Time
// Control's 15-minute threshold. Both need replication metrics on the rule (RTC for the
// second); S3 sends them per object, so the page names the receipt that is missing.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-metrics-events.html
var ReplicationEvents = []string{
	"s3:Replication:OperationFailedReplication",
	"s3:Replication:OperationMissedThreshold",
}

// TopicConfig of one region's alert topic.
type TopicConfig struct {
	Site      site.Site
	Name      string
	KMSKeyArn *string
	AccountID *string
	Email     string // optional subscriber
	// Buckets publish ReplicationEvents to the topic. Each must be in the topic's region:
	// S3 notifies only destinations in the bucket's own region.
	Buckets []bucket.Bucket
}

// Topic is one region's alert topic and the alarms declared on it.
type Topic struct {
	Site site.Site
	Arn  *string
	// AlarmArns in declaration order; the stack exports them.
	AlarmArns []*string
	scope     constructs.Construct
}

// NewTopic declares the encrypted topic, a policy that lets this account's alarms
// publish, and the e-mail subscription when one is configured.
func NewTopic(scope constructs.Construct, id string, cfg TopicConfig) *Topic {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	t := snstopic.NewSnsTopic(c, jsii.String("topic"), &snstopic.SnsTopicConfig{
		Provider:       p,
		Name:           jsii.String(cfg.Name),
		KmsMasterKeyId: cfg.KMSKeyArn,
	})
	for _, b := range cfg.Buckets {
		if b.Site.Region != cfg.Site.Region {
			panic(fmt.Sprintf("monitoring: bucket in %s cannot notify the topic in %s; S3 notifies only destinations in the bucket's region", b.Site.Region, cfg.Site.Region))
		}
	}
	policy := snstopicpolicy.NewSnsTopicPolicy(c, jsii.String("policy"), &snstopicpolicy.SnsTopicPolicyConfig{
		Provider: p,
		Arn:      t.Arn(),
		Policy:   iam.Document(c, "publishers", cfg.Site, publishers(t.Arn(), cfg)...),
	})
	for i, b := range cfg.Buckets {
		// S3 checks that it may publish (and use the topic's key) when the notification
		// configuration is written, so the policy must exist first.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
		s3bucketnotification.NewS3BucketNotification(c, jsii.String(fmt.Sprintf("bucket-events-%d", i)), &s3bucketnotification.S3BucketNotificationConfig{
			Provider: b.Site.Provider,
			Bucket:   b.Name,
			Topic: &[]*s3bucketnotification.S3BucketNotificationTopic{{
				TopicArn: t.Arn(),
				Events:   jsii.Strings(ReplicationEvents...),
			}},
			DependsOn: &[]cdktf.ITerraformDependable{policy},
		})
	}
	if cfg.Email != "" {
		snstopicsubscription.NewSnsTopicSubscription(c, jsii.String("email"), &snstopicsubscription.SnsTopicSubscriptionConfig{
			Provider: p,
			TopicArn: t.Arn(),
			Protocol: jsii.String("email"),
			Endpoint: jsii.String(cfg.Email),
		})
	}
	return &Topic{Site: cfg.Site, Arn: t.Arn(), scope: c}
}

// publishers are the topic policy: this account's alarms, and S3 for each bucket's
// events, scoped to that bucket and this account as the S3 user guide's topic policy is.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html
func publishers(topicArn *string, cfg TopicConfig) []iam.Statement {
	out := []iam.Statement{{
		Sid:        "AlarmsOfThisAccountPublish",
		Actions:    []string{"sns:Publish"},
		Resources:  []*string{topicArn},
		Principals: map[string][]*string{"Service": {jsii.String("cloudwatch.amazonaws.com")}},
		Conditions: []iam.Condition{iam.SourceAccount(cfg.AccountID)},
	}}
	for i, b := range cfg.Buckets {
		out = append(out, iam.Statement{
			Sid:        fmt.Sprintf("ReceiptsBucket%dEventsPublish", i),
			Actions:    []string{"sns:Publish"},
			Resources:  []*string{topicArn},
			Principals: map[string][]*string{"Service": {jsii.String("s3.amazonaws.com")}},
			Conditions: []iam.Condition{
				{Test: "ArnEquals", Variable: "aws:SourceArn", Values: []*string{b.Arn}},
				iam.SourceAccount(cfg.AccountID),
			},
		})
	}
	return out
}

// Alarm is one metric alarm. Dimensions must be a pair the metric is published with:
// CloudWatch accepts any, and an alarm on a pair that does not exist never fires.
type Alarm struct {
	Name              string
	Description       string
	Namespace         string
	Metric            string
	Dimensions        map[string]*string
	Statistic         string
	PeriodSeconds     int
	EvaluationPeriods int
	Threshold         float64
	Comparison        string
	// TreatMissingData: "breaching" where silence means the thing is down.
	TreatMissingData string
	// Place says, as regions, what the metric is about (the function's region, the
	// replication rule's buckets, the writing replica): metricregion turns it into the
	// region where the metric is published, which must be the alarm's.
	Place metricregion.Place
}

// Region is where a's metric is published; it panics for a metric metricregion does
// not know or a Place that lacks what the metric needs.
func (a Alarm) Region() string {
	return metricregion.MustRegion(a.Namespace, a.Metric, a.Place)
}

// Topics are the alert topics by region.
type Topics map[string]*Topic

// Alarm declares a on the topic of the region where its metric is published.
func (ts Topics) Alarm(id string, a Alarm) *string {
	region := a.Region()
	t, ok := ts[region]
	if !ok {
		have := make([]string, 0, len(ts))
		for r := range ts {
			have = append(have, r)
		}
		sort.Strings(have)
		panic(fmt.Sprintf("monitoring: alarm %q watches %s/%s, published in %s; no topic there (topics in %v)", a.Name, a.Namespace, a.Metric, region, have))
	}
	return t.Alarm(id, a)
}

// Alarm declares a on this topic's region and provider, notifying the topic when it
// fires and when it recovers, and returns its ARN.
//
// It panics when a's metric is published in another region: there the alarm would never
// see a data point.
func (t *Topic) Alarm(id string, a Alarm) *string {
	if region := a.Region(); region != t.Site.Region {
		panic(fmt.Sprintf("monitoring: alarm %q on %s/%s belongs in %s, where the metric is published, not on the topic in %s", a.Name, a.Namespace, a.Metric, region, t.Site.Region))
	}
	dims := a.Dimensions
	treat := a.TreatMissingData
	if treat == "" {
		treat = "notBreaching"
	}
	alarm := cloudwatchmetricalarm.NewCloudwatchMetricAlarm(t.scope, jsii.String(id), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		Provider:           t.Site.Provider,
		AlarmName:          jsii.String(a.Name),
		AlarmDescription:   jsii.String(a.Description),
		Namespace:          jsii.String(a.Namespace),
		MetricName:         jsii.String(a.Metric),
		Dimensions:         &dims,
		Statistic:          jsii.String(a.Statistic),
		Period:             jsii.Number(float64(a.PeriodSeconds)),
		EvaluationPeriods:  jsii.Number(float64(a.EvaluationPeriods)),
		Threshold:          jsii.Number(a.Threshold),
		ComparisonOperator: jsii.String(a.Comparison),
		TreatMissingData:   jsii.String(treat),
		AlarmActions:       &[]*string{t.Arn},
		OkActions:          &[]*string{t.Arn},
	})
	t.AlarmArns = append(t.AlarmArns, alarm.Arn())
	return alarm.Arn()
}
