package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/bucket"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// StateStackName is the bootstrap stack: it has local state because it creates the
// bucket every other stack keeps its state in.
const StateStackName = "payments-dr-state"

// NewStateStack declares the state bucket in the state region.
func NewStateStack(scope constructs.Construct, cfg config.Config) cdktf.TerraformStack {
	stack := newStack(scope, StateStackName)
	cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{
		// Kept beside cdktf.json, not in cdktf.out, which every synth rewrites.
		Path: jsii.String("../../../terraform." + StateStackName + ".tfstate"),
	})
	s := site.New(stack, "state", cfg.StateRegion, cfg)
	b := bucket.New(stack, "state-bucket", bucket.Config{Site: s, Name: cfg.StateBucket, PreventDestroy: true})
	cdktf.NewTerraformOutput(stack, jsii.String("stateBucket"), &cdktf.TerraformOutputConfig{
		Value:       b.Name,
		Description: jsii.String("S3 bucket holding the DR stack's state"),
	})
	return stack
}
