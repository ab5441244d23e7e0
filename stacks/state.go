package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/encryption"
	"github.com/payments-dr/payments-dr/stacks/site"
	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// StateLocalFile is where the bootstrap stack keeps its own state, relative to the
// project root (.gitignore lists it: state holds every attribute in clear).
const StateLocalFile = "terraform." + synthout.StateStackName + ".tfstate"

// The state bucket keeps an overwritten state, or a lock file's versions, for
// StateNoncurrentDays, and the StateVersionsKept newest noncurrent versions of each
// object whatever their age.
const (
	StateNoncurrentDays = 90
	StateVersionsKept   = 10
)

// StateKeyAlias names the state bucket's key. The DR stack's backend refers to the key by
// this alias: the backend block is read before any resource, so it can hold neither a
// reference nor the account id an ARN would need, and the alias is fixed at synth time.
func StateKeyAlias(cfg config.Config) string {
	return "alias/payments-dr-state-" + cfg.EnvironmentSuffix
}

// NewStateStack declares the state bucket in the state region, encrypted by default with
// a customer-managed key of its own (rotation on, usable only through S3 in that region),
// and refusing writes that ask for any other encryption.
func NewStateStack(scope constructs.Construct, cfg config.Config) cdktf.TerraformStack {
	stack := newStack(scope, synthout.StateStackName)
	cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{
		// Kept beside cdktf.json, not in cdktf.out, which every synth rewrites.
		Path: jsii.String("../../../" + StateLocalFile),
	})
	s := site.New(stack, "state", cfg.StateRegion, cfg)
	account := dataawscalleridentity.NewDataAwsCallerIdentity(stack, jsii.String("account"), &dataawscalleridentity.DataAwsCallerIdentityConfig{
		Provider: s.Provider,
	}).AccountId()
	// The key policy AWS gives its own aws/s3 keys, narrowed to this account and S3 in
	// this region (kms:ViaService, kms:CallerAccount), plus administration by the account:
	// whoever may read and write the state through S3 may use the key for it, no one
	// may use it directly.
	// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
	key := encryption.New(stack, "state-key", encryption.Config{
		Site: s, Name: StateKeyAlias(cfg)[len("alias/"):], AccountID: account, DeletionWindowDays: 30,
		OnlyS3: true, Description: "payments-dr Terraform state in " + cfg.StateRegion, PreventDestroy: true,
	})
	b := bucket.New(stack, "state-bucket", bucket.Config{
		Site: s, Name: cfg.StateBucket, KMSKeyArn: key.Arn, PreventDestroy: true,
		OnlyKey: []*string{key.Arn, key.KeyID, key.AliasArn, jsii.String(StateKeyAlias(cfg))},
		// Every lock (use_lockfile) writes and deletes <key>.tflock, and every apply
		// overwrites the state: versions and delete markers pile up without a rule. The
		// last StateVersionsKept states stay however old, for rolling back a bad apply.
		Noncurrent: &bucket.Noncurrent{Days: StateNoncurrentDays, Keep: StateVersionsKept},
	})
	cdktf.NewTerraformOutput(stack, jsii.String("stateBucket"), &cdktf.TerraformOutputConfig{
		Value:       b.Name,
		Description: jsii.String("S3 bucket holding the DR stack's state"),
	})
	cdktf.NewTerraformOutput(stack, jsii.String("stateKeyArn"), &cdktf.TerraformOutputConfig{
		Value:       key.Arn,
		Description: jsii.String("KMS key encrypting the DR stack's state (" + StateKeyAlias(cfg) + "); its policy lets any principal of this account use it through S3 in " + cfg.StateRegion + ", so whoever may read and write the state object may use it; IAM policies cannot grant more"),
	})
	return stack
}
