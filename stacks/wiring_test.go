package stacks

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/ops/recovery"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// Wiring checks follow references between resources, which property matching cannot.
// With either failover control: ARC routing controls change what Route 53 answers, not
// which region may gate.
func TestFunctionWiring(t *testing.T) {
	for _, mode := range []string{config.ControlFlag, config.ControlARC} {
		t.Run(mode, func(t *testing.T) {
			stack := defaultDR
			if mode == config.ControlARC {
				stack = synthDR(t, func(c *config.Config) { c.FailoverControl = mode })
			}
			checkFunctionWiring(t, parse(t, stack))
		})
	}
}

func checkFunctionWiring(t *testing.T, j tf) {
	payments := 0
	for name, fn := range j.Resource["aws_lambda_function"] {
		if !strings.HasPrefix(fn["function_name"].(string), "payment-processor-") {
			continue
		}
		payments++
		region := j.regionOf(fn)
		vars := block(block(fn["environment"])["variables"])
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"DR_ROLE", "PEER_REGION", "RECEIPTS_BUCKET", "TABLE_NAME"}) {
			t.Errorf("function %s environment %v, want exactly DR_ROLE, PEER_REGION, RECEIPTS_BUCKET and TABLE_NAME", name, keys)
		}
		// PEER_REGION must be the other region: a miss is read there, and the
		// primary's failback gate reads its accept index.
		peer, _ := vars["PEER_REGION"].(string)
		if peer == region || peer == "" {
			t.Errorf("function %s in %s has PEER_REGION %v, want the other region", name, region, peer)
		}
		// Only the primary gates (issue 13): Route 53 answers SECONDARY only while
		// PRIMARY is unhealthy, so a gate on the secondary could only turn a
		// failover into an outage. Its role and its grants say so.
		wantRole := "secondary"
		if region == config.Default().PrimaryRegion {
			wantRole = "primary"
		}
		if vars["DR_ROLE"] != wantRole {
			t.Errorf("function %s in %s has DR_ROLE %v, want %s", name, region, vars["DR_ROLE"], wantRole)
		}
		gateGrants := map[string]bool{}
		if doc := j.rolePolicy(t, fn["role"]); doc != nil {
			for _, st := range list(doc["statement"]) {
				s := block(st)
				for _, a := range strs(s["actions"]) {
					if a == "dynamodb:Query" || a == "dynamodb:BatchGetItem" {
						gateGrants[a] = true
					}
				}
				if s["sid"] == "ReadSecondaryAcceptIndex" {
					res := strs(s["resources"])
					tr, tn, _, _ := ref(res[0])
					if len(res) != 1 || j.regionOf(j.Resource[tr][tn]) != peer || !strings.HasSuffix(res[0], "/index/accepted") {
						t.Errorf("function %s: ReadSecondaryAcceptIndex on %v, want the accept index of %s's replica only", name, res, peer)
					}
				}
				if s["sid"] == "GateWatermark" {
					conds := list(s["condition"])
					if len(conds) != 1 || !slices.Equal(strs(block(conds[0])["values"]), []string{"control#gate#" + region}) {
						t.Errorf("function %s: GateWatermark conditions %v, want exactly control#gate#%s", name, conds, region)
					}
					gateGrants["watermark"] = true
				}
			}
		}
		if gates := len(gateGrants) == 3; gates != (wantRole == "primary") {
			t.Errorf("function %s (%s) has the failback gate's grants %v; only the primary may evaluate the gate", name, wantRole, gateGrants)
		}
		if typ, _, attr, _ := ref(vars["TABLE_NAME"]); typ != "aws_dynamodb_table" || attr != "name" {
			t.Errorf("function %s TABLE_NAME = %v, want the table's name", name, vars["TABLE_NAME"])
		}
		if typ, bucket, _, _ := ref(vars["RECEIPTS_BUCKET"]); typ != "aws_s3_bucket" || j.regionOf(j.Resource["aws_s3_bucket"][bucket]) != region {
			t.Errorf("function %s in %s writes receipts to %v, not its own region's bucket", name, region, vars["RECEIPTS_BUCKET"])
		}
		logGroup := ""
		for _, d := range strs(fn["depends_on"]) {
			if strings.HasPrefix(d, "aws_cloudwatch_log_group.") {
				logGroup = strings.TrimPrefix(d, "aws_cloudwatch_log_group.")
			}
		}
		lg := j.Resource["aws_cloudwatch_log_group"][logGroup]
		if lg == nil || lg["name"] != "/aws/lambda/"+fn["function_name"].(string) || lg["kms_key_id"] == nil {
			t.Errorf("function %s does not depend on its own encrypted log group /aws/lambda/%v", name, fn["function_name"])
		}
		if !strings.HasPrefix(fn["source_code_hash"].(string), "${filebase64sha256(") {
			t.Errorf("function %s source_code_hash %v is not computed from the zip", name, fn["source_code_hash"])
		}
	}
	if payments != 2 {
		t.Errorf("%d payment functions, want one per region", payments)
	}
}

