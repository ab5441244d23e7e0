package stacks

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/metricregion"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/restapi"
)

// The DR semantics, checked on the synthesized JSON: what fails over to where, which key
// protects which copy, which way data flows, where each alarm can see its metric. The
// snapshot diff shows such changes too, but a reviewer can regenerate it without noticing
// that a region's role or key was swapped; these checks name the inversion instead.
//
// Each checker returns its findings rather than failing the test, so that
// TestDRSemanticsCatchInversions can show every one of them failing on a mutated copy.
type semanticCheck struct {
	name  string
	check func(j tf) []string
}

var semanticChecks = []semanticCheck{
	{"every alarm is in its metric's region and notifies a topic there", alarmRegionFindings},
	{"the primary region's record is PRIMARY, the secondary's SECONDARY, each gated by its own region's check", failoverFindings},
	{"the table and each replica are encrypted with their own region's key", tableKeyFindings},
	{"receipts replicate both ways, to the other region's bucket, re-encrypted with the destination's key", replicationFindings},
	{"the replication roles trust S3 as the S3 user guide shows, for this account's buckets only (aws:SourceAccount)", replicationTrustFindings},
	{"each receipts bucket reports replication failures to its own region's topic, which S3 may publish to", bucketEventFindings},
	{"GET /health has its own throttle, enough for Route 53 and the probes", healthThrottleFindings},
}

func TestDRSemantics(t *testing.T) { runChecks(t, semanticChecks) }

// runChecks runs every check on every variant; each finding fails the test.
func runChecks(t *testing.T, checks []semanticCheck) {
	for name, j := range invariantVariants(t) {
		for _, c := range checks {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				for _, f := range c.check(j) {
					t.Error(f)
				}
			})
		}
	}
}

// mutation is a change a plausible edit could make, and what its check must say of it.
type mutation struct {
	name   string
	check  func(j tf) []string
	mutate func(t *testing.T, j tf)
	want   string // in some finding
}

// assertCaught applies each mutation to a fresh parse of the default stack: the check
// must be clean before and report the mutation after.
func assertCaught(t *testing.T, cases []mutation) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := parse(t, defaultDR)
			if f := c.check(j); len(f) != 0 {
				t.Fatalf("the unmutated stack already has findings: %v", f)
			}
			c.mutate(t, j)
			findings := c.check(j)
			for _, f := range findings {
				if strings.Contains(f, c.want) {
					return
				}
			}
			t.Errorf("mutation not reported (want a finding with %q); findings: %v", c.want, findings)
		})
	}
}

