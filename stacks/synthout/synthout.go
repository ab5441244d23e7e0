// Package synthout names the stacks a synth writes and where each one's Terraform
// JSON lands. The stacks package writes them and the operator tools (ops/cli) read
// them; it is its own package, importing nothing, so that the tools can know these
// names without linking cdktf, jsii and the provider bindings the stacks need.
package synthout

import "path/filepath"

// StateStackName is the bootstrap stack: it has local state because it creates the
// bucket every other stack keeps its state in.
const StateStackName = "payments-dr-state"

// DRStackName is the stack with everything that serves payments.
const DRStackName = "payments-dr"

// StackFile is where a stack's Terraform JSON lands inside an outdir.
func StackFile(outdir, stack string) string {
	return filepath.Join(outdir, "stacks", stack, "cdk.tf.json")
}
