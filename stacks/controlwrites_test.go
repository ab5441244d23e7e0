package stacks

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The control items in the payments table (drain flags, the failback gate's observations,
// the authorizers' key-set copies) each have one writer, named by a LeadingKeys grant;
// every other write to the table (the payment function's) excludes them. A role that may
// write the table without either condition could drain a region, open a failback gate
// early or plant signing keys.
func controlWriteFindings(j tf) []string {
	writes := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
		"dynamodb:TransactWriteItems", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:*"}
	var out []string
	for name, p := range j.Resource["aws_iam_role_policy"] {
		for _, st := range list(j.policyDocumentOf(p["policy"])["statement"]) {
			s := block(st)
			if effect, _ := s["effect"].(string); effect == "Deny" {
				continue
			}
			var granted []string
			for _, a := range strs(s["actions"]) {
				if slices.Contains(writes, a) {
					granted = append(granted, a)
				}
			}
			if len(granted) == 0 {
				continue
			}
			conds := list(s["condition"])
			ok := false
			if len(conds) == 1 {
				c := block(conds[0])
				values := strs(c["values"])
				switch {
				case c["variable"] != "dynamodb:LeadingKeys":
				case c["test"] == "ForAllValues:StringEquals":
					ok = len(values) > 0 && !slices.ContainsFunc(values, func(v string) bool {
						return !strings.HasPrefix(v, "control#") || strings.ContainsAny(v, "*?")
					})
				case c["test"] == "ForAllValues:StringNotLike":
					ok = slices.Equal(values, []string{"control#*"})
				}
			}
			if !ok {
				out = append(out, fmt.Sprintf("policy %s: statement %v allows %s with conditions %v: neither one writer's control keys nor payments only", name, s["sid"], strings.Join(granted, ","), conds))
			}
		}
	}
	return out
}

func TestControlItemWriters(t *testing.T) {
	runChecks(t, []semanticCheck{{"writes to the payments table name their control keys or exclude them", controlWriteFindings}})
}

func TestControlItemWritersCatchMutations(t *testing.T) {
	paymentWrites := func(edit func(map[string]any)) func(*testing.T, tf) {
		return func(t *testing.T, j tf) {
			for _, p := range j.Resource["aws_iam_role_policy"] {
				for _, st := range list(j.policyDocumentOf(p["policy"])["statement"]) {
					if block(st)["sid"] == "PaymentItems" {
						edit(block(st))
					}
				}
			}
		}
	}
	assertCaught(t, []mutation{
		{"payment function writes without the exclusion", controlWriteFindings, paymentWrites(func(s map[string]any) { delete(s, "condition") }), "PaymentItems"},
		{"payment function excludes only drain flags", controlWriteFindings, paymentWrites(func(s map[string]any) {
			block(list(s["condition"])[0])["values"] = []any{"control#drain#*"}
		}), "PaymentItems"},
		{"payment function's exclusion turned into a pattern grant", controlWriteFindings, paymentWrites(func(s map[string]any) {
			block(list(s["condition"])[0])["test"] = "ForAllValues:StringEquals"
		}), "PaymentItems"},
		{"the probe may write every control key", controlWriteFindings, func(t *testing.T, j tf) {
			for _, p := range j.Resource["aws_iam_role_policy"] {
				for _, st := range list(j.policyDocumentOf(p["policy"])["statement"]) {
					if block(st)["sid"] == "RecordPeerObservation" {
						block(list(block(st)["condition"])[0])["values"] = []any{"control#*"}
					}
				}
			}
		}, "RecordPeerObservation"},
	})
}