// Each mutation is an inversion a plausible change could make; the named check must
// report it. The mutations edit a fresh parse of the default stack.
func TestDRSemanticsCatchInversions(t *testing.T) {
	assertCaught(t, []mutation{
		{"S3 latency alarm moved back to the source region (with its topic)", alarmRegionFindings, func(t *testing.T, j tf) {
			moveAlarm(t, j, "AWS/S3", "ReplicationLatency", "us-east-1", "us-east-2")
		}, "published in us-east-2"},
		{"S3 failure alarm moved to the destination", alarmRegionFindings, func(t *testing.T, j tf) {
			moveAlarm(t, j, "AWS/S3", "OperationsFailedReplication", "us-east-1", "us-east-2")
		}, "published in us-east-1"},
		{"Route 53 alarm moved out of us-east-1", alarmRegionFindings, func(t *testing.T, j tf) {
			moveAlarm(t, j, "AWS/Route53", "HealthCheckStatus", "us-east-1", "us-east-2")
		}, "published in us-east-1"},
		{"DynamoDB replication alarm moved to the receiving region", alarmRegionFindings, func(t *testing.T, j tf) {
			moveAlarm(t, j, "AWS/DynamoDB", "ReplicationLatency", "us-east-1", "us-east-2")
		}, "published in us-east-1"},
		{"Lambda alarm moved to the other region", alarmRegionFindings, func(t *testing.T, j tf) {
			moveAlarm(t, j, "AWS/Lambda", "Errors", "us-east-1", "us-east-2")
		}, "published in us-east-1"},
		{"alarm left in its region but notifying the other region's topic", alarmRegionFindings, func(t *testing.T, j tf) {
			a := findAlarm(t, j, "AWS/S3", "ReplicationLatency", "us-east-2")
			a["alarm_actions"] = []any{topicRef(t, j, "us-east-1")}
		}, "notifies"},
		{"alarm on a metric the table does not know", alarmRegionFindings, func(t *testing.T, j tf) {
			findAlarm(t, j, "AWS/Lambda", "Errors", "us-east-1")["namespace"] = "AWS/Made-Up"
		}, "not in the metric table"},
		{"roles swapped between the records", failoverFindings, func(t *testing.T, j tf) {
			for _, r := range failoverRecords(j) {
				p := block(r["failover_routing_policy"])
				p["type"] = map[string]string{"PRIMARY": "SECONDARY", "SECONDARY": "PRIMARY"}[p["type"].(string)]
			}
		}, "PRIMARY record targets us-east-2"},
		{"CNAME targets swapped between the records", failoverFindings, func(t *testing.T, j tf) {
			recs := failoverRecords(j)
			recs[0]["records"], recs[1]["records"] = recs[1]["records"], recs[0]["records"]
		}, "targets"},
		{"a record gated by the other region's health check", failoverFindings, func(t *testing.T, j tf) {
			recs := failoverRecords(j)
			recs[0]["health_check_id"], recs[1]["health_check_id"] = recs[1]["health_check_id"], recs[0]["health_check_id"]
		}, "health check probes"},
		{"both records PRIMARY", failoverFindings, func(t *testing.T, j tf) {
			for _, r := range failoverRecords(j) {
				block(r["failover_routing_policy"])["type"] = "PRIMARY"
			}
		}, "want exactly one PRIMARY and one SECONDARY"},
		{"replica encrypted with the source region's key", tableKeyFindings, func(t *testing.T, j tf) {
			for _, r := range j.Resource["aws_dynamodb_table_replica"] {
				r["kms_key_arn"] = keyRef(t, j, "us-east-1", "arn")
			}
		}, "replica"},
		{"table encrypted with the secondary region's key", tableKeyFindings, func(t *testing.T, j tf) {
			for _, tbl := range j.Resource["aws_dynamodb_table"] {
				block(tbl["server_side_encryption"])["kms_key_arn"] = keyRef(t, j, "us-east-2", "arn")
			}
		}, "table"},
		{"replicas re-encrypted with the source region's key", replicationFindings, func(t *testing.T, j tf) {
			c := replicationFrom(t, j, "us-east-1")
			block(block(block(c["rule"])["destination"])["encryption_configuration"])["replica_kms_key_id"] = keyRef(t, j, "us-east-1", "arn")
		}, "replica key"},
		{"replication into the source bucket itself", replicationFindings, func(t *testing.T, j tf) {
			c := replicationFrom(t, j, "us-east-1")
			block(block(c["rule"])["destination"])["bucket"] = bucketRef(t, j, "us-east-1", "arn")
		}, "not the other region's bucket"},
		{"one-way replication only", replicationFindings, func(t *testing.T, j tf) {
			for name, c := range j.Resource["aws_s3_bucket_replication_configuration"] {
				if j.regionOf(c) == "us-east-2" {
					delete(j.Resource["aws_s3_bucket_replication_configuration"], name)
				}
			}
		}, "no replication from us-east-2 to us-east-1"},
		{"replication trust without its SourceAccount condition", replicationTrustFindings, func(t *testing.T, j tf) {
			trust := replicationTrust(t, j)
			delete(block(list(trust["statement"])[0]), "condition")
		}, "aws:SourceAccount"},
		{"replication trust for another account", replicationTrustFindings, func(t *testing.T, j tf) {
			trust := replicationTrust(t, j)
			block(list(trust["statement"])[0])["condition"] = []any{map[string]any{"test": "StringEquals", "variable": "aws:SourceAccount", "values": []any{"111122223333"}}}
		}, "aws:SourceAccount"},
		{"replication trust with SourceAccount only if S3 sends it", replicationTrustFindings, func(t *testing.T, j tf) {
			trust := replicationTrust(t, j)
			block(list(block(list(trust["statement"])[0])["condition"])[0])["test"] = "StringEqualsIfExists"
		}, "aws:SourceAccount"},
		{"topic key lets S3 in for any account", bucketEventFindings, func(t *testing.T, j tf) {
			for _, doc := range j.Data["aws_iam_policy_document"] {
				for _, st := range list(doc["statement"]) {
					if block(st)["sid"] == "S3EventsPublishToEncryptedTopic" {
						delete(block(st), "condition")
					}
				}
			}
		}, "key"},
		{"replication trust for another principal", replicationTrustFindings, func(t *testing.T, j tf) {
			trust := replicationTrust(t, j)
			block(block(list(trust["statement"])[0])["principals"])["identifiers"] = []any{"batchoperations.s3.amazonaws.com"}
		}, "principals"},
		{"bucket events sent to the other region's topic", bucketEventFindings, func(t *testing.T, j tf) {
			for _, n := range j.Resource["aws_s3_bucket_notification"] {
				if j.regionOf(n) == "us-east-1" {
					block(n["topic"])["topic_arn"] = topicRef(t, j, "us-east-2")
				}
			}
		}, "in us-east-2"},
		{"bucket events without the missed-threshold event", bucketEventFindings, func(t *testing.T, j tf) {
			for _, n := range j.Resource["aws_s3_bucket_notification"] {
				block(n["topic"])["events"] = []any{"s3:Replication:OperationFailedReplication"}
			}
		}, "OperationMissedThreshold"},
		{"bucket events written before the topic policy", bucketEventFindings, func(t *testing.T, j tf) {
			for _, n := range j.Resource["aws_s3_bucket_notification"] {
				delete(n, "depends_on")
			}
		}, "depend on the topic policy"},
		{"topic policy lets S3 publish for any bucket", bucketEventFindings, func(t *testing.T, j tf) {
			for _, doc := range j.Data["aws_iam_policy_document"] {
				for _, st := range list(doc["statement"]) {
					s := block(st)
					if slices.Contains(strs(block(s["principals"])["identifiers"]), "s3.amazonaws.com") && slices.Contains(strs(s["actions"]), "sns:Publish") {
						delete(s, "condition")
					}
				}
			}
		}, "lets S3 publish"},
		{"topic key without the S3 statement", bucketEventFindings, func(t *testing.T, j tf) {
			for _, doc := range j.Data["aws_iam_policy_document"] {
				var keep []any
				for _, st := range list(doc["statement"]) {
					if block(st)["sid"] != "S3EventsPublishToEncryptedTopic" {
						keep = append(keep, st)
					}
				}
				doc["statement"] = keep
			}
		}, "key"},
		{"no method settings for /health", healthThrottleFindings, func(t *testing.T, j tf) {
			for name, s := range j.Resource["aws_api_gateway_method_settings"] {
				if s["method_path"] == restapi.HealthMethodPath(testSecret) {
					delete(j.Resource["aws_api_gateway_method_settings"], name)
				}
			}
		}, "no method settings"},
		{"/health throttled below Route 53's checkers", healthThrottleFindings, func(t *testing.T, j tf) {
			for _, s := range j.Resource["aws_api_gateway_method_settings"] {
				if s["method_path"] == restapi.HealthMethodPath(testSecret) {
					block(s["settings"])["throttling_burst_limit"] = 5.0
				}
			}
		}, "burst"},
	})
}

