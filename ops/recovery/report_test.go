package recovery

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture is the reviewed snapshot of the DR stack in its default configuration.
var fixture = filepath.Join("..", "..", "generated", "payments-dr.json")

func loadFixture(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// analyzeFixture is the report of the default configuration.
func analyzeFixture(t *testing.T) Report {
	t.Helper()
	return analyzeMutated(t, nil)
}

// analyzeMutated is the report of the fixture changed by mutate (nil: unchanged).
func analyzeMutated(t *testing.T, mutate func(doc map[string]any)) Report {
	t.Helper()
	doc := loadFixture(t)
	if mutate != nil {
		mutate(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// each calls fn with every resource of typ, by type and attributes only.
func each(doc map[string]any, typ string, fn func(id string, attrs map[string]any)) {
	byID, _ := doc["resource"].(map[string]any)[typ].(map[string]any)
	for id, v := range byID {
		fn(id, v.(map[string]any))
	}
}

func deleteWhere(doc map[string]any, typ string, match func(map[string]any) bool) {
	byID, _ := doc["resource"].(map[string]any)[typ].(map[string]any)
	for id, v := range byID {
		if match(v.(map[string]any)) {
			delete(byID, id)
		}
	}
}

func failover(attrs map[string]any) string {
	p, _ := attrs["failover_routing_policy"].(map[string]any)
	s, _ := p["type"].(string)
	return s
}

func inRegion(region string) func(map[string]any) bool {
	return func(a map[string]any) bool {
		fqdn, _ := a["fqdn"].(string)
		return strings.Contains(fqdn, "."+region+".")
	}
}

// defaultGaps are the gaps of the default configuration, all warnings: nobody subscribes
// to the topics (ALERT_EMAIL is empty), nobody may assume the DR operations role
// (DR_OPERATOR_ARNS is empty), and the authorizers trust the example issuer.
var defaultGaps = []GapKind{NoSubscriber, NoOperators, ExampleIssuer}

// without is gaps less kind; with is gaps plus kind.
func without(gaps []GapKind, kind GapKind) []GapKind {
	return slices.DeleteFunc(slices.Clone(gaps), func(k GapKind) bool { return k == kind })
}

func with(gaps []GapKind, kind GapKind) []GapKind {
	return append(without(gaps, kind), kind)
}

// namedOperators adds the DR operations role DR_OPERATOR_ARNS creates.
func namedOperators(doc map[string]any) {
	doc["resource"].(map[string]any)["aws_iam_role"].(map[string]any)["dr"] = map[string]any{"name": "dr-operations-role-dev", "provider": "aws.primary"}
}

// setIssuer sets AUTH_ISSUER on every function, as an authorizer carries it.
func setIssuer(issuer string) func(doc map[string]any) {
	return func(doc map[string]any) {
		each(doc, "aws_lambda_function", func(_ string, a map[string]any) {
			env, _ := a["environment"].(map[string]any)
			if env == nil {
				env = map[string]any{}
				a["environment"] = env
			}
			vars, _ := env["variables"].(map[string]any)
			if vars == nil {
				vars = map[string]any{}
				env["variables"] = vars
			}
			vars["AUTH_ISSUER"] = issuer
		})
	}
}

// addAlarm adds a PaymentsDR alarm in the region of provider, notifying that region's
// alert topic, as the peer probe's alarms are.
func addAlarm(doc map[string]any, provider, name, metric string, dims map[string]any) {
	topic := ""
	each(doc, "aws_sns_topic", func(id string, a map[string]any) {
		if a["provider"] == provider && strings.Contains(a["name"].(string), "alerts") {
			topic = "${aws_sns_topic." + id + ".arn}"
		}
	})
	alarms := doc["resource"].(map[string]any)["aws_cloudwatch_metric_alarm"].(map[string]any)
	alarms[name] = map[string]any{
		"alarm_name": name, "namespace": "PaymentsDR", "metric_name": metric, "dimensions": dims,
		"period": 60.0, "evaluation_periods": 1.0, "statistic": "Average", "threshold": 0.5,
		"comparison_operator": "LessThanThreshold", "treat_missing_data": "breaching",
		"alarm_actions": []any{topic}, "provider": provider,
	}
}

// withProbes adds each region's probe alarms on the other region.
func withProbes(doc map[string]any) {
	addAlarm(doc, "aws.primary", "peer-us-east-2", "PeerHealthy", map[string]any{"TableName": "t", "PeerRegion": "us-east-2"})
	addAlarm(doc, "aws.primary", "name-from-us-east-1", "FailoverNameHealthy", map[string]any{"TableName": "t", "DomainName": "d"})
	addAlarm(doc, "aws.secondary", "peer-us-east-1", "PeerHealthy", map[string]any{"TableName": "t", "PeerRegion": "us-east-1"})
	addAlarm(doc, "aws.secondary", "name-from-us-east-2", "FailoverNameHealthy", map[string]any{"TableName": "t", "DomainName": "d"})
}

func subscribeAll(doc map[string]any) {
	subs := map[string]any{}
	each(doc, "aws_sns_topic", func(id string, a map[string]any) {
		subs["sub-"+id] = map[string]any{"topic_arn": "${aws_sns_topic." + id + ".arn}", "protocol": "email", "endpoint": "oncall@example.com", "provider": a["provider"]}
	})
	doc["resource"].(map[string]any)["aws_sns_topic_subscription"] = subs
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(doc map[string]any)
		rto      int
		detect   int
		gaps     []GapKind
		checkErr string // substring; "" means Check passes with the default target
		// noDefaultGaps: gaps lists every gap, defaultGaps included or not.
		noDefaultGaps bool
	}{
		{name: "default configuration", rto: 56, detect: 30},
		{
			name: "30 s interval: detection and bound grow by 2 × 30 s",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_health_check", func(_ string, a map[string]any) { a["request_interval"] = 30.0 })
			},
			rto: 116, detect: 90, checkErr: "RTO: bound 1m56s exceeds the target 1m0s",
		},
		{
			name: "alias records: Route 53's 60 s TTL takes the bound past a minute",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_record", func(_ string, a map[string]any) {
					if failover(a) != "" {
						target := a["records"].([]any)[0].(string)
						a["type"], a["alias"] = "A", map[string]any{"name": target, "zone_id": strings.Replace(target, "regional_domain_name", "regional_zone_id", 1), "evaluate_target_health": true}
						delete(a, "records")
						delete(a, "ttl")
					}
				})
			},
			rto: 96, detect: 30, checkErr: "RTO: bound 1m36s exceeds the target 1m0s",
		},
		{
			name: "secondary health check removed",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_route53_health_check", inRegion("us-east-2"))
				each(doc, "aws_route53_record", func(_ string, a map[string]any) {
					if failover(a) == "SECONDARY" {
						delete(a, "health_check_id")
					}
				})
			},
			rto: 56, detect: 30, gaps: []GapKind{RecordWithoutHealthCheck, RegionWithoutHealthCheck},
			checkErr: "gap region-without-health-check: us-east-2",
		},
		{
			name: "record referencing a health check that is not declared",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_route53_health_check", inRegion("us-east-2"))
			},
			rto: 56, detect: 30, gaps: []GapKind{RecordWithoutHealthCheck, RegionWithoutHealthCheck},
			checkErr: "gap record-without-health-check: SECONDARY",
		},
		{
			name: "primary record without health check: no bound",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_record", func(_ string, a map[string]any) {
					if failover(a) == "PRIMARY" {
						delete(a, "health_check_id")
					}
				})
			},
			rto: 20, detect: 0, gaps: []GapKind{RecordWithoutHealthCheck},
			checkErr: "RTO: no bound",
		},
		{
			name: "one-way receipts replication",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_s3_bucket_replication_configuration", func(a map[string]any) bool { return a["provider"] == "aws.secondary" })
			},
			rto: 56, detect: 30, gaps: []GapKind{OneWayReplication},
			checkErr: "gap one-way-replication: receipts us-east-2 → us-east-1",
		},
		{
			name: "no receipts replication at all",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_s3_bucket_replication_configuration", func(map[string]any) bool { return true })
			},
			rto: 56, detect: 30, gaps: []GapKind{MissingReplica},
			checkErr: "gap missing-replica: receipts",
		},
		{
			name: "table without a replica in the secondary",
			mutate: func(doc map[string]any) {
				delete(doc["resource"].(map[string]any), "aws_dynamodb_table_replica")
			},
			rto: 56, detect: 30, gaps: []GapKind{MissingReplica},
			checkErr: "gap missing-replica: payments us-east-2",
		},
		{
			name: "alarm without an action",
			mutate: func(doc map[string]any) {
				each(doc, "aws_cloudwatch_metric_alarm", func(_ string, a map[string]any) {
					if a["metric_name"] == "Throttles" && a["provider"] == "aws.secondary" {
						delete(a, "alarm_actions")
					}
				})
			},
			rto: 56, detect: 30, gaps: []GapKind{AlarmWithoutAction},
			checkErr: "gap alarm-without-action: payment-processor-throttles-us-east-2",
		},
		{
			name: "DELETION_PROTECTION=false: a warning naming what a plan may destroy",
			mutate: func(doc map[string]any) {
				each(doc, "aws_dynamodb_table", func(_ string, a map[string]any) { a["deletion_protection_enabled"] = false })
				each(doc, "aws_kms_key", func(_ string, a map[string]any) { delete(a, "lifecycle") })
			},
			rto: 56, detect: 30, gaps: with(defaultGaps, Destroyable), noDefaultGaps: true,
		},
		{
			name:   "subscribed topics: no warning",
			mutate: subscribeAll,
			rto:    56, detect: 30, gaps: without(defaultGaps, NoSubscriber), noDefaultGaps: true,
		},
		{
			name:   "DR operations role for named operators: no warning",
			mutate: namedOperators,
			rto:    56, detect: 30, gaps: without(defaultGaps, NoOperators), noDefaultGaps: true,
		},
		{
			name:   "authorizers trusting an example issuer: a warning",
			mutate: setIssuer("https://login.example.org/realms/payments"),
			rto:    56, detect: 30, gaps: with(defaultGaps, ExampleIssuer), noDefaultGaps: true,
		},
		{
			name:   "authorizers trusting the deployer's issuer: no warning",
			mutate: setIssuer("https://login.payments.test/realms/payments"),
			rto:    56, detect: 30, gaps: without(defaultGaps, ExampleIssuer), noDefaultGaps: true,
		},
		{
			name: "no alarm outside us-east-1 on its loss: a gap (the Route 53 alarm lives there)",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_cloudwatch_metric_alarm", isProbeAlarm)
			},
			rto: 56, detect: 30, gaps: []GapKind{NoPageFromOutside},
			checkErr: "gap no-page-from-outside: us-east-1",
		},
		{
			name: "probe alarm notifying a topic in the region it watches: a gap",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_cloudwatch_metric_alarm", isProbeAlarm)
				withProbes(doc)
				each(doc, "aws_cloudwatch_metric_alarm", func(id string, a map[string]any) {
					if id == "peer-us-east-1" || id == "name-from-us-east-2" {
						primaryTopic := ""
						each(doc, "aws_sns_topic", func(tid string, t map[string]any) {
							if t["provider"] == "aws.primary" && strings.Contains(t["name"].(string), "alerts") {
								primaryTopic = "${aws_sns_topic." + tid + ".arn}"
							}
						})
						a["alarm_actions"] = []any{primaryTopic}
					}
				})
			},
			rto: 56, detect: 30, gaps: []GapKind{NoPageFromOutside},
			checkErr: "gap no-page-from-outside: us-east-1",
		},
		{
			name: "inverted primary check: a note, not a gap",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_health_check", func(_ string, a map[string]any) {
					if inRegion("us-east-1")(a) {
						a["invert_healthcheck"] = true
					}
				})
			},
			rto: 56, detect: 30,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeMutated(t, tc.mutate)
			if r.RTO.Seconds != tc.rto || r.Detection.Seconds != tc.detect {
				t.Errorf("RTO %ds detection %ds, want %ds and %ds\n%s", r.RTO.Seconds, r.Detection.Seconds, tc.rto, tc.detect, r.Table())
			}
			var kinds []GapKind
			for _, g := range r.Gaps {
				kinds = append(kinds, g.Kind)
			}
			want := append(slices.Clone(tc.gaps), defaultGaps...)
			if tc.noDefaultGaps {
				want = tc.gaps
			}
			if got, want := gapStrings(kinds), gapStrings(want); !slices.Equal(got, want) {
				t.Errorf("gaps %v, want %v", r.Gaps, want)
			}
			err := r.Check(DefaultRTOTarget, false)
			switch {
			case tc.checkErr == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tc.checkErr != "" && (err == nil || !strings.Contains(err.Error(), tc.checkErr)):
				t.Errorf("Check: %v, want an error containing %q", err, tc.checkErr)
			}
			for _, g := range r.Gaps {
				if !strings.Contains(r.Table(), string(g.Kind)) {
					t.Errorf("table does not name gap %s", g.Kind)
				}
			}
		})
	}
}

