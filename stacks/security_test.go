package stacks

import (
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/restapi"
	"github.com/payments-dr/payments-dr/stacks/synthout"
	"github.com/payments-dr/payments-dr/stacks/waf"
)

// Who may reach what, checked on the synthesized JSON like the DR semantics: each checker
// returns findings, and TestSecurityChecksCatchMutations shows each one failing on a
// mutated copy of the default stack.
var securityChecks = []semanticCheck{
	{"each region's stage is behind its own WAF ACL with the managed groups and a per-IP rate rule", wafFindings},
	{"the WAF never judges the health paths with managed rules and its rate limit is out of the checkers' reach", wafHealthFindings},
	{"only Route 53's health checkers reach the health paths, in every spelling; everything else passes that rule", wafCheckerFindings},
	{"the peer probes ask /status, which the WAF leaves open, and /status has its own throttle", statusFindings},
	{"each WAF ACL logs to an encrypted aws-waf-logs- group in its region, without credentials", wafLogFindings},
	{"every payment method needs a bearer token checked by its own region's authorizer; /health and /status need none", authorizerFindings},
	{"each authorizer is a TOKEN authorizer on the Authorization header, cached 300 s, invocable only from its API's authorizers", authorizerSetupFindings},
	{"each authorizer may read both regions' key-set copies and write its own region's, in its own replica, and nothing else", authorizerGrantFindings},
}

func TestSecurity(t *testing.T) { runChecks(t, securityChecks) }

