package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A bad setting stops the main command before anything is built: exit status 2 and the
// previous output, if any, left exactly as it was.
func TestBadConfigurationWritesNothing(t *testing.T) {
	cases := map[string]map[string]string{
		"interval":         {"HEALTH_CHECK_INTERVAL": "20"},
		"threshold":        {"HEALTH_CHECK_FAILURE_THRESHOLD": "11"},
		"equal regions":    {"SECONDARY_REGION": "us-east-1"},
		"unknown region":   {"PRIMARY_REGION": "us-north-7"},
		"domain":           {"API_DOMAIN_NAME": "payments"},
		"bucket suffix":    {"ENVIRONMENT_SUFFIX": "UPPER_case"},
		"state in primary": {"STATE_REGION": "us-east-1"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fresh := filepath.Join(dir, "fresh")
			t.Setenv("CDKTF_OUTDIR", fresh)
			for k, v := range vars {
				t.Setenv(k, v)
			}
			if code := run(); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}

func TestWithSilenced(t *testing.T) {
	cases := []struct{ list, want string }{
		{"", "20"},
		{"20", "20"},
		{"18", "18,20"},
		{" 18 , 20 ", "18,20"},
		{"18,,", "18,20"},
	}
	for _, tc := range cases {
		if got := withSilenced(tc.list, "20"); got != tc.want {
			t.Errorf("withSilenced(%q) = %q, want %q", tc.list, got, tc.want)
		}
	}
}

// The Node child jsii starts inherits this process's environment, and the check jsii runs
// in it (@jsii/check-node, from node_modules here) prints no end-of-life banner: without
// make, without the variable in the caller's shell.
func TestNodeChildPrintsNoEndOfLifeBanner(t *testing.T) {
	if _, err := os.Stat(filepath.Join("node_modules", "@jsii", "check-node")); err != nil {
		t.Skipf("node_modules has no @jsii/check-node (run npm ci): %v", err)
	}
	check := func(env []string) string {
		cmd := exec.Command("node", "-e", "require('@jsii/check-node').checkNode()")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := check(os.Environ()); strings.Contains(out, "end-of-life") {
		t.Errorf("the child still prints the banner with %s=%q:\n%s", silenceNodeEOL, os.Getenv(silenceNodeEOL), out)
	}
	// The control: the same check without the variable does print it on Node 20, so the
	// assertion above is about the variable, not a quiet Node.
	var without []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, silenceNodeEOL+"=") {
			without = append(without, kv)
		}
	}
	if out := check(without); !strings.Contains(out, "end-of-life") {
		t.Logf("this Node prints no end-of-life banner at all; only the environment was checked")
	}
}