func gapStrings(kinds []GapKind) []string {
	var s []string
	for _, k := range kinds {
		s = append(s, string(k))
	}
	slices.Sort(s)
	return s
}

func TestDefaultReport(t *testing.T) {
	r := analyzeFixture(t)
	if got, want := r.RTOLine(), "RTO ≤ 56s = detection 30s + check timeout 6s + DNS TTL 20s"; got != want {
		t.Errorf("RTOLine %q, want %q", got, want)
	}
	if r.DNS.TTLSeconds != 20 || r.Detection.IntervalSeconds != 10 || r.Detection.FailureThreshold != 3 {
		t.Errorf("detection %+v dns %+v", r.Detection, r.DNS)
	}
	if r.Check(50*time.Second, false) == nil {
		t.Error("Check(50s) passed with a 56 s bound")
	}
	rpo := r.RPOLine()
	for _, want := range []string{"payments: sub-second typical, alarm at 60s (us-east-1 ⇄ us-east-2)", "receipts: 99.99% within 15 min (RTC), alarm at 900s (us-east-1 ⇄ us-east-2)"} {
		if !strings.Contains(rpo, want) {
			t.Errorf("RPO line %q lacks %q", rpo, want)
		}
	}
	if r.Control != "flag" {
		t.Errorf("control %q, want flag", r.Control)
	}
	for _, reg := range r.Regions {
		if reg.Resources == 0 || reg.Role == "" {
			t.Errorf("region %+v", reg)
		}
	}
	out, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(out, &back); err != nil || back.RTO.Seconds != 56 || len(back.RTO.Terms) != 3 || len(back.RPO) != 2 {
		t.Errorf("JSON round trip: %v %+v", err, back.RTO)
	}
}

func TestAnalyzeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":       "{",
		"no provider":    `{"resource":{}}`,
		"no PRIMARY":     `{"provider":{"aws":[{"region":"us-east-1"}]},"resource":{}}`,
		"state stack is": `{"provider":{"aws":[{"region":"us-west-2"}]},"resource":{"aws_s3_bucket":{"b":{"bucket":"x"}}}}`,
	} {
		if _, err := Analyze([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// When a region is lost, only pages deliverable from outside it count: alarms there, on
// metrics published there, notifying topics there. The Route 53 health-check alarms live in
// us-east-1, so they page on the loss of us-east-2 but never on the loss of us-east-1.
func TestNotificationPagesFromOutsideTheFailedRegion(t *testing.T) {
	r := analyzeFixture(t)
	tests := []struct {
		failed   string
		first    int      // seconds to the first page
		want     []string // metrics that must page
		excluded []string // alarm-name prefixes that must be excluded
	}{
		// PeerHealthy in us-east-2: period 60 × (1 + 1) + 5 s probe round (3 s + 2 s).
		{"us-east-1", 125, []string{"PaymentsDR/PeerHealthy", "PaymentsDR/FailoverNameHealthy"}, []string{"payment-api-health-us-east-1", "payment-processor-errors-us-east-1", "payment-api-5xx-us-east-1"}},
		// The Route 53 alarm in us-east-1 on us-east-2's check: 10 s × 3 + 60 s.
		{"us-east-2", 90, []string{"PaymentsDR/PeerHealthy", "AWS/Route53/HealthCheckStatus"}, []string{"payment-processor-errors-us-east-2"}},
	}
	if len(r.Notifications) != len(tests) {
		t.Fatalf("%d notification sections, want one per region", len(r.Notifications))
	}
	for i, tc := range tests {
		n := r.Notifications[i]
		if n.FailedRegion != tc.failed || n.FirstSeconds != tc.first {
			t.Errorf("notification %s: first page %ds, want %s and %ds", n.FailedRegion, n.FirstSeconds, tc.failed, tc.first)
		}
		var names, metrics []string
		for _, a := range n.Alarms {
			names = append(names, a.Name)
			metrics = append(metrics, a.Metric)
			if a.Region == tc.failed || slices.Contains(a.TopicRegions, tc.failed) {
				t.Errorf("%s fails: %s (alarm in %s, topics %v) cannot page", tc.failed, a.Name, a.Region, a.TopicRegions)
			}
			if strings.Contains(a.Name, "conflict-watch") {
				t.Errorf("%s fails: lists %s, which a regional failure does not set off", tc.failed, a.Name)
			}
			if a.FirstPageSeconds > 0 && a.Basis == "" {
				t.Errorf("%s: a time without its formula", a.Name)
			}
		}
		for _, w := range tc.want {
			if !slices.Contains(metrics, w) {
				t.Errorf("%s fails: no page on %s: %v", tc.failed, w, names)
			}
		}
		for _, x := range tc.excluded {
			if slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, x) }) {
				t.Errorf("%s fails: lists %s*, which cannot page while it is gone", tc.failed, x)
			}
			if !slices.ContainsFunc(n.Excluded, func(n string) bool { return strings.HasPrefix(n, x) }) {
				t.Errorf("%s fails: %s* not named as excluded: %v", tc.failed, x, n.Excluded)
			}
		}
		if !strings.Contains(r.Table(), "Notification when "+tc.failed+" fails") {
			t.Errorf("table has no section for %s", tc.failed)
		}
	}
}

