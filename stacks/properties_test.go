package stacks

import (
	"fmt"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

type m = map[string]any

// property is one resource (or data source) that must exist with these properties;
// nested objects match as subsets, lists must match in length and order.
type property struct {
	name  string
	typ   string
	props m
	data  bool
}

func assertProperties(t *testing.T, stackJSON string, props []property) {
	t.Helper()
	// As applied: the health paths carry the random_id's value (testSecret).
	stackJSON = randomHex.ReplaceAllString(stackJSON, testSecret)
	for _, p := range props {
		t.Run(p.name, func(t *testing.T) {
			found := cdktf.Testing_ToHaveResourceWithProperties
			if p.data {
				found = cdktf.Testing_ToHaveDataSourceWithProperties
			}
			if !*found(jsii.String(stackJSON), jsii.String(p.typ), &p.props) {
				t.Errorf("no %s with %v", p.typ, p.props)
			}
		})
	}
}

// perRegion repeats a property for the primary and the secondary provider.
func perRegion(name, typ string, props m) []property {
	var out []property
	for _, role := range []string{"primary", "secondary"} {
		p := m{"provider": "aws." + role}
		for k, v := range props {
			p[k] = v
		}
		out = append(out, property{name: role + " " + name, typ: typ, props: p})
	}
	return out
}

func TestDRStackProperties(t *testing.T) {
	var props []property
	add := func(ps ...property) { props = append(props, ps...) }

	// Encryption: one customer-managed key per region, rotating.
	add(perRegion("KMS key rotates, never destroyed by a plan", "aws_kms_key", m{"enable_key_rotation": true, "deletion_window_in_days": 30, "lifecycle": m{"prevent_destroy": true}})...)
	add(property{"hosted zone never destroyed by a plan", "aws_route53_zone", m{"lifecycle": m{"prevent_destroy": true}}, false})
	add(perRegion("KMS alias", "aws_kms_alias", m{})...)

	// The global table.
	add(property{"global table", "aws_dynamodb_table", m{
		"provider":     "aws.primary",
		"name":         "payments-global-dev",
		"billing_mode": "PAY_PER_REQUEST",
		"hash_key":     "paymentId",
		"attribute":    []any{m{"name": "paymentId", "type": "S"}, m{"name": "acceptedIn", "type": "S"}, m{"name": "acceptedSeq", "type": "S"}},
		// The failback gate's evidence: the payments the secondary accepted.
		"global_secondary_index":      []any{m{"name": "accepted", "hash_key": "acceptedIn", "range_key": "acceptedSeq", "projection_type": "KEYS_ONLY"}},
		"stream_enabled":              true,
		"stream_view_type":            "NEW_AND_OLD_IMAGES",
		"point_in_time_recovery":      m{"enabled": true},
		"server_side_encryption":      m{"enabled": true},
		"deletion_protection_enabled": true,
		"lifecycle":                   m{"prevent_destroy": true, "ignore_changes": []any{"replica"}},
	}, false})
	add(property{"table replica", "aws_dynamodb_table_replica", m{
		"provider":                    "aws.secondary",
		"point_in_time_recovery":      true,
		"deletion_protection_enabled": true,
		"lifecycle":                   m{"prevent_destroy": true},
	}, false})

	// Receipts buckets and replication both ways.
	add(property{"primary receipts bucket", "aws_s3_bucket", m{"provider": "aws.primary", "bucket": "payment-docs-us-east-1-dev"}, false})
	add(property{"secondary receipts bucket", "aws_s3_bucket", m{"provider": "aws.secondary", "bucket": "payment-docs-us-east-2-dev"}, false})
	for _, dir := range [][2]string{{"primary", "us-east-2"}, {"secondary", "us-east-1"}} {
		add(property{dir[0] + " replicates to " + dir[1], "aws_s3_bucket_replication_configuration", m{
			"provider": "aws." + dir[0],
			"rule": []any{m{
				"id":                        "receipts-to-" + dir[1],
				"status":                    "Enabled",
				"delete_marker_replication": m{"status": "Enabled"},
				"source_selection_criteria": m{
					"replica_modifications":     m{"status": "Enabled"},
					"sse_kms_encrypted_objects": m{"status": "Enabled"},
				},
				"destination": m{
					"replication_time": m{"status": "Enabled", "time": m{"minutes": 15}},
					"metrics":          m{"status": "Enabled", "event_threshold": m{"minutes": 15}},
				},
			}},
		}, false})
	}

	// The function.
	add(perRegion("function", "aws_lambda_function", m{
		"runtime":        "provided.al2023",
		"architectures":  []any{"arm64"},
		"handler":        "bootstrap",
		"tracing_config": m{"mode": "Active"},
		"logging_config": m{"log_format": "JSON"},
	})...)
	add(perRegion("function log group", "aws_cloudwatch_log_group", m{"retention_in_days": 30})...)
	add(perRegion("conflict watch", "aws_lambda_function", m{
		"runtime": "provided.al2023", "architectures": []any{"arm64"}, "handler": "bootstrap",
		"logging_config": m{"log_format": "Text"},
	})...)
	add(perRegion("conflict watch reads changes and deletions", "aws_lambda_event_source_mapping", m{
		"starting_position": "LATEST", "bisect_batch_on_function_error": true,
		"filter_criteria": m{"filter": []any{m{"pattern": `{"eventName":["MODIFY","REMOVE"]}`}}},
	})...)

	// The API.
	for _, route := range []struct {
		method, authorization string
		key                   bool
	}{{"POST", "CUSTOM", true}, {"GET", "CUSTOM", true}, {"GET", "NONE", false}} {
		add(perRegion(fmt.Sprintf("%s method (key required: %v, authorization %s)", route.method, route.key, route.authorization), "aws_api_gateway_method",
			m{"http_method": route.method, "api_key_required": route.key, "authorization": route.authorization})...)
	}
	add(perRegion("bearer token authorizer", "aws_api_gateway_authorizer", m{
		"type": "TOKEN", "identity_source": "method.request.header.Authorization", "authorizer_result_ttl_in_seconds": 300,
	})...)
	add(perRegion("payments resource", "aws_api_gateway_resource", m{"path_part": "payments"})...)
	add(perRegion("paymentId resource", "aws_api_gateway_resource", m{"path_part": "{paymentId}"})...)
	add(perRegion("health resource", "aws_api_gateway_resource", m{"path_part": "health"})...)
	add(perRegion("secret health resource", "aws_api_gateway_resource", m{"path_part": testSecret})...)
	add(perRegion("proxy integration", "aws_api_gateway_integration", m{"type": "AWS_PROXY", "integration_http_method": "POST"})...)
	add(perRegion("deployment redeploys on change", "aws_api_gateway_deployment", m{"lifecycle": m{"create_before_destroy": true}})...)
	add(perRegion("stage prod with tracing", "aws_api_gateway_stage", m{"stage_name": "prod", "xray_tracing_enabled": true})...)
	add(perRegion("stage throttling", "aws_api_gateway_method_settings", m{
		"method_path": "*/*",
		"settings":    m{"metrics_enabled": true, "throttling_rate_limit": 100, "throttling_burst_limit": 200, "data_trace_enabled": false},
	})...)
	// /health's own throttle, so payment bursts cannot 429 the health checks.
	add(perRegion("health throttling", "aws_api_gateway_method_settings", m{
		"method_path": "health/" + testSecret + "/GET",
		"settings":    m{"metrics_enabled": true, "throttling_rate_limit": 50, "throttling_burst_limit": 100, "data_trace_enabled": false},
	})...)
	add(perRegion("receipts replication events", "aws_s3_bucket_notification", m{"topic": []any{m{
		"events": []any{"s3:Replication:OperationFailedReplication", "s3:Replication:OperationMissedThreshold"},
	}}})...)
	add(perRegion("usage plan", "aws_api_gateway_usage_plan", m{"throttle_settings": m{"rate_limit": 100, "burst_limit": 200}})...)
	add(perRegion("usage plan key", "aws_api_gateway_usage_plan_key", m{"key_type": "API_KEY"})...)
	add(perRegion("API key", "aws_api_gateway_api_key", m{"enabled": true})...)
	add(perRegion("invoke permission", "aws_lambda_permission", m{"action": "lambda:InvokeFunction", "principal": "apigateway.amazonaws.com"})...)

	// Custom domain.
	add(perRegion("certificate", "aws_acm_certificate", m{"domain_name": "api.payment-dev.example.com", "validation_method": "DNS"})...)
	add(perRegion("certificate validation", "aws_acm_certificate_validation", m{})...)
	add(perRegion("execution log group", "aws_cloudwatch_log_group", m{"retention_in_days": 30})...)
	add(perRegion("API Gateway logging role", "aws_api_gateway_account", m{"reset_on_delete": true})...)
	add(perRegion("regional domain", "aws_api_gateway_domain_name", m{
		"domain_name": "api.payment-dev.example.com", "security_policy": "TLS_1_2",
		"endpoint_configuration": m{"types": []any{"REGIONAL"}},
	})...)
	add(perRegion("base path mapping", "aws_api_gateway_base_path_mapping", m{})...)

	// Route 53.
	add(property{"zone", "aws_route53_zone", m{"name": "payment-dev.example.com"}, false})
	for _, role := range []string{"PRIMARY", "SECONDARY"} {
		add(property{role + " CNAME record", "aws_route53_record", m{
			"name": "api.payment-dev.example.com", "type": "CNAME", "ttl": 20,
			"failover_routing_policy": m{"type": role},
		}, false})
	}
	for _, region := range []string{"us-east-1", "us-east-2"} {
		add(property{"health check for " + region, "aws_route53_health_check", m{
			"type": "HTTPS_STR_MATCH", "port": 443, "resource_path": "/prod/health/" + testSecret,
			"search_string": `"status":"ok"`, "request_interval": 10, "failure_threshold": 3,
			"invert_healthcheck": false,
			"tags":               m{"Name": "payment-api-health-" + region + "-dev"},
		}, false})
	}

	// Alerts.
	add(perRegion("encrypted topic", "aws_sns_topic", m{})...)
	add(perRegion("topic policy", "aws_sns_topic_policy", m{})...)
	for _, a := range []struct{ namespace, metric string }{
		{"AWS/Lambda", "Errors"}, {"AWS/Lambda", "Throttles"}, {"AWS/ApiGateway", "5XXError"},
		{"AWS/DynamoDB", "ReplicationLatency"}, {"AWS/S3", "ReplicationLatency"}, {"AWS/S3", "OperationsFailedReplication"},
		{"AWS/S3", "OperationsPendingReplication"},
	} {
		add(perRegion(a.namespace+" "+a.metric+" alarm", "aws_cloudwatch_metric_alarm", m{"namespace": a.namespace, "metric_name": a.metric})...)
	}
	add(property{"DynamoDB replication to us-east-2", "aws_cloudwatch_metric_alarm", m{
		"provider": "aws.primary", "metric_name": "ReplicationLatency", "namespace": "AWS/DynamoDB",
		"dimensions": m{"ReceivingRegion": "us-east-2"},
	}, false})
	add(property{"DynamoDB replication to us-east-1", "aws_cloudwatch_metric_alarm", m{
		"provider": "aws.secondary", "metric_name": "ReplicationLatency", "namespace": "AWS/DynamoDB",
		"dimensions": m{"ReceivingRegion": "us-east-1"},
	}, false})
	for _, region := range []string{"us-east-1", "us-east-2"} {
		add(property{"health-check alarm for " + region + " in us-east-1", "aws_cloudwatch_metric_alarm", m{
			"provider": "aws.primary", "namespace": "AWS/Route53", "metric_name": "HealthCheckStatus",
			"alarm_name": "payment-api-health-" + region + "-dev", "comparison_operator": "LessThanThreshold",
			"treat_missing_data": "breaching",
		}, false})
	}

	// The DR operations role, trusted only by named operators: TestDROperatorsTrust.

	assertProperties(t, defaultDR, props)
}
