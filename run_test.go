package main

import (
	"os"
	"path/filepath"
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