// A missing subscriber is a warning: the plain check passes, the strict one fails.
func TestWarningGapsFailOnlyStrict(t *testing.T) {
	for _, tc := range []struct {
		name       string
		subscribed bool
		strictErr  bool
	}{
		{"no subscriber", false, true},
		{"subscribed, operators named, own issuer", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadFixture(t)
			if tc.subscribed {
				subscribeAll(doc)
				namedOperators(doc)
				setIssuer("https://login.payments.test/realms/payments")(doc)
			}
			b, _ := json.Marshal(doc)
			r, err := Analyze(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(DefaultRTOTarget, false); err != nil {
				t.Errorf("plain check: %v", err)
			}
			err = r.Check(DefaultRTOTarget, true)
			if (err != nil) != tc.strictErr || tc.strictErr && !strings.Contains(err.Error(), "no-alert-subscriber (warning)") {
				t.Errorf("strict check: %v, want an error: %v", err, tc.strictErr)
			}
			if tc.strictErr && !strings.Contains(r.Table(), "no subscriber on the alert topics") {
				t.Errorf("table does not list the missing subscriber:\n%s", r.Table())
			}
		})
	}
}

func isProbeAlarm(a map[string]any) bool {
	return a["metric_name"] == "PeerHealthy" || a["metric_name"] == "FailoverNameHealthy"
}

