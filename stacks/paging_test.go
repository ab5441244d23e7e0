package stacks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/probe"
	"github.com/payments-dr/payments-dr/ops/recovery"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/region"
)

// Failures that page instead of going quiet (issue 13).

// refusingTable answers every write as DynamoDB answers a role that may not write
// the item.
type refusingTable struct{ control.DynamoDB }

var errWriteRefused = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:UpdateItem"}

func (refusingTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errWriteRefused
}

func (refusingTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errWriteRefused
}

// probeFunctions are the peer probes of the synthesized stack, by resource name.
func (j tf) probeFunctions() map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, fn := range j.Resource["aws_lambda_function"] {
		if strings.HasPrefix(fmt.Sprint(fn["function_name"]), "payment-peer-probe-") {
			out[name] = fn
		}
	}
	return out
}

// emittedLine runs one round of the real probe, configured from the synthesized
// function's environment, whose observation write is refused, and returns the EMF line
// it prints: the metric, namespace, dimensions and values an alarm must match.
func emittedLine(regionName string, vars map[string]any) (map[string]any, error) {
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	defer peer.Close()
	table := fmt.Sprint(vars["TABLE_NAME"])
	var out bytes.Buffer
	p, err := probe.New(probe.Config{
		Region: regionName, PeerRegion: fmt.Sprint(vars["PEER_REGION"]),
		PeerHealthURL: peer.URL + "/prod/status",
		TableName:     table,
		Levers:        control.Table{DB: refusingTable{}, Name: table},
		Metrics:       &out,
	})
	if err != nil {
		return nil, fmt.Errorf("the probe does not accept the synthesized environment: %w", err)
	}
	if obs := p.Round(context.Background()); obs.Recorded == nil {
		return nil, fmt.Errorf("the refused write was not reported")
	}
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		return nil, fmt.Errorf("metric line %q: %w", out.String(), err)
	}
	return line, nil
}

// directiveOf finds the EMF directive that publishes metric: its namespace and its one
// dimension set.
func directiveOf(line map[string]any, metric string) (namespace string, dims []string, err error) {
	aws, _ := line["_aws"].(map[string]any)
	for _, d := range list(aws["CloudWatchMetrics"]) {
		dir, _ := d.(map[string]any)
		for _, m := range list(dir["Metrics"]) {
			if mm, _ := m.(map[string]any); mm["Name"] == metric {
				sets := list(dir["Dimensions"])
				if len(sets) != 1 {
					return "", nil, fmt.Errorf("%s is published under %d dimension sets, want 1", metric, len(sets))
				}
				return fmt.Sprint(dir["Namespace"]), strs(sets[0]), nil
			}
		}
	}
	return "", nil, fmt.Errorf("the probe's line publishes no %s: %v", metric, line)
}

// pagingChecks: failures that page instead of going quiet (issue 13).
var pagingChecks = []semanticCheck{
	// When the probe cannot write its observation, the line it prints carries
	// ObservationWriteFailed = 1, and in its region an alarm on exactly that namespace,
	// metric, dimension set and dimension values (taken from the synthesized function's
	// own environment) pages that region's topic once a few rounds fail. An alarm whose
	// dimensions differ from the probe's by one key or value watches a metric nobody
	// publishes and never fires.
	{"a probe whose observation write fails pages its own region's topic", observationWriteFindings},
	// Lambda's own retries of a failed scheduled invocation (two, from an event queue that
	// keeps events up to six hours by default) would run a probe's rounds minutes late,
	// beside the next scheduled ones.
	{"each probe has an event invoke configuration in its region: no retry, events at most a minute old", probeAsyncFindings},
	// A stream batch the conflict watch gives up on is discarded with no record at all
	// unless its mapping has an on-failure destination.
	{"each conflict watch sends discarded batches to an encrypted queue in its region, which pages when not empty", discardedBatchFindings},
}

// TestPaging runs the checks on the default stack; the region logic they test is the
// same code in every variant.
func TestPaging(t *testing.T) {
	j := parse(t, defaultDR)
	for _, c := range pagingChecks {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range c.check(j) {
				t.Error(f)
			}
		})
	}
}

