package stacks

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/config"
)

// BenchmarkSynthDRStack measures declaring and synthesizing the DR stack in a warm Node
// process (the function build is excluded; see function.BenchmarkBuild).
func BenchmarkSynthDRStack(b *testing.B) {
	cfg := config.Default()
	var size int
	for b.Loop() {
		app := cdktf.Testing_App(&cdktf.TestingAppConfig{StackTraces: jsii.Bool(false)})
		size = len(*cdktf.Testing_Synth(NewDRStack(app, cfg, testBundles), jsii.Bool(false)))
	}
	b.ReportMetric(float64(size), "json-bytes")
}