func TestSecurityChecksCatchMutations(t *testing.T) {
	assertCaught(t, []mutation{
		{"association removed", wafFindings, func(t *testing.T, j tf) {
			for name := range j.Resource["aws_wafv2_web_acl_association"] {
				delete(j.Resource["aws_wafv2_web_acl_association"], name)
				return
			}
		}, "no WAF web ACL associated"},
		{"the secondary's ACL on the primary's stage", wafFindings, func(t *testing.T, j tf) {
			var stages = map[string]string{}
			for name, s := range j.Resource["aws_api_gateway_stage"] {
				stages[j.regionOf(s)] = "${aws_api_gateway_stage." + name + ".arn}"
			}
			for _, a := range j.Resource["aws_wafv2_web_acl_association"] {
				if j.regionOf(a) == "us-east-2" {
					a["resource_arn"] = stages["us-east-1"]
				}
			}
		}, "no WAF web ACL associated"},
		{"common rule set dropped", wafFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				acl["rule"] = slices.DeleteFunc(list(acl["rule"]), func(r any) bool {
					return block(block(block(r)["statement"])["managed_rule_group_statement"])["name"] == "AWSManagedRulesCommonRuleSet"
				})
			}
		}, "AWSManagedRulesCommonRuleSet"},
		{"managed group set to count only", wafFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if block(block(r)["override_action"])["none"] != nil {
						block(r)["override_action"] = map[string]any{"count": map[string]any{}}
					}
				}
			}
		}, "does not block"},
		{"rate rule aggregated on a header", wafFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if rb := block(block(block(r)["statement"])["rate_based_statement"]); rb != nil {
						rb["aggregate_key_type"] = "FORWARDED_IP"
					}
				}
			}
		}, "per client IP"},
		{"health paths judged by the managed rules", wafHealthFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if g := block(block(block(r)["statement"])["managed_rule_group_statement"]); g != nil {
						delete(g, "scope_down_statement")
					}
				}
			}
		}, "judges "},
		{"rate rule scoped to the payment routes only", wafHealthFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if rb := block(block(block(r)["statement"])["rate_based_statement"]); rb != nil {
						rb["scope_down_statement"] = map[string]any{"byte_match_statement": map[string]any{"search_string": "/payments"}}
					}
				}
			}
		}, "does not count"},
		{"rate limit the checkers could reach", wafHealthFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if rb := block(block(block(r)["statement"])["rate_based_statement"]); rb != nil {
						rb["limit"] = 400.0
					}
				}
			}
		}, "checkers"},
		{"checker rule removed", wafCheckerFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				acl["rule"] = slices.DeleteFunc(list(acl["rule"]), func(r any) bool { return block(r)["name"] == waf.CheckerRuleName })
			}
		}, "reaches /health's method"},
		{"checker IP set missing", wafCheckerFindings, func(t *testing.T, j tf) {
			for name := range j.Resource["aws_wafv2_ip_set"] {
				delete(j.Resource["aws_wafv2_ip_set"], name)
			}
		}, "not Route 53's health checkers"},
		{"IP set fed from another service's ranges", wafCheckerFindings, func(t *testing.T, j tf) {
			for _, d := range j.Data["aws_ip_ranges"] {
				d["services"] = []any{"ec2"}
			}
		}, "not Route 53's health checkers"},
		{"IP set of the other region", wafCheckerFindings, func(t *testing.T, j tf) {
			sets := map[string]string{}
			for name, set := range j.Resource["aws_wafv2_ip_set"] {
				sets[j.regionOf(set)] = "${aws_wafv2_ip_set." + name + ".arn}"
			}
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				if j.regionOf(acl) == "us-east-2" {
					walkStatements(acl["rule"], func(st map[string]any) {
						if ip := block(st["ip_set_reference_statement"]); ip != nil {
							ip["arn"] = sets["us-east-1"]
						}
					})
				}
			}
		}, "not Route 53's health checkers"},
		{"checker rule not scoped to the health paths", wafCheckerFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if block(r)["name"] == waf.CheckerRuleName {
						and := block(block(block(r)["statement"])["and_statement"])
						and["statement"] = slices.DeleteFunc(list(and["statement"]), func(st any) bool { return block(st)["regex_match_statement"] != nil })
					}
				}
			}
		}, "blocks GET /prod/status for everyone"},
		{"checker rule allows instead of blocking", wafCheckerFindings, func(t *testing.T, j tf) {
			for _, acl := range j.Resource["aws_wafv2_web_acl"] {
				for _, r := range list(acl["rule"]) {
					if block(r)["name"] == waf.CheckerRuleName {
						block(r)["action"] = map[string]any{"allow": map[string]any{}}
					}
				}
			}
		}, "reaches /health's method"},
		{"checker rule only on the execute-api path, not the custom domain's", wafCheckerFindings, func(t *testing.T, j tf) {
			walkAll(j, func(st map[string]any) {
				if re := block(st["regex_match_statement"]); re != nil && len(list(re["text_transformation"])) > 1 {
					re["regex_string"] = "^/prod/health$"
				}
			})
		}, "GET /health/" + testSecret + " from outside"},
		{"checker rule without URL decoding", wafCheckerFindings, func(t *testing.T, j tf) {
			walkAll(j, func(st map[string]any) {
				if re := block(st["regex_match_statement"]); re != nil && len(list(re["text_transformation"])) > 1 {
					re["text_transformation"] = []any{map[string]any{"priority": 0.0, "type": "NONE"}}
				}
			})
		}, "%68"},
		{"probe still asks /health", statusFindings, func(t *testing.T, j tf) {
			for _, fn := range j.Resource["aws_lambda_function"] {
				vars := block(block(fn["environment"])["variables"])
				if u, ok := vars["PEER_HEALTH_URL"].(string); ok {
					vars["PEER_HEALTH_URL"] = strings.TrimSuffix(u, restapi.StatusPath) + restapi.HealthPath
				}
			}
		}, "PEER_HEALTH_URL"},
		{"probe asks the failover name's /health", statusFindings, func(t *testing.T, j tf) {
			for _, fn := range j.Resource["aws_lambda_function"] {
				vars := block(block(fn["environment"])["variables"])
				if u, ok := vars["FAILOVER_HEALTH_URL"].(string); ok {
					vars["FAILOVER_HEALTH_URL"] = strings.TrimSuffix(u, restapi.StatusPath) + restapi.HealthPath
				}
			}
		}, "FAILOVER_HEALTH_URL"},
		{"no method settings for /status", statusFindings, func(t *testing.T, j tf) {
			for name, ms := range j.Resource["aws_api_gateway_method_settings"] {
				if ms["method_path"] == restapi.StatusMethodPath {
					delete(j.Resource["aws_api_gateway_method_settings"], name)
				}
			}
		}, "no method settings for " + restapi.StatusMethodPath},
		{"/status behind the authorizer", authorizerFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_api_gateway_method"] {
				if strings.HasSuffix(j.routeOf(m), restapi.StatusPath) {
					m["authorization"] = "CUSTOM"
				}
			}
		}, "GET /status"},
		{"a payment method left open", authorizerFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_api_gateway_method"] {
				if m["http_method"] == "POST" && j.regionOf(m) == "us-east-2" {
					m["authorization"] = "NONE"
					delete(m, "authorizer_id")
				}
			}
		}, "POST /payments in us-east-2 has authorization NONE"},
		{"a payment method guarded by the other region's authorizer", authorizerFindings, func(t *testing.T, j tf) {
			var primary string
			for name, a := range j.Resource["aws_api_gateway_authorizer"] {
				if j.regionOf(a) == "us-east-1" {
					primary = "${aws_api_gateway_authorizer." + name + ".id}"
				}
			}
			for _, m := range j.Resource["aws_api_gateway_method"] {
				if m["http_method"] == "GET" && m["authorization"] == "CUSTOM" && j.regionOf(m) == "us-east-2" {
					m["authorizer_id"] = primary
				}
			}
		}, "not an authorizer of its own API"},
		{"the API key no longer required (usage plans)", authorizerFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_api_gateway_method"] {
				if m["authorization"] == "CUSTOM" {
					m["api_key_required"] = false
				}
			}
		}, "without the API key"},
		{"/health behind the authorizer", authorizerFindings, func(t *testing.T, j tf) {
			for _, m := range j.Resource["aws_api_gateway_method"] {
				if m["authorization"] == "NONE" {
					m["authorization"] = "CUSTOM"
				}
			}
		}, "/health"},
		{"authorizer reading another header", authorizerSetupFindings, func(t *testing.T, j tf) {
			for _, a := range j.Resource["aws_api_gateway_authorizer"] {
				a["identity_source"] = "method.request.header.X-Token"
			}
		}, "identity source"},
		{"authorizer without the header pattern", authorizerSetupFindings, func(t *testing.T, j tf) {
			for _, a := range j.Resource["aws_api_gateway_authorizer"] {
				delete(a, "identity_validation_expression")
			}
		}, "validation expression"},
		{"authorizer result cached for an hour", authorizerSetupFindings, func(t *testing.T, j tf) {
			for _, a := range j.Resource["aws_api_gateway_authorizer"] {
				a["authorizer_result_ttl_in_seconds"] = 3600.0
			}
		}, "TTL"},
		{"authorizer invocable from any API", authorizerSetupFindings, func(t *testing.T, j tf) {
			for _, p := range j.Resource["aws_lambda_permission"] {
				if strings.Contains(fmt.Sprint(p["source_arn"]), "/authorizers/") {
					delete(p, "source_arn")
				}
			}
		}, "no permission"},
		{"authorizer given a table grant", authorizerGrantFindings, func(t *testing.T, j tf) {
			for _, p := range j.Resource["aws_iam_role_policy"] {
				if strings.HasPrefix(fmt.Sprint(p["name"]), "payment-processor-") {
					for _, q := range j.Resource["aws_iam_role_policy"] {
						if strings.HasPrefix(fmt.Sprint(q["name"]), "payment-authorizer-") {
							q["policy"] = p["policy"]
						}
					}
				}
			}
		}, "may do"},
		{"authorizer may write the other region's key-set copy", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-2", "dynamodb:PutItem", func(s map[string]any) {
				block(list(s["condition"])[0])["values"] = []any{"control#jwks#us-east-1"}
			})
		}, "may do dynamodb:PutItem"},
		{"authorizer may write any item", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-1", "dynamodb:PutItem", func(s map[string]any) { delete(s, "condition") })
		}, "may do dynamodb:PutItem"},
		{"authorizer may also update items", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-1", "dynamodb:PutItem", func(s map[string]any) {
				s["actions"] = []any{"dynamodb:PutItem", "dynamodb:UpdateItem"}
			})
		}, "may do dynamodb:PutItem,dynamodb:UpdateItem"},
		{"authorizer reads the other region's replica", authorizerGrantFindings, func(t *testing.T, j tf) {
			var primaryTable string
			authorizerStatement(j, "us-east-1", "dynamodb:GetItem", func(s map[string]any) { primaryTable = strs(s["resources"])[0] })
			authorizerStatement(j, "us-east-2", "dynamodb:GetItem", func(s map[string]any) { s["resources"] = []any{primaryTable} })
		}, "us-east-2: the authorizer may do dynamodb:GetItem on aws_dynamodb_table in us-east-1"},
		{"authorizer reads payments", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-1", "dynamodb:GetItem", func(s map[string]any) {
				block(list(s["condition"])[0])["values"] = []any{"control#jwks#us-east-1", "control#jwks#us-east-2", "*"}
			})
		}, "may do dynamodb:GetItem"},
		{"authorizer without the peer's copy", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-1", "dynamodb:GetItem", func(s map[string]any) {
				block(list(s["condition"])[0])["values"] = []any{"control#jwks#us-east-1"}
			})
		}, "may not do dynamodb:GetItem"},
		{"authorizer may put any item", authorizerGrantFindings, func(t *testing.T, j tf) {
			authorizerStatement(j, "us-east-2", "dynamodb:PutItem", func(s map[string]any) { delete(s, "condition") })
		}, "may do dynamodb:PutItem"},
		{"authorizer without PEER_REGION", authorizerGrantFindings, func(t *testing.T, j tf) {
			for _, fn := range j.Resource["aws_lambda_function"] {
				if strings.HasPrefix(fmt.Sprint(fn["function_name"]), "payment-authorizer-us-east-2") {
					delete(block(block(fn["environment"])["variables"]), "PEER_REGION")
				}
			}
		}, "PEER_REGION"},
		{"log group without the aws-waf-logs- prefix", wafLogFindings, func(t *testing.T, j tf) {
			for _, g := range j.Resource["aws_cloudwatch_log_group"] {
				if name, _ := g["name"].(string); strings.HasPrefix(name, waf.LogGroupPrefix) {
					g["name"] = strings.TrimPrefix(name, waf.LogGroupPrefix)
				}
			}
		}, waf.LogGroupPrefix},
		{"WAF log group unencrypted", wafLogFindings, func(t *testing.T, j tf) {
			for _, g := range j.Resource["aws_cloudwatch_log_group"] {
				if name, _ := g["name"].(string); strings.HasPrefix(name, waf.LogGroupPrefix) {
					delete(g, "kms_key_id")
				}
			}
		}, "not encrypted"},
		{"bearer tokens logged", wafLogFindings, func(t *testing.T, j tf) {
			for _, l := range j.Resource["aws_wafv2_web_acl_logging_configuration"] {
				delete(l, "redacted_fields")
			}
		}, "authorization"},
	})
}

