package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	randomprovider "github.com/cdktf/cdktf-provider-random-go/random/v11/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/failover"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/metricregion"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/operations"
	"github.com/payments-dr/payments-dr/stacks/region"
	"github.com/payments-dr/payments-dr/stacks/replication"
	"github.com/payments-dr/payments-dr/stacks/site"
	"github.com/payments-dr/payments-dr/stacks/synthout"
	"github.com/payments-dr/payments-dr/stacks/table"
)

// NewDRStack declares both regions, the global table between them, receipts replication
// both ways, DNS failover and the DR operations role.
func NewDRStack(scope constructs.Construct, cfg config.Config, bundles Bundles) cdktf.TerraformStack {
	stack := newStack(scope, synthout.DRStackName)
	// With encrypt and no kms_key_id the backend asks S3 for SSE-S3 (AES256) on every
	// write of the state, lock and digest objects, overriding the bucket's default key;
	// naming the key makes each write SSE-KMS with it. kms_key_id accepts a key id, key
	// ARN, alias name or alias ARN; only the alias name is known at synth time, and S3
	// resolves it in the caller's account, the bucket's.
	// https://developer.hashicorp.com/terraform/language/backend/s3 (encrypt, kms_key_id;
	// the forms: internal/backend/remote-state/s3/validate.go, the write: client.go PutObject)
	// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (x-amz-server-side-encryption-aws-kms-key-id: key ID, key ARN or key alias)
	// The state bucket's policy refuses any other encryption (NewStateStack).
	backend := cdktf.NewS3Backend(stack, &cdktf.S3BackendConfig{
		Bucket:   jsii.String(cfg.StateBucket),
		Key:      jsii.String(cfg.StateKey),
		Region:   jsii.String(cfg.StateRegion),
		Encrypt:  jsii.Bool(true),
		KmsKeyId: jsii.String(StateKeyAlias(cfg)),
	})
	// S3-native locking (Terraform >= 1.11); cdktf 0.20's config has no field for it.
	backend.AddOverride(jsii.String("use_lockfile"), true)

	// hashicorp/random, for the health paths' apply-time secrets (restapi.HealthPath): the
	// binding module's release pins the version in required_providers.
	randomprovider.NewRandomProvider(stack, jsii.String("random"), &randomprovider.RandomProviderConfig{})

	primarySite, secondarySite := site.Pair(stack, cfg)
	account := dataawscalleridentity.NewDataAwsCallerIdentity(stack, jsii.String("account"), &dataawscalleridentity.DataAwsCallerIdentityConfig{
		Provider: primarySite.Provider,
	}).AccountId()

	primary := region.NewBase(stack, region.BaseConfig{Site: primarySite, Config: cfg, AccountID: account})
	secondary := region.NewBase(stack, region.BaseConfig{Site: secondarySite, Config: cfg, AccountID: account})
	bases := []*region.Base{primary, secondary}
	topics := monitoring.Topics{primarySite.Region: primary.Topic, secondarySite.Region: secondary.Topic}

	payments := table.New(stack, "payments-table", table.Config{
		Name:               cfg.Name("payments", "global"),
		Primary:            primarySite,
		PrimaryKeyArn:      primary.KeyArn,
		Secondary:          secondarySite,
		SecondaryKeyArn:    secondary.KeyArn,
		DeletionProtection: cfg.DeletionProtection,
	})
	// Both ways: receipts written in the secondary during a failover must reach the
	// primary before it takes traffic back.
	for _, pair := range [][2]*region.Base{{primary, secondary}, {secondary, primary}} {
		from, to := pair[0], pair[1]
		replication.New(stack, "receipts-replication-"+from.Site.Role, replication.Config{
			RoleName:  cfg.Name("receipts-replication", from.Site.Region),
			AccountID: account,
			From:      from.Bucket,
			To:        to.Bucket,
			Topics:    topics,
			AlarmName: from.AlarmName,
		})
	}

	// Route 53 resources are global, but their metrics (and so their alarms) exist only
	// in one region (metricregion), which config validation guarantees is one of the two.
	metrics := primary
	if secondarySite.Region == metricregion.MustRegion("AWS/Route53", "HealthCheckStatus", metricregion.Place{}) {
		metrics = secondary
	}
	dns := failover.Config{
		Site:             metrics.Site,
		DomainName:       cfg.DomainName,
		ZoneID:           cfg.HostedZoneID,
		ZoneName:         cfg.ZoneName(),
		IntervalSeconds:  cfg.HealthCheckInterval,
		FailureThreshold: cfg.HealthCheckFailureThreshold,
		ARC:              cfg.ARC(),
		CNAME:            cfg.FailoverRecord == config.RecordCNAME,
		TTLSeconds:       cfg.DNSTTL,
		Topic:            metrics.Topic,
		Name:             cfg.Name,
		PreventDestroy:   cfg.DeletionProtection,
	}
	zoneID, nameServers := failover.Zone(stack, "zone", dns)

	paymentCode := function.NewCode(stack, "payment-function-code", bundles.Payment)
	watchCode := function.NewCode(stack, "conflict-watch-code", bundles.ConflictWatch)
	authorizerCode := function.NewCode(stack, "authorizer-code", bundles.Authorizer)
	primaryAPI := primary.Serve(region.ServingConfig{
		Table: payments, PaymentCode: paymentCode, WatchCode: watchCode, AuthorizerCode: authorizerCode, OtherRegion: secondarySite.Region, ZoneID: zoneID,
	})
	secondaryAPI := secondary.Serve(region.ServingConfig{
		Table: payments, PaymentCode: paymentCode, WatchCode: watchCode, AuthorizerCode: authorizerCode, OtherRegion: primarySite.Region, ZoneID: zoneID,
		// The keys generated in the primary, so each client keeps working after failover.
		APIKeyValues: primaryAPI.APIKeys,
	})
	// Each region probes the other's own API host: a cross-reference, so this runs once
	// both APIs exist.
	peerCode := function.NewCode(stack, "peer-watch-code", bundles.PeerWatch)
	primary.WatchPeer(region.PeerConfig{Table: payments, Code: peerCode, Region: secondarySite.Region, APIHost: secondaryAPI.Host, SelfAPIHost: primaryAPI.Host})
	secondary.WatchPeer(region.PeerConfig{Table: payments, Code: peerCode, Region: primarySite.Region, APIHost: primaryAPI.Host, SelfAPIHost: secondaryAPI.Host})
	dns.Targets = []failover.Target{
		{Site: primarySite, API: primaryAPI, Primary: true},
		{Site: secondarySite, API: secondaryAPI},
	}
	dnsOut := failover.New(stack, "failover", zoneID, dns)
	healthChecks := dnsOut.HealthCheckIDs

	var alarms, tableArns, bucketArns []*string
	var regions []string
	for _, b := range bases {
		alarms = append(alarms, b.Topic.AlarmArns...)
		regions = append(regions, b.Site.Region)
		tableArns = append(tableArns, payments.Arns[b.Site.Region])
		bucketArns = append(bucketArns, b.Bucket.Arn)
	}
	ops := operations.Config{
		Site:           primarySite,
		Name:           config.DROperationsRolePrefix + cfg.EnvironmentSuffix,
		Operators:      cfg.OperatorARNs(),
		ExternalID:     cfg.DRExternalID,
		HealthCheckIDs: healthChecks,
		ZoneID:         zoneID,
		AlarmArns:      alarms,
		TableArns:      tableArns,
		Regions:        regions,
		BucketArns:     bucketArns,
	}
	if dnsOut.ARC != nil {
		ops.RoutingControlArns = dnsOut.ARC.RoutingControlArns
	}
	drRole := operations.New(stack, "dr-operations", ops)

	output := func(name, description string, value any) {
		cdktf.NewTerraformOutput(stack, jsii.String(name), &cdktf.TerraformOutputConfig{
			Value: value, Description: jsii.String(description),
		})
	}
	output("primaryApiEndpoint", "Primary region's stage URL (execute-api host)", primaryAPI.Endpoint)
	output("secondaryApiEndpoint", "Secondary region's stage URL (execute-api host)", secondaryAPI.Endpoint)
	output("failoverDnsName", "The name clients call; Route 53 fails it over between the regions", "https://"+cfg.DomainName)
	output("healthCheckIds", "Route 53 health checks, primary then secondary", healthChecks)
	output("alarmArns", "Every CloudWatch alarm, primary region's first", alarms)
	output("tableName", "DynamoDB global table of payments", payments.Name)
	output("primaryBucketName", "Receipts bucket in the primary region", primary.Bucket.Name)
	output("secondaryBucketName", "Receipts bucket in the secondary region", secondary.Bucket.Name)
	output("apiKeyIds", "Each client's API key in the primary region, by client (API_CLIENTS); the secondary's key has the same value", primaryAPI.APIKeyIDs)
	if drRole != nil {
		output("drOperationsRoleArn", "Role the failover runbook assumes; only DR_OPERATOR_ARNS may assume it", drRole)
	}
	if dnsOut.ARC != nil {
		output("arcClusterEndpoints", "Route 53 ARC cluster endpoints (five regions): read and change routing-control state through any of them", dnsOut.ARC.ClusterEndpoints)
		output("arcRoutingControlArns", "Route 53 ARC routing controls, primary then secondary: On = the region may take traffic", dnsOut.ARC.RoutingControlArns)
		output("arcControlPanelArn", "Route 53 ARC control panel holding the routing controls and the at-least-one-On safety rule", dnsOut.ARC.ControlPanelArn)
	}
	if nameServers != nil {
		output("zoneNameServers", "Delegate the zone to these before certificates can validate", nameServers)
	}
	cdktf.NewTerraformOutput(stack, jsii.String("apiKeyValues"), &cdktf.TerraformOutputConfig{
		Value:       primaryAPI.APIKeys,
		Description: jsii.String("Each client's API key value, by client, accepted in both regions: terraform output -json apiKeyValues | jq -r '.[\"<client>\"]'"),
		Sensitive:   jsii.Bool(true),
	})
	return stack
}
