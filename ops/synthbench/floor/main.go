// Command floor is the cost floor of payments-dr's synth: a cdktf app with the same
// modules (cdktf, constructs, the AWS provider v19) and one resource. Whatever payments-dr
// spends beyond this app's CPU is ours to cut; what this app spends is cdktf's, jsii's
// and Node's. ops/synthbench runs the two in alternation and prints the ratio.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func main() {
	// Same banner suppression as payments-dr's main, so neither pays for printing it.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	outdir := os.Getenv("CDKTF_OUTDIR")
	if outdir == "" {
		outdir = "cdktf.out"
	}
	// Closing waits for the Node process, so its CPU lands in this process's rusage.
	defer jsii.Close()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(outdir), StackTraces: jsii.Bool(false)})
	stack := cdktf.NewTerraformStack(app, jsii.String("floor"))
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("eu-west-1")})
	s3bucket.NewS3Bucket(stack, jsii.String("bucket"), &s3bucket.S3BucketConfig{Bucket: jsii.String("floor-bucket")})
	app.Synth()
	fmt.Println("synthesized", outdir)
}
