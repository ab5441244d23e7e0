// Command payments-dr synthesizes the Terraform JSON of the payments DR deployment.
// Configuration comes from the environment (see README.md); nothing is written unless
// it validates.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/payments-dr/payments-dr/ops/cli"
	// First of all: quiets jsii's Node end-of-life banner before any binding starts
	// jsii's Node child (see the package).
	_ "github.com/payments-dr/payments-dr/ops/nodeeol"
	"github.com/payments-dr/payments-dr/stacks"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
)

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
