package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// TerraformVersion is the Terraform version both stacks require, as README.md's Versions
// table states it (a test compares the two). 1.11 is the release in which the S3
// backend's use_lockfile, the DR stack's state locking, became generally available:
// https://developer.hashicorp.com/terraform/language/v1.11.x/upgrade-guides
// OpenTofu checks required_version against its own version, so the same constraint
// admits OpenTofu 1.11 and later:
// https://opentofu.org/docs/language/settings
const TerraformVersion = ">= 1.11"

// newStack is cdktf.NewTerraformStack plus the terraform block's required_version, which
// cdktf 0.20 has no setting for; the stack escape hatch is its way to set the block's
// other arguments:
// https://github.com/hashicorp/terraform-cdk/blob/main/docs/working-with-cdk-for-terraform/escape-hatch.md
func newStack(scope constructs.Construct, name string) cdktf.TerraformStack {
	stack := cdktf.NewTerraformStack(scope, jsii.String(name))
	stack.AddOverride(jsii.String("terraform.required_version"), jsii.String(TerraformVersion))
	return stack
}
