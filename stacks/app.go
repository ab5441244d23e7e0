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

// The functions' Go main packages, relative to the module root.
const (
	PaymentFunctionPackage = "./lambda"
	ConflictWatchPackage   = "./lambda/conflictwatch"
	PeerWatchPackage       = "./lambda/peerwatch"
	AuthorizerPackage      = "./lambda/authorizer"
)

// Bundles are the deployment packages both regions run.
type Bundles struct {
	Payment, ConflictWatch, PeerWatch, Authorizer function.Bundle
}

// BuildFunctions builds every function of the module at moduleRoot into outDir.
func BuildFunctions(moduleRoot, outDir string) (Bundles, error) {
	var b Bundles
	for _, f := range []struct {
		pkg string
		out *function.Bundle
	}{{PaymentFunctionPackage, &b.Payment}, {ConflictWatchPackage, &b.ConflictWatch}, {PeerWatchPackage, &b.PeerWatch}, {AuthorizerPackage, &b.Authorizer}} {
		dir := filepath.Join(outDir, filepath.Base(f.pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return b, err
		}
		bundle, err := function.Build(moduleRoot, f.pkg, dir)
		if err != nil {
			return b, err
		}
		*f.out = bundle
	}
	return b, nil
}

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
	var bundles Bundles
	if err := step("building the functions (linux/arm64)", func() (err error) {
		bundles, err = BuildFunctions(opts.ModuleRoot, work)
		return err
	}); err != nil {
		return err
	}
	if err := step("synthesizing "+StateStackName+" and "+DRStackName, func() error {
		app := NewApp(cfg, staging, bundles)
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
func NewApp(cfg config.Config, outdir string, bundles Bundles) cdktf.App {
	app := cdktf.NewApp(&cdktf.AppConfig{
		Outdir: jsii.String(outdir),
		// Stack traces in metadata would put this machine's paths into the snapshot.
		StackTraces: jsii.Bool(false),
	})
	NewStateStack(app, cfg)
	NewDRStack(app, cfg, bundles)
	return app
}

// StackFile is where a stack's Terraform JSON lands inside an outdir.
func StackFile(outdir, stack string) string {
	return filepath.Join(outdir, "stacks", stack, "cdk.tf.json")
}