func observationWriteFindings(j tf) []string {
	var out []string
	probes := j.probeFunctions()
	if len(probes) != 2 {
		out = append(out, fmt.Sprintf("%d peer probes, want one per region", len(probes)))
	}
	for name, fn := range probes {
		here := j.regionOf(fn)
		line, err := emittedLine(here, block(block(fn["environment"])["variables"]))
		if err != nil {
			out = append(out, fmt.Sprintf("probe %s: %v", name, err))
			continue
		}
		if line[probe.MetricObservationWriteFailed] != 1.0 {
			out = append(out, fmt.Sprintf("probe %s: a refused write prints %s = %v, want 1", name, probe.MetricObservationWriteFailed, line[probe.MetricObservationWriteFailed]))
		}
		namespace, dimKeys, err := directiveOf(line, probe.MetricObservationWriteFailed)
		if err != nil {
			out = append(out, fmt.Sprintf("probe %s: %v", name, err))
			continue
		}
		wantDims := map[string]any{}
		for _, k := range dimKeys {
			wantDims[k] = line[k]
		}
		matching := 0
		for an, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
			if a["metric_name"] != probe.MetricObservationWriteFailed || j.regionOf(a) != here {
				continue
			}
			dims := block(a["dimensions"])
			if a["namespace"] != namespace || !maps.Equal(dims, wantDims) {
				out = append(out, fmt.Sprintf("alarm %s in %s watches %v/%s %v; the probe there publishes %s %v", an, here, a["namespace"], a["metric_name"], dims, namespace, wantDims))
				continue
			}
			matching++
			// Sum of the 0/1 values over the period, against a threshold the rounds of
			// one period can reach.
			period, _ := a["period"].(float64)
			threshold, _ := a["threshold"].(float64)
			rounds := period / 60 * region.ProbeRounds
			if a["statistic"] != "Sum" || a["comparison_operator"] != "GreaterThanOrEqualToThreshold" || threshold < 1 || threshold > rounds || a["evaluation_periods"] != 1.0 {
				out = append(out, fmt.Sprintf("alarm %s: %v %v %v over %v s (%v rounds) × %v periods; want a Sum >= a threshold from 1 to the rounds of one period",
					an, a["statistic"], a["comparison_operator"], a["threshold"], a["period"], rounds, a["evaluation_periods"]))
			}
			actions, oks := strs(a["alarm_actions"]), strs(a["ok_actions"])
			if len(actions) != 1 || !slices.Equal(actions, oks) {
				out = append(out, fmt.Sprintf("alarm %s notifies %v (ok %v), want its region's topic both ways", an, actions, oks))
			} else if typ, topic, _, _ := ref(actions[0]); typ != "aws_sns_topic" || j.regionOf(j.Resource[typ][topic]) != here {
				out = append(out, fmt.Sprintf("alarm %s in %s notifies %v, not its own region's topic", an, here, actions[0]))
			}
		}
		if matching != 1 {
			out = append(out, fmt.Sprintf("probe in %s: %d alarms on its %s %v, want 1", here, matching, probe.MetricObservationWriteFailed, wantDims))
		}
	}
	return out
}

func probeAsyncFindings(j tf) []string {
	var out []string
	for name, fn := range j.probeFunctions() {
		var configs []map[string]any
		for _, c := range j.Resource["aws_lambda_function_event_invoke_config"] {
			if c["function_name"] == "${aws_lambda_function."+name+".function_name}" {
				configs = append(configs, c)
			}
		}
		if len(configs) != 1 {
			out = append(out, fmt.Sprintf("probe %s: %d event invoke configurations, want 1", fn["function_name"], len(configs)))
			continue
		}
		c := configs[0]
		if j.regionOf(c) != j.regionOf(fn) || c["maximum_retry_attempts"] != 0.0 || c["maximum_event_age_in_seconds"] != 60.0 || c["qualifier"] != nil {
			out = append(out, fmt.Sprintf("probe %s in %s: event invoke configuration in %s, %v retries, %v s maximum age, qualifier %v; want its region, 0, 60 s, the unqualified function",
				fn["function_name"], j.regionOf(fn), j.regionOf(c), c["maximum_retry_attempts"], c["maximum_event_age_in_seconds"], c["qualifier"]))
		}
	}
	return out
}