// --- region helpers ---

// roleRegion is the region of the provider with the given alias.
func (j tf) roleRegion(alias string) string {
	for _, p := range j.Provider["aws"] {
		if p["alias"] == alias {
			return fmt.Sprint(p["region"])
		}
	}
	return ""
}

func (j tf) regions() []string {
	var out []string
	for _, p := range j.Provider["aws"] {
		out = append(out, fmt.Sprint(p["region"]))
	}
	return out
}

// resource resolves "${type.name.attr}" (a data source when the reference says data.).
func (j tf) resource(v any) (typ string, res map[string]any) {
	typ, name, _, ok := ref(v)
	if !ok {
		return "", nil
	}
	if s, _ := v.(string); strings.HasPrefix(s, "${data.") {
		return typ, j.Data[typ][name]
	}
	return typ, j.Resource[typ][name]
}

// refRegion is the region of the resource v references, if it is of type typ.
func (j tf) refRegion(v any, typ string) string {
	got, res := j.resource(v)
	if got != typ || res == nil {
		return ""
	}
	return j.regionOf(res)
}

// --- alarms ---

// alarmRegions are the regions where the alarm's metric can be published, derived from
// the metric table and the alarm's dimensions.
func (j tf) alarmRegions(a map[string]any) ([]string, error) {
	ns, metric := fmt.Sprint(a["namespace"]), fmt.Sprint(a["metric_name"])
	dims := block(a["dimensions"])
	rule, ok := metricregion.Lookup(ns, metric)
	if !ok {
		return nil, fmt.Errorf("%s/%s is not in the metric table", ns, metric)
	}
	one := func(region, what string) ([]string, error) {
		if region == "" {
			return nil, fmt.Errorf("%s/%s: cannot tell the %s's region from dimensions %v", ns, metric, what, dims)
		}
		return []string{region}, nil
	}
	switch rule.Anchor {
	case metricregion.Fixed:
		return []string{rule.Region}, nil
	case metricregion.Destination:
		return one(j.refRegion(dims["DestinationBucket"], "aws_s3_bucket"), "destination bucket")
	case metricregion.Source:
		return one(j.refRegion(dims["SourceBucket"], "aws_s3_bucket"), "source bucket")
	case metricregion.Writer:
		receiving, _ := dims["ReceivingRegion"].(string)
		var writers []string
		for _, r := range j.regions() {
			if r != receiving {
				writers = append(writers, r)
			}
		}
		if receiving == "" || len(writers) != 1 {
			return nil, fmt.Errorf("%s/%s: ReceivingRegion %q leaves writers %v", ns, metric, receiving, writers)
		}
		return writers, nil
	case metricregion.Resource:
		if fn, ok := dims["FunctionName"]; ok {
			return one(j.refRegion(fn, "aws_lambda_function"), "function")
		}
		if api, ok := dims["ApiName"]; ok {
			return one(j.refRegion(api, "aws_api_gateway_rest_api"), "API")
		}
		if q, ok := dims["QueueName"]; ok {
			return one(j.refRegion(q, "aws_sqs_queue"), "queue")
		}
		if tbl, ok := dims["TableName"]; ok && ns == metricregion.PaymentsDRNamespace {
			// Our EMF metrics name the table, not the function: they are published wherever
			// a function working on that table prints them.
			var out []string
			for _, fn := range j.Resource["aws_lambda_function"] {
				if block(block(fn["environment"])["variables"])["TABLE_NAME"] == tbl && !slices.Contains(out, j.regionOf(fn)) {
					out = append(out, j.regionOf(fn))
				}
			}
			sort.Strings(out)
			return out, nil
		}
		return nil, fmt.Errorf("%s/%s: no dimension names the resource (%v)", ns, metric, dims)
	}
	return nil, fmt.Errorf("%s/%s: anchor %v", ns, metric, rule.Anchor)
}

