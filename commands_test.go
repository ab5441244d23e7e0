package main

// These tests never synthesize: they read generated/payments-dr.json and temp files.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const scratchReadme = `# payments-dr

intro

## Topology
<!-- topology:start -->
old diagram
<!-- topology:end -->

## Recovery budget
<!-- recovery:start -->
<!-- recovery:end -->

## Configuration
<!-- config:start -->
<!-- config:end -->

the end
`

func TestRenderReadme(t *testing.T) {
	stack, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := renderReadme(scratchReadme, stack)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"intro\n\n## Topology\n<!-- topology:start -->\n```mermaid\nflowchart LR\n",
		"```\n<!-- topology:end -->\n",
		"<!-- recovery:start -->\n```text\nFailover name api.payment-dev.example.com",
		"= RTO bound    96s",
		"```\n<!-- recovery:end -->\n",
		"<!-- config:start -->\n| variable | what it sets | accepted | default |\n",
		"| `HEALTH_CHECK_INTERVAL` | seconds between Route 53 checks | 10 or 30 | `10` |\n",
		"| `payments-dr-<suffix>` |\n<!-- config:end -->\n\nthe end\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered README lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old diagram") {
		t.Error("old section content kept")
	}
	again, err := renderReadme(got, stack)
	if err != nil || again != got {
		t.Errorf("rendering is not idempotent (err %v)", err)
	}
	if _, err := renderReadme("# no markers\n", stack); err == nil || !strings.Contains(err.Error(), "<!-- topology:start -->") {
		t.Errorf("missing markers: %v", err)
	}
}

// TestReadmeCurrent fails when README.md's generated sections are stale.
func TestReadmeCurrent(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil || !hasMarkers(string(readme)) {
		t.Skipf("README.md has no <!-- topology:start/end --> and <!-- recovery:start/end --> markers yet (err %v): nothing to check", err)
	}
	stack, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := renderReadme(string(readme), stack)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(readme) {
		t.Errorf("README.md is stale against %s: run `go run . docs`", fixturePath)
	}
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCommand(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	slow := filepath.Join(dir, "slow.json")
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	// A 30 s interval, edited in the JSON: the bound becomes 156 s, over the default 120 s.
	if err := os.WriteFile(slow, bytes.ReplaceAll(b, []byte(`"request_interval": 10`), []byte(`"request_interval": 30`)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout, or of stderr when code != 0
	}{
		{[]string{"report", "--from", fixturePath}, 0, "= RTO bound    96s"},
		{[]string{"report", "--from", fixturePath, "--json"}, 0, `"passed": true`},
		{[]string{"report", "--from", fixturePath, "--rto-target", "90s"}, 1, "RTO: bound 1m36s exceeds the target 1m30s"},
		{[]string{"report", "--from", slow}, 1, "exceeds the target 2m0s"},
		{[]string{"report", "--from", slow, "--rto-target", "3m"}, 0, "= RTO bound    156s"},
		{[]string{"report", "--from", filepath.Join(dir, "missing.json")}, 2, "run the synth first"},
		{[]string{"diagram", "--from", fixturePath}, 0, "flowchart LR\n"},
		{[]string{"diagram", "--from", fixturePath, "--format", "dot"}, 0, "digraph payments_dr {"},
		{[]string{"diagram", "--from", fixturePath, "--format", "png"}, 2, "accepted: mermaid, dot"},
		{[]string{"nope"}, 2, "unknown command"},
	}
	for _, tc := range tests {
		code, out, errOut := runCmd(t, tc.args...)
		text := out
		if tc.code != 0 {
			text = errOut
		}
		if code != tc.code || !strings.Contains(text, tc.out) {
			t.Errorf("%v: exit %d, want %d and %q in\n%s%s", tc.args, code, tc.code, tc.out, out, errOut)
		}
	}
}