// Each region watches its own stream of the table for overwritten payments, and alarms
// on what the watch reports there.
func TestConflictWatchWiring(t *testing.T) {
	j := parse(t, defaultDR)
	watched := map[string]bool{}
	for name, m := range j.Resource["aws_lambda_event_source_mapping"] {
		region := j.regionOf(m)
		typ, fn, _, _ := ref(m["function_name"])
		watch := j.Resource["aws_lambda_function"][fn]
		if typ != "aws_lambda_function" || watch == nil || !strings.HasPrefix(watch["function_name"].(string), "payment-conflict-watch-"+region) {
			t.Errorf("mapping %s in %s feeds %v, not that region's conflict watch", name, region, m["function_name"])
			continue
		}
		source := m["event_source_arn"].(string)
		typ, res, attr, _ := ref(source)
		table := j.Resource["aws_dynamodb_table"][res]
		if strings.HasPrefix(source, "${data.") {
			table = j.Data["aws_dynamodb_table"][res]
		}
		if typ != "aws_dynamodb_table" || attr != "stream_arn" || table == nil || j.regionOf(table) != region {
			t.Errorf("mapping %s in %s reads %s, not the table's stream in its own region", name, region, source)
		}
		if m["starting_position"] != "LATEST" || len(strs(m["depends_on"])) < 2 {
			t.Errorf("mapping %s: starting position %v, depends on %v", name, m["starting_position"], m["depends_on"])
		}
		if vars := block(block(watch["environment"])["variables"]); len(vars) != 1 || vars["TABLE_NAME"] == nil {
			t.Errorf("conflict watch %s environment %v, want TABLE_NAME only", name, vars)
		}
		if block(watch["logging_config"])["log_format"] != "Text" {
			t.Errorf("conflict watch %s logs as %v; its metric lines need Text", name, block(watch["logging_config"])["log_format"])
		}
		watched[region] = true
	}
	if len(watched) != 2 {
		t.Errorf("conflict watches in %v, want both regions", watched)
	}
	for _, region := range []string{"us-east-1", "us-east-2"} {
		for _, metric := range []string{"PaymentOverwritten", "PaymentRemoved"} {
			found := false
			for _, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
				found = found || (a["namespace"] == "PaymentsDR" && a["metric_name"] == metric && j.regionOf(a) == region && block(a["dimensions"])["TableName"] != nil)
			}
			if !found {
				t.Errorf("no %s alarm in %s", metric, region)
			}
		}
	}
}

func TestAPIWiring(t *testing.T) {
	j := parse(t, defaultDR)
	for name, d := range j.Resource["aws_api_gateway_deployment"] {
		if _, ok := d["stage_name"]; ok {
			t.Errorf("deployment %s uses the deprecated stage_name", name)
		}
		if block(d["triggers"])["redeployment"] == nil {
			t.Errorf("deployment %s has no redeployment trigger", name)
		}
	}
	for name, s := range j.Resource["aws_api_gateway_stage"] {
		logs := block(s["access_log_settings"])
		if typ, _, _, _ := ref(logs["destination_arn"]); typ != "aws_cloudwatch_log_group" || logs["format"] == nil {
			t.Errorf("stage %s has no access log destination and format", name)
		}
	}
	// The clients' API keys and their values across regions: TestClientKeys.
	for name, p := range j.Resource["aws_lambda_permission"] {
		typ, _, attr, _ := ref(p["source_arn"])
		if strings.Contains(p["source_arn"].(string), "/authorizers/") {
			continue // the authorizer's own permission: authorizerSetupFindings
		}
		if typ != "aws_api_gateway_rest_api" || attr != "execution_arn" || !strings.HasSuffix(p["source_arn"].(string), "/prod/*/*") {
			t.Errorf("invoke permission %s source_arn %v is not scoped to the API's prod stage", name, p["source_arn"])
		}
	}
}

// Each region's certificate validates from its own domain_validation_options, through a
// record in its own region's resources that waits for nothing in the other region; the two
// regions' records may be the same name and value (ACM gives one per name and account
// today), so each may overwrite the other's.
func TestCertificateValidationWiring(t *testing.T) {
	j := parse(t, defaultDR)
	validations := j.Resource["aws_acm_certificate_validation"]
	if len(validations) != 2 {
		t.Fatalf("%d certificate validations, want one per region", len(validations))
	}
	regions := map[string]bool{}
	for name, v := range validations {
		region := j.regionOf(v)
		regions[region] = true
		_, cert, _, _ := ref(v["certificate_arn"])
		fqdns := strs(v["validation_record_fqdns"])
		if len(fqdns) != 1 {
			t.Errorf("validation %s waits for %v, want its one record", name, fqdns)
			continue
		}
		typ, rec, _, _ := ref(fqdns[0])
		r := j.Resource["aws_route53_record"][rec]
		if typ != "aws_route53_record" || r == nil {
			t.Errorf("validation %s waits for %v, not a declared record", name, fqdns[0])
			continue
		}
		if j.regionOf(r) != region {
			t.Errorf("validation %s in %s waits for record %s of %s", name, region, rec, j.regionOf(r))
		}
		for _, attr := range []string{"name", "type"} {
			// ${tolist(aws_acm_certificate.<cert>.domain_validation_options).0.<attr>}
			if !strings.Contains(fmt.Sprint(r[attr]), "aws_acm_certificate."+cert+".domain_validation_options)") {
				t.Errorf("record %s: %s %v is not from certificate %s's own domain_validation_options", rec, attr, r[attr], cert)
			}
		}
		if r["allow_overwrite"] != true {
			t.Errorf("record %s: allow_overwrite %v; the other region declares the same record", rec, r["allow_overwrite"])
		}
	}
	if len(regions) != 2 {
		t.Errorf("validations in %v, want both regions", regions)
	}
}

