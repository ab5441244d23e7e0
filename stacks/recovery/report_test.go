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
	b, err := os.ReadFile(fixture)
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
	return func(a map[string]any) bool { return strings.Contains(a["fqdn"].(string), "."+region+".") }
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(doc map[string]any)
		rto      int
		detect   int
		gaps     []GapKind
		checkErr string // substring; "" means Check passes with the default target
	}{
		{name: "default configuration", rto: 96, detect: 30},
		{
			name: "30 s interval: detection and bound grow by 2 × 30 s",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_health_check", func(_ string, a map[string]any) { a["request_interval"] = 30.0 })
			},
			rto: 156, detect: 90, checkErr: "RTO: bound 2m36s exceeds the target 2m0s",
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
			rto: 96, detect: 30, gaps: []GapKind{RecordWithoutHealthCheck, RegionWithoutHealthCheck},
			checkErr: "gap region-without-health-check: us-east-2",
		},
		{
			name: "record referencing a health check that is not declared",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_route53_health_check", inRegion("us-east-2"))
			},
			rto: 96, detect: 30, gaps: []GapKind{RecordWithoutHealthCheck, RegionWithoutHealthCheck},
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
			rto: 60, detect: 0, gaps: []GapKind{RecordWithoutHealthCheck},
			checkErr: "RTO: no bound",
		},
		{
			name: "one-way receipts replication",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_s3_bucket_replication_configuration", func(a map[string]any) bool { return a["provider"] == "aws.secondary" })
			},
			rto: 96, detect: 30, gaps: []GapKind{OneWayReplication},
			checkErr: "gap one-way-replication: receipts us-east-2 → us-east-1",
		},
		{
			name: "no receipts replication at all",
			mutate: func(doc map[string]any) {
				deleteWhere(doc, "aws_s3_bucket_replication_configuration", func(map[string]any) bool { return true })
			},
			rto: 96, detect: 30, gaps: []GapKind{MissingReplica},
			checkErr: "gap missing-replica: receipts",
		},
		{
			name: "table without a replica in the secondary",
			mutate: func(doc map[string]any) {
				delete(doc["resource"].(map[string]any), "aws_dynamodb_table_replica")
			},
			rto: 96, detect: 30, gaps: []GapKind{MissingReplica},
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
			rto: 96, detect: 30, gaps: []GapKind{AlarmWithoutAction},
			checkErr: "gap alarm-without-action: payment-processor-throttles-us-east-2",
		},
		{
			name: "drill switch on: a note, not a gap",
			mutate: func(doc map[string]any) {
				each(doc, "aws_route53_health_check", func(_ string, a map[string]any) {
					if inRegion("us-east-1")(a) {
						a["invert_healthcheck"] = true
					}
				})
			},
			rto: 96, detect: 30,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadFixture(t)
			if tc.mutate != nil {
				tc.mutate(doc)
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Analyze(b)
			if err != nil {
				t.Fatal(err)
			}
			if r.RTO.Seconds != tc.rto || r.Detection.Seconds != tc.detect {
				t.Errorf("RTO %ds detection %ds, want %ds and %ds\n%s", r.RTO.Seconds, r.Detection.Seconds, tc.rto, tc.detect, r.Table())
			}
			var kinds []GapKind
			for _, g := range r.Gaps {
				kinds = append(kinds, g.Kind)
			}
			if strings.Join(gapStrings(kinds), ",") != strings.Join(gapStrings(tc.gaps), ",") {
				t.Errorf("gaps %v, want %v", r.Gaps, tc.gaps)
			}
			err = r.Check(DefaultRTOTarget)
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
	return s
}

func TestDefaultReport(t *testing.T) {
	r := analyzeFixture(t)
	if got, want := r.RTOLine(), "RTO ≤ 96s = detection 30s + check timeout 6s + DNS TTL 60s"; got != want {
		t.Errorf("RTOLine %q, want %q", got, want)
	}
	if r.DNS.TTLSeconds != 60 || r.Detection.IntervalSeconds != 10 || r.Detection.FailureThreshold != 3 || r.Detection.DrillInverted {
		t.Errorf("detection %+v dns %+v", r.Detection, r.DNS)
	}
	if r.Check(90*time.Second) == nil {
		t.Error("Check(90s) passed with a 96 s bound")
	}
	rpo := r.RPOLine()
	for _, want := range []string{"payments: sub-second typical, alarm at 60s (us-east-1 ⇄ us-east-2)", "receipts: 99.99% within 15 min (RTC), alarm at 900s (us-east-1 ⇄ us-east-2)"} {
		if !strings.Contains(rpo, want) {
			t.Errorf("RPO line %q lacks %q", rpo, want)
		}
	}
	// The health-check alarm on the primary fires, and its topic lives in the metrics region.
	var health *AlarmNotice
	for i, n := range r.Notification.Alarms {
		if n.Metric == "AWS/Route53/HealthCheckStatus" {
			health = &r.Notification.Alarms[i]
		}
	}
	if health == nil || health.TopicRegions[0] != "us-east-1" || r.Notification.FirstSeconds != 90 {
		t.Errorf("notification %+v", r.Notification)
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
	if err := json.Unmarshal(out, &back); err != nil || back.RTO.Seconds != 96 || len(back.RTO.Terms) != 3 || len(back.RPO) != 2 {
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

// Only alarms on the serving path, the health checks and replication fire on a regional
// failure; background functions (the conflict watch) are not part of it.
func TestNotificationCoversTheServingPathOnly(t *testing.T) {
	r := analyzeFixture(t)
	var names []string
	for _, a := range r.Notification.Alarms {
		names = append(names, a.Name)
	}
	for _, want := range []string{"payment-processor-errors-us-east-1-dev", "payment-api-5xx-us-east-1-dev", "payment-api-health-us-east-1-dev"} {
		if !slices.Contains(names, want) {
			t.Errorf("notification lacks %s: %v", want, names)
		}
	}
	for _, n := range names {
		if strings.Contains(n, "conflict-watch") || strings.Contains(n, "us-east-2") && strings.HasPrefix(n, "payment-processor") {
			t.Errorf("notification lists %s, which a failure of us-east-1 does not set off", n)
		}
	}
}
