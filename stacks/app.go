// Package stacks composes payments-dr's two stacks (the state bootstrap and the DR
// deployment) into a cdktf app and synthesizes them.
package stacks

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// The functions' Go main packages, relative to the module root.
const (
	PaymentFunctionPackage = "./lambda/cmd/payment"
	ConflictWatchPackage   = "./lambda/cmd/conflictwatch"
	PeerWatchPackage       = "./lambda/cmd/peerwatch"
	AuthorizerPackage      = "./lambda/cmd/authorizer"
)

// Bundles are the deployment packages both regions run.
type Bundles struct {
	Payment, ConflictWatch, PeerWatch, Authorizer function.Bundle
}

// BuildFunctions builds every function of the module at moduleRoot into outDir, reusing
// the zips in cacheDir built before from the same inputs ("" to build every function).
func BuildFunctions(moduleRoot, outDir, cacheDir string) (Bundles, error) {
	var b Bundles
	functions := b.functions()
	pkgs := make([]string, len(functions))
	for i, f := range functions {
		pkgs[i] = f.pkg
	}
	built, err := function.Build(moduleRoot, pkgs, outDir, cacheDir)
	if err != nil {
		return b, err
	}
	for i, f := range functions {
		*f.out = built[i]
	}
	return b, nil
}

// functions pairs each function's Go main package with its bundle's place in b.
func (b *Bundles) functions() []struct {
	pkg string
	out *function.Bundle
} {
	return []struct {
		pkg string
		out *function.Bundle
	}{{PaymentFunctionPackage, &b.Payment}, {ConflictWatchPackage, &b.ConflictWatch}, {PeerWatchPackage, &b.PeerWatch}, {AuthorizerPackage, &b.Authorizer}}
}

// summary says how many functions were reused from the cache and how many were built.
func (b *Bundles) summary() string {
	reused, all := 0, b.functions()
	for _, f := range all {
		if f.out.Reused {
			reused++
		}
	}
	return fmt.Sprintf("%d reused, %d built", reused, len(all)-reused)
}

// Options of one synth.
type Options struct {
	OutDir     string    // replaced as a whole only when the synth succeeds
	ModuleRoot string    // where go.mod and lambda/ are
	Progress   io.Writer // one line per long step; io.Discard for none
	// FunctionCache keeps the functions' zips between synths (function.Build); "" builds
	// every function every time.
	FunctionCache string
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

	// The functions build while jsii starts Node and loads the providers (the state stack
	// needs them too): only the DR stack waits for the bundles.
	start := time.Now()
	fmt.Fprintln(opts.Progress, "building the functions (linux/arm64) while jsii starts ...")
	var bundles Bundles
	var took time.Duration
	built := make(chan error, 1)
	go func() {
		var err error
		bundles, err = BuildFunctions(opts.ModuleRoot, work, opts.FunctionCache)
		took = time.Since(start)
		built <- err
	}()
	app := newApp(staging)
	state := NewStateStack(app, cfg)
	if err := <-built; err != nil {
		return err
	}
	fmt.Fprintf(opts.Progress, "functions: %s in %.1fs\n", bundles.summary(), took.Seconds())
	dependsOnState(NewDRStack(app, cfg, bundles), state)
	app.Synth()
	if err := PlaceLockFiles(opts.ModuleRoot, staging); err != nil {
		return err
	}
	fmt.Fprintf(opts.Progress, "synthesized %s and %s in %.1fs\n", synthout.StateStackName, synthout.DRStackName, time.Since(start).Seconds())
	if err := os.RemoveAll(opts.OutDir); err != nil {
		return err
	}
	return os.Rename(staging, opts.OutDir)
}

// NewApp declares both stacks in an app writing to outdir.
func NewApp(cfg config.Config, outdir string, bundles Bundles) cdktf.App {
	app := newApp(outdir)
	state := NewStateStack(app, cfg)
	dependsOnState(NewDRStack(app, cfg, bundles), state)
	return app
}

// dependsOnState makes the DR stack wait for the state stack: its backend is the state
// stack's bucket and key, which must exist before `terraform init` of the DR stack. The
// dependency goes into manifest.json, where `cdktf deploy '*'` reads the order from.
func dependsOnState(dr, state cdktf.TerraformStack) {
	dr.AddDependency(state)
}

// LockFile is where a stack's provider lock is kept under version control, beside its
// snapshot: `terraform init` in cdktf.out/stacks/<stack>/ verifies the providers it
// downloads against it, and `make deploy|diff` copy back what init changed.
func LockFile(moduleRoot, stack string) string {
	return filepath.Join(moduleRoot, "generated", stack+".terraform.lock.hcl")
}

// PlaceLockFiles copies each stack's lock from generated/ into its directory in outdir,
// where Terraform looks for .terraform.lock.hcl. Every synth replaces outdir whole, so
// without this each deploy would start with no lock and trust whatever the registry
// serves. A stack with no lock yet is left to `terraform init` to create one.
func PlaceLockFiles(moduleRoot, outdir string) error {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		b, err := os.ReadFile(LockFile(moduleRoot, stack))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		dir := filepath.Dir(synthout.StackFile(outdir, stack))
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("provider lock for %s: %w", stack, err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".terraform.lock.hcl"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func newApp(outdir string) cdktf.App {
	return cdktf.NewApp(&cdktf.AppConfig{
		Outdir: jsii.String(outdir),
		// Stack traces in metadata would put this machine's paths into the snapshot.
		StackTraces: jsii.Bool(false),
	})
}
