package stacks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/config"
)

// Invariants hold for every configuration, so each runs over several variants.
func invariantVariants(t *testing.T) map[string]tf {
	t.Helper()
	return map[string]tf{
		"default": parse(t, defaultDR),
		"arc, e-mail, existing zone": parse(t, synthDR(t, func(c *config.Config) {
			c.FailoverControl = config.ControlARC
			c.AlertEmail = "oncall@example.com"
			c.HostedZoneID = "Z0123456789ABCDEFGHIJ"
		})),
		"us-east-1 as secondary": parse(t, synthDR(t, func(c *config.Config) {
			c.PrimaryRegion, c.SecondaryRegion, c.StateRegion = "us-west-2", "us-east-1", "us-east-2"
		})),
	}
}

func TestInvariants(t *testing.T) {
	checks := []struct {
		name  string
		check func(t *testing.T, j tf)
	}{
		{"every AWS resource and data source names a declared provider", providersNamed},
		{"every bucket is versioned, KMS-encrypted, closed to the public and TLS-only", bucketsHardened},
		{"every alarm notifies a topic in its own region", alarmsActSameRegion},
		{"no Lambda function sets a reserved environment variable", noReservedLambdaVariables},
		{"no IAM policy allows a wildcard action or * on a data action", noWildcardGrants},
		{"every health check probes a path the API serves with GET and no key", healthPathServed},
	}
	for name, j := range invariantVariants(t) {
		for _, c := range checks {
			t.Run(name+"/"+c.name, func(t *testing.T) { c.check(t, j) })
		}
	}
}

func providersNamed(t *testing.T, j tf) {
	aliases := map[string]bool{}
	for _, p := range j.Provider["aws"] {
		alias, ok := p["alias"].(string)
		if !ok {
			t.Errorf("an unaliased aws provider is declared: %v", p)
		}
		aliases["aws."+alias] = true
	}
	for kind, all := range map[string]map[string]map[string]map[string]any{"resource": j.Resource, "data": j.Data} {
		for typ, byName := range all {
			if strings.HasPrefix(typ, "random_") {
				continue // hashicorp/random has no regions: its one default provider
			}
			for name, r := range byName {
				p, _ := r["provider"].(string)
				if !aliases[p] {
					t.Errorf("%s %s.%s names provider %q; declared: %v", kind, typ, name, p, aliases)
				}
			}
		}
	}
}

func bucketsHardened(t *testing.T, j tf) {
	if len(j.Resource["aws_s3_bucket"]) == 0 {
		t.Fatal("no buckets")
	}
	for name := range j.Resource["aws_s3_bucket"] {
		id := "${aws_s3_bucket." + name + ".id}"
		arn := "${aws_s3_bucket." + name + ".arn}"
		find := func(typ string) map[string]any {
			for _, r := range j.Resource[typ] {
				if r["bucket"] == id {
					return r
				}
			}
			t.Errorf("bucket %s has no %s", name, typ)
			return nil
		}
		if v := find("aws_s3_bucket_versioning"); v != nil && block(v["versioning_configuration"])["status"] != "Enabled" {
			t.Errorf("bucket %s: versioning not Enabled", name)
		}
		if v := find("aws_s3_bucket_server_side_encryption_configuration"); v != nil {
			if alg := block(block(v["rule"])["apply_server_side_encryption_by_default"])["sse_algorithm"]; alg != "aws:kms" {
				t.Errorf("bucket %s: SSE algorithm %v, want aws:kms", name, alg)
			}
		}
		if v := find("aws_s3_bucket_public_access_block"); v != nil {
			for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
				if v[k] != true {
					t.Errorf("bucket %s: %s is not true", name, k)
				}
			}
		}
		if v := find("aws_s3_bucket_policy"); v != nil {
			doc := j.policyDocument(t, v["policy"])
			denies := false
			for _, st := range list(doc["statement"]) {
				s := block(st)
				for _, c := range list(s["condition"]) {
					cond := block(c)
					if s["effect"] == "Deny" && cond["variable"] == "aws:SecureTransport" && slices.Equal(strs(cond["values"]), []string{"false"}) &&
						slices.Contains(strs(s["resources"]), arn) && slices.Contains(strs(s["resources"]), arn+"/*") {
						denies = true
					}
				}
			}
			if !denies {
				t.Errorf("bucket %s: policy does not deny requests without TLS on the bucket and its objects", name)
			}
		}
	}
}

// policyDocument resolves "${data.aws_iam_policy_document.X.json}" to X.
func (j tf) policyDocument(t *testing.T, v any) map[string]any {
	t.Helper()
	typ, name, attr, ok := ref(v)
	if !ok || typ != "aws_iam_policy_document" || attr != "json" {
		t.Errorf("policy %v is not an aws_iam_policy_document", v)
		return nil
	}
	return j.Data["aws_iam_policy_document"][name]
}