func TestReplicationWiring(t *testing.T) {
	j := parse(t, defaultDR)
	configs := j.Resource["aws_s3_bucket_replication_configuration"]
	if len(configs) != 2 {
		t.Fatalf("%d replication configurations, want one each way", len(configs))
	}
	for name, c := range configs {
		deps := strs(c["depends_on"])
		versionings := 0
		for _, d := range deps {
			if strings.HasPrefix(d, "aws_s3_bucket_versioning.") {
				versionings++
			}
		}
		if versionings != 2 {
			t.Errorf("replication %s depends on %d versionings, want both buckets'", name, versionings)
		}
		_, src, _, _ := ref(c["bucket"])
		_, dst, _, _ := ref(block(block(c["rule"])["destination"])["bucket"])
		if src == dst || j.regionOf(j.Resource["aws_s3_bucket"][src]) != j.regionOf(c) {
			t.Errorf("replication %s: from %s to %s is not from its own region's bucket to the other", name, src, dst)
		}
		if typ, _, _, _ := ref(block(block(block(c["rule"])["destination"])["encryption_configuration"])["replica_kms_key_id"]); typ != "aws_kms_key" {
			t.Errorf("replication %s does not re-encrypt replicas with the destination key", name)
		}
	}
}

func TestStateBackend(t *testing.T) {
	j := parse(t, defaultDR)
	s3 := block(block(j.Terraform["backend"])["s3"])
	want := map[string]any{"bucket": "payments-dr-tfstate-dev", "key": "payments-dr/dev/terraform.tfstate", "region": "us-west-2", "encrypt": true, "use_lockfile": true}
	for k, v := range want {
		if s3[k] != v {
			t.Errorf("backend s3 %s = %v, want %v", k, s3[k], v)
		}
	}
	if _, ok := s3["dynamodb_table"]; ok {
		t.Error("backend uses the deprecated dynamodb_table lock")
	}
	state := parse(t, readFile(t, synthout.StackFile(defaultOut, synthout.StateStackName)))
	if block(state.Terraform["backend"])["local"] == nil {
		t.Error("the bootstrap stack does not keep local state")
	}
	if !state.has("aws_s3_bucket", map[string]any{"bucket": "payments-dr-tfstate-dev", "provider": "aws.state"}) {
		t.Error("the bootstrap stack does not create the state bucket")
	}
	for _, p := range state.Provider["aws"] {
		if p["region"] != "us-west-2" {
			t.Errorf("state bucket provider in %v, want STATE_REGION us-west-2", p["region"])
		}
	}
}

func TestOutputs(t *testing.T) {
	j := parse(t, defaultDR)
	for _, name := range []string{"primaryApiEndpoint", "secondaryApiEndpoint", "failoverDnsName", "healthCheckIds", "alarmArns",
		"tableName", "primaryBucketName", "secondaryBucketName", "apiKeyIds", "apiKeyValues", "zoneNameServers"} {
		if j.Output[name] == nil {
			t.Errorf("output %s missing", name)
		}
	}
	if j.Output["apiKeyValues"]["sensitive"] != true {
		t.Error("apiKeyValues is not sensitive")
	}
	if got, want := len(list(j.Output["alarmArns"]["value"])), len(j.Resource["aws_cloudwatch_metric_alarm"]); got != want {
		t.Errorf("alarmArns lists %d alarms, the stack has %d", got, want)
	}
	if j.Output["failoverDnsName"]["value"] != "https://api.payment-dev.example.com" {
		t.Errorf("failoverDnsName = %v", j.Output["failoverDnsName"]["value"])
	}
}