// operatorsTrusting adds the DR operations role as cdktf writes it when
// DR_OPERATOR_ARNS names principals: its trust is a policy document data source whose
// statements name them (deny names principals a statement keeps out).
func operatorsTrusting(allow []string, deny ...string) func(doc map[string]any) {
	return func(doc map[string]any) {
		data, _ := doc["data"].(map[string]any)
		if data == nil {
			data = map[string]any{}
			doc["data"] = data
		}
		docs, _ := data["aws_iam_policy_document"].(map[string]any)
		if docs == nil {
			docs = map[string]any{}
			data["aws_iam_policy_document"] = docs
		}
		statement := func(effect string, ids []string) map[string]any {
			return map[string]any{"actions": []any{"sts:AssumeRole"}, "effect": effect,
				"principals": []any{map[string]any{"type": "AWS", "identifiers": toAny(ids)}}}
		}
		sts := []any{statement("Allow", allow)}
		if len(deny) > 0 {
			sts = append(sts, statement("Deny", deny))
		}
		docs["dr_trust"] = map[string]any{"provider": "aws.primary", "statement": sts}
		doc["resource"].(map[string]any)["aws_iam_role"].(map[string]any)["dr"] = map[string]any{
			"name": "dr-operations-role-dev", "provider": "aws.primary",
			"assume_role_policy": "${data.aws_iam_policy_document.dr_trust.json}",
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestBreakGlassGap (issue 13): IAM Identity Center runs in one region; when every
// principal that may assume the DR operations role signs in through it, losing that
// region locks everyone out of the levers. The report says so, as a warning.
func TestBreakGlassGap(t *testing.T) {
	const (
		ssoOperator = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DROperator_0123456789abcdef"
		// Identity Center instances outside us-east-1 put their region in the path.
		ssoRegional = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_DRAdmin_fedcba9876543210"
		breakGlass  = "arn:aws:iam::123456789012:role/dr-break-glass"
		iamUser     = "arn:aws:iam::123456789012:user/oncall-break-glass"
	)
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		want   []GapKind // of NoOperators and SSOOnlyOperators
	}{
		{"one Identity Center role", operatorsTrusting([]string{ssoOperator}), []GapKind{SSOOnlyOperators}},
		{"two Identity Center roles, one regional", operatorsTrusting([]string{ssoOperator, ssoRegional}), []GapKind{SSOOnlyOperators}},
		{"Identity Center roles and a break-glass role", operatorsTrusting([]string{ssoOperator, breakGlass}), nil},
		{"an IAM user only", operatorsTrusting([]string{iamUser}), nil},
		// A principal a Deny names is kept out, not a way in.
		{"Identity Center role allowed, IAM user denied", operatorsTrusting([]string{ssoOperator}, iamUser), []GapKind{SSOOnlyOperators}},
		// No trust policy the report can read: it cannot tell who gets in, and says nothing.
		{"role without a readable trust", namedOperators, nil},
		// Empty DR_OPERATOR_ARNS creates no role: the existing gap, and no other.
		{"nobody named", nil, []GapKind{NoOperators}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeMutated(t, tc.mutate)
			var got []GapKind
			var gap Gap
			for _, g := range r.Gaps {
				if g.Kind == NoOperators || g.Kind == SSOOnlyOperators {
					got = append(got, g.Kind)
					gap = g
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("operator gaps %v, want %v\n%s", got, tc.want, r.Table())
			}
			if !slices.Equal(tc.want, []GapKind{SSOOnlyOperators}) {
				return
			}
			if !gap.Warning || gap.Subject != "dr-operations-role-dev" || !strings.Contains(gap.Detail, "break-glass") || !strings.Contains(gap.Detail, "Identity Center runs in one region") {
				t.Errorf("gap %+v: want a warning on dr-operations-role-dev that says why and what to add", gap)
			}
			if err := r.Check(DefaultRTOTarget, true); err == nil || !strings.Contains(err.Error(), "gap sso-only-dr-operators (warning): dr-operations-role-dev") {
				t.Errorf("strict check: %v, want it to fail on the gap", err)
			}
			if !strings.Contains(r.Table(), "sso-only-dr-operators (warning)") {
				t.Errorf("the table does not list the gap:\n%s", r.Table())
			}
		})
	}
}
