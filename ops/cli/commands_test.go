package cli

// These tests never synthesize: they read generated/payments-dr.json and temp files.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// TestMain runs the tests from the module root, where `go run .` runs the commands: their
// paths (README.md, generated/payments-dr.json) are relative to it.
func TestMain(m *testing.M) {
	root, err := localaws.ProjectRoot()
	if err == nil {
		err = os.Chdir(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli tests: module root:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

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
		"= RTO bound    56s",
		"```\n<!-- recovery:end -->\n",
		"<!-- config:start -->\n| variable | what it sets | accepted | default |\n",
		"| `HEALTH_CHECK_INTERVAL` | seconds between Route 53 checks | 10 or 30 | `10` |\n",
		"| empty or an integer from 1 to 2147483647 | `empty` |\n<!-- config:end -->\n\nthe end\n",
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

// TestDocsCurrent fails when a generated section of README.md or docs/*.md is
// stale, or is in no document or in two.
func TestDocsCurrent(t *testing.T) {
	texts, _, err := readDocs()
	if err != nil {
		t.Fatal(err)
	}
	stack, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := renderDocs(texts, stack)
	if err != nil {
		t.Fatal(err)
	}
	for p, text := range texts {
		if want[p] != text {
			t.Errorf("%s is stale against %s: run `go run . docs`", p, fixturePath)
		}
	}
	twice := map[string]string{"a.md": texts[readmePath], "b.md": texts[readmePath]}
	if _, err := renderDocs(twice, stack); err == nil || !strings.Contains(err.Error(), "want it in exactly one") {
		t.Errorf("a section in two documents: %v", err)
	}
}

// TestDocLinks fails when a relative link in README.md, RUNBOOK.md or
// docs/*.md points to a file or heading that does not exist.
func TestDocLinks(t *testing.T) {
	texts, _, err := readDocs()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range brokenLinks(texts) {
		t.Error(b)
	}
	// The checker itself: each of these must be caught, and only these.
	probe := map[string]string{
		"x.md": "# Title\n## The day `us-east-1` is gone\n" +
			"[ok](#title) [ok](#the-day-us-east-1-is-gone) [ok](y.md#more-depth) " +
			"[bad](#nowhere) [bad](missing.md) [bad](y.md#gone) [web](https://example.com/#x)\n" +
			"`[code](missing-too.md)`\n```\n[fenced](missing-three.md)\n```\n",
		"y.md": "## More depth\n",
	}
	got := brokenLinks(probe)
	if len(got) != 3 || !strings.Contains(got[0], `"#nowhere"`) || !strings.Contains(got[1], `"missing.md"`) || !strings.Contains(got[2], `"y.md#gone"`) {
		t.Errorf("link checker found %q; want exactly #nowhere, missing.md and y.md#gone", got)
	}
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// variant writes the fixture, changed by mutate, to dir/name and returns its path.
func variant(t *testing.T, dir, name string, mutate func(resources map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	mutate(doc["resource"].(map[string]any))
	if b, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// withPeerProbes adds, if missing, each region's PeerHealthy alarm on the other one,
// notifying its own region's topic: the page from outside a failed region.
func withPeerProbes(res map[string]any) {
	alarms := res["aws_cloudwatch_metric_alarm"].(map[string]any)
	for _, a := range alarms {
		if a.(map[string]any)["metric_name"] == "PeerHealthy" {
			return
		}
	}
	for id, t := range res["aws_sns_topic"].(map[string]any) {
		provider := t.(map[string]any)["provider"]
		peer := map[any]string{"aws.primary": "us-east-2", "aws.secondary": "us-east-1"}[provider]
		alarms["peer-"+peer] = map[string]any{
			"alarm_name": "peer-" + peer, "namespace": "PaymentsDR", "metric_name": "PeerHealthy",
			"dimensions": map[string]any{"TableName": "t", "PeerRegion": peer}, "period": 60, "evaluation_periods": 1,
			"alarm_actions": []any{"${aws_sns_topic." + id + ".arn}"}, "provider": provider,
		}
	}
}

// subscribed is a deployment without warnings: topics subscribed, operators named (the
// DR role exists) and the authorizers trusting the deployer's own issuer.
func subscribed(res map[string]any) {
	withPeerProbes(res)
	subs := map[string]any{}
	for id, t := range res["aws_sns_topic"].(map[string]any) {
		subs["sub-"+id] = map[string]any{"topic_arn": "${aws_sns_topic." + id + ".arn}", "protocol": "email", "endpoint": "oncall@example.com", "provider": t.(map[string]any)["provider"]}
	}
	res["aws_sns_topic_subscription"] = subs
	res["aws_iam_role"].(map[string]any)["dr"] = map[string]any{"name": "dr-operations-role-dev", "provider": "aws.primary"}
	for _, f := range res["aws_lambda_function"].(map[string]any) {
		vars, _ := f.(map[string]any)["environment"].(map[string]any)["variables"].(map[string]any)
		if _, ok := vars["AUTH_ISSUER"]; ok {
			vars["AUTH_ISSUER"] = "https://login.payments.test/realms/payments"
		}
	}
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	paged := variant(t, dir, "paged.json", withPeerProbes)
	subscribedPath := variant(t, dir, "subscribed.json", subscribed)
	unpaged := variant(t, dir, "unpaged.json", func(res map[string]any) {
		alarms := res["aws_cloudwatch_metric_alarm"].(map[string]any)
		for id, a := range alarms {
			if m := a.(map[string]any)["metric_name"]; m == "PeerHealthy" || m == "FailoverNameHealthy" {
				delete(alarms, id)
			}
		}
	})
	slow := filepath.Join(dir, "slow.json")
	b, err := os.ReadFile(paged)
	if err != nil {
		t.Fatal(err)
	}
	// A 30 s interval, edited in the JSON: the bound becomes 116 s, over the default 60 s.
	if err := os.WriteFile(slow, bytes.ReplaceAll(b, []byte(`"request_interval": 10`), []byte(`"request_interval": 30`)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout, or of stderr when code != 0
	}{
		{[]string{"report", "--from", paged}, 0, "= RTO bound    56s"},
		{[]string{"report", "--from", paged, "--json"}, 0, `"passed": true`},
		{[]string{"report", "--from", paged, "--rto-target", "50s"}, 1, "RTO: bound 56s exceeds the target 50s"},
		{[]string{"report", "--from", slow}, 1, "exceeds the target 1m0s"},
		{[]string{"report", "--from", slow, "--rto-target", "2m"}, 0, "= RTO bound    116s"},
		// No subscriber is a warning: listed, fatal only with --strict.
		{[]string{"report", "--from", paged}, 0, "no-alert-subscriber (warning)"},
		{[]string{"report", "--from", paged, "--strict"}, 1, "gap no-alert-subscriber (warning)"},
		{[]string{"report", "--from", subscribedPath, "--strict"}, 0, "Gaps: none"},
		// Nothing outside us-east-1 pages on its loss: a gap even without --strict.
		{[]string{"report", "--from", unpaged}, 1, "gap no-page-from-outside: us-east-1"},
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