// rolePolicyOf is the inline policy document of the role a function runs as, and the
// address of its aws_iam_role_policy.
func (j tf) rolePolicyOf(fn map[string]any) (doc map[string]any, address string) {
	_, role, _, _ := ref(fn["role"])
	for name, p := range j.Resource["aws_iam_role_policy"] {
		if _, r, _, _ := ref(p["role"]); r == role {
			_, d := j.resource(p["policy"])
			return d, "aws_iam_role_policy." + name
		}
	}
	return nil, ""
}

// allows reports whether doc has an Allow statement with action on resource.
func allows(doc map[string]any, action, resource string) bool {
	for _, st := range list(doc["statement"]) {
		s := block(st)
		if s["effect"] == "Allow" && slices.Contains(strs(s["actions"]), action) && slices.Contains(strs(s["resources"]), resource) {
			return true
		}
	}
	return false
}

// keyAllowsVia reports whether a key policy lets this account's principals use the key
// for each of actions through service in region (kms:ViaService).
func keyAllowsVia(doc map[string]any, service, region string, actions ...string) bool {
	via := service + "." + region + ".amazonaws.com"
	for _, st := range list(doc["statement"]) {
		s := block(st)
		if s["effect"] != "Allow" {
			continue
		}
		viaOK, account := false, false
		for _, c := range list(s["condition"]) {
			cond := block(c)
			viaOK = viaOK || (cond["variable"] == "kms:ViaService" && cond["test"] == "StringEquals" && slices.Equal(strs(cond["values"]), []string{via}))
			account = account || cond["variable"] == "kms:CallerAccount"
		}
		if viaOK && account && !slices.ContainsFunc(actions, func(a string) bool { return !slices.Contains(strs(s["actions"]), a) }) {
			return true
		}
	}
	return false
}

