// Package queue holds the encrypted SQS queue that keeps a record of work a region gave
// up on (a stream batch the conflict watch could not process within its retries), so
// that the record outlives the retries and its depth can page.
package queue

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// MaxRetentionSeconds is the longest SQS keeps a message: 14 days.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
const MaxRetentionSeconds = 14 * 24 * 3600

// Config of one queue.
type Config struct {
	Site site.Site
	Name string
	// KMSKeyArn encrypts the messages: the region's key, whose policy must let this
	// account use it through SQS in this region (encryption.New does).
	KMSKeyArn *string
}

// Queue is what producers and alarms need.
type Queue struct {
	Arn, Name *string
}

// New declares the queue, encrypted with cfg.KMSKeyArn and keeping messages as long as
// SQS allows: a record of a discarded batch is evidence for a person, nobody consumes it.
func New(scope constructs.Construct, id string, cfg Config) Queue {
	q := sqsqueue.NewSqsQueue(scope, jsii.String(id), &sqsqueue.SqsQueueConfig{
		Provider:                cfg.Site.Provider,
		Name:                    jsii.String(cfg.Name),
		KmsMasterKeyId:          cfg.KMSKeyArn,
		MessageRetentionSeconds: jsii.Number(MaxRetentionSeconds),
	})
	return Queue{Arn: q.Arn(), Name: q.Name()}
}
