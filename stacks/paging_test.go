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
			for n, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
				if a["metric_name"] == probe.MetricObservationWriteFailed {
					delete(j.Resource["aws_cloudwatch_metric_alarm"], n)
				}
			}
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
	})
}
