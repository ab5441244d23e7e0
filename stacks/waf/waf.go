// Package waf holds one region's AWS WAF web ACL in front of its API stage: a rule that
// keeps Route 53's check path for Route 53's health checkers, AWS's managed rule groups
// for common exploits and known bad inputs, a rate limit per client address, and request
// logs in an encrypted log group.
//
// The health endpoint decides failover, so the ACL is built around it:
//   - The health GET has a method throttle of its own, shared by every caller. A flood from
//     many addresses, each under the per-address rate limit (and a rate-based rule "can
//     take up to several minutes" to act, see RateWindowSeconds), would make API Gateway
//     answer the checkers 429 and fail a healthy region over. Route 53's checkers serve
//     every AWS customer, so anyone can aim health checks of their own at us from the
//     checkers' addresses: the method is at an apply-time secret path
//     (restapi.HealthPath), every other path of the health family is blocked for
//     everyone (SecretRuleName), and the secret path for any address outside Route 53's
//     published health-checker ranges (CheckerRuleName). AWS documents WAF as
//     evaluated before API Gateway's other access controls; that it also comes before the
//     method throttle is what keeps a blocked flood from spending the checkers' share.
//     People and the peer probes use GET /status, the same answer under its own throttle.
//   - Route 53's checkers send GET /prod/health with their own User-Agent and no body;
//     nothing in the core rule set or the known-bad-inputs group matches such a request
//     today. But AWS changes managed rule groups without notice ("subject to version
//     changes"), and one false positive on the checkers would fail a healthy region over,
//     in both regions at once. So the managed groups are scoped down to every path but the
//     health paths.
//   - The rate rule counts every path; its limit can never be reached by the checkers
//     themselves (config.MinWAFRateLimit).
package waf

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogresourcepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsipranges"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2ipset"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclloggingconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/iam"
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

// LogDeliveryService is the principal that writes WAF's logs into CloudWatch Logs.
const LogDeliveryService = "delivery.logs.amazonaws.com"

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
	// HealthFamilies are the URI path prefixes, exactly as WAF sees them, of the health
	// route (restapi.HealthFamilies); HealthSecret is the apply-time segment below them at
	// which the method is. Only Route 53's health checkers may request the secret paths,
	// the managed rule groups never judge them, and every other path of the families is
	// blocked for everyone.
	HealthFamilies   []string
	HealthSecret     *string
	KMSKeyArn        *string
	LogRetentionDays int
	// AccountID scopes the log delivery policy to deliveries from this account.
	AccountID *string
}

// ACL is what tests and outputs need.
type ACL struct {
	Arn *string
	// Rules is the web ACL resource, whose update changes which health path is admitted.
	Rules cdktf.ITerraformDependable
}

// Rule names, also the CloudWatch metric names of the rules.
const (
	SecretRuleName  = "health-secret-path-only"
	CheckerRuleName = "health-for-route53-checkers-only"
	RateRuleName    = "rate-per-client-ip"
)

// CheckerRangesService is the ip-ranges.json service whose IPv4 prefixes Route 53's health
// checkers send from ("ROUTE53_HEALTHCHECKS": "Add these ranges to the list of allowed IP
// address ranges if you're using Route 53 health checks";
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-ip-addresses.html),
// in the lower case the aws_ip_ranges data source takes
// (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/ip_ranges).
// The data source reads https://ip-ranges.amazonaws.com/ip-ranges.json at plan time, so a
// plan and apply picks up changed ranges; AWS announces every change on the SNS topic
// AmazonIpSpaceChanged
// (https://docs.aws.amazon.com/vpc/latest/userguide/subscribe-notifications.html).
//
// IPv4 only: the checks name the execute-api host (FullyQualifiedDomainName, no
// IPAddress), and then "Using an IPv4 address that DNS returns, Route 53 then checks the
// health of the endpoint"
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
// An IPv6 request for a health path is outside the set and blocked.
const CheckerRangesService = "route53_healthchecks"