// aclRules are the rules of the ACL associated with the stage in region, or nil.
func (j tf) aclFor(region string) (name string, acl map[string]any) {
	for _, a := range j.Resource["aws_wafv2_web_acl_association"] {
		if j.regionOf(a) != region || j.refRegion(a["resource_arn"], "aws_api_gateway_stage") != region {
			continue
		}
		if typ, res := j.resource(a["web_acl_arn"]); typ == "aws_wafv2_web_acl" && j.regionOf(res) == region {
			_, name, _, _ := ref(a["web_acl_arn"])
			return name, res
		}
	}
	return "", nil
}

func wafFindings(j tf) []string {
	var out []string
	for _, region := range j.regions() {
		_, acl := j.aclFor(region)
		if acl == nil {
			out = append(out, fmt.Sprintf("%s: no WAF web ACL associated with the region's API stage", region))
			continue
		}
		if acl["scope"] != "REGIONAL" || block(block(acl["default_action"])["allow"]) == nil {
			out = append(out, fmt.Sprintf("%s: ACL scope %v, default action %v; want REGIONAL, allow", region, acl["scope"], acl["default_action"]))
		}
		groups := map[string]bool{}
		rate := false
		for _, r := range list(acl["rule"]) {
			rule := block(r)
			st := block(rule["statement"])
			if g := block(st["managed_rule_group_statement"]); g != nil {
				if g["vendor_name"] != "AWS" || block(block(rule["override_action"])["none"]) == nil {
					out = append(out, fmt.Sprintf("%s: managed group %v does not block (override %v)", region, g["name"], rule["override_action"]))
					continue
				}
				groups[fmt.Sprint(g["name"])] = true
			}
			if rb := block(st["rate_based_statement"]); rb != nil {
				if rb["aggregate_key_type"] != "IP" || block(block(rule["action"])["block"]) == nil {
					out = append(out, fmt.Sprintf("%s: rate rule is not a block per client IP: %v", region, rb))
					continue
				}
				rate = true
			}
			if v := block(rule["visibility_config"]); v["cloudwatch_metrics_enabled"] != true || v["sampled_requests_enabled"] != true {
				out = append(out, fmt.Sprintf("%s: rule %v without metrics or sampled requests", region, rule["name"]))
			}
		}
		for _, g := range waf.ManagedRuleGroups {
			if !groups[g] {
				out = append(out, fmt.Sprintf("%s: managed rule group %s missing", region, g))
			}
		}
		if !rate {
			out = append(out, fmt.Sprintf("%s: no rate rule per client IP", region))
		}
	}
	return out
}

