package stacks

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// update rewrites generated/ from a fresh synth: `make snapshots`.
var update = flag.Bool("update", false, "rewrite generated/<stack>.json from a fresh synth")

// SnapshotFile is the reviewed copy of a stack's Terraform JSON.
func snapshotFile(stack string) string {
	return filepath.Join("..", "generated", stack+".json")
}

func TestSnapshotsMatchSynth(t *testing.T) {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		t.Run(stack, func(t *testing.T) {
			got, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
			if err != nil {
				t.Fatal(err)
			}
			path := snapshotFile(stack)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", path)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v\nrun `make snapshots` to create it", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s is stale: the synthesized stack differs (-snapshot +synth):\n%s\nIf the change is intended, run `make snapshots` and commit generated/.",
					path, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// The snapshot must not depend on the machine: no absolute paths, no temp dirs, and the
// function asset named by its source hash rather than by the compiled binary.
func TestSnapshotsAreMachineIndependent(t *testing.T) {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
		if err != nil {
			t.Fatal(err)
		}
		home, _ := os.UserHomeDir()
		wd, _ := os.Getwd()
		for _, leak := range []string{os.TempDir(), home, filepath.Dir(wd), "/usr/local/go"} {
			if leak != "" && leak != "/" && strings.Contains(string(b), leak) {
				t.Errorf("%s contains the machine path %q", stack, leak)
			}
		}
	}
	if !strings.Contains(defaultDR, "assets/payment-function-code/"+testBundles.Payment.SourceHash+"/bootstrap.zip") {
		t.Errorf("the function asset path is not named by the source hash %s", testBundles.Payment.SourceHash)
	}
}
