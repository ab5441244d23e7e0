// Command payments-dr synthesizes the Terraform JSON of the payments DR deployment.
// Configuration comes from the environment (see README.md); nothing is written unless
// it validates.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/payments-dr/payments-dr/ops/cli"
	"github.com/payments-dr/payments-dr/stacks"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
)

const silenceNodeEOL = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"

func main() {
	// Subcommands (ops/cli) read synthesized JSON or talk to DynamoDB only: dispatched
	// before anything starts jsii.
	if len(os.Args) > 1 {
		os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run())
}

func run() int {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Node 20 works but is past end of life, and jsii says so in a banner on every run,
	// `npx cdktf synth|deploy` included; docs/synth-cost-and-versions.md states the supported versions.
	if os.Getenv(silenceNodeEOL) == "" {
		os.Setenv(silenceNodeEOL, "20")
	}
	// Only once the configuration is valid: starting jsii starts a Node process.
	defer jsii.Close()
	outdir := os.Getenv("CDKTF_OUTDIR") // set by `cdktf synth`
	if outdir == "" {
		outdir = "cdktf.out"
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := stacks.Synth(cfg, stacks.Options{
		OutDir: outdir, ModuleRoot: root, Progress: os.Stdout, FunctionCache: function.DefaultCacheDir(),
	}); err != nil {
		fmt.Fprintln(os.Stderr, "synth failed:", err)
		return 1
	}
	if err := cli.PrintSynthSummary(os.Stdout, outdir); err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		return 1
	}
	return 0
}