// wafHealthFindings: Route 53's checkers must get through whatever the managed groups
// become, and a flood of /status from one address must still be cut.
func wafHealthFindings(j tf) []string {
	var out []string
	for _, region := range j.regions() {
		_, acl := j.aclFor(region)
		if acl == nil {
			continue // wafFindings reports it
		}
		for _, r := range list(acl["rule"]) {
			rule := block(r)
			st := block(rule["statement"])
			if g := block(st["managed_rule_group_statement"]); g != nil {
				for _, p := range restapi.HealthRequestPaths(testSecret) {
					if scopeMatches(g["scope_down_statement"], p) {
						out = append(out, fmt.Sprintf("%s: managed group %v judges %s", region, g["name"], p))
					}
				}
				for _, route := range restapi.Routes {
					if p := "/" + restapi.Stage + route.Path; route.Path != restapi.HealthPath && !scopeMatches(g["scope_down_statement"], p) {
						out = append(out, fmt.Sprintf("%s: managed group %v skips %s", region, g["name"], p))
					}
				}
			}
			if rb := block(st["rate_based_statement"]); rb != nil {
				if rb["scope_down_statement"] != nil {
					out = append(out, fmt.Sprintf("%s: the rate rule does not count every path; a flood of /status from one address would go on until the method throttle", region))
				}
				limit, _ := rb["limit"].(float64)
				window, _ := rb["evaluation_window_sec"].(float64)
				// One checker per address at the fastest interval, all of them together,
				// plus both probes' rounds: the floor config enforces.
				health := route53Checkers*window/10 + 2*5*window/60
				if limit < health {
					out = append(out, fmt.Sprintf("%s: rate limit %v per %vs is within reach of Route 53's checkers and the probes (%v)", region, limit, window, health))
				}
			}
		}
	}
	return out
}

// scopeMatches evaluates the scope-down statements this project writes (none, or NOT of
// a regex on the URI path) for a request to path.
func scopeMatches(scope any, path string) bool {
	s := block(scope)
	if s == nil {
		return true
	}
	if not := block(s["not_statement"]); not != nil {
		inner := block(list(not["statement"])[0])
		return !scopeMatches(inner, path)
	}
	if re := block(s["regex_match_statement"]); re != nil && block(re["field_to_match"])["uri_path"] != nil {
		return regexp.MustCompile(fmt.Sprint(re["regex_string"])).MatchString(path)
	}
	panic(fmt.Sprintf("scopeMatches: statement %v not understood", s))
}

// A request as the ACL's own rules see it: its URI path and whether it comes from one of
// Route 53's health checkers.
type aclRequest struct {
	path    string
	checker bool
}

// healthSpellings are the paths, as a client may send them, that reach GET /health on the
// execute-api host (with the stage) or the custom domain (without): a trailing slash,
// a doubled slash, a percent-escaped letter.
func healthSpellings() []string {
	var out []string
	for _, p := range restapi.HealthRequestPaths(testSecret) {
		out = append(out, p, p+"/", strings.Replace(p, "/", "//", 1), strings.Replace(p, "/health", "/%68ealth", 1))
	}
	return out
}

// healthGuesses are health paths other than the secret one, as a client may send them.
func healthGuesses() []string {
	var out []string
	for _, f := range restapi.HealthFamilies {
		out = append(out, f, f+"/", f+"/"+strings.Repeat("0", len(testSecret)), f+"/"+testSecret+"x", f+"/"+testSecret+"/more",
			strings.Replace(f, "/health", "/%68ealth", 1), strings.Replace(f, "/", "//", 1)+"/guess")
	}
	return out
}

// wafCheckerFindings evaluates the ACL's own rules (not the managed groups or the rate
// rule, which only ever block more) in priority order: a request for a health path from
// outside Route 53's checker ranges must meet a Block before it reaches API Gateway,
// which has one throttle for all callers of /health; the checkers and every other path
// must not.
func wafCheckerFindings(j tf) []string {
	var out []string
	for _, region := range j.regions() {
		_, acl := j.aclFor(region)
		if acl == nil {
			continue // wafFindings reports it
		}
		rules := slices.Clone(list(acl["rule"]))
		slices.SortFunc(rules, func(a, b any) int {
			pa, _ := block(a)["priority"].(float64)
			pb, _ := block(b)["priority"].(float64)
			return int(pa - pb)
		})
		var problems []string
		// decide is the action of the first of the ACL's own rules that matches r.
		decide := func(r aclRequest) string {
			for _, rule := range rules {
				st := block(block(rule)["statement"])
				if st["managed_rule_group_statement"] != nil || st["rate_based_statement"] != nil {
					continue
				}
				if j.statementMatches(region, st, r, &problems) {
					for action := range block(block(rule)["action"]) {
						return action
					}
					return "no action"
				}
			}
			return "default"
		}
		for _, p := range healthSpellings() {
			if got := decide(aclRequest{path: p}); got != "block" {
				out = append(out, fmt.Sprintf("%s: GET %s from outside Route 53's checker ranges reaches /health's method throttle (%s)", region, p, got))
			}
		}
		for _, p := range restapi.HealthRequestPaths(testSecret) {
			if got := decide(aclRequest{path: p, checker: true}); got == "block" {
				out = append(out, fmt.Sprintf("%s: GET %s from Route 53's checkers is blocked: the region would fail over", region, p))
			}
		}
		// Health checks anyone creates come from the same checkers: every health path but
		// the secret one is blocked for them too, or a few hundred foreign checks on a
		// guessed path would spend the method's throttle.
		for _, p := range healthGuesses() {
			for _, checker := range []bool{true, false} {
				if got := decide(aclRequest{path: p, checker: checker}); got != "block" {
					out = append(out, fmt.Sprintf("%s: GET %s (checker address: %v) is not blocked: a guessed health path reaches API Gateway (%s)", region, p, checker, got))
				}
			}
		}
		for _, route := range restapi.Routes {
			if route.Path == restapi.HealthPath {
				continue
			}
			for _, p := range []string{"/" + restapi.Stage + route.Path, route.Path} {
				if got := decide(aclRequest{path: strings.Replace(p, "{paymentId}", "p1", 1)}); got == "block" {
					out = append(out, fmt.Sprintf("%s: the checker rule blocks GET %s for everyone", region, p))
				}
			}
		}
		slices.Sort(problems)
		out = append(out, slices.Compact(problems)...)
	}
	return out
}

