package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	// As in main: no Node end-of-life banner from jsii's child in the test output.
	_ "github.com/payments-dr/payments-dr/ops/nodeeol"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// Synthesis runs in one Node process per test binary and is the slow part, so this
// package builds the function once and synthesizes the default configuration once,
// through the same path as the main command; variants use cdktf's Testing_Synth.
var (
	testBundles Bundles
	// defaultOut is the outdir of the default configuration's full synth.
	defaultOut string
	// defaultDR is the DR stack's Terraform JSON for the default configuration.
	defaultDR string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer jsii.Close()
		work, err := os.MkdirTemp("", "payments-dr-stacks-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(work)
		testBundles, err = BuildFunctions("..", work, function.DefaultCacheDir())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defaultOut = filepath.Join(work, "cdktf.out")
		NewApp(config.Default(), defaultOut, testBundles).Synth()
		b, err := os.ReadFile(synthout.StackFile(defaultOut, synthout.DRStackName))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defaultDR = string(b)
		return m.Run()
	}())
}

// synthDR synthesizes the DR stack of a variant of the default configuration.
func synthDR(t *testing.T, change func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	change(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("variant configuration does not validate: %v", err)
	}
	app := cdktf.Testing_App(&cdktf.TestingAppConfig{StackTraces: jsii.Bool(false)})
	return *cdktf.Testing_Synth(NewDRStack(app, cfg, testBundles), jsii.Bool(false))
}

// tf is the parsed Terraform JSON of one stack.
type tf struct {
	Resource  map[string]map[string]map[string]any `json:"resource"`
	Data      map[string]map[string]map[string]any `json:"data"`
	Provider  map[string][]map[string]any          `json:"provider"`
	Terraform map[string]any                       `json:"terraform"`
	Output    map[string]map[string]any            `json:"output"`
}

// testSecret stands for every random_id's hex as an apply produces it, so that the tests
// evaluate the stack as deployed: the WAF's patterns and the health checks' paths against
// concrete requests. TestHealthPathIsApplyTimeSecret reads the unsubstituted JSON.
const testSecret = "0123456789abcdef0123456789abcdef"

var randomHex = regexp.MustCompile(`\$\{random_id\.[A-Za-z0-9_-]+\.hex\}`)

// parse reads a stack's JSON with every random_id's hex replaced by testSecret.
func parse(t *testing.T, stackJSON string) tf {
	t.Helper()
	return parseRaw(t, randomHex.ReplaceAllString(stackJSON, testSecret))
}

func parseRaw(t *testing.T, stackJSON string) tf {
	t.Helper()
	var out tf
	if err := json.Unmarshal([]byte(stackJSON), &out); err != nil {
		t.Fatalf("stack JSON does not parse: %v", err)
	}
	return out
}

var refPattern = regexp.MustCompile(`\$\{(?:data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)`)

// ref parses "${type.name.attr...}" at the start of s.
func ref(s any) (typ, name, attr string, ok bool) {
	str, _ := s.(string)
	m := refPattern.FindStringSubmatch(str)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// block returns a nested block whether cdktf rendered it as an object or a list of one.
func block(v any) map[string]any {
	switch b := v.(type) {
	case map[string]any:
		return b
	case []any:
		if len(b) > 0 {
			m, _ := b[0].(map[string]any)
			return m
		}
	}
	return nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// regionOf maps a resource's provider to its region.
func (j tf) regionOf(res map[string]any) string {
	alias, _ := res["provider"].(string)
	for _, p := range j.Provider["aws"] {
		if "aws."+fmt.Sprint(p["alias"]) == alias {
			return fmt.Sprint(p["region"])
		}
	}
	return ""
}

// recordTarget is what a failover record points at: an alias's name, or a CNAME's one
// value.
func recordTarget(rec map[string]any) any {
	if a := block(rec["alias"]); a != nil {
		return a["name"]
	}
	if values, _ := rec["records"].([]any); len(values) == 1 {
		return values[0]
	}
	return nil
}