func alarmRegionFindings(j tf) []string {
	var out []string
	for name, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
		region := j.regionOf(a)
		want, err := j.alarmRegions(a)
		if err != nil {
			out = append(out, fmt.Sprintf("alarm %s: %v", name, err))
			continue
		}
		if !slices.Contains(want, region) {
			out = append(out, fmt.Sprintf("alarm %s on %v/%v is in %s; the metric is published in %s", name, a["namespace"], a["metric_name"], region, strings.Join(want, " or ")))
		}
		actions := append(list(a["alarm_actions"]), list(a["ok_actions"])...)
		if len(actions) == 0 {
			out = append(out, fmt.Sprintf("alarm %s notifies no one", name))
		}
		for _, act := range actions {
			if r := j.refRegion(act, "aws_sns_topic"); r != region {
				out = append(out, fmt.Sprintf("alarm %s in %s notifies %v, a topic in %q", name, region, act, r))
			}
		}
	}
	sort.Strings(out)
	return out
}

// --- failover ---

func failoverRecords(j tf) []map[string]any {
	var out []map[string]any
	names := make([]string, 0)
	for name, r := range j.Resource["aws_route53_record"] {
		if r["failover_routing_policy"] != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, j.Resource["aws_route53_record"][n])
	}
	return out
}

