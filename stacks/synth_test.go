package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/config"
)

// A synth that fails part way leaves the previous output as it was and no staging dir.
func TestFailedSynthLeavesOutputUntouched(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cdktf.out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(out, "previous")
	if err := os.WriteFile(marker, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A module root without the function's source: the build step fails.
	err := Synth(config.Default(), Options{OutDir: out, ModuleRoot: dir, Progress: &strings.Builder{}})
	if err == nil || !strings.Contains(err.Error(), "building the function") && !strings.Contains(err.Error(), "listing the function") {
		t.Fatalf("Synth error = %v, want the function build to fail", err)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "kept" {
		t.Errorf("previous output changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind %v", entries)
	}
}

// Synth rejects an invalid configuration before doing anything.
func TestSynthValidatesFirst(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.HealthCheckInterval = 20
	err := Synth(cfg, Options{OutDir: filepath.Join(dir, "out"), ModuleRoot: "..", Progress: &strings.Builder{}})
	if err == nil || !strings.Contains(err.Error(), "HEALTH_CHECK_INTERVAL") {
		t.Fatalf("Synth error = %v, want the interval named", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}
