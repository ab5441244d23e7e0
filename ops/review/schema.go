package review

// What the AWS provider does with each resource type our stacks use, as far as a review
// needs it: which arguments force a new resource (ForceNew: true in the type's schema),
// which values it marks sensitive, and which arguments name the physical object.
//
// ForceNew and Sensitive come from reading each type's schema in
// hashicorp/terraform-provider-aws (the file and commit named in Source; the module we
// synthesize against, aws/v19 v19.54.0, wraps provider 5.88.0). The stored copies of the
// provider source span releases on both sides of 5.88.0, so each entry names the commit
// read. An argument whose ForceNew changed between that commit and 5.88.0 would be wrong
// here; the provider's CHANGELOG says so in "can now be updated in-place" entries, which is
// where to look when an entry is in doubt (the CHANGELOG was searched for
// aws_api_gateway_integration, the entry read at the oldest commit: no such change).
// Nested paths are dot-separated through blocks ("local_secondary_index.name"); a change
// anywhere inside a ForceNew block forces a new resource.
//
// Identity is not from the provider: it is the configuration that names the remote object
// (a table's name, a bucket's bucket, a role's name), used to recognise the same object
// under a new address (a move). Always compared together with the provider (region).

// typeSchema is one resource type's entry.
type typeSchema struct {
	ForceNew  []string
	Sensitive []string
	Identity  []string
	Source    string
	// ForceNewWhen describes a replacement the provider forces from code (CustomizeDiff)
	// rather than a schema flag; shown, not computed.
	ForceNewWhen string
	// Repo is the provider's repository when it is not hashicorp/aws's (with a trailing
	// space, as providerRepo).
	Repo string
}

const providerRepo = "hashicorp/terraform-provider-aws "

// randomRepo is hashicorp/random's: its resources use the plugin framework, where
// RequiresReplace plan modifiers play ForceNew's part.
const randomRepo = "hashicorp/terraform-provider-random "