// probedRegions are the regions of the APIs a health check (or, for a calculated check,
// its children) requests.
func (j tf) probedRegions(hcRef any) []string {
	typ, hc := j.resource(hcRef)
	if typ != "aws_route53_health_check" || hc == nil {
		return nil
	}
	var out []string
	if r := j.refRegion(hc["fqdn"], "aws_api_gateway_rest_api"); r != "" {
		out = append(out, r)
	}
	for _, child := range list(hc["child_healthchecks"]) {
		out = append(out, j.probedRegions(child)...)
	}
	return out
}

func failoverFindings(j tf) []string {
	var out []string
	want := map[string]string{"PRIMARY": j.roleRegion("primary"), "SECONDARY": j.roleRegion("secondary")}
	seen := map[string]int{}
	for _, r := range failoverRecords(j) {
		role, _ := block(r["failover_routing_policy"])["type"].(string)
		seen[role]++
		target := j.refRegion(recordTarget(r), "aws_api_gateway_domain_name")
		if target != want[role] {
			out = append(out, fmt.Sprintf("%s record targets %s's API domain; the %s region is %s", role, target, strings.ToLower(role), want[role]))
		}
		probed := j.probedRegions(r["health_check_id"])
		if len(probed) == 0 {
			out = append(out, fmt.Sprintf("%s record has no health check on a region's API", role))
		}
		for _, p := range probed {
			if p != target {
				out = append(out, fmt.Sprintf("%s record targets %s but its health check probes %s's API", role, target, p))
			}
		}
	}
	if seen["PRIMARY"] != 1 || seen["SECONDARY"] != 1 || len(seen) != 2 {
		out = append(out, fmt.Sprintf("failover records %v: want exactly one PRIMARY and one SECONDARY", seen))
	}
	return out
}

// --- encryption of the table ---

func tableKeyFindings(j tf) []string {
	var out []string
	check := func(what string, res map[string]any, key any) {
		region := j.regionOf(res)
		if kr := j.refRegion(key, "aws_kms_key"); kr != region {
			out = append(out, fmt.Sprintf("%s in %s is encrypted with %v, a key in %q: unreadable once that region is gone", what, region, key, kr))
		}
	}
	for _, t := range j.Resource["aws_dynamodb_table"] {
		check("table", t, block(t["server_side_encryption"])["kms_key_arn"])
	}
	for _, r := range j.Resource["aws_dynamodb_table_replica"] {
		check("replica", r, r["kms_key_arn"])
	}
	if len(j.Resource["aws_dynamodb_table_replica"]) == 0 {
		out = append(out, "no table replica")
	}
	return out
}

// --- receipts replication ---

func replicationFindings(j tf) []string {
	var out []string
	flows := map[[2]string]bool{}
	for name, c := range j.Resource["aws_s3_bucket_replication_configuration"] {
		region := j.regionOf(c)
		src := j.refRegion(c["bucket"], "aws_s3_bucket")
		if src != region {
			out = append(out, fmt.Sprintf("replication %s in %s configures a bucket in %q", name, region, src))
		}
		for _, r := range list(c["rule"]) {
			dest := block(block(r)["destination"])
			dst := j.refRegion(dest["bucket"], "aws_s3_bucket")
			if dst == "" || dst == src {
				out = append(out, fmt.Sprintf("replication %s from %s goes to %v in %q: not the other region's bucket", name, src, dest["bucket"], dst))
				continue
			}
			if kr := j.refRegion(block(dest["encryption_configuration"])["replica_kms_key_id"], "aws_kms_key"); kr != dst {
				out = append(out, fmt.Sprintf("replication %s to %s: replica key in %q, want the destination's", name, dst, kr))
			}
			flows[[2]string{src, dst}] = true
		}
	}
	regions := j.regions()
	for _, a := range regions {
		for _, b := range regions {
			if a != b && !flows[[2]string{a, b}] {
				out = append(out, fmt.Sprintf("no replication from %s to %s: receipts written there during a failover stay there", a, b))
			}
		}
	}
	sort.Strings(out)
	return out
}

