package stacks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/waf"
)

// policyStatements are the statements of the aws_iam_policy_document v refers to.
func (j tf) policyStatements(v any) []map[string]any {
	typ, doc := j.resource(v)
	if typ != "aws_iam_policy_document" || doc == nil {
		return nil
	}
	var out []map[string]any
	for _, st := range list(doc["statement"]) {
		out = append(out, block(st))
	}
	return out
}

// grants reports whether st allows service every one of actions (exactly or by a
// trailing-* pattern), under a condition of test on variable whose values satisfy ok.
func grants(st map[string]any, service string, actions []string, test, variable string, ok func([]string) bool) bool {
	if e, _ := st["effect"].(string); e != "" && e != "Allow" {
		return false
	}
	principal := false
	for _, p := range list(st["principals"]) {
		if block(p)["type"] == "Service" && slices.Contains(strs(block(p)["identifiers"]), service) {
			principal = true
		}
	}
	if !principal {
		return false
	}
	for _, a := range actions {
		if !slices.ContainsFunc(strs(st["actions"]), func(g string) bool {
			return g == a || strings.HasSuffix(g, "*") && strings.HasPrefix(a, strings.TrimSuffix(g, "*"))
		}) {
			return false
		}
	}
	if test == "" {
		return true
	}
	for _, c := range list(st["condition"]) {
		c := block(c)
		if c["test"] == test && c["variable"] == variable && ok(strs(c["values"])) {
			return true
		}
	}
	return false
}

// Each WAF log group can be written: a log resource policy lets the log delivery
// service (for this account only) create streams and put events in it, the logging
// configuration waits for that policy, and the group's KMS key lets this region's
// CloudWatch Logs use it for this region's log groups. Without either, WAF accepts the
// logging configuration and no log ever arrives.
func TestWAFLogGroupsCanBeWritten(t *testing.T) {
	j := parse(t, defaultDR)
	configs := j.Resource["aws_wafv2_web_acl_logging_configuration"]
	if len(configs) != 2 {
		t.Fatalf("%d WAF logging configurations, want one per region", len(configs))
	}
	for name, lc := range configs {
		region := j.regionOf(lc)
		dest := strs(lc["log_destination_configs"])
		if len(dest) != 1 {
			t.Errorf("%s: destinations %v, want one log group", name, dest)
			continue
		}
		typ, group, _, _ := ref(dest[0])
		lg := j.Resource["aws_cloudwatch_log_group"][group]
		if typ != "aws_cloudwatch_log_group" || lg == nil || !strings.HasPrefix(fmt.Sprint(lg["name"]), waf.LogGroupPrefix) || j.regionOf(lg) != region {
			t.Errorf("%s: destination %v is not an %s* log group in %s", name, dest[0], waf.LogGroupPrefix, region)
			continue
		}

		groupStreams := "${aws_cloudwatch_log_group." + group + ".arn}:log-stream:*"
		var policy string
		for pn, p := range j.Resource["aws_cloudwatch_log_resource_policy"] {
			if j.regionOf(p) != region {
				continue
			}
			for _, st := range j.policyStatements(p["policy_document"]) {
				account := grants(st, waf.LogDeliveryService, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "StringEquals", "aws:SourceAccount",
					func(v []string) bool { return len(v) == 1 && strings.Contains(v[0], "aws_caller_identity") })
				source := grants(st, waf.LogDeliveryService, nil, "ArnLike", "aws:SourceArn",
					func(v []string) bool { return len(v) == 1 && strings.HasPrefix(v[0], "arn:aws:logs:"+region+":") })
				if account && source && slices.Contains(strs(st["resources"]), groupStreams) {
					policy = pn
				}
			}
		}
		if policy == "" {
			t.Errorf("%s: no log resource policy in %s lets %s (for this account) write %s", name, region, waf.LogDeliveryService, groupStreams)
		} else if !slices.Contains(strs(lc["depends_on"]), "aws_cloudwatch_log_resource_policy."+policy) {
			t.Errorf("%s: does not depend on the log resource policy %s; WAF may create its own account-wide one first", name, policy)
		}

		ktyp, key := j.resource(lg["kms_key_id"])
		if ktyp != "aws_kms_key" || key == nil || j.regionOf(key) != region {
			t.Errorf("log group %s: kms_key_id %v is not a key in %s", group, lg["kms_key_id"], region)
			continue
		}
		usable := slices.ContainsFunc(j.policyStatements(key["policy"]), func(st map[string]any) bool {
			return grants(st, "logs."+region+".amazonaws.com", []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}, "ArnLike", "kms:EncryptionContext:aws:logs:arn",
				func(v []string) bool {
					return len(v) == 1 && strings.HasPrefix(v[0], "arn:aws:logs:"+region+":") && strings.HasSuffix(v[0], ":log-group:*")
				})
		})
		if !usable {
			t.Errorf("log group %s: its key does not let logs.%s.amazonaws.com encrypt for this region's log groups (kms:EncryptionContext:aws:logs:arn)", group, region)
		}
	}
}