// statementMatches evaluates the statements this project writes in its own rules.
func (j tf) statementMatches(region string, st map[string]any, r aclRequest, problems *[]string) bool {
	switch {
	case st["and_statement"] != nil:
		for _, s := range list(block(st["and_statement"])["statement"]) {
			if !j.statementMatches(region, block(s), r, problems) {
				return false
			}
		}
		return true
	case st["or_statement"] != nil:
		for _, s := range list(block(st["or_statement"])["statement"]) {
			if j.statementMatches(region, block(s), r, problems) {
				return true
			}
		}
		return false
	case st["not_statement"] != nil:
		return !j.statementMatches(region, block(list(block(st["not_statement"])["statement"])[0]), r, problems)
	case st["regex_match_statement"] != nil:
		re := block(st["regex_match_statement"])
		if block(re["field_to_match"])["uri_path"] == nil {
			panic(fmt.Sprintf("statementMatches: regex on %v not understood", re["field_to_match"]))
		}
		return regexp.MustCompile(fmt.Sprint(re["regex_string"])).MatchString(transform(r.path, list(re["text_transformation"])))
	case st["ip_set_reference_statement"] != nil:
		if why := j.checkerSetProblem(region, block(st["ip_set_reference_statement"])["arn"]); why != "" {
			*problems = append(*problems, fmt.Sprintf("%s: the IP set is not Route 53's health checkers' ranges: %s", region, why))
			return false
		}
		return r.checker
	}
	panic(fmt.Sprintf("statementMatches: statement %v not understood", st))
}

// checkerSetProblem says why arn is not a set of Route 53's health-checker ranges in
// region, or "".
func (j tf) checkerSetProblem(region string, arn any) string {
	typ, set := j.resource(arn)
	if typ != "aws_wafv2_ip_set" || set == nil {
		return fmt.Sprintf("%v is not a declared aws_wafv2_ip_set", arn)
	}
	if j.regionOf(set) != region || set["scope"] != "REGIONAL" || set["ip_address_version"] != "IPV4" {
		return fmt.Sprintf("set %v in %s, scope %v, %v; want REGIONAL IPV4 in %s", set["name"], j.regionOf(set), set["scope"], set["ip_address_version"], region)
	}
	dtyp, ranges := j.resource(set["addresses"])
	_, _, attr, _ := ref(set["addresses"])
	if dtyp != "aws_ip_ranges" || ranges == nil || attr != "cidr_blocks" {
		return fmt.Sprintf("addresses %v are not an aws_ip_ranges data source's cidr_blocks", set["addresses"])
	}
	if svc := strs(ranges["services"]); len(svc) != 1 || !strings.EqualFold(svc[0], waf.CheckerRangesService) || ranges["regions"] != nil {
		return fmt.Sprintf("ranges of services %v, regions %v; want %s in every region", svc, ranges["regions"], waf.CheckerRangesService)
	}
	return ""
}

// transform applies WAF text transformations in priority order, as far as this project
// uses them.
func transform(s string, tts []any) string {
	slices.SortFunc(tts, func(a, b any) int {
		pa, _ := block(a)["priority"].(float64)
		pb, _ := block(b)["priority"].(float64)
		return int(pa - pb)
	})
	for _, t := range tts {
		switch typ := block(t)["type"]; typ {
		case "NONE":
		case "URL_DECODE":
			if u, err := url.PathUnescape(s); err == nil {
				s = u
			}
		case "NORMALIZE_PATH":
			s = regexp.MustCompile(`/{2,}`).ReplaceAllString(s, "/")
			s = strings.ReplaceAll(s, "/./", "/")
		default:
			panic(fmt.Sprintf("transform: %v not understood", typ))
		}
	}
	return s
}

// walkStatements calls f on every statement under rules, nested ones included.
func walkStatements(rules any, f func(map[string]any)) {
	var walk func(st map[string]any)
	walk = func(st map[string]any) {
		if st == nil {
			return
		}
		f(st)
		for _, k := range []string{"and_statement", "or_statement", "not_statement"} {
			for _, s := range list(block(st[k])["statement"]) {
				walk(block(s))
			}
		}
	}
	for _, r := range list(rules) {
		walk(block(block(r)["statement"]))
	}
}

func walkAll(j tf, f func(map[string]any)) {
	for _, acl := range j.Resource["aws_wafv2_web_acl"] {
		walkStatements(acl["rule"], f)
	}
}

// statusFindings: the peer probes ask /status, which no rule keeps for Route 53 (a
// probe refused in every round pages for ever and watches nothing), and /status has a
// method throttle of its own, so its callers cannot use up /health's.
func statusFindings(j tf) []string {
	var out []string
	for _, fn := range j.Resource["aws_lambda_function"] {
		vars := block(block(fn["environment"])["variables"])
		for _, v := range []string{"PEER_HEALTH_URL", "FAILOVER_HEALTH_URL"} {
			raw, ok := vars[v].(string)
			if !ok {
				continue
			}
			path := raw[strings.Index(raw[len("https://"):], "/")+len("https://"):]
			if path != restapi.StatusPath && path != "/"+restapi.Stage+restapi.StatusPath {
				out = append(out, fmt.Sprintf("%v: %s=%s; the probes ask %s (/health is Route 53's)", fn["function_name"], v, raw, restapi.StatusPath))
			}
			for _, region := range j.regions() {
				var problems []string
				_, acl := j.aclFor(region)
				for _, r := range list(acl["rule"]) {
					st := block(block(r)["statement"])
					if st["managed_rule_group_statement"] == nil && st["rate_based_statement"] == nil &&
						block(block(r)["action"])["block"] != nil && j.statementMatches(region, st, aclRequest{path: path}, &problems) {
						out = append(out, fmt.Sprintf("%v: %s=%s is blocked by %s's rule %v", fn["function_name"], v, raw, region, block(r)["name"]))
					}
				}
			}
		}
	}
	for name := range j.Resource["aws_api_gateway_rest_api"] {
		settings := j.methodSettings(name, restapi.StatusMethodPath)
		if settings == nil {
			out = append(out, fmt.Sprintf("API %s: no method settings for %s; it would share the stage throttle with the payment routes", name, restapi.StatusMethodPath))
			continue
		}
		// Each region's API gets the other region's probe: 2 requests per 10 s round.
		if rate, _ := settings["throttling_rate_limit"].(float64); rate < 1 {
			out = append(out, fmt.Sprintf("API %s: /status rate %v/s leaves no room for the probes", name, rate))
		}
		if burst, _ := settings["throttling_burst_limit"].(float64); burst < 2 {
			out = append(out, fmt.Sprintf("API %s: /status burst %v is below one probe round", name, burst))
		}
	}
	return out
}