// Configuration switches change exactly what they say.
func TestConfigurationVariants(t *testing.T) {
	cases := []struct {
		name   string
		change func(*config.Config)
		check  func(t *testing.T, j tf)
	}{
		// Inverting a health check is a Route 53 control-plane call (served from us-east-1);
		// no configuration may ship one inverted, so no drill depends on it.
		{"no health check is inverted", func(c *config.Config) { c.FailoverControl = config.ControlARC }, func(t *testing.T, j tf) {
			for name, hc := range j.Resource["aws_route53_health_check"] {
				if hc["invert_healthcheck"] == true {
					t.Errorf("health check %s is inverted", name)
				}
			}
		}},
		// The default lever is the drain flag: no ARC cluster (billed per hour), and each
		// record uses its region's HTTPS check directly.
		{"flag: no ARC resources, records use the HTTPS checks", func(c *config.Config) { c.FailoverControl = config.ControlFlag }, func(t *testing.T, j tf) {
			for typ := range j.Resource {
				if strings.HasPrefix(typ, "aws_route53recoverycontrolconfig_") {
					t.Errorf("%s declared with FAILOVER_CONTROL=flag", typ)
				}
			}
			for name, hc := range j.Resource["aws_route53_health_check"] {
				if hc["type"] != "HTTPS_STR_MATCH" {
					t.Errorf("health check %s of type %v with FAILOVER_CONTROL=flag", name, hc["type"])
				}
			}
			for _, o := range []string{"arcClusterEndpoints", "arcRoutingControlArns", "arcControlPanelArn"} {
				if j.Output[o] != nil {
					t.Errorf("output %s with FAILOVER_CONTROL=flag", o)
				}
			}
			checkFailoverRecords(t, j, false)
		}},
		{"arc: each record's calculated check needs its region's HTTPS check and its own routing control", func(c *config.Config) { c.FailoverControl = config.ControlARC }, func(t *testing.T, j tf) {
			checkFailoverRecords(t, j, true)
			if n := len(j.Resource["aws_route53recoverycontrolconfig_cluster"]); n != 1 {
				t.Errorf("%d ARC clusters, want 1 (each is billed per hour)", n)
			}
			controls := j.Resource["aws_route53recoverycontrolconfig_routing_control"]
			if len(controls) != 2 {
				t.Errorf("%d routing controls, want one per region", len(controls))
			}
			rules := j.Resource["aws_route53recoverycontrolconfig_safety_rule"]
			if len(rules) != 1 {
				t.Fatalf("%d safety rules, want the at-least-one-On rule", len(rules))
			}
			for name, r := range rules {
				cfg := block(r["rule_config"])
				asserted := strs(r["asserted_controls"])
				if cfg["type"] != "ATLEAST" || cfg["threshold"] != 1.0 || cfg["inverted"] != false || len(asserted) != 2 {
					t.Errorf("safety rule %s: %v over %v, want ATLEAST 1, not inverted, over both controls", name, cfg, asserted)
				}
				for _, a := range asserted {
					if typ, rc, attr, _ := ref(a); typ != "aws_route53recoverycontrolconfig_routing_control" || attr != "arn" || controls[rc] == nil {
						t.Errorf("safety rule %s asserts %s, not a routing control", name, a)
					}
				}
			}
			for _, o := range []string{"arcClusterEndpoints", "arcRoutingControlArns", "arcControlPanelArn"} {
				if j.Output[o] == nil {
					t.Errorf("output %s missing with FAILOVER_CONTROL=arc", o)
				}
			}
			if typ, _, attr, _ := ref(j.Output["arcClusterEndpoints"]["value"]); typ != "aws_route53recoverycontrolconfig_cluster" || attr != "cluster_endpoints" {
				t.Errorf("arcClusterEndpoints = %v, not the cluster's endpoints", j.Output["arcClusterEndpoints"]["value"])
			}
		}},
		{"30 s interval and threshold 5", func(c *config.Config) { c.HealthCheckInterval, c.HealthCheckFailureThreshold = 30, 5 }, func(t *testing.T, j tf) {
			for name, hc := range j.Resource["aws_route53_health_check"] {
				if hc["request_interval"] != 30.0 || hc["failure_threshold"] != 5.0 {
					t.Errorf("health check %s: interval %v threshold %v", name, hc["request_interval"], hc["failure_threshold"])
				}
			}
		}},
		{"alert e-mail subscribes both topics", func(c *config.Config) { c.AlertEmail = "oncall@example.com" }, func(t *testing.T, j tf) {
			subs := j.Resource["aws_sns_topic_subscription"]
			regions := map[string]bool{}
			for _, s := range subs {
				if s["protocol"] == "email" && s["endpoint"] == "oncall@example.com" {
					regions[j.regionOf(s)] = true
				}
			}
			if len(regions) != 2 {
				t.Errorf("e-mail subscriptions in %v, want both regions", regions)
			}
		}},
		{"no e-mail, no subscription", func(c *config.Config) {}, func(t *testing.T, j tf) {
			if n := len(j.Resource["aws_sns_topic_subscription"]); n != 0 {
				t.Errorf("%d subscriptions without ALERT_EMAIL", n)
			}
		}},
		{"an existing zone is used, not created", func(c *config.Config) { c.HostedZoneID = "Z0123456789ABCDEFGHIJ" }, func(t *testing.T, j tf) {
			if n := len(j.Resource["aws_route53_zone"]); n != 0 {
				t.Errorf("%d zones created with HOSTED_ZONE_ID set", n)
			}
			for name, r := range j.Resource["aws_route53_record"] {
				if r["zone_id"] != "Z0123456789ABCDEFGHIJ" {
					t.Errorf("record %s in zone %v", name, r["zone_id"])
				}
			}
			if j.Output["zoneNameServers"] != nil {
				t.Error("zoneNameServers output for a zone we do not manage")
			}
		}},
		{"deletion protection off", func(c *config.Config) { c.DeletionProtection = false }, func(t *testing.T, j tf) {
			for _, typ := range []string{"aws_dynamodb_table", "aws_dynamodb_table_replica"} {
				for name, tbl := range j.Resource[typ] {
					if tbl["deletion_protection_enabled"] != false || block(tbl["lifecycle"])["prevent_destroy"] == true {
						t.Errorf("%s %s still protected", typ, name)
					}
				}
			}
			// A test environment is torn down on purpose with the setting off: nothing of
			// the DR stack may still refuse the destroy.
			for _, typ := range []string{"aws_kms_key", "aws_route53_zone", "aws_s3_bucket"} {
				for name, r := range j.Resource[typ] {
					if block(r["lifecycle"])["prevent_destroy"] == true {
						t.Errorf("%s %s still refuses a destroy", typ, name)
					}
				}
			}
		}},
		{"us-east-1 as secondary keeps Route 53 alarms there", func(c *config.Config) {
			c.PrimaryRegion, c.SecondaryRegion, c.StateRegion = "us-west-2", "us-east-1", "us-east-2"
		}, func(t *testing.T, j tf) {
			for name, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
				if a["namespace"] == "AWS/Route53" && j.regionOf(a) != "us-east-1" {
					t.Errorf("Route 53 alarm %s in %s; the metric exists only in us-east-1", name, j.regionOf(a))
				}
			}
			if !j.has("aws_dynamodb_table", map[string]any{"provider": "aws.primary"}) {
				t.Error("the table is not declared in the primary region")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, parse(t, synthDR(t, c.change))) })
	}
}