func alarmsActSameRegion(t *testing.T, j tf) {
	for name, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
		actions := list(a["alarm_actions"])
		if len(actions) == 0 {
			t.Errorf("alarm %s has no action", name)
		}
		for _, act := range actions {
			typ, topic, _, ok := ref(act)
			if !ok || typ != "aws_sns_topic" {
				t.Errorf("alarm %s acts on %v, not one of our topics", name, act)
				continue
			}
			if got, want := j.regionOf(j.Resource["aws_sns_topic"][topic]), j.regionOf(a); got != want {
				t.Errorf("alarm %s in %s notifies topic %s in %s: CloudWatch cannot do that", name, want, topic, got)
			}
		}
	}
}

// reservedLambdaVariables are set by the Lambda runtime; a function that sets one fails
// to deploy.
var reservedLambdaVariables = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

func noReservedLambdaVariables(t *testing.T, j tf) {
	for name, fn := range j.Resource["aws_lambda_function"] {
		for k := range block(block(fn["environment"])["variables"]) {
			if slices.Contains(reservedLambdaVariables, k) {
				t.Errorf("function %s sets reserved variable %s", name, k)
			}
		}
	}
}

// Data actions read or write payments and receipts; they must name their resources.
func isDataAction(action string) bool {
	return strings.HasPrefix(action, "dynamodb:") || strings.HasPrefix(action, "s3:")
}

func noWildcardGrants(t *testing.T, j tf) {
	for name, doc := range j.Data["aws_iam_policy_document"] {
		for _, st := range list(doc["statement"]) {
			s := block(st)
			if s["effect"] != "Allow" {
				continue
			}
			for _, a := range strs(s["actions"]) {
				if strings.Contains(a, "*") {
					t.Errorf("policy %s allows wildcard action %q", name, a)
				}
				if isDataAction(a) && slices.Contains(strs(s["resources"]), "*") {
					t.Errorf("policy %s allows data action %q on every resource", name, a)
				}
			}
		}
	}
	// Every policy attached anywhere is one of the documents checked above.
	for typ, field := range map[string]string{"aws_iam_role": "assume_role_policy", "aws_iam_role_policy": "policy", "aws_kms_key": "policy", "aws_sns_topic_policy": "policy", "aws_s3_bucket_policy": "policy"} {
		for name, r := range j.Resource[typ] {
			if j.policyDocument(t, r[field]) == nil {
				t.Errorf("%s.%s: %s is not a checked policy document", typ, name, field)
			}
		}
	}
}

func healthPathServed(t *testing.T, j tf) {
	// Only HTTPS checks probe a path; ARC's RECOVERY_CONTROL and CALCULATED checks do not.
	checks := map[string]map[string]any{}
	for name, hc := range j.Resource["aws_route53_health_check"] {
		if strings.HasPrefix(fmt.Sprint(hc["type"]), "HTTPS") {
			checks[name] = hc
		}
	}
	if len(checks) != 2 {
		t.Fatalf("%d HTTPS health checks, want one per region", len(checks))
	}
	for name, hc := range checks {
		fqdn, _ := hc["fqdn"].(string)
		typ, api, _, ok := ref(fqdn)
		if !ok || typ != "aws_api_gateway_rest_api" {
			t.Errorf("health check %s probes %q, not a region's execute-api host", name, fqdn)
			continue
		}
		apiRegion := j.regionOf(j.Resource["aws_api_gateway_rest_api"][api])
		if !strings.HasSuffix(fqdn, ".execute-api."+apiRegion+".amazonaws.com") {
			t.Errorf("health check %s probes %q, not the host of its API in %s", name, fqdn, apiRegion)
		}
		path, _ := hc["resource_path"].(string)
		stage, route, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		apiID := "${aws_api_gateway_rest_api." + api + ".id}"
		if !j.has("aws_api_gateway_stage", map[string]any{"rest_api_id": apiID, "stage_name": stage}) {
			t.Errorf("health check %s: API %s has no stage %q", name, api, stage)
		}
		// Walk the path down from the API's root, one resource per segment.
		resource := "${aws_api_gateway_rest_api." + api + ".root_resource_id}"
		for _, part := range strings.Split(route, "/") {
			parent := resource
			resource = ""
			for rn, r := range j.Resource["aws_api_gateway_resource"] {
				if r["rest_api_id"] == apiID && r["path_part"] == part && r["parent_id"] == parent {
					resource = "${aws_api_gateway_resource." + rn + ".id}"
				}
			}
		}
		if !j.has("aws_api_gateway_method", map[string]any{"rest_api_id": apiID, "resource_id": resource, "http_method": "GET", "api_key_required": false, "authorization": "NONE"}) {
			t.Errorf("health check %s: API %s has no open GET method on /%s", name, api, route)
		}
		if !j.has("aws_api_gateway_integration", map[string]any{"rest_api_id": apiID, "resource_id": resource, "type": "AWS_PROXY"}) {
			t.Errorf("health check %s: GET /%s of API %s is not integrated with the function", name, route, api)
		}
	}
}

// has reports whether some resource of typ has all the given top-level values.
func (j tf) has(typ string, want map[string]any) bool {
	for _, r := range j.Resource[typ] {
		if func() bool {
			for k, v := range want {
				if r[k] != v {
					return false
				}
			}
			return true
		}() {
			return true
		}
	}
	return false
}
