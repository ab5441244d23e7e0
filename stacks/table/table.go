// Package table holds the payments DynamoDB global table: one table in the primary
// region with a replica in the secondary, each encrypted with its own region's key.
package table

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// HashKey is the partition key: the client's idempotency key.
const HashKey = "paymentId"

// Config of the global table.
type Config struct {
	Name               string
	Primary            site.Site
	PrimaryKeyArn      *string
	Secondary          site.Site
	SecondaryKeyArn    *string
	DeletionProtection bool
}

// Table is the global table as callers see it: one name in every region, one ARN per
// region (the table in the primary, the replica in the secondary).
type Table struct {
	Name *string
	Arns map[string]*string // region → table ARN there
}

// New declares the table and its replica.
func New(scope constructs.Construct, id string, cfg Config) Table {
	t := dynamodbtable.NewDynamodbTable(scope, jsii.String(id), &dynamodbtable.DynamodbTableConfig{
		Provider:    cfg.Primary.Provider,
		Name:        jsii.String(cfg.Name),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String(HashKey),
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{{
			Name: jsii.String(HashKey), Type: jsii.String("S"),
		}},
		// Global tables replicate through the stream; NEW_AND_OLD_IMAGES also lets
		// auditors see every change to a payment.
		StreamEnabled:             jsii.Bool(true),
		StreamViewType:            jsii.String("NEW_AND_OLD_IMAGES"),
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: cfg.PrimaryKeyArn},
		DeletionProtectionEnabled: jsii.Bool(cfg.DeletionProtection),
		Replica: &[]*dynamodbtable.DynamodbTableReplica{{
			RegionName:          jsii.String(cfg.Secondary.Region),
			KmsKeyArn:           cfg.SecondaryKeyArn,
			PointInTimeRecovery: jsii.Bool(true),
			PropagateTags:       jsii.Bool(true),
		}},
	})
	if cfg.DeletionProtection {
		t.SetLifecycle(&cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)})
	}
	return Table{Name: t.Name(), Arns: map[string]*string{
		cfg.Primary.Region:   t.Arn(),
		cfg.Secondary.Region: t.Replica().Get(jsii.Number(0)).Arn(),
	}}
}
