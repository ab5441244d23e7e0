// Package stacks composes payments-dr's two stacks (the state bootstrap and the DR
// deployment) into a cdktf app and synthesizes them.
package stacks

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
)

// FunctionPackage is the Go main package of the payment function, relative to the module.
const FunctionPackage = "./lambda"

// Options of one synth.
type Options struct {
	OutDir     string    // replaced as a whole only when the synth succeeds
	ModuleRoot string    // where go.mod and lambda/ are
	Progress   io.Writer // one line per long step; io.Discard for none
}

// Synth builds the function and writes both stacks to opts.OutDir. It writes into a
// sibling directory first, so a failed synth leaves the previous output untouched.
func Synth(cfg config.Config, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(opts.OutDir))
	staging, err := os.MkdirTemp(parent, filepath.Base(opts.OutDir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	work, err := os.MkdirTemp("", "payments-dr-function-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step := func(what string, fn func() error) error {
		start := time.Now()
		fmt.Fprintf(opts.Progress, "%s ...\n", what)
		if err := fn(); err != nil {
			return err
		}
		fmt.Fprintf(opts.Progress, "%s: done in %.1fs\n", what, time.Since(start).Seconds())
		return nil
	}
	var bundle function.Bundle
	if err := step("building the payment function (linux/arm64)", func() (err error) {
		bundle, err = function.Build(opts.ModuleRoot, FunctionPackage, work)
		return err
	}); err != nil {
		return err
	}
	if err := step("synthesizing "+StateStackName+" and "+DRStackName, func() error {
		app := NewApp(cfg, staging, bundle)
		app.Synth()
		return nil
	}); err != nil {
		return err
	}
	if err := os.RemoveAll(opts.OutDir); err != nil {
		return err
	}
	return os.Rename(staging, opts.OutDir)
}

// NewApp declares both stacks in an app writing to outdir.
func NewApp(cfg config.Config, outdir string, bundle function.Bundle) cdktf.App {
	app := cdktf.NewApp(&cdktf.AppConfig{
		Outdir: jsii.String(outdir),
		// Stack traces in metadata would put this machine's paths into the snapshot.
		StackTraces: jsii.Bool(false),
	})
	NewStateStack(app, cfg)
	NewDRStack(app, cfg, bundle)
	return app
}

// StackFile is where a stack's Terraform JSON lands inside an outdir.
func StackFile(outdir, stack string) string {
	return filepath.Join(outdir, "stacks", stack, "cdk.tf.json")
}
