package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyGenerated makes a head folder from generated/, with edit applied to the DR stack's
// text.
func copyGenerated(t *testing.T, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"payments-dr", "payments-dr-state"} {
		b, err := os.ReadFile(filepath.Join("generated", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if name == "payments-dr" {
			s = edit(s)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReviewExitCodes(t *testing.T) {
	same := copyGenerated(t, func(s string) string { return s })
	renamed := copyGenerated(t, func(s string) string {
		return strings.Replace(s, `"name": "payments-global-dev"`, `"name": "payments-ledger-dev"`, 1)
	})
	cases := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"no changes", []string{"--head", same}, exitOK, "No changes.\n", ""},
		{"risk without strict", []string{"--head", renamed}, exitOK, "DATA AT RISK", ""},
		{"risk with strict", []string{"--head", renamed, "--strict"}, exitFailed, "Plan: 0 to add,", "data at risk"},
		{"no changes with strict", []string{"--head", same, "--strict"}, exitOK, "No changes.", ""},
		{"markdown", []string{"--head", renamed, "--format", "markdown"}, exitOK, "#### DATA AT RISK", ""},
		{"base at a ref", []string{"--base-ref", "HEAD", "--head", same}, exitOK, "Review of HEAD:generated/ -> ", ""},
		{"missing head", []string{"--head", filepath.Join(same, "nope")}, exitProblem, "", "no such folder"},
		{"bad format", []string{"--head", same, "--format", "yaml"}, exitProblem, "", "accepted: text, markdown, json"},
		{"base twice", []string{"--base", "generated", "--base-ref", "HEAD", "--head", same}, exitProblem, "", "give one"},
		{"missing ref", []string{"--base-ref", "no-such-ref-xyz", "--head", same}, exitProblem, "", "no such commit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(append([]string{"review"}, c.args...), &stdout, &stderr)
			if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.err) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout.String(), stderr.String())
			}
			if c.code != exitProblem && !strings.HasSuffix(stdout.String(), "\n") {
				t.Fatal("output must end with the summary line")
			}
		})
	}
}