func replicationTrust(t *testing.T, j tf) map[string]any {
	t.Helper()
	for _, c := range j.Resource["aws_s3_bucket_replication_configuration"] {
		_, role := j.resource(c["role"])
		if role != nil {
			_, doc := j.resource(role["assume_role_policy"])
			return doc
		}
	}
	t.Fatal("no replication role")
	return nil
}

// The S3 user guide's trust policy: Allow, Service s3.amazonaws.com, sts:AssumeRole,
// plus exactly one condition, aws:SourceAccount equal to this account (confused-deputy
// protection; replication.ReplicationTrust cites the pages).
func replicationTrustFindings(j tf) []string {
	var out []string
	for name, c := range j.Resource["aws_s3_bucket_replication_configuration"] {
		typ, role := j.resource(c["role"])
		if typ != "aws_iam_role" || role == nil {
			out = append(out, fmt.Sprintf("replication %s: role %v is not one of ours", name, c["role"]))
			continue
		}
		_, doc := j.resource(role["assume_role_policy"])
		sts := list(doc["statement"])
		if len(sts) != 1 {
			out = append(out, fmt.Sprintf("replication %s: trust has %d statements, want 1", name, len(sts)))
			continue
		}
		s := block(sts[0])
		principals := list(s["principals"])
		p := block(s["principals"])
		if len(principals) != 1 || p["type"] != "Service" || !slices.Equal(strs(p["identifiers"]), []string{"s3.amazonaws.com"}) {
			out = append(out, fmt.Sprintf("replication %s: trust principals %v, want Service s3.amazonaws.com", name, s["principals"]))
		}
		if s["effect"] != "Allow" || !slices.Equal(strs(s["actions"]), []string{"sts:AssumeRole"}) {
			out = append(out, fmt.Sprintf("replication %s: trust %v %v, want Allow sts:AssumeRole", name, s["effect"], s["actions"]))
		}
		if conds := list(s["condition"]); len(conds) != 1 || !j.isSourceAccount(block(conds[0])) {
			out = append(out, fmt.Sprintf("replication %s: trust conditions %v, want exactly StringEquals aws:SourceAccount = this account: any bucket's replication could otherwise assume the role", name, s["condition"]))
		}
	}
	return out
}

// --- replication events ---

func bucketEventFindings(j tf) []string {
	var out []string
	for name, b := range j.Resource["aws_s3_bucket"] {
		if !strings.HasPrefix(fmt.Sprint(b["bucket"]), "payment-docs-") {
			continue // receipts buckets only
		}
		region := j.regionOf(b)
		arn := "${aws_s3_bucket." + name + ".arn}"
		var notes []map[string]any
		for _, n := range j.Resource["aws_s3_bucket_notification"] {
			if _, nb := j.resource(n["bucket"]); nb != nil && nb["bucket"] == b["bucket"] {
				notes = append(notes, n)
			}
		}
		if len(notes) != 1 {
			out = append(out, fmt.Sprintf("receipts bucket %s has %d notification configurations, want 1", name, len(notes)))
			continue
		}
		n := notes[0]
		topic := block(n["topic"])
		typ, tres := j.resource(topic["topic_arn"])
		if typ != "aws_sns_topic" || tres == nil {
			out = append(out, fmt.Sprintf("bucket %s notifies %v, not one of our topics", name, topic["topic_arn"]))
			continue
		}
		if tr := j.regionOf(tres); tr != region || j.regionOf(n) != region {
			out = append(out, fmt.Sprintf("bucket %s in %s notifies a topic in %s (declared in %s): S3 notifies only its own region", name, region, tr, j.regionOf(n)))
		}
		for _, e := range monitoring.ReplicationEvents {
			if !slices.Contains(strs(topic["events"]), e) {
				out = append(out, fmt.Sprintf("bucket %s does not send %s", name, e))
			}
		}
		_, topicName, _, _ := ref(topic["topic_arn"])
		var policy string
		for pn, p := range j.Resource["aws_sns_topic_policy"] {
			if p["arn"] == "${aws_sns_topic."+topicName+".arn}" {
				policy = pn
				doc := j.Data["aws_iam_policy_document"][strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(p["policy"]), "${data.aws_iam_policy_document."), ".json}")]
				if !s3MayPublish(doc, arn) {
					out = append(out, fmt.Sprintf("topic policy %s lets S3 publish without aws:SourceArn = %s and aws:SourceAccount, or not at all", pn, arn))
				}
			}
		}
		if !slices.Contains(strs(n["depends_on"]), "aws_sns_topic_policy."+policy) {
			out = append(out, fmt.Sprintf("bucket %s's notification does not depend on the topic policy: S3 checks it may publish when the configuration is written", name))
		}
		_, key := j.resource(tres["kms_master_key_id"])
		if key == nil {
			out = append(out, fmt.Sprintf("topic %s is not encrypted with one of our keys", topicName))
			continue
		}
		_, keyDoc := j.resource(key["policy"])
		if !j.keyLetsS3Publish(keyDoc) {
			out = append(out, fmt.Sprintf("the key of topic %s does not let s3.amazonaws.com GenerateDataKey and Decrypt, for this account's buckets only (aws:SourceAccount): S3 cannot publish to the encrypted topic, or may for anyone's bucket", topicName))
		}
	}
	return out
}