func wafLogFindings(j tf) []string {
	var out []string
	for _, region := range j.regions() {
		name, acl := j.aclFor(region)
		if acl == nil {
			continue
		}
		var logging map[string]any
		for _, l := range j.Resource["aws_wafv2_web_acl_logging_configuration"] {
			if l["resource_arn"] == "${aws_wafv2_web_acl."+name+".arn}" {
				logging = l
			}
		}
		if logging == nil {
			out = append(out, fmt.Sprintf("%s: the ACL does not log", region))
			continue
		}
		for _, d := range strs(logging["log_destination_configs"]) {
			typ, g := j.resource(d)
			switch gname, _ := g["name"].(string); {
			case typ != "aws_cloudwatch_log_group" || j.regionOf(g) != region:
				out = append(out, fmt.Sprintf("%s: WAF logs to %s, not a log group in the region", region, d))
			case !strings.HasPrefix(gname, waf.LogGroupPrefix):
				out = append(out, fmt.Sprintf("%s: WAF log group %s does not start with %s; WAF refuses it", region, gname, waf.LogGroupPrefix))
			case j.refRegion(g["kms_key_id"], "aws_kms_key") != region:
				out = append(out, fmt.Sprintf("%s: WAF log group %s not encrypted with the region's key", region, gname))
			case g["retention_in_days"] == nil:
				out = append(out, fmt.Sprintf("%s: WAF log group %s kept forever", region, gname))
			}
		}
		var redacted []string
		for _, f := range list(logging["redacted_fields"]) {
			redacted = append(redacted, fmt.Sprint(block(block(f)["single_header"])["name"]))
		}
		for _, h := range []string{"authorization", "x-api-key"} {
			if !slices.Contains(redacted, h) {
				out = append(out, fmt.Sprintf("%s: WAF logs keep the %s header", region, h))
			}
		}
	}
	return out
}

// routeOf names a method by its path, rebuilt from the API's resources.
func (j tf) routeOf(m map[string]any) string {
	path := ""
	for id := m["resource_id"]; ; {
		typ, r := j.resource(id)
		if typ != "aws_api_gateway_resource" {
			break
		}
		path = "/" + fmt.Sprint(r["path_part"]) + path
		id = r["parent_id"]
	}
	return fmt.Sprintf("%v %s", m["http_method"], path)
}

func authorizerFindings(j tf) []string {
	var out []string
	want := map[string]restapi.Route{}
	for _, r := range restapi.Routes {
		path := r.Path
		if r.Secret {
			path = restapi.HealthResourcePath(testSecret)
		}
		want[r.Method+" "+path] = r
	}
	perRegion := map[string]int{}
	for _, m := range j.Resource["aws_api_gateway_method"] {
		region, route := j.regionOf(m), j.routeOf(m)
		perRegion[region]++
		r, known := want[route]
		switch {
		case !known:
			out = append(out, fmt.Sprintf("%s in %s is not in restapi.Routes", route, region))
		case r.Path == restapi.HealthPath || r.Path == restapi.StatusPath:
			if m["authorization"] != "NONE" || m["authorizer_id"] != nil || m["api_key_required"] != false {
				out = append(out, fmt.Sprintf("%s in %s: authorization %v, key %v; Route 53's checkers and the peer probes send neither token nor key", route, region, m["authorization"], m["api_key_required"]))
			}
		case m["authorization"] != "CUSTOM":
			out = append(out, fmt.Sprintf("%s in %s has authorization %v, want CUSTOM", route, region, m["authorization"]))
		default:
			typ, a := j.resource(m["authorizer_id"])
			if typ != "aws_api_gateway_authorizer" || a["rest_api_id"] != m["rest_api_id"] || j.regionOf(a) != region {
				out = append(out, fmt.Sprintf("%s in %s: authorizer %v is not an authorizer of its own API", route, region, m["authorizer_id"]))
			}
			if m["api_key_required"] != true {
				out = append(out, fmt.Sprintf("%s in %s: without the API key its usage plan no longer applies", route, region))
			}
		}
	}
	for _, region := range j.regions() {
		if perRegion[region] != len(restapi.Routes) {
			out = append(out, fmt.Sprintf("%s has %d methods, want %d", region, perRegion[region], len(restapi.Routes)))
		}
	}
	return out
}

func authorizerSetupFindings(j tf) []string {
	var out []string
	for name, a := range j.Resource["aws_api_gateway_authorizer"] {
		region := j.regionOf(a)
		if a["type"] != restapi.AuthorizerType || a["identity_source"] != restapi.AuthorizerIdentitySource {
			out = append(out, fmt.Sprintf("%s: authorizer type %v, identity source %v; want TOKEN on the Authorization header", region, a["type"], a["identity_source"]))
		}
		// The pattern is tested against what the validator accepts in lambda/auth.
		if a["identity_validation_expression"] != auth.HeaderPattern {
			out = append(out, fmt.Sprintf("%s: identity validation expression %v, want lambda/auth's HeaderPattern", region, a["identity_validation_expression"]))
		}
		if a["authorizer_result_ttl_in_seconds"] != float64(restapi.AuthorizerTTLSeconds) {
			out = append(out, fmt.Sprintf("%s: authorizer TTL %v, want %d", region, a["authorizer_result_ttl_in_seconds"], restapi.AuthorizerTTLSeconds))
		}
		fnRef := strings.Replace(fmt.Sprint(a["authorizer_uri"]), ".invoke_arn}", ".function_name}", 1)
		typ, fn := j.resource(a["authorizer_uri"])
		if typ != "aws_lambda_function" || j.regionOf(fn) != region {
			out = append(out, fmt.Sprintf("%s: authorizer calls %v, not a function in the region", region, a["authorizer_uri"]))
			continue
		}
		vars := block(block(fn["environment"])["variables"])
		for _, k := range []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"} {
			if vars[k] == nil || vars[k] == "" {
				out = append(out, fmt.Sprintf("%s: authorizer function without %s", region, k))
			}
		}
		if fn["timeout"] != 5.0 {
			out = append(out, fmt.Sprintf("%s: authorizer timeout %v, want 5 s", region, fn["timeout"]))
		}
		apiRef := strings.TrimSuffix(fmt.Sprint(a["rest_api_id"]), ".id}")
		wantSource := apiRef + ".execution_arn}/authorizers/${aws_api_gateway_authorizer." + name + ".id}"
		permitted := false
		for _, p := range j.Resource["aws_lambda_permission"] {
			if p["function_name"] == fnRef && p["principal"] == "apigateway.amazonaws.com" {
				if p["source_arn"] != wantSource {
					out = append(out, fmt.Sprintf("%s: the authorizer function may be invoked from %v, want %s", region, p["source_arn"], wantSource))
					continue
				}
				permitted = true
			}
		}
		if !permitted {
			out = append(out, fmt.Sprintf("%s: no permission for the API's authorizer to invoke %s", region, fnRef))
		}
	}
	if len(j.Resource["aws_api_gateway_authorizer"]) != len(j.regions()) {
		out = append(out, fmt.Sprintf("%d authorizers, want one per region", len(j.Resource["aws_api_gateway_authorizer"])))
	}
	return out
}

