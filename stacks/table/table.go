// Package table holds the payments DynamoDB global table: the table in the primary
// region and its replica in the secondary, each encrypted with its own region's key.
package table

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsdynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtablereplica"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/lambda/control"
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
	// IndexArns: region → the ARN of the accept index in that region's replica.
	IndexArns  map[string]*string
	Arns       map[string]*string // region → table ARN there
	StreamArns map[string]*string // region → that region's stream of the table
}

// New declares the table and its replica. The replica is its own resource, declared
// with the secondary's provider, rather than a block of the table: a change to an inline
// replica's key or PITR setting makes the provider delete and recreate the replica, and
// the table's prevent_destroy would not stop that.
func New(scope constructs.Construct, id string, cfg Config) Table {
	c := constructs.NewConstruct(scope, jsii.String(id))
	var protect *cdktf.TerraformResourceLifecycle
	if cfg.DeletionProtection {
		protect = &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)}
	}
	t := dynamodbtable.NewDynamodbTable(c, jsii.String("table"), &dynamodbtable.DynamodbTableConfig{
		Provider:    cfg.Primary.Provider,
		Name:        jsii.String(cfg.Name),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String(HashKey),
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{
			{Name: jsii.String(HashKey), Type: jsii.String("S")},
			{Name: jsii.String(control.AcceptInAttribute), Type: jsii.String("S")},
			{Name: jsii.String(control.AcceptSeqAttribute), Type: jsii.String("S")},
		},
		// The failback gate's evidence (lambda/control, gate.go): the payments the
		// secondary accepted, by shard and time. Sparse (only the secondary's
		// payments carry the attributes) and KEYS_ONLY, so it costs nothing while the
		// primary serves. A version 2019.11.21 global table keeps the same indexes
		// in every replica, so the secondary's replica has it too:
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-indexes-general-sparse-indexes.html
		GlobalSecondaryIndex: &[]*dynamodbtable.DynamodbTableGlobalSecondaryIndex{{
			Name:           jsii.String(control.AcceptIndex),
			HashKey:        jsii.String(control.AcceptInAttribute),
			RangeKey:       jsii.String(control.AcceptSeqAttribute),
			ProjectionType: jsii.String("KEYS_ONLY"),
		}},
		// Global tables replicate through the stream; NEW_AND_OLD_IMAGES also lets
		// auditors see every change to a payment.
		StreamEnabled:             jsii.Bool(true),
		StreamViewType:            jsii.String("NEW_AND_OLD_IMAGES"),
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: cfg.PrimaryKeyArn},
		DeletionProtectionEnabled: jsii.Bool(cfg.DeletionProtection),
		Lifecycle: &cdktf.TerraformResourceLifecycle{
			PreventDestroy: jsii.Bool(cfg.DeletionProtection),
			// The replica resource below owns the table's replica set.
			IgnoreChanges: &[]*string{jsii.String("replica")},
		},
	})
	replica := dynamodbtablereplica.NewDynamodbTableReplicaA(c, jsii.String("replica"), &dynamodbtablereplica.DynamodbTableReplicaAConfig{
		Provider:                  cfg.Secondary.Provider,
		GlobalTableArn:            t.Arn(),
		KmsKeyArn:                 cfg.SecondaryKeyArn,
		PointInTimeRecovery:       jsii.Bool(true),
		DeletionProtectionEnabled: jsii.Bool(cfg.DeletionProtection),
		Lifecycle:                 protect,
	})
	// The replica resource does not export its stream; read it back once it exists.
	replicaView := dataawsdynamodbtable.NewDataAwsDynamodbTable(c, jsii.String("replica-view"), &dataawsdynamodbtable.DataAwsDynamodbTableConfig{
		Provider:  cfg.Secondary.Provider,
		Name:      t.Name(),
		DependsOn: &[]cdktf.ITerraformDependable{replica},
	})
	index := func(arn *string) *string { return jsii.String(*arn + "/index/" + control.AcceptIndex) }
	return Table{
		Name: t.Name(),
		IndexArns: map[string]*string{
			cfg.Primary.Region:   index(t.Arn()),
			cfg.Secondary.Region: index(replica.Arn()),
		},
		Arns: map[string]*string{
			cfg.Primary.Region:   t.Arn(),
			cfg.Secondary.Region: replica.Arn(),
		},
		StreamArns: map[string]*string{
			cfg.Primary.Region:   t.StreamArn(),
			cfg.Secondary.Region: replicaView.StreamArn(),
		},
	}
}