func s3MayPublish(doc map[string]any, bucketArn string) bool {
	for _, st := range list(doc["statement"]) {
		s := block(st)
		if s["effect"] != "Allow" || !slices.Contains(strs(s["actions"]), "sns:Publish") || !slices.Contains(strs(block(s["principals"])["identifiers"]), "s3.amazonaws.com") {
			continue
		}
		var arn, account bool
		for _, c := range list(s["condition"]) {
			cond := block(c)
			arn = arn || (cond["variable"] == "aws:SourceArn" && slices.Equal(strs(cond["values"]), []string{bucketArn}))
			account = account || (cond["variable"] == "aws:SourceAccount" && len(strs(cond["values"])) == 1)
		}
		return arn && account
	}
	return false
}

// keyLetsS3Publish: the key lets s3.amazonaws.com GenerateDataKey and Decrypt, and every
// statement that grants S3 anything limits it to this account's buckets.
func (j tf) keyLetsS3Publish(doc map[string]any) bool {
	ok := false
	for _, st := range list(doc["statement"]) {
		s := block(st)
		if s["effect"] != "Allow" || !slices.Contains(strs(block(s["principals"])["identifiers"]), "s3.amazonaws.com") {
			continue
		}
		if !slices.ContainsFunc(list(s["condition"]), func(c any) bool { return j.isSourceAccount(block(c)) }) {
			return false
		}
		ok = ok || slices.Contains(strs(s["actions"]), "kms:GenerateDataKey") && slices.Contains(strs(s["actions"]), "kms:Decrypt")
	}
	return ok
}

// isSourceAccount: the condition is StringEquals aws:SourceAccount = this account (the
// stack's caller identity).
func (j tf) isSourceAccount(c map[string]any) bool {
	values := strs(c["values"])
	if c["test"] != "StringEquals" || c["variable"] != "aws:SourceAccount" || len(values) != 1 {
		return false
	}
	typ, res := j.resource(values[0])
	_, _, attr, _ := ref(values[0])
	return typ == "aws_caller_identity" && res != nil && attr == "account_id"
}

// --- /health throttling ---

// route53Checkers is how many Route 53 health checkers may probe an endpoint: "The
// health checkers are run on 16 redundant availability zones."
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-latency.html
const route53Checkers = 16

func healthThrottleFindings(j tf) []string {
	var out []string
	interval := 30.0
	for _, hc := range j.Resource["aws_route53_health_check"] {
		if v, ok := hc["request_interval"].(float64); ok && v < interval {
			interval = v
		}
	}
	for name := range j.Resource["aws_api_gateway_rest_api"] {
		health := j.methodSettings(name, restapi.HealthMethodPath(testSecret))
		if health == nil {
			out = append(out, fmt.Sprintf("API %s: no method settings for %s; it shares the payment routes' stage throttle", name, restapi.HealthMethodPath(testSecret)))
			continue
		}
		rate, _ := health["throttling_rate_limit"].(float64)
		burst, _ := health["throttling_burst_limit"].(float64)
		// All checkers may arrive in the same second; steady state is one request per
		// checker per interval, doubled for headroom (the probes ask /status).
		if burst < route53Checkers {
			out = append(out, fmt.Sprintf("API %s: /health burst %v is below Route 53's %d checkers arriving together", name, burst, route53Checkers))
		}
		if need := 2 * route53Checkers / interval; rate < need {
			out = append(out, fmt.Sprintf("API %s: /health rate %v/s, need %.1f/s", name, rate, need))
		}
	}
	return out
}