// authorizerGrantFindings compares each authorizer's role, statement by statement, with
// what it needs: its log group, GetItem of the two control#jwks# items and PutItem of its
// own region's, on its own region's replica only (the other region may be the one that is
// gone), and the region's key through DynamoDB in the region for those items.
func authorizerGrantFindings(j tf) []string {
	var out []string
	other := map[string]string{}
	if rs := j.regions(); len(rs) == 2 {
		other[rs[0]], other[rs[1]] = rs[1], rs[0]
	}
	found := 0
	for _, fn := range j.Resource["aws_lambda_function"] {
		if !strings.HasPrefix(fmt.Sprint(fn["function_name"]), "payment-authorizer-") {
			continue
		}
		found++
		region := j.regionOf(fn)
		peer := other[region]
		vars := block(block(fn["environment"])["variables"])
		if typ, _, attr, _ := ref(vars["TABLE_NAME"]); typ != "aws_dynamodb_table" || attr != "name" {
			out = append(out, fmt.Sprintf("%s: authorizer TABLE_NAME = %v, want the table's name", region, vars["TABLE_NAME"]))
		}
		if vars["PEER_REGION"] != peer {
			out = append(out, fmt.Sprintf("%s: authorizer PEER_REGION = %v, want %s", region, vars["PEER_REGION"], peer))
		}
		copies := []string{"control#jwks#" + region, "control#jwks#" + peer}
		slices.Sort(copies) // describeGrant sorts condition values
		want := map[string]bool{
			fmt.Sprintf("dynamodb:GetItem on aws_dynamodb_table in %s if ForAllValues:StringEquals dynamodb:LeadingKeys %v", region, copies):                true,
			fmt.Sprintf("dynamodb:PutItem on aws_dynamodb_table in %s if ForAllValues:StringEquals dynamodb:LeadingKeys [control#jwks#%s]", region, region): true,
		}
		roleRef := strings.TrimSuffix(fmt.Sprint(fn["role"]), ".arn}")
		for _, p := range j.Resource["aws_iam_role_policy"] {
			if p["role"] != roleRef+".id}" {
				continue
			}
			for _, st := range list(j.policyDocumentOf(p["policy"])["statement"]) {
				got := j.describeGrant(block(st))
				switch {
				case want[got]:
					delete(want, got)
				case !strings.HasPrefix(got, "logs:CreateLogStream,logs:PutLogEvents on "):
					out = append(out, fmt.Sprintf("%s: the authorizer may do %s; it needs only its log group and the key-set copies", region, got))
				}
			}
		}
		for w := range want {
			out = append(out, fmt.Sprintf("%s: the authorizer may not do %s", region, w))
		}
	}
	if found != len(j.regions()) {
		out = append(out, fmt.Sprintf("%d authorizer functions, want one per region", found))
	}
	return out
}

// describeGrant renders a policy statement as "actions on <type> in <region> if <conditions>",
// the form authorizerGrantFindings compares; "*" and unresolvable resources stay as they are.
func (j tf) describeGrant(s map[string]any) string {
	actions := strs(s["actions"])
	slices.Sort(actions)
	var resources []string
	for _, r := range strs(s["resources"]) {
		typ, res := j.resource(r)
		if res == nil || strings.Contains(r, "}:") || strings.Contains(r, "}/") {
			resources = append(resources, r)
			continue
		}
		// A replica's ARN is the table's ARN in the replica's region.
		resources = append(resources, strings.TrimSuffix(typ, "_replica")+" in "+j.regionOf(res))
	}
	var conds []string
	for _, c := range list(s["condition"]) {
		cb := block(c)
		values := strs(cb["values"])
		slices.Sort(values)
		conds = append(conds, fmt.Sprintf("%v %v %v", cb["test"], cb["variable"], values))
	}
	out := strings.Join(actions, ",") + " on " + strings.Join(resources, ", ")
	if effect, _ := s["effect"].(string); effect != "" && effect != "Allow" {
		out = effect + " " + out
	}
	if len(conds) > 0 {
		out += " if " + strings.Join(conds, " and ")
	}
	return out
}

// authorizerStatement edits the statement of region's authorizer role that grants action.
func authorizerStatement(j tf, region, action string, edit func(map[string]any)) {
	for _, fn := range j.Resource["aws_lambda_function"] {
		if !strings.HasPrefix(fmt.Sprint(fn["function_name"]), "payment-authorizer-"+region) {
			continue
		}
		roleRef := strings.TrimSuffix(fmt.Sprint(fn["role"]), ".arn}")
		for _, p := range j.Resource["aws_iam_role_policy"] {
			if p["role"] != roleRef+".id}" {
				continue
			}
			for _, st := range list(j.policyDocumentOf(p["policy"])["statement"]) {
				if slices.Contains(strs(block(st)["actions"]), action) {
					edit(block(st))
				}
			}
		}
	}
}

// policyDocumentOf is policyDocument for checkers that report instead of failing.
func (j tf) policyDocumentOf(v any) map[string]any {
	typ, name, attr, ok := ref(v)
	if !ok || typ != "aws_iam_policy_document" || attr != "json" {
		return nil
	}
	return j.Data["aws_iam_policy_document"][name]
}