// checkFailoverRecords follows each failover record to the check it uses. Without ARC
// that is the HTTPS check on the record's own region's API; with ARC it is a CALCULATED
// check that needs both children healthy: that same HTTPS check and a RECOVERY_CONTROL
// check on a routing control of the record's own region (swapping either between the
// regions would let one region's lever or failure move the other's traffic).
func checkFailoverRecords(t *testing.T, j tf, arc bool) {
	t.Helper()
	checks := j.Resource["aws_route53_health_check"]
	apiRegion := func(hc map[string]any) string {
		if hc == nil || hc["type"] != "HTTPS_STR_MATCH" {
			return ""
		}
		if typ, api, _, _ := ref(hc["fqdn"]); typ == "aws_api_gateway_rest_api" {
			return j.regionOf(j.Resource[typ][api])
		}
		return ""
	}
	seen := map[string]bool{}
	for name, rec := range j.Resource["aws_route53_record"] {
		if block(rec["failover_routing_policy"]) == nil {
			continue
		}
		_, domain, _, _ := ref(recordTarget(rec))
		region := j.regionOf(j.Resource["aws_api_gateway_domain_name"][domain])
		if region == "" || seen[region] {
			t.Errorf("record %s targets %v: no region, or a second record for it", name, recordTarget(rec))
			continue
		}
		seen[region] = true
		typ, id, _, _ := ref(rec["health_check_id"])
		hc := checks[id]
		if typ != "aws_route53_health_check" || hc == nil {
			t.Errorf("record %s uses %v, not a health check", name, rec["health_check_id"])
			continue
		}
		if !arc {
			if got := apiRegion(hc); got != region {
				t.Errorf("record %s for %s uses check %s on the API in %q", name, region, id, got)
			}
			continue
		}
		children := strs(hc["child_healthchecks"])
		if hc["type"] != "CALCULATED" || hc["child_health_threshold"] != 2.0 || len(children) != 2 {
			t.Errorf("record %s uses check %s: type %v, threshold %v, children %v; want CALCULATED, 2 of 2", name, id, hc["type"], hc["child_health_threshold"], children)
			continue
		}
		https, control := 0, 0
		for _, ch := range children {
			_, cid, _, _ := ref(ch)
			child := checks[cid]
			switch {
			case apiRegion(child) == region:
				https++
			case child != nil && child["type"] == "RECOVERY_CONTROL":
				ctyp, rc, attr, _ := ref(child["routing_control_arn"])
				ctl := j.Resource["aws_route53recoverycontrolconfig_routing_control"][rc]
				if ctyp == "aws_route53recoverycontrolconfig_routing_control" && attr == "arn" && ctl != nil && strings.Contains(fmt.Sprint(ctl["name"]), "-"+region+"-") {
					control++
				} else {
					t.Errorf("record %s for %s: routing-control check %s watches %v", name, region, cid, child["routing_control_arn"])
				}
			default:
				t.Errorf("record %s for %s: child %s is neither that region's HTTPS check nor a routing-control check", name, region, ch)
			}
		}
		if https != 1 || control != 1 {
			t.Errorf("record %s for %s: %d HTTPS checks of its region, %d of its routing controls; want 1 and 1", name, region, https, control)
		}
	}
	if len(seen) != 2 {
		t.Errorf("failover records for %v, want both regions", seen)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The DR operations role must keep working with us-east-1 gone: no Route 53 write (the
// control plane lives there), DynamoDB writes limited to exactly the two drain flags in
// both replicas, reads of the peer observations, and with ARC the routing controls' data
// plane on exactly our routing controls.
func TestDROperationsRole(t *testing.T) {
	drainKeys := []string{"control#drain#us-east-1", "control#drain#us-east-2"}
	peerKeys := []string{"control#peer#us-east-1", "control#peer#us-east-2"}
	dynamoWrites := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
	for _, mode := range []string{config.ControlFlag, config.ControlARC} {
		t.Run(mode, func(t *testing.T) {
			// The role exists only for named operators (TestDROperatorsTrust).
			j := parse(t, synthDR(t, func(c *config.Config) {
				c.FailoverControl = mode
				c.DROperatorARNs = "arn:aws:iam::123456789012:role/oncall"
			}))
			var doc map[string]any
			for _, p := range j.Resource["aws_iam_role_policy"] {
				if p["name"] == "dr-operations-role-dev" {
					doc = j.policyDocument(t, p["policy"])
				}
			}
			if doc == nil {
				t.Fatal("no policy on the DR operations role")
			}
			tableArns := map[string]bool{}
			for name := range j.Resource["aws_dynamodb_table"] {
				tableArns["${aws_dynamodb_table."+name+".arn}"] = true
			}
			for name := range j.Resource["aws_dynamodb_table_replica"] {
				tableArns["${aws_dynamodb_table_replica."+name+".arn}"] = true
			}
			controls := map[string]bool{}
			for name := range j.Resource["aws_route53recoverycontrolconfig_routing_control"] {
				controls["${aws_route53recoverycontrolconfig_routing_control."+name+".arn}"] = true
			}
			writesDrain, writesOverride, readsPeers, flipsControls := false, false, false, false
			overrideKeys := []string{"control#override#us-east-1"} // the primary's gate only
			for _, st := range list(doc["statement"]) {
				s := block(st)
				actions := strs(s["actions"])
				resources := strs(s["resources"])
				var keys []string
				conditions := list(s["condition"])
				if len(conditions) == 1 {
					c := block(conditions[0])
					if c["test"] == "ForAllValues:StringEquals" && c["variable"] == "dynamodb:LeadingKeys" {
						keys = strs(c["values"])
						slices.Sort(keys)
					}
				}
				for _, a := range actions {
					svc, name, _ := strings.Cut(a, ":")
					switch {
					case svc == "route53" && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "List"):
						t.Errorf("statement %v allows %s: a Route 53 control-plane write, served from us-east-1", s["sid"], a)
					case svc == "route53-recovery-control-config":
						t.Errorf("statement %v allows %s: ARC configuration, not its data plane", s["sid"], a)
					case slices.Contains(dynamoWrites, a):
						if len(conditions) != 1 || (!slices.Equal(keys, drainKeys) && !slices.Equal(keys, overrideKeys)) {
							t.Errorf("statement %v allows %s with conditions %v; want exactly LeadingKeys = %v or %v", s["sid"], a, conditions, drainKeys, overrideKeys)
						}
						writesDrain = writesDrain || slices.Equal(keys, drainKeys)
						writesOverride = writesOverride || slices.Equal(keys, overrideKeys)
					case a == "dynamodb:GetItem" && slices.Equal(keys, peerKeys):
						readsPeers = true
					case svc == "route53-recovery-cluster" && strings.Contains(name, "RoutingControlState"):
						for _, r := range resources {
							if !controls[r] {
								t.Errorf("statement %v allows %s on %s, not one of our routing controls", s["sid"], a, r)
							}
						}
						flipsControls = len(resources) == 2
					}
				}
				if slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(dynamoWrites, a) }) {
					if len(resources) != 2 || !tableArns[resources[0]] || !tableArns[resources[1]] || resources[0] == resources[1] {
						t.Errorf("statement %v writes %v, want the table in both regions", s["sid"], resources)
					}
				}
			}
			if !writesDrain || !readsPeers || !writesOverride {
				t.Errorf("drain flags writable: %v; gate override writable: %v; peer observations readable: %v", writesDrain, writesOverride, readsPeers)
			}
			if flipsControls != (mode == config.ControlARC) {
				t.Errorf("FAILOVER_CONTROL=%s: routing controls flippable = %v", mode, flipsControls)
			}
		})
	}
}

