// Package monitoring holds one region's alert topic and the CloudWatch alarms that notify
// it. An alarm is declared through its topic, so it always lives in the topic's region:
// CloudWatch cannot notify a topic in another region.
package monitoring

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// TopicConfig of one region's alert topic.
type TopicConfig struct {
	Site      site.Site
	Name      string
	KMSKeyArn *string
	AccountID *string
	Email     string // optional subscriber
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
	snstopicpolicy.NewSnsTopicPolicy(c, jsii.String("policy"), &snstopicpolicy.SnsTopicPolicyConfig{
		Provider: p,
		Arn:      t.Arn(),
		Policy: iam.Document(c, "publishers", cfg.Site, iam.Statement{
			Sid:        "AlarmsOfThisAccountPublish",
			Actions:    []string{"sns:Publish"},
			Resources:  []*string{t.Arn()},
			Principals: map[string][]*string{"Service": {jsii.String("cloudwatch.amazonaws.com")}},
			Conditions: []iam.Condition{iam.SourceAccount(cfg.AccountID)},
		}),
	})
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
}

// Alarm declares a on this topic's region and provider, notifying the topic when it
// fires and when it recovers, and returns its ARN.
func (t *Topic) Alarm(id string, a Alarm) *string {
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