func discardedBatchFindings(j tf) []string {
	var out []string
	mappings := 0
	for name, m := range j.Resource["aws_lambda_event_source_mapping"] {
		mappings++
		here := j.regionOf(m)
		_, fn := j.resource(m["function_name"])
		dest := block(block(m["destination_config"])["on_failure"])["destination_arn"]
		typ, q := j.resource(dest)
		if typ != "aws_sqs_queue" || q == nil {
			out = append(out, fmt.Sprintf("mapping %s in %s: on-failure destination %v is not one of our queues: a discarded batch leaves no record", name, here, dest))
			continue
		}
		_, qname, _, _ := ref(dest)
		if j.regionOf(q) != here {
			out = append(out, fmt.Sprintf("mapping %s in %s sends discarded batches to a queue in %s", name, here, j.regionOf(q)))
		}
		keyTyp, key := j.resource(q["kms_master_key_id"])
		if keyTyp != "aws_kms_key" || key == nil || j.regionOf(key) != here {
			out = append(out, fmt.Sprintf("queue %s is not encrypted with %s's key (kms_master_key_id %v)", qname, here, q["kms_master_key_id"]))
		} else if _, kp := j.resource(key["policy"]); !keyAllowsVia(kp, "sqs", here, "kms:GenerateDataKey", "kms:Decrypt") {
			out = append(out, fmt.Sprintf("the key of queue %s does not let this account GenerateDataKey and Decrypt through sqs.%s.amazonaws.com: the record of a discarded batch cannot be sent", qname, here))
		}
		if fn == nil {
			out = append(out, fmt.Sprintf("mapping %s feeds %v, not one of our functions", name, m["function_name"]))
			continue
		}
		doc, policy := j.rolePolicyOf(fn)
		if !allows(doc, "sqs:SendMessage", "${aws_sqs_queue."+qname+".arn}") {
			out = append(out, fmt.Sprintf("the role of %v may not sqs:SendMessage to %s: Lambda sends the record with the function's role", fn["function_name"], qname))
		}
		if !slices.Contains(strs(m["depends_on"]), policy) {
			out = append(out, fmt.Sprintf("mapping %s does not depend on %s, which lets it send to the queue", name, policy))
		}
		alarms := 0
		for an, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
			if a["namespace"] != "AWS/SQS" || block(a["dimensions"])["QueueName"] != "${aws_sqs_queue."+qname+".name}" {
				continue
			}
			alarms++
			threshold, _ := a["threshold"].(float64)
			depth := a["metric_name"] == "ApproximateNumberOfMessagesVisible" && len(block(a["dimensions"])) == 1 &&
				(a["statistic"] == "Maximum" || a["statistic"] == "Sum") &&
				(a["comparison_operator"] == "GreaterThanOrEqualToThreshold" && threshold == 1 || a["comparison_operator"] == "GreaterThanThreshold" && threshold == 0)
			if !depth || j.regionOf(a) != here {
				out = append(out, fmt.Sprintf("alarm %s in %s: %v %v %v %v %v; want the queue's ApproximateNumberOfMessagesVisible (QueueName only) at 1 or more, in %s",
					an, j.regionOf(a), a["metric_name"], block(a["dimensions"]), a["statistic"], a["comparison_operator"], a["threshold"], here))
			}
			if typ, topic, _, _ := ref(list(a["alarm_actions"])[0]); typ != "aws_sns_topic" || j.regionOf(j.Resource[typ][topic]) != here {
				out = append(out, fmt.Sprintf("alarm %s notifies %v, not %s's topic", an, a["alarm_actions"], here))
			}
		}
		if alarms != 1 {
			out = append(out, fmt.Sprintf("queue %s in %s: %d alarms on its depth, want 1", qname, here, alarms))
		}
	}
	if mappings != 2 {
		out = append(out, fmt.Sprintf("%d stream mappings, want one per region", mappings))
	}
	return out
}

// deleteWhere deletes the resources of typ that match.
func (j tf) deleteWhere(typ string, match func(map[string]any) bool) {
	for name, r := range j.Resource[typ] {
		if match(r) {
			delete(j.Resource[typ], name)
		}
	}
}

