// Package waf holds one region's AWS WAF web ACL in front of its API stage: AWS's managed
// rule groups for common exploits and known bad inputs, a rate limit per client address,
// and request logs in an encrypted log group.
//
// The health endpoint decides failover, so the ACL is built around it:
//   - Route 53's checkers send GET /prod/health with their own User-Agent and no body, and
//     the peer probes GET /prod/health and /health; nothing in the core rule set or the
//     known-bad-inputs group matches such a request today. But AWS changes managed rule
//     groups without notice ("subject to version changes"), and one false positive on the
//     checkers would fail a healthy region over, in both regions at once. So the managed
//     groups are scoped down to every path but the health paths.
//   - The rate rule does count the health paths: it is what stops one address flooding
//     /health into its method throttle, where the 429s would reach the checkers. Its
//     limit can never be reached by the checkers themselves (config.MinWAFRateLimit).
package waf

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclloggingconfiguration"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Managed rule groups every ACL runs, in priority order after the rate rule.
// https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
var ManagedRuleGroups = []string{"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"}

// RateWindowSeconds is the rate rule's evaluation window: WAF counts the requests of the
// last 5 minutes (60, 120, 300 or 600 are accepted; 300 is the default).
// https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
const RateWindowSeconds = 300

// LogGroupPrefix: WAF only logs to destinations whose name starts with it.
// https://docs.aws.amazon.com/waf/latest/APIReference/API_LoggingConfiguration.html
const LogGroupPrefix = "aws-waf-logs-"

// RedactedHeaders are kept out of the request logs: the caller's bearer token and API key
// are credentials. WAF's single_header names are lower case.
var RedactedHeaders = []string{"authorization", "x-api-key"}

// Config of one region's web ACL.
type Config struct {
	Site site.Site
	// Name of the ACL; also the metric prefix and, after LogGroupPrefix, the log group's.
	Name string
	// StageArn is the API Gateway stage the ACL protects.
	StageArn *string
	// RateLimit: requests per client address in RateWindowSeconds before WAF blocks it.
	RateLimit int
	// HealthPaths are the URI paths, exactly as WAF sees them, that the managed rule
	// groups must never judge.
	HealthPaths      []string
	KMSKeyArn        *string
	LogRetentionDays int
}

// ACL is what tests and outputs need.
type ACL struct {
	Arn *string
}

// Rule names, also the CloudWatch metric names of the rules.
const RateRuleName = "rate-per-client-ip"

// New declares the ACL, its association with the stage and its logging.
func New(scope constructs.Construct, id string, cfg Config) ACL {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	rules := []*wafv2webacl.Wafv2WebAclRule{{
		Name:     jsii.String(RateRuleName),
		Priority: jsii.Number(0),
		Action:   &wafv2webacl.Wafv2WebAclRuleAction{Block: &wafv2webacl.Wafv2WebAclRuleActionBlock{}},
		// The provider's binding types nested statements as `any`: Terraform's own
		// (snake_case) names go here as they are.
		Statement: map[string]any{
			"rate_based_statement": map[string]any{
				"limit":                 cfg.RateLimit,
				"aggregate_key_type":    "IP",
				"evaluation_window_sec": RateWindowSeconds,
			},
		},
		VisibilityConfig: ruleVisibility(cfg.Name, RateRuleName),
	}}
	for i, group := range ManagedRuleGroups {
		rules = append(rules, &wafv2webacl.Wafv2WebAclRule{
			Name:     jsii.String(group),
			Priority: jsii.Number(float64(i + 1)),
			// None: the group's own actions (Block) apply.
			OverrideAction: &wafv2webacl.Wafv2WebAclRuleOverrideAction{None: &wafv2webacl.Wafv2WebAclRuleOverrideActionNone{}},
			Statement: map[string]any{
				"managed_rule_group_statement": map[string]any{
					"vendor_name": "AWS",
					"name":        group,
					// A scope-down statement limits the requests the group evaluates.
					// https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-scope-down-statements.html
					"scope_down_statement": map[string]any{
						"not_statement": map[string]any{
							"statement": []any{map[string]any{"regex_match_statement": healthPathMatch(cfg.HealthPaths)}},
						},
					},
				},
			},
			VisibilityConfig: ruleVisibility(cfg.Name, group),
		})
	}
	acl := wafv2webacl.NewWafv2WebAcl(c, jsii.String("acl"), &wafv2webacl.Wafv2WebAclConfig{
		Provider:      p,
		Name:          jsii.String(cfg.Name),
		Description:   jsii.String("payments API in " + cfg.Site.Region + ": managed rules, rate limit per client address"),
		Scope:         jsii.String("REGIONAL"),
		DefaultAction: &wafv2webacl.Wafv2WebAclDefaultAction{Allow: &wafv2webacl.Wafv2WebAclDefaultActionAllow{}},
		Rule:          &rules,
		VisibilityConfig: &wafv2webacl.Wafv2WebAclVisibilityConfig{
			CloudwatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String(metricName(cfg.Name)),
			SampledRequestsEnabled:   jsii.Bool(true),
		},
	})
	wafv2webaclassociation.NewWafv2WebAclAssociation(c, jsii.String("association"), &wafv2webaclassociation.Wafv2WebAclAssociationConfigA{
		Provider:    p,
		ResourceArn: cfg.StageArn,
		WebAclArn:   acl.Arn(),
	})
	logs := monitoring.NewLogGroup(c, "log-group", monitoring.LogGroupConfig{
		Site: cfg.Site, Name: LogGroupPrefix + cfg.Name, RetentionDays: cfg.LogRetentionDays, KMSKeyArn: cfg.KMSKeyArn,
	})
	var redacted []*wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields
	for _, h := range RedactedHeaders {
		redacted = append(redacted, &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields{
			SingleHeader: &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader{Name: jsii.String(h)},
		})
	}
	wafv2webaclloggingconfiguration.NewWafv2WebAclLoggingConfiguration(c, jsii.String("logging"), &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationConfig{
		Provider:              p,
		ResourceArn:           acl.Arn(),
		LogDestinationConfigs: &[]*string{logs.Arn()},
		RedactedFields:        &redacted,
	})
	return ACL{Arn: acl.Arn()}
}

// HealthPathPattern matches exactly the given paths: a regular expression, so one
// statement covers them all and the scope-down stays within the provider's nesting.
func HealthPathPattern(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}

func healthPathMatch(paths []string) map[string]any {
	return map[string]any{
		"regex_string":   HealthPathPattern(paths),
		"field_to_match": map[string]any{"uri_path": map[string]any{}},
		// API Gateway routes paths case-sensitively; no transformation, so /HEALTH is
		// judged by the managed rules like any other path.
		"text_transformation": []any{map[string]any{"priority": 0, "type": "NONE"}},
	}
}

func ruleVisibility(acl, rule string) *wafv2webacl.Wafv2WebAclRuleVisibilityConfig {
	return &wafv2webacl.Wafv2WebAclRuleVisibilityConfig{
		CloudwatchMetricsEnabled: jsii.Bool(true),
		MetricName:               jsii.String(metricName(acl + "-" + rule)),
		SampledRequestsEnabled:   jsii.Bool(true),
	}
}

// metricName keeps to what WAF accepts in a metric name: letters, digits, '-' and '_'.
func metricName(s string) string {
	name := regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(s, "_")
	if len(name) > 128 {
		panic(fmt.Sprintf("waf: metric name %q is over 128 characters", name))
	}
	return name
}