// rolePolicy is the inline policy document of the role that arn ("${aws_iam_role.X.arn}")
// references.
func (j tf) rolePolicy(t *testing.T, arn any) map[string]any {
	t.Helper()
	_, role, _, _ := ref(arn)
	for _, p := range j.Resource["aws_iam_role_policy"] {
		if _, r, _, _ := ref(p["role"]); r == role {
			return j.policyDocument(t, p["policy"])
		}
	}
	t.Errorf("role %v has no inline policy", arn)
	return nil
}

// Each region probes the OTHER region's own API host (not its own, not the failover name
// only), records what it saw only under the peer's key in its own replica, runs every
// minute in its own region, and pages its own region's topic: the loss of the other
// region cannot stop the page.
func TestPeerProbeWiring(t *testing.T) {
	j := parse(t, defaultDR)
	other := map[string]string{"us-east-1": "us-east-2", "us-east-2": "us-east-1"}
	probes := 0
	for name, fn := range j.Resource["aws_lambda_function"] {
		if !strings.HasPrefix(fn["function_name"].(string), "payment-peer-probe-") {
			continue
		}
		probes++
		region := j.regionOf(fn)
		peer := other[region]
		if fn["function_name"] != "payment-peer-probe-"+region+"-dev" || fn["timeout"] != 60.0 || block(fn["logging_config"])["log_format"] != "Text" {
			t.Errorf("probe %s in %s: name %v, timeout %v, log format %v", name, region, fn["function_name"], fn["timeout"], block(fn["logging_config"])["log_format"])
		}
		vars := block(block(fn["environment"])["variables"])
		peerURL, _ := vars["PEER_HEALTH_URL"].(string)
		typ, api, _, _ := ref(strings.TrimPrefix(peerURL, "https://"))
		if typ != "aws_api_gateway_rest_api" || j.regionOf(j.Resource[typ][api]) != peer ||
			!strings.HasSuffix(peerURL, ".execute-api."+peer+".amazonaws.com/prod/status") {
			t.Errorf("probe in %s targets %q, not %s's own API host /prod/status", region, peerURL, peer)
		}
		// Its own region's API too: a round with no answer from either is the
		// probe's own path cut, not the peer down.
		selfURL, _ := vars["SELF_STATUS_URL"].(string)
		typ, api, _, _ = ref(strings.TrimPrefix(selfURL, "https://"))
		if typ != "aws_api_gateway_rest_api" || j.regionOf(j.Resource[typ][api]) != region ||
			!strings.HasSuffix(selfURL, ".execute-api."+region+".amazonaws.com/prod/status") {
			t.Errorf("probe in %s checks its own path through %q, not %s's own API host /prod/status", region, selfURL, region)
		}
		if vars["PEER_REGION"] != peer || vars["FAILOVER_HEALTH_URL"] != "https://api.payment-dev.example.com/status" ||
			vars["PROBE_ROUNDS"] != "5" || vars["PROBE_INTERVAL"] != "10s" {
			t.Errorf("probe in %s environment %v", region, vars)
		}
		if typ, _, attr, _ := ref(vars["TABLE_NAME"]); typ != "aws_dynamodb_table" || attr != "name" {
			t.Errorf("probe in %s TABLE_NAME = %v", region, vars["TABLE_NAME"])
		}
		// Writes only the peer's observation, in this region's replica.
		if doc := j.rolePolicy(t, fn["role"]); doc != nil {
			for _, st := range list(doc["statement"]) {
				s := block(st)
				for _, a := range strs(s["actions"]) {
					if !strings.HasPrefix(a, "dynamodb:") {
						continue
					}
					conds, res := list(s["condition"]), strs(s["resources"])
					if len(conds) != 1 || len(res) != 1 {
						t.Errorf("probe in %s: %s with conditions %v on %v; want one LeadingKeys condition on one table", region, a, conds, res)
						continue
					}
					c := block(conds[0])
					tr, tn, _, _ := ref(res[0])
					if c["test"] != "ForAllValues:StringEquals" || c["variable"] != "dynamodb:LeadingKeys" ||
						!slices.Equal(strs(c["values"]), []string{"control#peer#" + peer}) || len(res) != 1 || j.regionOf(j.Resource[tr][tn]) != region {
						t.Errorf("probe in %s: %s with %v on %v; want only control#peer#%s in its own replica", region, a, s["condition"], res, peer)
					}
				}
			}
		}
		// Its schedule: every minute, in its region, with a role that may invoke only it.
		scheduled := false
		for sn, sch := range j.Resource["aws_scheduler_schedule"] {
			target := block(sch["target"])
			if target["arn"] != "${aws_lambda_function."+name+".arn}" {
				continue
			}
			scheduled = true
			if j.regionOf(sch) != region || sch["schedule_expression"] != "rate(1 minute)" || block(sch["flexible_time_window"])["mode"] != "OFF" {
				t.Errorf("schedule %s: region %s, %v, window %v", sn, j.regionOf(sch), sch["schedule_expression"], sch["flexible_time_window"])
			}
			if doc := j.rolePolicy(t, target["role_arn"]); doc != nil {
				sts := list(doc["statement"])
				s := block(sts[0])
				if len(sts) != 1 || !slices.Equal(strs(s["actions"]), []string{"lambda:InvokeFunction"}) || !slices.Equal(strs(s["resources"]), []string{"${aws_lambda_function." + name + ".arn}"}) {
					t.Errorf("schedule %s role may %v on %v; want lambda:InvokeFunction on its probe only", sn, s["actions"], s["resources"])
				}
			}
		}
		if !scheduled {
			t.Errorf("probe in %s has no schedule", region)
		}
		// Its alarms, in its region, on its topic.
		found := map[string]bool{}
		for an, a := range j.Resource["aws_cloudwatch_metric_alarm"] {
			dims := block(a["dimensions"])
			metric := a["metric_name"]
			mine := metric == "PeerHealthy" && dims["PeerRegion"] == peer ||
				metric == "FailoverNameHealthy" && j.regionOf(a) == region ||
				metric == "Errors" && dims["FunctionName"] == "${aws_lambda_function."+name+".function_name}"
			if !mine {
				continue
			}
			found[metric.(string)] = true
			_, topic, _, _ := ref(list(a["alarm_actions"])[0])
			if j.regionOf(a) != region || j.regionOf(j.Resource["aws_sns_topic"][topic]) != region {
				t.Errorf("alarm %s on %s's probe lives in %s, notifies a topic in %s", an, region, j.regionOf(a), j.regionOf(j.Resource["aws_sns_topic"][topic]))
			}
			if metric != "Errors" && (a["namespace"] != "PaymentsDR" || a["statistic"] != "Average" || a["comparison_operator"] != "LessThanThreshold" ||
				a["threshold"] != 0.5 || a["period"] != 60.0 || a["evaluation_periods"] != 1.0 || a["treat_missing_data"] != "breaching") {
				t.Errorf("alarm %s: %v %v %v %v period %v × %v missing %v", an, a["namespace"], a["statistic"], a["comparison_operator"], a["threshold"], a["period"], a["evaluation_periods"], a["treat_missing_data"])
			}
			if metric == "FailoverNameHealthy" && dims["DomainName"] != "api.payment-dev.example.com" {
				t.Errorf("alarm %s dimensions %v", an, dims)
			}
		}
		if len(found) != 3 {
			t.Errorf("probe in %s: alarms %v, want PeerHealthy, FailoverNameHealthy and Errors", region, found)
		}
	}
	if probes != 2 {
		t.Errorf("%d peer probes, want one per region", probes)
	}
}