var providerSchema = map[string]typeSchema{
	// The health paths' secrets (stacks/restapi): a replace is a new path, which the
	// health checks, WAF rules and method settings follow in the same apply.
	"random_id": {
		ForceNew: []string{"byte_length", "keepers", "prefix"},
		Source:   "internal/provider/resource_id.go@04572027",
		Repo:     randomRepo,
	},
	"aws_acm_certificate": {
		ForceNew:  []string{"certificate_authority_arn", "domain_name", "key_algorithm", "subject_alternative_names", "validation_method", "validation_option"},
		Sensitive: []string{"private_key"},
		Identity:  []string{"domain_name"},
		Source:    "internal/service/acm/certificate.go@01661ea3",
	},
	"aws_acm_certificate_validation": {
		ForceNew: []string{"certificate_arn", "validation_record_fqdns"},
		Identity: []string{"certificate_arn"},
		Source:   "internal/service/acm/certificate_validation.go@004eea7f",
	},
	"aws_api_gateway_account": {
		Identity: []string{"cloudwatch_role_arn"},
		Source:   "internal/service/apigateway/account.go@184cd1ad",
	},
	"aws_api_gateway_api_key": {
		ForceNew:  []string{"name", "value"},
		Sensitive: []string{"value"},
		Identity:  []string{"name"},
		Source:    "internal/service/apigateway/api_key.go@050ac111",
	},
	"aws_api_gateway_authorizer": {
		ForceNew:     []string{"rest_api_id"},
		Identity:     []string{"rest_api_id", "name"},
		Source:       "internal/service/apigateway/authorizer.go@050ac111",
		ForceNewWhen: "type changes to or from COGNITO_USER_POOLS (CustomizeDiff)",
	},
	"aws_api_gateway_base_path_mapping": {
		ForceNew: []string{"domain_name"},
		Identity: []string{"domain_name", "base_path"},
		Source:   "internal/service/apigateway/base_path_mapping.go@0657871b",
	},
	"aws_api_gateway_deployment": {
		ForceNew: []string{"rest_api_id", "triggers", "variables"},
		Identity: []string{"rest_api_id", "triggers"},
		Source:   "internal/service/apigateway/deployment.go@00a35305",
	},
	"aws_api_gateway_domain_name": {
		ForceNew:  []string{"certificate_body", "certificate_chain", "certificate_private_key", "domain_name"},
		Sensitive: []string{"certificate_private_key"},
		Identity:  []string{"domain_name"},
		Source:    "internal/service/apigateway/domain_name.go@00081ce4",
	},
	"aws_api_gateway_integration": {
		ForceNew: []string{"rest_api_id", "resource_id", "http_method", "type", "credentials", "integration_http_method", "passthrough_behavior"},
		Identity: []string{"rest_api_id", "resource_id", "http_method"},
		Source:   "internal/service/apigateway/integration.go@0196297b",
	},
	"aws_api_gateway_method": {
		ForceNew: []string{"http_method", "resource_id", "rest_api_id"},
		Identity: []string{"rest_api_id", "resource_id", "http_method"},
		Source:   "internal/service/apigateway/method.go@0657871b",
	},
	"aws_api_gateway_method_settings": {
		ForceNew: []string{"rest_api_id", "stage_name", "method_path"},
		Identity: []string{"rest_api_id", "stage_name", "method_path"},
		Source:   "internal/service/apigateway/method_settings.go@1037711a",
	},
	"aws_api_gateway_resource": {
		ForceNew: []string{"rest_api_id"},
		Identity: []string{"rest_api_id", "parent_id", "path_part"},
		Source:   "internal/service/apigateway/resource.go@06739b22",
	},
	"aws_api_gateway_rest_api": {
		Identity: []string{"name"},
		Source:   "internal/service/apigateway/rest_api.go@00a35305",
	},
	"aws_api_gateway_stage": {
		ForceNew: []string{"rest_api_id", "stage_name"},
		Identity: []string{"rest_api_id", "stage_name"},
		Source:   "internal/service/apigateway/stage.go@050ac111",
	},
	"aws_api_gateway_usage_plan": {
		Identity: []string{"name"},
		Source:   "internal/service/apigateway/usage_plan.go@003a12ae",
	},
	"aws_api_gateway_usage_plan_key": {
		ForceNew: []string{"key_id", "key_type", "usage_plan_id"},
		Identity: []string{"key_id", "usage_plan_id"},
		Source:   "internal/service/apigateway/usage_plan_key.go@01606926",
	},
	// 5.88.0 has only the account-scoped form (policy_name); later releases add
	// resource_arn, ForceNew too.
	"aws_cloudwatch_log_resource_policy": {
		ForceNew: []string{"policy_name"},
		Identity: []string{"policy_name"},
		Source:   "internal/service/logs/resource_policy.go@00a35305",
	},
	"aws_cloudwatch_log_group": {
		ForceNew: []string{"log_group_class", "name", "name_prefix"},
		Identity: []string{"name"},
		Source:   "internal/service/logs/group.go@0073593e",
	},
	"aws_cloudwatch_metric_alarm": {
		ForceNew: []string{"alarm_name"},
		Identity: []string{"alarm_name"},
		Source:   "internal/service/cloudwatch/metric_alarm.go@055611a6",
	},
	"aws_dynamodb_table": {
		ForceNew: []string{"hash_key", "local_secondary_index", "name", "range_key", "restore_source_name", "restore_to_latest_time", "restore_date_time"},
		Identity: []string{"name"},
		Source:   "internal/service/dynamodb/table.go@01335dd3",
	},
	"aws_dynamodb_table_replica": {
		ForceNew: []string{"global_table_arn", "kms_key_arn", "table_class_override"},
		Identity: []string{"global_table_arn"},
		Source:   "internal/service/dynamodb/table_replica.go@050ac111",
	},
	"aws_iam_role": {
		ForceNew: []string{"name", "name_prefix", "path"},
		Identity: []string{"name"},
		Source:   "internal/service/iam/role.go@0040ea69",
	},
	"aws_iam_role_policy": {
		ForceNew: []string{"name", "name_prefix", "role"},
		Identity: []string{"role", "name"},
		Source:   "internal/service/iam/role_policy.go@02f97af8",
	},
	"aws_iam_role_policy_attachment": {
		ForceNew: []string{"role", "policy_arn"},
		Identity: []string{"role", "policy_arn"},
		Source:   "internal/service/iam/role_policy_attachment.go@04c79849",
	},
	"aws_kms_alias": {
		ForceNew: []string{"name", "name_prefix"},
		Identity: []string{"name"},
		Source:   "internal/service/kms/alias.go@01c08000",
	},
	"aws_kms_key": {
		ForceNew: []string{"custom_key_store_id", "customer_master_key_spec", "key_usage", "multi_region", "xks_key_id"},
		// A key has no name; its description is what our stacks make unique per region.
		Identity: []string{"description"},
		Source:   "internal/service/kms/key.go@00a35305",
	},
	"aws_lambda_event_source_mapping": {
		ForceNew: []string{"amazon_managed_kafka_event_source_config", "event_source_arn", "queues", "self_managed_event_source", "self_managed_kafka_event_source_config", "starting_position", "starting_position_timestamp", "topics"},
		Identity: []string{"event_source_arn", "function_name"},
		Source:   "internal/service/lambda/event_source_mapping.go@0603f3b6",
	},
	"aws_lambda_function": {
		ForceNew: []string{"function_name", "package_type"},
		Identity: []string{"function_name"},
		Source:   "internal/service/lambda/function.go@0156d84e",
	},
	"aws_lambda_function_event_invoke_config": {
		ForceNew: []string{"function_name", "qualifier"},
		Identity: []string{"function_name", "qualifier"},
		Source:   "internal/service/lambda/function_event_invoke_config.go@01606926",
	},
	"aws_lambda_permission": {
		ForceNew: []string{"action", "event_source_token", "function_name", "function_url_auth_type", "invoked_via_function_url", "principal", "principal_org_id", "qualifier", "source_account", "source_arn", "statement_id", "statement_id_prefix"},
		Identity: []string{"function_name", "statement_id"},
		Source:   "internal/service/lambda/permission.go@04592f03",
	},
	"aws_route53_health_check": {
		ForceNew: []string{"measure_latency", "reference_name", "request_interval", "routing_control_arn", "type"},
		Identity: []string{"fqdn", "resource_path", "type"},
		Source:   "internal/service/route53/health_check.go@01606926",
	},
	"aws_route53_record": {
		ForceNew: []string{"name", "zone_id"},
		Identity: []string{"zone_id", "name", "type", "set_identifier"},
		Source:   "internal/service/route53/record.go@00655c16",
	},
	"aws_route53_zone": {
		ForceNew: []string{"delegation_set_id", "name"},
		Identity: []string{"name"},
		Source:   "internal/service/route53/zone.go@036631a1",
	},
	"aws_s3_bucket": {
		ForceNew: []string{"bucket", "bucket_prefix"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket.go@0070bcd1",
	},
	"aws_s3_bucket_lifecycle_configuration": {
		// A framework resource: RequiresReplace plan modifiers, not ForceNew flags.
		ForceNew: []string{"bucket", "expected_bucket_owner"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_lifecycle_configuration.go@01606926",
	},
	"aws_s3_bucket_notification": {
		ForceNew: []string{"bucket"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_notification.go@033c721b",
	},
	"aws_s3_bucket_ownership_controls": {
		ForceNew: []string{"bucket"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_ownership_controls.go@01c08000",
	},
	"aws_s3_bucket_policy": {
		ForceNew: []string{"bucket"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_policy.go@0073593e",
	},
	"aws_s3_bucket_public_access_block": {
		ForceNew: []string{"bucket"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_public_access_block.go@01606926",
	},
	"aws_s3_bucket_replication_configuration": {
		ForceNew: []string{"bucket"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_replication_configuration.go@028665b1",
	},
	"aws_s3_bucket_server_side_encryption_configuration": {
		ForceNew: []string{"bucket", "expected_bucket_owner"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_server_side_encryption_configuration.go@01606926",
	},
	"aws_s3_bucket_versioning": {
		ForceNew: []string{"bucket", "expected_bucket_owner"},
		Identity: []string{"bucket"},
		Source:   "internal/service/s3/bucket_versioning.go@01c08000",
	},
	"aws_scheduler_schedule": {
		ForceNew: []string{"group_name", "name", "name_prefix"},
		Identity: []string{"group_name", "name"},
		Source:   "internal/service/scheduler/schedule.go@02f524b9",
	},
	"aws_sns_topic": {
		ForceNew: []string{"fifo_topic", "name", "name_prefix"},
		Identity: []string{"name"},
		Source:   "internal/service/sns/topic.go@00a35305",
	},
	"aws_sns_topic_policy": {
		ForceNew: []string{"arn"},
		Identity: []string{"arn"},
		Source:   "internal/service/sns/topic_policy.go@00a35305",
	},
	"aws_sqs_queue": {
		ForceNew: []string{"fifo_queue", "name", "name_prefix"},
		Identity: []string{"name"},
		Source:   "internal/service/sqs/queue.go@00a35305",
	},
	"aws_wafv2_ip_set": {
		ForceNew: []string{"ip_address_version", "name", "name_prefix", "scope"},
		Identity: []string{"name", "scope"},
		Source:   "internal/service/wafv2/ip_set.go@00a35305",
	},
	"aws_wafv2_web_acl": {
		ForceNew: []string{"name", "name_prefix", "scope"},
		Identity: []string{"name", "scope"},
		Source:   "internal/service/wafv2/web_acl.go@0073593e",
	},
	"aws_wafv2_web_acl_association": {
		ForceNew: []string{"resource_arn", "web_acl_arn"},
		Identity: []string{"resource_arn"},
		Source:   "internal/service/wafv2/web_acl_association.go@011a8eed",
	},
	"aws_wafv2_web_acl_logging_configuration": {
		ForceNew: []string{"log_destination_configs", "resource_arn"},
		Identity: []string{"resource_arn"},
		Source:   "internal/service/wafv2/web_acl_logging_configuration.go@012f18cf",
	},
}

// KnownType reports whether the table has an entry for a resource type.
func KnownType(typ string) bool {
	_, ok := providerSchema[typ]
	return ok
}

// SchemaSource is where a type's entry was read, for citing in output and tests.
func SchemaSource(typ string) string {
	if s, ok := providerSchema[typ]; ok {
		if s.Repo != "" {
			return s.Repo + s.Source
		}
		return providerRepo + s.Source
	}
	return ""
}

// heldData says why losing an object of the type loses data or identity that a new
// object does not bring back. Types not listed can be recreated from configuration.
var heldData = map[string]string{
	"aws_dynamodb_table":         "holds the payments: a new table starts empty, and every acknowledged payment in it is gone",
	"aws_dynamodb_table_replica": "holds this region's copy of the payments: the region serves nothing until a new replica has re-copied the whole table",
	"aws_s3_bucket":              "holds objects (receipts, or Terraform state): a new bucket starts empty, and S3 refuses to delete a bucket that still has objects (force_destroy not set), so the apply fails part-way",
	"aws_kms_key":                "encrypts data at rest: deleting schedules the key for deletion, after which everything it encrypted (table, bucket, topics, logs) is unreadable",
	"aws_route53_zone":           "is the DNS identity: a new zone gets new name servers, so the registrar's delegation no longer points at it and the failover name stops resolving",
	"aws_cloudwatch_log_group":   "holds the log history: a new group starts empty",
	"aws_api_gateway_api_key":    "is a value clients hold: a new key gets a new value (unless value is set), and every client's calls fail its usage plan until they are given it",
}
