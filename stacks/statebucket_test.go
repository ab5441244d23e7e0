package stacks

import (
	"fmt"
	"github.com/payments-dr/payments-dr/stacks/synthout"
	"strings"
	"testing"
)

// stateLifecycleFindings: the versioned state bucket expires what no one needs (old
// versions of the state and of every lock file, delete markers left alone, abandoned
// multipart uploads) and never the current state; the receipts buckets expire nothing,
// because an older version of a receipt is the evidence of a payment another region
// overwrote.
func stateLifecycleFindings(state, dr tf) []string {
	var out []string
	var bucketName string
	for name := range state.Resource["aws_s3_bucket"] {
		bucketName = name
	}
	if len(state.Resource["aws_s3_bucket"]) != 1 {
		return []string{fmt.Sprintf("state stack has %d buckets, want 1", len(state.Resource["aws_s3_bucket"]))}
	}
	var versioning string
	for name, v := range state.Resource["aws_s3_bucket_versioning"] {
		if _, b, _, _ := ref(v["bucket"]); b == bucketName {
			versioning = "aws_s3_bucket_versioning." + name
		}
	}
	var configs []map[string]any
	for _, l := range state.Resource["aws_s3_bucket_lifecycle_configuration"] {
		if _, b, _, _ := ref(l["bucket"]); b == bucketName {
			configs = append(configs, l)
		}
	}
	if len(configs) != 1 {
		return append(out, fmt.Sprintf("state bucket has %d lifecycle configurations, want 1: every lock leaves a version behind", len(configs)))
	}
	l := configs[0]
	if !strings.Contains(fmt.Sprint(l["depends_on"]), versioning) || versioning == "" {
		out = append(out, fmt.Sprintf("the lifecycle configuration depends on %v, not on the bucket's versioning %s", l["depends_on"], versioning))
	}
	rules := list(l["rule"])
	if len(rules) != 1 {
		return append(out, fmt.Sprintf("%d lifecycle rules, want 1", len(rules)))
	}
	r := block(rules[0])
	if r["status"] != "Enabled" || block(r["filter"]) == nil || block(r["filter"])["prefix"] != "" || len(block(r["filter"])) != 1 {
		out = append(out, fmt.Sprintf("rule status %v, filter %v: want Enabled, on every object", r["status"], r["filter"]))
	}
	nve := block(r["noncurrent_version_expiration"])
	if nve["noncurrent_days"] != float64(StateNoncurrentDays) || nve["newer_noncurrent_versions"] != float64(StateVersionsKept) {
		out = append(out, fmt.Sprintf("noncurrent versions expire %v: want after %d days, keeping the %d newest", nve, StateNoncurrentDays, StateVersionsKept))
	}
	// Expiration with days or a date would delete the current state itself.
	if exp := block(r["expiration"]); exp["expired_object_delete_marker"] != true || len(exp) != 1 {
		out = append(out, fmt.Sprintf("expiration %v: want only expired_object_delete_marker, never the current versions", exp))
	}
	if a := block(r["abort_incomplete_multipart_upload"]); a["days_after_initiation"] != 7.0 {
		out = append(out, fmt.Sprintf("abort_incomplete_multipart_upload %v, want 7 days", a))
	}
	for _, key := range []string{"transition", "noncurrent_version_transition"} {
		if r[key] != nil {
			out = append(out, fmt.Sprintf("rule has %s %v: the state is read on every plan", key, r[key]))
		}
	}
	if n := len(dr.Resource["aws_s3_bucket_lifecycle_configuration"]); n != 0 {
		out = append(out, fmt.Sprintf("the DR stack has %d lifecycle configurations: receipts versions are evidence and never expire", n))
	}
	return out
}

func TestStateBucketLifecycle(t *testing.T) {
	stateJSON := readFile(t, synthout.StackFile(defaultOut, synthout.StateStackName))
	for _, f := range stateLifecycleFindings(parse(t, stateJSON), parse(t, defaultDR)) {
		t.Error(f)
	}
	rule := func(j tf) map[string]any {
		for _, l := range j.Resource["aws_s3_bucket_lifecycle_configuration"] {
			return block(list(l["rule"])[0])
		}
		return nil
	}
	for _, tc := range []struct {
		name   string
		mutate func(state, dr tf)
		want   string
	}{
		{"no lifecycle configuration", func(state, _ tf) { delete(state.Resource, "aws_s3_bucket_lifecycle_configuration") }, "0 lifecycle configurations"},
		{"noncurrent versions kept for ever", func(state, _ tf) { delete(rule(state), "noncurrent_version_expiration") }, "noncurrent versions expire"},
		{"current state expired after a year", func(state, _ tf) { block(rule(state)["expiration"])["days"] = 365.0 }, "never the current versions"},
		{"rule disabled", func(state, _ tf) { rule(state)["status"] = "Disabled" }, "want Enabled"},
		{"only the lock files", func(state, _ tf) { block(rule(state)["filter"])["prefix"] = "payments-dr/dev/terraform.tfstate.tflock" }, "on every object"},
		{"multipart uploads left", func(state, _ tf) { delete(rule(state), "abort_incomplete_multipart_upload") }, "want 7 days"},
		{"written before versioning", func(state, _ tf) {
			for _, l := range state.Resource["aws_s3_bucket_lifecycle_configuration"] {
				delete(l, "depends_on")
			}
		}, "not on the bucket's versioning"},
		{"receipts versions expiring", func(state, dr tf) {
			dr.Resource["aws_s3_bucket_lifecycle_configuration"] = state.Resource["aws_s3_bucket_lifecycle_configuration"]
		}, "receipts versions are evidence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, dr := parse(t, stateJSON), parse(t, defaultDR)
			tc.mutate(state, dr)
			findings := stateLifecycleFindings(state, dr)
			for _, f := range findings {
				if strings.Contains(f, tc.want) {
					return
				}
			}
			t.Errorf("mutation not reported (want a finding with %q); findings: %v", tc.want, findings)
		})
	}
}