// With ARC the records use CALCULATED checks; the report must still find the HTTPS check
// behind each one (the RTO bound does not change) and name the control mode.
func TestReportUnderEachControlMode(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{{config.ControlFlag, "flag"}, {config.ControlARC, "arc"}} {
		t.Run(tc.mode, func(t *testing.T) {
			stack := defaultDR
			if tc.mode != config.ControlFlag {
				stack = synthDR(t, func(c *config.Config) { c.FailoverControl = tc.mode })
			}
			r, err := recovery.Analyze([]byte(stack))
			if err != nil {
				t.Fatal(err)
			}
			if r.Control != tc.want || r.RTO.Seconds != 56 || len(r.HealthChecks) != 2 {
				t.Errorf("control %q, RTO %ds, %d probing checks; want %q, 56 s, 2", r.Control, r.RTO.Seconds, len(r.HealthChecks), tc.want)
			}
			if err := r.Check(recovery.DefaultRTOTarget, false); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// FAILOVER_RECORD decides the record type and so the DNS term of the RTO bound: CNAMEs
// carry DNS_TTL, alias A records the 60 s Route 53 gives API Gateway targets. Both forms
// must still point each role at its own region's API domain.
func TestFailoverRecordForms(t *testing.T) {
	for _, tc := range []struct {
		name      string
		change    func(*config.Config)
		typ       string
		ttl       any // the records' ttl attribute; nil for alias records
		rto       int
		meets60   bool
		dnsReason string
	}{
		{"default: cname, ttl 20", func(*config.Config) {}, "CNAME", 20.0, 56, true, "CNAME"},
		{"cname, ttl 5", func(c *config.Config) { c.DNSTTL = 5 }, "CNAME", 5.0, 41, true, "CNAME"},
		{"cname, ttl 60 with 30 s checks", func(c *config.Config) { c.DNSTTL, c.HealthCheckInterval = 60, 30 }, "CNAME", 60.0, 156, false, "CNAME"},
		{"alias", func(c *config.Config) { c.FailoverRecord, c.DNSTTL = config.RecordAlias, 0 }, "A", nil, 96, false, "alias"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := synthDR(t, tc.change)
			j := parse(t, stack)
			records := failoverRecords(j)
			if len(records) != 2 {
				t.Fatalf("%d failover records, want 2", len(records))
			}
			for _, rec := range records {
				role := block(rec["failover_routing_policy"])["type"]
				if rec["type"] != tc.typ || rec["ttl"] != tc.ttl {
					t.Errorf("%v record: type %v ttl %v, want %s ttl %v", role, rec["type"], rec["ttl"], tc.typ, tc.ttl)
				}
				if (rec["alias"] != nil) == (tc.typ == "CNAME") {
					t.Errorf("%v record: alias block %v with type %s", role, rec["alias"], tc.typ)
				}
				if typ, _, attr, _ := ref(recordTarget(rec)); typ != "aws_api_gateway_domain_name" || attr != "regional_domain_name" {
					t.Errorf("%v record points at %v, want a regional_domain_name of an API Gateway domain", role, recordTarget(rec))
				}
			}
			if f := failoverFindings(j); len(f) > 0 {
				t.Errorf("failover findings: %v", f)
			}
			r, err := recovery.Analyze([]byte(stack))
			if err != nil {
				t.Fatal(err)
			}
			if r.RTO.Seconds != tc.rto || !strings.Contains(r.DNS.Basis, tc.dnsReason) {
				t.Errorf("RTO bound %d s (DNS term %d s: %s), want %d s", r.RTO.Seconds, r.DNS.TTLSeconds, r.DNS.Basis, tc.rto)
			}
			if err := r.Check(recovery.DefaultRTOTarget, false); (err == nil) != tc.meets60 {
				t.Errorf("check against the default target: %v, want passing %v", err, tc.meets60)
			}
		})
	}
}