// New declares the ACL, its association with the stage and its logging.
func New(scope constructs.Construct, id string, cfg Config) ACL {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	ranges := dataawsipranges.NewDataAwsIpRanges(c, jsii.String("route53-checker-ranges"), &dataawsipranges.DataAwsIpRangesConfig{
		Provider: p,
		Services: jsii.Strings(CheckerRangesService),
	})
	checkers := wafv2ipset.NewWafv2IpSet(c, jsii.String("route53-checkers"), &wafv2ipset.Wafv2IpSetConfig{
		Provider:         p,
		Name:             jsii.String(cfg.Name + "-route53-checkers"),
		Description:      jsii.String("Route 53 health checkers (ip-ranges.json " + CheckerRangesService + "), the only callers of the health paths"),
		Scope:            jsii.String("REGIONAL"),
		IpAddressVersion: jsii.String("IPV4"),
		Addresses:        ranges.CidrBlocks(),
	})
	secretPattern := secretPathPattern(cfg.HealthFamilies, cfg.HealthSecret)
	secretPaths := healthPathMatch(secretPattern, checkerTransformations)
	rules := []*wafv2webacl.Wafv2WebAclRule{{
		// First: a blocked request ends the evaluation, and AWS WAF runs before API
		// Gateway's own access controls ("AWS WAF is your first line of defense against web
		// exploits. When AWS WAF is enabled on an API, AWS WAF rules are evaluated before
		// other access control features",
		// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html).
		// Anything under the health families but the secret path, from anyone: guesses
		// never reach API Gateway, and the logs show them as this rule's blocks.
		Name:     jsii.String(SecretRuleName),
		Priority: jsii.Number(0),
		Action:   &wafv2webacl.Wafv2WebAclRuleAction{Block: &wafv2webacl.Wafv2WebAclRuleActionBlock{}},
		Statement: unless(
			map[string]any{"regex_match_statement": healthPathMatch(FamilyPattern(cfg.HealthFamilies), checkerTransformations)},
			map[string]any{"regex_match_statement": secretPaths}),
		VisibilityConfig: ruleVisibility(cfg.Name, SecretRuleName),
	}, {
		// The secret path itself only from Route 53's health checkers: a leaked secret
		// still cannot be flooded from elsewhere.
		Name:     jsii.String(CheckerRuleName),
		Priority: jsii.Number(1),
		Action:   &wafv2webacl.Wafv2WebAclRuleAction{Block: &wafv2webacl.Wafv2WebAclRuleActionBlock{}},
		Statement: unless(
			map[string]any{"regex_match_statement": secretPaths},
			map[string]any{"ip_set_reference_statement": map[string]any{"arn": checkers.Arn()}}),
		VisibilityConfig: ruleVisibility(cfg.Name, CheckerRuleName),
	}, {
		Name:     jsii.String(RateRuleName),
		Priority: jsii.Number(2),
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
			Priority: jsii.Number(float64(i + 3)),
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
							"statement": []any{map[string]any{"regex_match_statement": healthPathMatch(secretPattern, exactPath)}},
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
		Description:   jsii.String("payments API in " + cfg.Site.Region + ": health paths for Route 53 only, managed rules, rate limit per client address"),
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
	// WAF delivers to CloudWatch Logs through the logs delivery service, which needs a
	// resource policy allowing delivery.logs.amazonaws.com to write the group's streams.
	// WAF would otherwise create or extend an account-wide policy itself
	// (AWSWAF-LOGS) on the first PutLoggingConfiguration, outside this stack and never
	// removed; declared here it is scoped to this group and to deliveries for this account
	// (aws:SourceAccount, aws:SourceArn: the confused-deputy conditions AWS lists).
	// https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html
	// The group's key already lets logs.<region>.amazonaws.com use it for this region's
	// log groups (package encryption; TestWAFLogGroupsCanBeWritten checks it).
	delivery := cloudwatchlogresourcepolicy.NewCloudwatchLogResourcePolicy(c, jsii.String("log-delivery-policy"), &cloudwatchlogresourcepolicy.CloudwatchLogResourcePolicyConfig{
		Provider:   p,
		PolicyName: jsii.String(LogGroupPrefix + cfg.Name + "-delivery"),
		PolicyDocument: iam.Document(c, "log-delivery-policy-document", cfg.Site, iam.Statement{
			Sid:        "WAFLogDelivery",
			Actions:    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources:  []*string{jsii.String(*logs.Arn() + ":log-stream:*")},
			Principals: map[string][]*string{"Service": {jsii.String(LogDeliveryService)}},
			Conditions: []iam.Condition{
				iam.SourceAccount(cfg.AccountID),
				{Test: "ArnLike", Variable: "aws:SourceArn", Values: []*string{jsii.String("arn:aws:logs:" + cfg.Site.Region + ":" + *cfg.AccountID + ":*")}},
			},
		}),
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
		DependsOn:             &[]cdktf.ITerraformDependable{delivery},
	})
	return ACL{Arn: acl.Arn(), Rules: acl}
}

// unless is the statement "match and not except", two levels deep: within the nesting
// the provider's schema allows in a rule.
func unless(match, except map[string]any) map[string]any {
	return map[string]any{
		"and_statement": map[string]any{
			"statement": []any{match, map[string]any{"not_statement": map[string]any{"statement": []any{except}}}},
		},
	}
}

// FamilyPattern matches every path at or below the given prefixes: the health route's
// own resource, the secret one below it, and any guess at another.
func FamilyPattern(families []string) string {
	return "^(" + alternatives(families, "") + ")(/.*)?$"
}

// secretPathPattern matches the secret path below each family, with or without one
// trailing slash (which API Gateway routes to the same resource). The secret is a token
// until apply and hex after it, so it is appended as it is, never quoted: quoting would
// mangle the token, and hex needs none.
func secretPathPattern(families []string, secret *string) string {
	return "^(" + alternatives(families, "/"+*secret) + ")/?$"
}

// alternatives quotes each prefix and appends suffix to it, as one regex alternation.
func alternatives(prefixes []string, suffix string) string {
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = regexp.QuoteMeta(p) + suffix
	}
	return strings.Join(quoted, "|")
}

// Text transformations WAF applies to the URI path before the pattern, in this order.
// https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-transformation.html
var (
	// exactPath: the managed groups' scope-down skips only the paths as API Gateway
	// routes them (case-sensitively); /HEALTH is judged like any other path.
	exactPath = []string{"NONE"}
	// checkerTransformations: the blocking rule must see every spelling of the path that
	// might still reach the method, so it decodes %-escapes and folds repeated slashes and
	// ./ segments first; matching more spellings only blocks more requests from outside
	// Route 53.
	checkerTransformations = []string{"URL_DECODE", "NORMALIZE_PATH"}
)

func healthPathMatch(pattern string, transformations []string) map[string]any {
	var tt []any
	for i, t := range transformations {
		tt = append(tt, map[string]any{"priority": i, "type": t})
	}
	return map[string]any{
		"regex_string":        pattern,
		"field_to_match":      map[string]any{"uri_path": map[string]any{}},
		"text_transformation": tt,
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