// The DR operations role exists only for named operators, and trusts exactly them.
func TestDROperatorsTrust(t *testing.T) {
	ops := []string{
		"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DROperator_0123456789abcdef",
		"arn:aws:iam::123456789012:user/oncall",
	}
	cases := []struct {
		name       string
		operators  string
		externalID string
		wantRole   bool
		wantCond   bool
	}{
		{"nobody named: no role", "", "", false, false},
		{"named operators", strings.Join(ops, ","), "", true, false},
		{"named operators and an external id", strings.Join(ops, ","), "ops-2026", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stack := defaultDR
			if c.operators != "" || c.externalID != "" {
				stack = synthDR(t, func(cfg *config.Config) { cfg.DROperatorARNs, cfg.DRExternalID = c.operators, c.externalID })
			}
			j := parse(t, stack)
			var role map[string]any
			for _, r := range j.Resource["aws_iam_role"] {
				if strings.HasPrefix(fmt.Sprint(r["name"]), config.DROperationsRolePrefix) {
					role = r
				}
			}
			if (role != nil) != c.wantRole || (j.Output["drOperationsRoleArn"] != nil) != c.wantRole {
				t.Fatalf("role %v, output %v; want role: %v", role != nil, j.Output["drOperationsRoleArn"] != nil, c.wantRole)
			}
			if role == nil {
				return
			}
			trust := j.policyDocument(t, role["assume_role_policy"])
			statements := list(trust["statement"])
			if len(statements) != 1 {
				t.Fatalf("trust policy has %d statements", len(statements))
			}
			st := block(statements[0])
			var principals []string
			for _, p := range list(st["principals"]) {
				if block(p)["type"] != "AWS" {
					t.Errorf("principal of type %v", block(p)["type"])
				}
				principals = append(principals, strs(block(p)["identifiers"])...)
			}
			slices.Sort(principals)
			if !slices.Equal(principals, ops) {
				t.Errorf("trusted principals %v, want exactly %v", principals, ops)
			}
			conds := list(st["condition"])
			switch {
			case c.wantCond && (len(conds) != 1 || block(conds[0])["variable"] != "sts:ExternalId" || strs(block(conds[0])["values"])[0] != c.externalID):
				t.Errorf("conditions %v, want sts:ExternalId = %s", conds, c.externalID)
			case !c.wantCond && len(conds) != 0:
				t.Errorf("conditions %v, want none", conds)
			}
		})
	}
}

// Every write of the DR stack's state is SSE-KMS with the bootstrap's key, and the bucket
// refuses anything else.
func TestStateUnderCustomerKey(t *testing.T) {
	state := parse(t, readFile(t, synthout.StackFile(defaultOut, synthout.StateStackName)))
	dr := parse(t, defaultDR)

	var keyName string
	for name, k := range state.Resource["aws_kms_key"] {
		if k["enable_key_rotation"] != true {
			t.Errorf("state key %s: rotation off", name)
		}
		keyName = name
	}
	if len(state.Resource["aws_kms_key"]) != 1 {
		t.Fatalf("state stack has %d keys, want 1", len(state.Resource["aws_kms_key"]))
	}
	keyArn := "${aws_kms_key." + keyName + ".arn}"
	var alias string
	for _, a := range state.Resource["aws_kms_alias"] {
		if a["target_key_id"] == "${aws_kms_key."+keyName+".key_id}" {
			alias = fmt.Sprint(a["name"])
		}
	}
	for _, e := range state.Resource["aws_s3_bucket_server_side_encryption_configuration"] {
		rule := block(e["rule"])
		sse := block(rule["apply_server_side_encryption_by_default"])
		if sse["sse_algorithm"] != "aws:kms" || sse["kms_master_key_id"] != keyArn || rule["bucket_key_enabled"] != true {
			t.Errorf("state bucket default encryption %v, want aws:kms with %s and a bucket key", rule, keyArn)
		}
	}
	s3 := block(block(dr.Terraform["backend"])["s3"])
	if s3["encrypt"] != true || s3["kms_key_id"] != alias || alias == "" {
		t.Errorf("DR backend encrypt=%v kms_key_id=%v; want true and the state key's alias %q", s3["encrypt"], s3["kms_key_id"], alias)
	}
	denies := map[string]bool{}
	for _, p := range state.Resource["aws_s3_bucket_policy"] {
		for _, st := range list(state.policyDocument(t, p["policy"])["statement"]) {
			s := block(st)
			if s["effect"] != "Deny" || !slices.Contains(strs(s["actions"]), "s3:PutObject") {
				continue
			}
			for _, c := range list(s["condition"]) {
				cond := block(c)
				denies[fmt.Sprint(cond["test"], " ", cond["variable"])] = true
				if cond["variable"] == "s3:x-amz-server-side-encryption-aws-kms-key-id" && (!slices.Contains(strs(cond["values"]), keyArn) || !slices.Contains(strs(cond["values"]), alias)) {
					t.Errorf("other-key deny allows %v; want the state key's ARN and alias among them", cond["values"])
				}
			}
		}
	}
	for _, want := range []string{
		"StringNotEqualsIfExists s3:x-amz-server-side-encryption",
		"StringNotEqualsIfExists s3:x-amz-server-side-encryption-aws-kms-key-id",
		"Null s3:x-amz-server-side-encryption-customer-algorithm",
	} {
		if !denies[want] {
			t.Errorf("state bucket policy lacks the deny on %s", want)
		}
	}
}

// The bootstrap's local state holds every attribute in clear: git must never pick it up.
func TestBootstrapStateIgnored(t *testing.T) {
	for _, f := range []string{StateLocalFile, StateLocalFile + ".backup"} {
		cmd := exec.Command("git", "check-ignore", "--quiet", f)
		cmd.Dir = ".."
		if err := cmd.Run(); err != nil {
			t.Errorf("%s is not git-ignored (git check-ignore: %v)", f, err)
		}
	}
	state := parse(t, readFile(t, synthout.StackFile(defaultOut, synthout.StateStackName)))
	if p := block(block(state.Terraform["backend"])["local"])["path"]; p != "../../../"+StateLocalFile {
		t.Errorf("bootstrap state at %v, want ../../../%s (beside cdktf.json)", p, StateLocalFile)
	}
}
