package main

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
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

// jsii's Node child gets its environment while the bindings initialize (the first type
// registration makes its command), before package main's own init: the child of this very binary, whose package initialization is main's,
// must already carry the silencing variable, whatever the caller's shell had.
//
// The test imports nothing that main.go does not (ops/nodeeol included), so that the
// test binary initializes as the program does.
func TestNodeChildPrintsNoEndOfLifeBanner(t *testing.T) {
	const silenceVar = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
	if runtime.GOOS != "linux" {
		t.Skip("reads the child's environment from /proc")
	}
	// The child's command (and its environment) was made while the bindings initialized;
	// the first request starts it.
	constructs.Construct_IsConstruct(jsii.String("x"))
	defer jsii.Close()
	child := ""
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, stat := range procs {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) && strings.Contains(string(b), "(node)") {
			child = filepath.Dir(stat)
		}
	}
	if child == "" {
		t.Fatal("no node child of this process: jsii's runtime did not start")
	}
	env, err := os.ReadFile(filepath.Join(child, "environ"))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, silenceVar+"="); ok {
			got = v
		}
	}
	if !slices.Contains(strings.Split(got, ","), "20") {
		t.Errorf("jsii's Node child has %s=%q: it prints the end-of-life banner on Node %s", silenceVar, got, "20")
	}
}
