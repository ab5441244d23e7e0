// Package encryption holds the customer-managed KMS key of one region: the table replica,
// the receipts bucket, the alert topic and the log groups there are encrypted with it.
package encryption

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Config of one region's key.
type Config struct {
	Site      site.Site
	Name      string // alias name without the "alias/" prefix
	AccountID *string
	// DeletionWindowDays is how long a scheduled deletion can still be cancelled.
	DeletionWindowDays int
	// S3PublishesToTopics lets S3 use the key to publish bucket event notifications to a
	// topic encrypted with it (monitoring.TopicConfig.Buckets).
	S3PublishesToTopics bool
	// OnlyS3 keeps the key to S3 in this region (the state bucket): no DynamoDB, logs or
	// alarm statements.
	OnlyS3 bool
	// Description overrides the key's description.
	Description string
	// PreventDestroy makes terraform refuse a plan that deletes the key: whatever it
	// encrypted (table, receipts, state) would be unreadable once the deletion window ends.
	PreventDestroy bool
}

// Key is what other constructs need of the key.
type Key struct {
	Arn, AliasArn, KeyID *string
}

// adminActions let the account manage the key through IAM without being able to use it
// for data: using it is granted per service below, by the key policy itself, to every
// principal of the account (kms:CallerAccount) calling through that service. The key
// policy delegates nothing else to IAM, so an IAM policy that allows kms:Decrypt,
// kms:GenerateDataKey or any other data action on these keys has no effect ("Without
// permission from the key policy, IAM policies that allow permissions have no effect"):
// the stacks declare none, and the stacks tests refuse one.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
var adminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias",
	"kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
	"kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
	"kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags", "kms:PutKeyPolicy",
	"kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
}

var dataActions = []string{
	"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
	"kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
}