// methodSettings are the settings the API named api has for methodPath, or nil.
func (j tf) methodSettings(api, methodPath string) map[string]any {
	apiID := "${aws_api_gateway_rest_api." + api + ".id}"
	for _, s := range j.Resource["aws_api_gateway_method_settings"] {
		if s["rest_api_id"] == apiID && s["method_path"] == methodPath {
			return block(s["settings"])
		}
	}
	return nil
}

// --- mutation helpers ---

func findAlarm(t *testing.T, j tf, ns, metric, region string) map[string]any {
	t.Helper()
	for _, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
		if a["namespace"] == ns && a["metric_name"] == metric && j.regionOf(a) == region {
			return a
		}
	}
	t.Fatalf("no %s/%s alarm in %s", ns, metric, region)
	return nil
}

func providerAlias(j tf, region string) string {
	for _, p := range j.Provider["aws"] {
		if p["region"] == region {
			return "aws." + fmt.Sprint(p["alias"])
		}
	}
	return ""
}

func topicRef(t *testing.T, j tf, region string) string {
	t.Helper()
	for name, tp := range j.Resource["aws_sns_topic"] {
		if j.regionOf(tp) == region {
			return "${aws_sns_topic." + name + ".arn}"
		}
	}
	t.Fatalf("no topic in %s", region)
	return ""
}

func keyRef(t *testing.T, j tf, region, attr string) string {
	t.Helper()
	for name, k := range j.Resource["aws_kms_key"] {
		if j.regionOf(k) == region {
			return "${aws_kms_key." + name + "." + attr + "}"
		}
	}
	t.Fatalf("no key in %s", region)
	return ""
}

func bucketRef(t *testing.T, j tf, region, attr string) string {
	t.Helper()
	for name, b := range j.Resource["aws_s3_bucket"] {
		if j.regionOf(b) == region && strings.HasPrefix(fmt.Sprint(b["bucket"]), "payment-docs-") {
			return "${aws_s3_bucket." + name + "." + attr + "}"
		}
	}
	t.Fatalf("no receipts bucket in %s", region)
	return ""
}

func replicationFrom(t *testing.T, j tf, region string) map[string]any {
	t.Helper()
	for _, c := range j.Resource["aws_s3_bucket_replication_configuration"] {
		if j.regionOf(c) == region {
			return c
		}
	}
	t.Fatalf("no replication from %s", region)
	return nil
}

// moveAlarm moves an alarm from one region to another together with its actions, so
// only the region (not a cross-region action) is wrong.
func moveAlarm(t *testing.T, j tf, ns, metric, from, to string) {
	t.Helper()
	// The alarm that should be in `from` goes to `to`; but the S3 latency alarm lives in
	// the destination, so look it up where it is and move it to the other region.
	a := findAlarmAnywhere(t, j, ns, metric, from, to)
	dest := to
	if j.regionOf(a) == to {
		dest = from
	}
	a["provider"] = providerAlias(j, dest)
	a["alarm_actions"] = []any{topicRef(t, j, dest)}
	a["ok_actions"] = []any{topicRef(t, j, dest)}
}

// findAlarmAnywhere finds the alarm on ns/metric about the from → to direction (S3) or
// in `from` (others).
func findAlarmAnywhere(t *testing.T, j tf, ns, metric, from, to string) map[string]any {
	t.Helper()
	for _, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
		if a["namespace"] != ns || a["metric_name"] != metric {
			continue
		}
		dims := block(a["dimensions"])
		if src, ok := dims["SourceBucket"]; ok {
			if j.refRegion(src, "aws_s3_bucket") == from && j.refRegion(dims["DestinationBucket"], "aws_s3_bucket") == to {
				return a
			}
			continue
		}
		if j.regionOf(a) == from {
			return a
		}
	}
	t.Fatalf("no %s/%s alarm for %s", ns, metric, from)
	return nil
}