func TestPagingChecksCatchMutations(t *testing.T) {
	writeAlarms := func(j tf, f func(a map[string]any)) {
		for _, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
			if a["metric_name"] == probe.MetricObservationWriteFailed {
				f(a)
			}
		}
	}
	assertCaught(t, []mutation{
		{"write alarm without the PeerRegion dimension", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) { delete(block(a["dimensions"]), probe.DimensionPeerRegion) })
		}, "the probe there publishes"},
		{"write alarm on the other region's observation", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) {
				d := block(a["dimensions"])
				d[probe.DimensionPeerRegion] = j.regionOf(a)
			})
		}, "the probe there publishes"},
		{"write alarm in another namespace", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) { a["namespace"] = "PaymentsDR/Probe" })
		}, "the probe there publishes"},
		{"write alarm averaging", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) { a["statistic"] = "Average" })
		}, "want a Sum"},
		{"write alarm threshold no period reaches", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) { a["threshold"] = 1000.0 })
		}, "want a Sum"},
		{"write alarm notifying nobody when it clears", observationWriteFindings, func(t *testing.T, j tf) {
			writeAlarms(j, func(a map[string]any) { delete(a, "ok_actions") })
		}, "both ways"},
		{"no write alarm", observationWriteFindings, func(t *testing.T, j tf) {
			j.deleteWhere("aws_cloudwatch_metric_alarm", func(a map[string]any) bool { return a["metric_name"] == probe.MetricObservationWriteFailed })
		}, "0 alarms"},
		{"probe retried twice", probeAsyncFindings, func(t *testing.T, j tf) {
			for _, c := range j.Resource["aws_lambda_function_event_invoke_config"] {
				c["maximum_retry_attempts"] = 2.0
			}
		}, "2 retries"},
		{"probe events kept six hours", probeAsyncFindings, func(t *testing.T, j tf) {
			for _, c := range j.Resource["aws_lambda_function_event_invoke_config"] {
				c["maximum_event_age_in_seconds"] = 21600.0
			}
		}, "21600 s"},
		{"no event invoke configuration", probeAsyncFindings, func(t *testing.T, j tf) {
			delete(j.Resource, "aws_lambda_function_event_invoke_config")
		}, "0 event invoke configurations"},
		{"mapping without an on-failure destination", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_lambda_event_source_mapping"] {
				delete(m, "destination_config")
			}
		}, "leaves no record"},
		{"failure queue in the other region", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, q := range j.Resource["aws_sqs_queue"] {
				q["provider"] = map[string]any{"aws.primary": "aws.secondary", "aws.secondary": "aws.primary"}[fmt.Sprint(q["provider"])]
			}
		}, "to a queue in"},
		{"failure queue unencrypted", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, q := range j.Resource["aws_sqs_queue"] {
				delete(q, "kms_master_key_id")
			}
		}, "is not encrypted"},
		{"key policy without the SQS statement", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, doc := range j.Data["aws_iam_policy_document"] {
				doc["statement"] = slices.DeleteFunc(list(doc["statement"]), func(st any) bool { return block(st)["sid"] == "AccountUsesKeyThroughSQS" })
			}
		}, "through sqs."},
		{"role without sqs:SendMessage", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, doc := range j.Data["aws_iam_policy_document"] {
				doc["statement"] = slices.DeleteFunc(list(doc["statement"]), func(st any) bool { return slices.Contains(strs(block(st)["actions"]), "sqs:SendMessage") })
			}
		}, "may not sqs:SendMessage"},
		{"mapping created before its grants", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_lambda_event_source_mapping"] {
				m["depends_on"] = slices.DeleteFunc(list(m["depends_on"]), func(d any) bool { return strings.HasPrefix(fmt.Sprint(d), "aws_iam_role_policy.") })
			}
		}, "does not depend on"},
		{"depth alarm on messages in flight", discardedBatchFindings, func(t *testing.T, j tf) {
			for _, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
				if a["namespace"] == "AWS/SQS" {
					a["metric_name"] = "ApproximateNumberOfMessagesNotVisible"
				}
			}
		}, "want the queue's ApproximateNumberOfMessagesVisible"},
		{"no depth alarm", discardedBatchFindings, func(t *testing.T, j tf) {
			j.deleteWhere("aws_cloudwatch_metric_alarm", func(a map[string]any) bool { return a["namespace"] == "AWS/SQS" })
		}, "0 alarms on its depth"},
	})
}

// TestBreakGlassGapFromSynth: the recovery report reads the DR operations role's trust as
// the stack really writes it, so DR_OPERATOR_ARNS naming only IAM Identity Center roles
// is a warning gap and adding a principal outside Identity Center closes it.
func TestBreakGlassGapFromSynth(t *testing.T) {
	const sso = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DROperator_0123456789abcdef"
	for _, tc := range []struct {
		name, operators string
		gap             bool
	}{
		{"Identity Center only", sso, true},
		{"with a break-glass role", sso + ",arn:aws:iam::123456789012:role/dr-break-glass", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := synthDR(t, func(c *config.Config) { c.DROperatorARNs = tc.operators })
			r, err := recovery.Analyze([]byte(stack))
			if err != nil {
				t.Fatal(err)
			}
			found := slices.ContainsFunc(r.Gaps, func(g recovery.Gap) bool {
				return g.Kind == recovery.SSOOnlyOperators && g.Warning && g.Subject == "dr-operations-role-dev"
			})
			if found != tc.gap || slices.ContainsFunc(r.Gaps, func(g recovery.Gap) bool { return g.Kind == recovery.NoOperators }) {
				t.Errorf("DR_OPERATOR_ARNS=%s: gaps %v, want the Identity Center gap: %v (and no no-operators gap)", tc.operators, r.Gaps, tc.gap)
			}
		})
	}
}
