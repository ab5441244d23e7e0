// Command payments-dr synthesizes the Terraform JSON of the payments DR deployment.
// Configuration comes from the environment (see README.md); nothing is written unless
// it validates.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/jsii-runtime-go"
	"github.com/payments-dr/payments-dr/ops/cli"
	"github.com/payments-dr/payments-dr/stacks"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
)

// silenceNodeEOL lists, comma-separated, the Node major versions whose end-of-life banner
// jsii's Node child leaves out (@jsii/check-node reads it in that child).
const silenceNodeEOL = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"

// eolNodeSupported is the end-of-life Node major version the README lists as supported.
const eolNodeSupported = "20"

// Set in init, before anything can start jsii, so a plain `go run .`, `npx cdktf synth`
// (which runs `go run .`) and every test binary of this package give the Node child the
// same environment as make does.
func init() {
	os.Setenv(silenceNodeEOL, withSilenced(os.Getenv(silenceNodeEOL), eolNodeSupported))
}

// withSilenced adds version to the comma-separated list, keeping what the caller had set.
func withSilenced(list, version string) string {
	var kept []string
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			kept = append(kept, v)
		}
	}
	if !slices.Contains(kept, version) {
		kept = append(kept, version)
	}
	return strings.Join(kept, ",")
}

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