// New declares the key with rotation on and a policy that lets only these use it:
// principals of this account through DynamoDB (any region: global-table replication),
// S3 or SQS in this region (the function roles, the replication roles, DynamoDB's
// replication role), CloudWatch Logs for this region's log groups, CloudWatch alarms
// publishing to the encrypted topic and, when asked, S3 publishing bucket events to it.
func New(scope constructs.Construct, id string, cfg Config) Key {
	c := constructs.NewConstruct(scope, jsii.String(id))
	root := jsii.String(fmt.Sprintf("arn:aws:iam::%s:root", *cfg.AccountID))
	callerAccount := iam.Condition{Test: "StringEquals", Variable: "kms:CallerAccount", Values: []*string{cfg.AccountID}}
	admin := iam.Statement{
		Sid:        "AccountAdministersKey",
		Actions:    adminActions,
		Resources:  []*string{jsii.String("*")},
		Principals: map[string][]*string{"AWS": {root}},
	}
	throughS3 := iam.Statement{
		Sid:        "AccountUsesKeyThroughS3",
		Actions:    dataActions,
		Resources:  []*string{jsii.String("*")},
		Principals: map[string][]*string{"AWS": {jsii.String("*")}},
		Conditions: []iam.Condition{
			callerAccount,
			{Test: "StringEquals", Variable: "kms:ViaService", Values: []*string{jsii.String("s3." + cfg.Site.Region + ".amazonaws.com")}},
		},
	}
	statements := []iam.Statement{
		admin,
		// DynamoDB calls KMS from other regions to keep global-table replicas in step, so
		// its ViaService must not name a region.
		{
			Sid:        "AccountUsesKeyThroughDynamoDB",
			Actions:    dataActions,
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"AWS": {jsii.String("*")}},
			Conditions: []iam.Condition{
				callerAccount,
				{Test: "StringLike", Variable: "kms:ViaService", Values: []*string{jsii.String("dynamodb.*.amazonaws.com")}},
			},
		},
		throughS3,
		// SQS encrypts and decrypts for whoever sends or receives: the conflict watch's
		// role sending a discarded stream batch's record to its failure queue, an operator
		// reading it. A producer needs GenerateDataKey and Decrypt, a consumer Decrypt.
		// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
		{
			Sid:        "AccountUsesKeyThroughSQS",
			Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"AWS": {jsii.String("*")}},
			Conditions: []iam.Condition{
				callerAccount,
				{Test: "StringEquals", Variable: "kms:ViaService", Values: []*string{jsii.String("sqs." + cfg.Site.Region + ".amazonaws.com")}},
			},
		},
		// Grants only for AWS resources: DynamoDB holds the key through grants.
		{
			Sid:        "AccountGrantsKeyToDataServices",
			Actions:    []string{"kms:CreateGrant"},
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"AWS": {jsii.String("*")}},
			Conditions: []iam.Condition{
				callerAccount,
				{Test: "StringLike", Variable: "kms:ViaService", Values: []*string{jsii.String("dynamodb.*.amazonaws.com")}},
				{Test: "Bool", Variable: "kms:GrantIsForAWSResource", Values: []*string{jsii.String("true")}},
			},
		},
		// DynamoDB checks that the key exists and is usable before it creates a replica.
		{
			Sid:        "DynamoDBDescribesKey",
			Actions:    []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags"},
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"Service": {jsii.String("dynamodb.amazonaws.com")}},
		},
		{
			Sid:        "LogsEncryptThisRegionsLogGroups",
			Actions:    dataActions,
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"Service": {jsii.String("logs." + cfg.Site.Region + ".amazonaws.com")}},
			Conditions: []iam.Condition{{
				Test: "ArnLike", Variable: "kms:EncryptionContext:aws:logs:arn",
				Values: []*string{jsii.String(fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", cfg.Site.Region, *cfg.AccountID))},
			}},
		},
		{
			Sid:        "AlarmsPublishToEncryptedTopic",
			Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"Service": {jsii.String("cloudwatch.amazonaws.com")}},
			Conditions: []iam.Condition{{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []*string{cfg.AccountID}}},
		},
	}
	if cfg.S3PublishesToTopics {
		// S3 needs the topic's key to publish to it. S3's and SNS's guides give the
		// statement without a condition; aws:SourceAccount keeps S3 from using the key for
		// a bucket of another account (an attacker's topic encrypted with this key): the
		// IAM guide recommends it whenever a service principal is granted access, and S3
		// includes it when a bucket's configuration triggers the call, as its events do.
		// Were it ever absent, the events would be dropped; the replication alarms
		// (CloudWatch metrics, published to the topic by CloudWatch's own statement) still
		// page. The S3 page's actions exactly: SNS's page writes kms:GenerateDataKey*, a
		// wildcard our invariants refuse, and GenerateDataKey is the call a publish makes.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html#grant-sns-sqs-permission-for-s3
		// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
		statements = append(statements, iam.Statement{
			Sid:        "S3EventsPublishToEncryptedTopic",
			Actions:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources:  []*string{jsii.String("*")},
			Principals: map[string][]*string{"Service": {jsii.String("s3.amazonaws.com")}},
			Conditions: []iam.Condition{iam.SourceAccount(cfg.AccountID)},
		})
	}
	if cfg.OnlyS3 {
		statements = []iam.Statement{admin, throughS3}
	}
	description := cfg.Description
	if description == "" {
		description = "payments-dr data in " + cfg.Site.Region + ": table, receipts, alerts, logs"
	}
	policy := iam.Document(c, "policy", cfg.Site, statements...)
	key := kmskey.NewKmsKey(c, jsii.String("key"), &kmskey.KmsKeyConfig{
		Provider:             cfg.Site.Provider,
		Description:          jsii.String(description),
		EnableKeyRotation:    jsii.Bool(true),
		DeletionWindowInDays: jsii.Number(float64(cfg.DeletionWindowDays)),
		Policy:               policy,
		Lifecycle:            &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(cfg.PreventDestroy)},
	})
	alias := kmsalias.NewKmsAlias(c, jsii.String("alias"), &kmsalias.KmsAliasConfig{
		Provider:    cfg.Site.Provider,
		Name:        jsii.String("alias/" + cfg.Name),
		TargetKeyId: key.KeyId(),
	})
	return Key{Arn: key.Arn(), AliasArn: alias.Arn(), KeyID: key.KeyId()}
}
