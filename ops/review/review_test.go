package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/ops/recovery"
)

// The fixtures are the reviewed synth (generated/) with one change a pull request could
// make, written back as a folder of <stack>.json files.

const (
	drStack    = "payments-dr"
	stateStack = "payments-dr-state"
	tableAddr  = "aws_dynamodb_table.payments-table_7633156F"
	replica    = "aws_dynamodb_table_replica.payments-table_replica_8D311EBC"
)

type synth map[string]map[string]any // stack name -> document

func loadSynth(t testing.TB) synth {
	t.Helper()
	out := synth{}
	for _, name := range []string{drStack, stateStack} {
		b, err := os.ReadFile(filepath.Join("..", "..", "generated", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		out[name] = doc
	}
	return out
}

func (s synth) write(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, doc := range s {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rewrite replaces text throughout a stack, the way a renamed construct id changes every
// logical id and reference below it.
func (s synth) rewrite(t testing.TB, stack, old, new string) {
	t.Helper()
	b, _ := json.Marshal(s[stack])
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", stack, old)
	}
	var doc map[string]any
	if err := json.Unmarshal(bytes.ReplaceAll(b, []byte(old), []byte(new)), &doc); err != nil {
		t.Fatal(err)
	}
	s[stack] = doc
}

func (s synth) resource(t testing.TB, stack, typ, id string) map[string]any {
	t.Helper()
	r, ok := s[stack]["resource"].(map[string]any)[typ].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("%s has no %s.%s", stack, typ, id)
	}
	return r
}

// find returns the id of the one resource of typ whose attribute key equals value.
func (s synth) find(t testing.TB, stack, typ, key string, value any) string {
	t.Helper()
	for id, r := range s[stack]["resource"].(map[string]any)[typ].(map[string]any) {
		if r.(map[string]any)[key] == value {
			return id
		}
	}
	t.Fatalf("%s has no %s with %s = %v", stack, typ, key, value)
	return ""
}

func review(t testing.TB, base, head synth) *Plan {
	t.Helper()
	b, err := LoadDir(base.write(t))
	if err != nil {
		t.Fatal(err)
	}
	h, err := LoadDir(head.write(t))
	if err != nil {
		t.Fatal(err)
	}
	return Review(b, h)
}

func (p *Plan) stack(t testing.TB, name string) StackPlan {
	t.Helper()
	for _, s := range p.Stacks {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stack %s in the review", name)
	return StackPlan{}
}

func (s StackPlan) change(t testing.TB, addr string) Change {
	t.Helper()
	for _, list := range [][]Change{s.Resources, s.DataSources, s.Outputs} {
		for _, c := range list {
			if c.Address == addr {
				return c
			}
		}
	}
	t.Fatalf("no change to %s; changes: %v", addr, addresses(s))
	return Change{}
}

func addresses(s StackPlan) []string {
	var out []string
	for _, list := range [][]Change{s.Resources, s.DataSources, s.Outputs} {
		for _, c := range list {
			out = append(out, string(c.Action)+" "+c.Address)
		}
	}
	return out
}

func (c Change) attr(t testing.TB, path string) AttrChange {
	t.Helper()
	for _, a := range c.Attributes {
		if a.Path == path {
			return a
		}
	}
	t.Fatalf("%s: no change at %s; changes: %+v", c.Address, path, c.Attributes)
	return AttrChange{}
}

func risk(s StackPlan, addr string) (Risk, bool) {
	for _, r := range s.Risks {
		if r.Address == addr {
			return r, true
		}
	}
	return Risk{}, false
}

func text(t testing.TB, p *Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b, Text, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestReviewOfTheSnapshotAgainstItselfHasNoChanges(t *testing.T) {
	p := review(t, loadSynth(t), loadSynth(t))
	if p.Changed || p.AtRisk() || len(p.Regressions()) > 0 {
		t.Fatalf("changed=%v risk=%v regressions=%v", p.Changed, p.AtRisk(), p.Regressions())
	}
	if got := lastLine(text(t, p)); got != "No changes." {
		t.Fatalf("last line %q, want No changes.", got)
	}
}

func TestConstructIDRenamedIsAMoveWithTheMovedBlock(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	// Renaming the primary region's "receipts" construct renames the bucket and the five
	// resources that configure it, and every reference to them.
	head.rewrite(t, drStack, "primary_receipts_", "primary_receipt-store_")
	p := review(t, base, head)
	s := p.stack(t, drStack)
	c := s.change(t, "aws_s3_bucket.primary_receipt-store_bucket_DE5616A0")
	if c.MovedFrom != "aws_s3_bucket.primary_receipts_bucket_DE5616A0" || c.Action != NoOp || c.MoveDeclared {
		t.Fatalf("bucket: %+v", c)
	}
	wantBlock := "moved {\n  from = aws_s3_bucket.primary_receipts_bucket_DE5616A0\n  to   = aws_s3_bucket.primary_receipt-store_bucket_DE5616A0\n}"
	if c.MovedBlock != wantBlock || !strings.Contains(c.CDKTFMove, `MoveFromId(jsii.String("aws_s3_bucket.primary_receipts_bucket_DE5616A0"))`) {
		t.Fatalf("moved block %q, cdktf %q", c.MovedBlock, c.CDKTFMove)
	}
	if p.Summary != (Summary{Move: 6}) {
		t.Fatalf("summary %+v, want 6 moves and nothing else (the bucket and its 5 configurations)", p.Summary)
	}
	r, ok := risk(s, c.Address)
	if !ok || r.Stopped || !strings.Contains(r.Action, "without a moved block") {
		t.Fatalf("an undeclared move of the receipts bucket destroys it: want it at risk, got %+v (ok %v)", r, ok)
	}
	out := text(t, p)
	for _, l := range strings.Split(wantBlock, "\n") {
		if !strings.Contains(out, "      "+l+"\n") {
			t.Fatalf("text lacks the moved block line %q:\n%s", l, out)
		}
	}
	if strings.Index(out, "DATA AT RISK") > strings.Index(out, "  Resources") {
		t.Fatalf("text lacks the moved block or lists risk after resources:\n%s", out)
	}

	// With the moved block in the head (what MoveFromId writes), the move is safe.
	head[drStack]["moved"] = []any{map[string]any{"from": "aws_s3_bucket.primary_receipts_bucket_DE5616A0", "to": "aws_s3_bucket.primary_receipt-store_bucket_DE5616A0"}}
	p = review(t, base, head)
	s = p.stack(t, drStack)
	if c := s.change(t, "aws_s3_bucket.primary_receipt-store_bucket_DE5616A0"); !c.MoveDeclared {
		t.Fatalf("declared move not recognised: %+v", c)
	}
	if _, ok := risk(s, "aws_s3_bucket.primary_receipt-store_bucket_DE5616A0"); ok {
		t.Fatal("a move with a moved block is not at risk")
	}
}

func TestTableRenamedReplacesTheTableAndThroughItTheReplica(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	head.resource(t, drStack, "aws_dynamodb_table", "payments-table_7633156F")["name"] = "payments-ledger-dev"
	p := review(t, base, head)
	s := p.stack(t, drStack)
	table := s.change(t, tableAddr)
	if table.Action != Replace || strings.Join(table.ForcedBy, ",") != "name" {
		t.Fatalf("table: %+v", table)
	}
	if a := table.attr(t, "name"); a.Old != `"payments-global-dev"` || a.New != `"payments-ledger-dev"` || !a.ForcesReplacement {
		t.Fatalf("name change: %+v", a)
	}
	rep := s.change(t, replica)
	if rep.Action != Replace || strings.Join(rep.ForcedBy, ",") != "global_table_arn" || rep.attr(t, "global_table_arn").New != Unknown {
		t.Fatalf("replica must be replaced through global_table_arn (ForceNew, unknown until the table is replaced): %+v", rep)
	}
	for _, addr := range []string{tableAddr, replica} {
		r, ok := risk(s, addr)
		if !ok || !r.Stopped || !strings.HasPrefix(r.PreventDestroy, "yes") || r.Also == "" {
			t.Fatalf("%s: want DATA AT RISK, stopped by prevent_destroy, deletion protection noted; got %+v (ok %v)", addr, r, ok)
		}
	}
	// A dependent that only reads the name updates in place, with the new value.
	fn := s.change(t, "aws_lambda_function.primary_function_993DFCE7")
	if a := fn.attr(t, "environment.variables.TABLE_NAME"); fn.Action != Update || a.New != `"payments-ledger-dev"` {
		t.Fatalf("function: %+v", fn)
	}
	if p.Summary.Replace != 3 { // the table, the replica, the stream's event source mapping
		t.Fatalf("summary %+v: want 3 replacements", p.Summary)
	}
}

func TestPrimaryRecordTTLRaisedIsAnUpdateThatRaisesTheRTOBound(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	id := "failover_record-primary_2F3B5BF9"
	head.resource(t, drStack, "aws_route53_record", id)["ttl"] = 60.0
	p := review(t, base, head)
	s := p.stack(t, drStack)
	c := s.change(t, "aws_route53_record."+id)
	if a := c.attr(t, "ttl"); c.Action != Update || a.Old != "20" || a.New != "60" || a.ForcesReplacement {
		t.Fatalf("record: %+v", c)
	}
	rb := analyze(t, base)
	rh := analyze(t, head)
	want := Delta{What: "RTO bound", Old: rtoText(rb.RTO), New: rtoText(rh.RTO)}
	if rh.RTO.Seconds != rb.RTO.Seconds+40 || s.Recovery.RTO == nil || *s.Recovery.RTO != want {
		t.Fatalf("RTO delta %+v, want %+v (40 s more TTL)", s.Recovery.RTO, want)
	}
	if len(p.Regressions()) == 0 || !strings.Contains(text(t, p), want.String()) {
		t.Fatalf("a higher RTO bound is a regression shown in the review; regressions %v", p.Regressions())
	}
}

func analyze(t testing.TB, s synth) recovery.Report {
	t.Helper()
	b, _ := json.Marshal(s[drStack])
	r, err := recovery.Analyze(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAlarmRemovedIsADestroyAndAPageLost(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	n := analyze(t, base).Notifications[0]
	name := n.Alarms[0].Name
	id := head.find(t, drStack, "aws_cloudwatch_metric_alarm", "alarm_name", name)
	delete(head[drStack]["resource"].(map[string]any)["aws_cloudwatch_metric_alarm"].(map[string]any), id)
	out := head[drStack]["output"].(map[string]any)["alarmArns"].(map[string]any)
	var kept []any
	for _, v := range out["value"].([]any) {
		if !strings.Contains(v.(string), id) {
			kept = append(kept, v)
		}
	}
	out["value"] = kept
	p := review(t, base, head)
	s := p.stack(t, drStack)
	if c := s.change(t, "aws_cloudwatch_metric_alarm."+id); c.Action != Destroy {
		t.Fatalf("alarm: %+v", c)
	}
	lost := name + " can no longer page when " + n.FailedRegion + " fails"
	if !contains(s.Recovery.PagesLost, lost) || p.Summary.Destroy != 1 {
		t.Fatalf("pages lost %v, want %q; summary %+v", s.Recovery.PagesLost, lost, p.Summary)
	}
	if p.AtRisk() {
		t.Fatal("an alarm holds no data")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestFunctionMemoryChangedIsAnUpdateWithNothingAtRisk(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	head.resource(t, drStack, "aws_lambda_function", "primary_function_993DFCE7")["memory_size"] = 1024.0
	p := review(t, base, head)
	c := p.stack(t, drStack).change(t, "aws_lambda_function.primary_function_993DFCE7")
	if a := c.attr(t, "memory_size"); c.Action != Update || a.Old != "256" || a.New != "1024" || len(c.Attributes) != 1 {
		t.Fatalf("function: %+v", c)
	}
	if p.AtRisk() || len(p.Regressions()) > 0 || p.Summary != (Summary{Change: 1}) {
		t.Fatalf("risk %v regressions %v summary %+v", p.AtRisk(), p.Regressions(), p.Summary)
	}
	if got, want := lastLine(text(t, p)), "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy, 0 to move."; got != want {
		t.Fatalf("last line %q, want %q", got, want)
	}
}

func TestPolicyStatementAddedIsDiffedStatementByStatement(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	doc := head[drStack]["data"].(map[string]any)["aws_iam_policy_document"].(map[string]any)["primary_function_role_permissions_A78936C0"].(map[string]any)
	stmt := map[string]any{"sid": "ReadEverything", "effect": "Allow", "actions": []any{"dynamodb:Scan"}, "resources": []any{"*"}}
	doc["statement"] = append(doc["statement"].([]any), stmt)
	p := review(t, base, head)
	s := p.stack(t, drStack)
	d := s.change(t, "data.aws_iam_policy_document.primary_function_role_permissions_A78936C0")
	a := d.attr(t, `statement["ReadEverything"]`)
	if len(d.Attributes) != 1 || a.Old != absent || !strings.Contains(a.New, "dynamodb:Scan") {
		t.Fatalf("want only the new statement, keyed by sid: %+v", d.Attributes)
	}
	pol := s.change(t, "aws_iam_role_policy.primary_function_role_policy_444B23D3")
	if pol.Action != Update || !strings.Contains(pol.attr(t, "policy").Note, d.Address) {
		t.Fatalf("the role policy changes with its document: %+v", pol)
	}
	if p.Summary != (Summary{Change: 1}) {
		t.Fatalf("summary %+v", p.Summary)
	}
}

func TestPolicyJSONStringsAreComparedByStatement(t *testing.T) {
	var out []AttrChange
	a := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject"}]}`
	b := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject"},{"Sid":"B","Effect":"Deny","Action":"s3:*"}]}`
	diffValues("policy", a, b, &out)
	if len(out) != 1 || out[0].Path != `policy.Statement["B"]` || out[0].Old != absent {
		t.Fatalf("%+v", out)
	}
}

func TestSensitiveValuesAreHidden(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	const oldValue, newValue = "old-key-value-0123456789abcdef", "new-key-value-0123456789abcdef"
	base.resource(t, drStack, "aws_api_gateway_api_key", "primary_api_api-key-default_4DAB3134")["value"] = oldValue
	head.resource(t, drStack, "aws_api_gateway_api_key", "primary_api_api-key-default_4DAB3134")["value"] = newValue
	p := review(t, base, head)
	s := p.stack(t, drStack)
	key := s.change(t, "aws_api_gateway_api_key.primary_api_api-key-default_4DAB3134")
	if a := key.attr(t, "value"); key.Action != Replace || a.Old != Hidden || a.New != Hidden {
		t.Fatalf("key: %+v", key)
	}
	if _, ok := risk(s, key.Address); !ok {
		t.Fatal("a replaced API key changes the value clients hold: want it at risk")
	}
	if o := s.change(t, "output.apiKeyValues"); o.Attributes[0].Old != Hidden || o.Attributes[0].New != Hidden {
		t.Fatalf("sensitive output: %+v", o)
	}
	for _, f := range []Format{Text, Markdown, JSON} {
		var b bytes.Buffer
		if err := p.Write(&b, f, false); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), oldValue) || strings.Contains(b.String(), newValue) {
			t.Fatalf("%s output shows a sensitive value", f)
		}
	}
}

func TestStackAddedIsAllCreates(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	delete(base, stateStack)
	p := review(t, base, head)
	s := p.stack(t, stateStack)
	// Every resource of the state stack's snapshot, however many it declares.
	want := 0
	for _, byName := range head[stateStack]["resource"].(map[string]any) {
		want += len(byName.(map[string]any))
	}
	if s.OnlyIn != "head" || want == 0 || len(s.Resources) != want || p.Summary != (Summary{Add: want}) {
		t.Fatalf("onlyIn %q, %d resources, summary %+v", s.OnlyIn, len(s.Resources), p.Summary)
	}
	for _, c := range s.Resources {
		if c.Action != Create {
			t.Fatalf("%s: %s", c.Address, c.Action)
		}
	}
}

func TestFormatsPutRiskFirstAndEndWithTheSummary(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	head.resource(t, drStack, "aws_dynamodb_table", "payments-table_7633156F")["name"] = "payments-ledger-dev"
	p := review(t, base, head)
	var md, js, colored bytes.Buffer
	if err := p.Write(&md, Markdown, false); err != nil {
		t.Fatal(err)
	}
	if i, j := strings.Index(md.String(), "#### DATA AT RISK"), strings.Index(md.String(), "#### Resources"); i < 0 || j < i {
		t.Fatalf("markdown: risk at %d, resources at %d", i, j)
	}
	if lastLine(md.String()) != p.Line {
		t.Fatalf("markdown ends %q", lastLine(md.String()))
	}
	if err := p.Write(&js, JSON, false); err != nil {
		t.Fatal(err)
	}
	var decoded Plan
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || decoded.Line != p.Line || decoded.Summary != p.Summary {
		t.Fatalf("json: %v %+v", err, decoded.Summary)
	}
	if err := p.Write(&colored, Text, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(colored.String(), "\x1b[31m") || strings.Contains(text(t, p), "\x1b[") {
		t.Fatal("colour only when asked for")
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "text, markdown, json") {
		t.Fatalf("bad format: %v", err)
	}
}

func TestBadInputIsNamed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			if err := os.WriteFile(filepath.Join(d, "x.json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	cases := []struct {
		name string
		load func() error
		want string
	}{
		{"missing folder", func() error { _, err := LoadDir(filepath.Join(dir, "nope")); return err }, "nope: no such folder"},
		{"empty folder", func() error { _, err := LoadDir(write("empty", "")); return err }, "nothing to review"},
		{"unreadable JSON", func() error { _, err := LoadDir(write("broken", `{"resource": `)); return err }, "x.json: not readable JSON"},
		{"not a cdktf stack", func() error { _, err := LoadDir(write("plain", `{"resource": {}}`)); return err }, "x.json: not a cdktf stack"},
		{"missing ref", func() error { _, err := LoadGitRef(".", "no-such-ref-xyz", "generated"); return err }, "--base-ref no-such-ref-xyz: no such commit"},
		{"option as ref", func() error { _, err := LoadGitRef(".", "--help", "generated"); return err }, "want a git ref"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.load()
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an input error containing %q", err, c.want)
			}
		})
	}
}

func TestBaseAtAGitRefReadsGenerated(t *testing.T) {
	side, err := LoadGitRef(".", "HEAD", "generated")
	if err != nil {
		t.Fatal(err)
	}
	if side.Stacks[drStack] == nil || side.Stacks[stateStack] == nil {
		t.Fatalf("stacks at HEAD: %v", side.Stacks)
	}
}

// Every resource type the stacks synthesize must have a provider-schema entry, so nobody
// adds a type without deciding what forces its replacement.
func TestEveryResourceTypeHasAForceNewEntry(t *testing.T) {
	side, err := LoadDir(filepath.Join("..", "..", "generated"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range side.Stacks {
		for _, b := range s.Blocks {
			if b.Mode == "resource" && !KnownType(b.Type) {
				t.Errorf("%s (%s): no entry in providerSchema (schema.go): read its schema in %sinternal/service/<svc>/<resource>.go and list its ForceNew arguments", b.Type, s.Name, providerRepo)
			}
		}
	}
	for typ := range providerSchema {
		if !strings.HasPrefix(SchemaSource(typ), providerRepo+"internal/service/") && !strings.HasPrefix(SchemaSource(typ), randomRepo+"internal/provider/") {
			t.Errorf("%s: no source cited", typ)
		}
	}
}

func TestFunctionRenamedReplacesItsPermissionThroughAForceNewReference(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	head.resource(t, drStack, "aws_lambda_function", "primary_function_993DFCE7")["function_name"] = "payment-api-v2-us-east-1-dev"
	p := review(t, base, head)
	s := p.stack(t, drStack)
	perm := s.change(t, "aws_lambda_permission.primary_api_invoke-permission_0C427AA1")
	if a := perm.attr(t, "function_name"); perm.Action != Replace || a.New != `"payment-api-v2-us-east-1-dev"` || !a.ForcesReplacement {
		t.Fatalf("permission: the function's name is a ForceNew argument of the permission: %+v", perm)
	}
	integ := s.change(t, "aws_api_gateway_integration.primary_api_integration-post-payments_7AAA515A")
	if a := integ.attr(t, "uri"); integ.Action != Update || a.New != Unknown {
		t.Fatalf("integration: its uri reads the replaced function's invoke_arn: %+v", integ)
	}
	// The deployment's trigger digests the integrations' uri, so a new invoke ARN is a
	// new deployment: the stage serves the new function.
	if d := s.change(t, "aws_api_gateway_deployment.primary_api_deployment_60D89A41"); d.Action != Replace {
		t.Fatalf("deployment: its trigger reads the replaced function's invoke_arn: %+v", d)
	}
	if p.Summary.Replace != 3 || p.AtRisk() {
		t.Fatalf("summary %+v risk %v", p.Summary, p.AtRisk())
	}
}

func TestBackendAndProviderChangesAreShown(t *testing.T) {
	base, head := loadSynth(t), loadSynth(t)
	backend := head[drStack]["terraform"].(map[string]any)["backend"].(map[string]any)["s3"].(map[string]any)
	backend["region"] = "eu-west-1"
	p := review(t, base, head)
	s := p.stack(t, drStack)
	if len(s.Settings) != 1 || s.Settings[0].Path != "terraform.backend.s3.region" || s.Settings[0].New != `"eu-west-1"` {
		t.Fatalf("settings: %+v", s.Settings)
	}
	if !p.Changed || p.Line == "No changes." {
		t.Fatal("a backend change is a change")
	}
}

// The review must run where Node does not: nothing it builds on may pull in cdktf or jsii.
func TestReviewBuildsWithoutCdktfOrJsii(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "terraform-cdk-go") || strings.Contains(dep, "jsii-runtime-go") || dep == "github.com/payments-dr/payments-dr/stacks" {
			t.Errorf("ops/review depends on %s", dep)
		}
	}
}
