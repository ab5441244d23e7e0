// Package failover holds the DNS failover between the two regions: the hosted zone, one
// Route 53 health check per region on that region's own API, the PRIMARY/SECONDARY
// records of the failover name (CNAMEs with a short TTL, or alias A records), the alarms on the health checks' status and, with
// FAILOVER_CONTROL=arc, Route 53 ARC routing controls that gate each region's record.
//
// Every lever here is a data-plane operation: a region's /health answering 503 (its
// drain flag in the global table) or an ARC routing-control state change. Nothing
// updates a health check or a record, which would be a Route 53 control-plane call
// served from us-east-1.
package failover

import (
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53healthcheck"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53recoverycontrolconfigcluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53recoverycontrolconfigcontrolpanel"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53recoverycontrolconfigroutingcontrol"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53recoverycontrolconfigsafetyrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zone"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/restapi"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// HealthySearchString is what a healthy /health answer contains; Route 53 looks for it in
// the first 5,120 bytes of the body.
const HealthySearchString = `"status":"ok"`

// Target is one region as the failover sees it.
type Target struct {
	Site site.Site
	API  restapi.API
	// Primary receives traffic while healthy; the other target is the SECONDARY.
	Primary bool
}

// Config of the failover.
type Config struct {
	// Site whose provider declares the global Route 53 resources: the metrics region,
	// where their alarms must live too.
	Site       site.Site
	DomainName string
	// ZoneID of an existing zone; empty creates ZoneName.
	ZoneID   string
	ZoneName string
	Targets  []Target
	// CNAME makes the failover records CNAMEs to each region's API Gateway regional
	// domain with TTLSeconds; otherwise they are alias A records to it.
	CNAME      bool
	TTLSeconds int
	// IntervalSeconds and FailureThreshold set how fast a dead region is detected.
	IntervalSeconds  int
	FailureThreshold int
	// ARC adds Route 53 ARC routing controls (FAILOVER_CONTROL=arc): each record then
	// uses a CALCULATED check that is healthy only while both the region's HTTPS check
	// and its routing control are healthy (On).
	ARC bool
	// Topic in the metrics region for the health-check alarms.
	Topic *monitoring.Topic
	// Name is the stack's {service}-{region}-{environment} naming.
	Name func(service, region string) string
	// PreventDestroy makes terraform refuse a plan that deletes the zone we create: a new
	// zone gets new name servers, and the parent's delegation (and so the failover name
	// and certificate validation) breaks until someone updates it.
	PreventDestroy bool
}

// Zone resolves the hosted zone first: the API constructs need its id for certificate
// validation before the failover records exist.
func Zone(scope constructs.Construct, id string, cfg Config) (zoneID *string, nameServers *[]*string) {
	if cfg.ZoneID != "" {
		return jsii.String(cfg.ZoneID), nil
	}
	z := route53zone.NewRoute53Zone(scope, jsii.String(id), &route53zone.Route53ZoneConfig{
		Provider:  cfg.Site.Provider,
		Name:      jsii.String(cfg.ZoneName),
		Comment:   jsii.String("payments-dr failover zone"),
		Lifecycle: &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(cfg.PreventDestroy)},
	})
	return z.ZoneId(), z.NameServers()
}

// Output is what the stack reports about the failover.
type Output struct {
	// HealthCheckIDs are the HTTPS checks on each region's own API, in Targets order.
	HealthCheckIDs []*string
	// RecordCheckIDs are the checks the failover records use, in Targets order: the
	// HTTPS checks, or with ARC the CALCULATED checks.
	RecordCheckIDs []*string
	// ARC is nil unless Config.ARC.
	ARC *ARC
}

// ARC is the Route 53 ARC routing-control setup.
type ARC struct {
	ClusterArn *string
	// ClusterEndpoints is the cluster's list of {endpoint, region}: the five regional
	// data-plane endpoints an operator calls to read or change routing-control state.
	ClusterEndpoints any
	ControlPanelArn  *string
	// RoutingControlArns in Targets order.
	RoutingControlArns []*string
}

// New declares health checks, failover records and health-check alarms in zoneID.
func New(scope constructs.Construct, id string, zoneID *string, cfg Config) Output {
	c := constructs.NewConstruct(scope, jsii.String(id))
	var out Output
	if cfg.ARC {
		out.ARC = newARC(c, cfg)
	}
	for i, t := range cfg.Targets {
		role := "SECONDARY"
		if t.Primary {
			role = "PRIMARY"
		}
		check := route53healthcheck.NewRoute53HealthCheck(c, jsii.String("health-check-"+t.Site.Role), &route53healthcheck.Route53HealthCheckConfig{
			Provider: cfg.Site.Provider,
			// The region's own execute-api host: checking the failover name would test
			// whichever region DNS currently points at, not this one.
			Type: jsii.String("HTTPS_STR_MATCH"),
			Fqdn: t.API.Host,
			Port: jsii.Number(443),
			// The path carries the API's apply-time health secret (restapi.HealthPath).
			ResourcePath:     t.API.HealthCheckPath,
			SearchString:     jsii.String(HealthySearchString),
			EnableSni:        jsii.Bool(true),
			RequestInterval:  jsii.Number(float64(cfg.IntervalSeconds)),
			FailureThreshold: jsii.Number(float64(cfg.FailureThreshold)),
			MeasureLatency:   jsii.Bool(true),
			// Never inverted: flipping a check is a control-plane call (us-east-1); drills
			// drain a region through its /health instead.
			InvertHealthcheck: jsii.Bool(false),
			Tags:              &map[string]*string{"Name": jsii.String(cfg.Name("payment-api-health", t.Site.Region))},
			// Moved to a new secret path only once the stage and the WAF serve it.
			DependsOn: &t.API.ServingHealth,
		})
		out.HealthCheckIDs = append(out.HealthCheckIDs, check.Id())
		recordCheck := check.Id()
		if out.ARC != nil {
			recordCheck = arcGate(c, cfg, t, check.Id(), out.ARC.RoutingControlArns[i])
		}
		out.RecordCheckIDs = append(out.RecordCheckIDs, recordCheck)
		record := &route53record.Route53RecordConfig{
			Provider:      cfg.Site.Provider,
			ZoneId:        zoneID,
			Name:          jsii.String(cfg.DomainName),
			SetIdentifier: jsii.String(t.Site.Role + "-" + t.Site.Region),
			FailoverRoutingPolicy: &route53record.Route53RecordFailoverRoutingPolicy{
				Type: jsii.String(role),
			},
			HealthCheckId: recordCheck,
		}
		if cfg.CNAME {
			// "If an alias record points to an AWS resource, you can't set the time to live
			// (TTL); Route 53 uses the default TTL for the resource", 60 s for API Gateway,
			// which alone would hold clients on a dead region for a minute. A CNAME has its
			// own TTL, at the price of billed queries ("Route 53 charges for CNAME queries",
			// alias queries to AWS resources are free):
			// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html
			// The target is the same regional domain name an alias would use; API Gateway
			// serves the custom domain's certificate on it, so clients still see API_DOMAIN_NAME.
			record.Type = jsii.String("CNAME")
			record.Ttl = jsii.Number(float64(cfg.TTLSeconds))
			record.Records = &[]*string{t.API.AliasName}
		} else {
			record.Type = jsii.String("A")
			record.Alias = &route53record.Route53RecordAlias{
				Name:                 t.API.AliasName,
				ZoneId:               t.API.AliasZone,
				EvaluateTargetHealth: jsii.Bool(true),
			}
		}
		route53record.NewRoute53Record(c, jsii.String("record-"+t.Site.Role), record)
		cfg.Topic.Alarm("health-check-alarm-"+t.Site.Role, monitoring.Alarm{
			Name:        cfg.Name("payment-api-health", t.Site.Region),
			Description: "Route 53 sees the " + strings.ToLower(role) + " region " + t.Site.Region + " as unhealthy; DNS fails over away from it.",
			Namespace:   "AWS/Route53", Metric: "HealthCheckStatus",
			Dimensions: map[string]*string{"HealthCheckId": check.Id()},
			Statistic:  "Minimum", PeriodSeconds: 60, EvaluationPeriods: 1, Threshold: 1,
			Comparison: "LessThanThreshold", TreatMissingData: "breaching",
		})
	}
	return out
}

// newARC declares one ARC cluster, a control panel, one routing control per target and
// a safety rule that keeps at least one of them On.
//
// Why ARC survives the loss of us-east-1: the cluster's data plane is five regional
// endpoints, and "ARC ensures that at least three out of the five Regional cluster
// endpoints are always accessible to you to make routing control state changes"
// (https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html,
// https://docs.aws.amazon.com/r53recovery/latest/dg/getting-started-cli-routing-config.html).
// The configuration API (these resources) lives in us-west-2: "you must specify the US
// West (Oregon) Region ... when you create resources such as clusters, control panels, or
// routing controls" (https://docs.aws.amazon.com/r53recovery/latest/dg/introduction-regions-routing.html);
// the AWS provider forces that region for this service whatever the provider's region
// (terraform-provider-aws internal/service/route53recoverycontrolconfig/service_package.go).
//
// Cost: "you are charged by the hour for each cluster that you create"
// (https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.create.html; price
// list https://aws.amazon.com/application-recovery-controller/pricing/), hence an option.
//
// Routing controls are created Off, and Terraform cannot set their state (it is data
// plane): after the first apply an operator turns every control On through a cluster
// endpoint, or both records stay unhealthy and Route 53 answers with the PRIMARY whatever
// its health.
func newARC(c constructs.Construct, cfg Config) *ARC {
	name := cfg.Name("payments-dr", "global")
	cluster := route53recoverycontrolconfigcluster.NewRoute53RecoverycontrolconfigCluster(c, jsii.String("arc-cluster"), &route53recoverycontrolconfigcluster.Route53RecoverycontrolconfigClusterConfig{
		Provider: cfg.Site.Provider,
		Name:     jsii.String(name),
	})
	panel := route53recoverycontrolconfigcontrolpanel.NewRoute53RecoverycontrolconfigControlPanel(c, jsii.String("arc-control-panel"), &route53recoverycontrolconfigcontrolpanel.Route53RecoverycontrolconfigControlPanelConfig{
		Provider:   cfg.Site.Provider,
		ClusterArn: cluster.Arn(),
		Name:       jsii.String(name),
	})
	arc := &ARC{ClusterArn: cluster.Arn(), ClusterEndpoints: cluster.ClusterEndpoints(), ControlPanelArn: panel.Arn()}
	for _, t := range cfg.Targets {
		rc := route53recoverycontrolconfigroutingcontrol.NewRoute53RecoverycontrolconfigRoutingControl(c, jsii.String("arc-routing-control-"+t.Site.Role), &route53recoverycontrolconfigroutingcontrol.Route53RecoverycontrolconfigRoutingControlConfig{
			Provider:        cfg.Site.Provider,
			ClusterArn:      cluster.Arn(),
			ControlPanelArn: panel.Arn(),
			Name:            jsii.String(cfg.Name("payment-api", t.Site.Region)),
		})
		arc.RoutingControlArns = append(arc.RoutingControlArns, rc.Arn())
	}
	// An assertion rule: a state change that would leave fewer than one control On is
	// refused, so a mistyped command cannot take both regions out of DNS. ATLEAST with
	// threshold N, inverted false, per
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-route53recoverycontrol-safetyrule-ruleconfig.html
	route53recoverycontrolconfigsafetyrule.NewRoute53RecoverycontrolconfigSafetyRule(c, jsii.String("arc-at-least-one-on"), &route53recoverycontrolconfigsafetyrule.Route53RecoverycontrolconfigSafetyRuleConfig{
		Provider:         cfg.Site.Provider,
		ControlPanelArn:  panel.Arn(),
		Name:             jsii.String("at-least-one-region-on"),
		AssertedControls: &arc.RoutingControlArns,
		WaitPeriodMs:     jsii.Number(5000),
		RuleConfig: &route53recoverycontrolconfigsafetyrule.Route53RecoverycontrolconfigSafetyRuleRuleConfig{
			Type:      jsii.String("ATLEAST"),
			Threshold: jsii.Number(1),
			Inverted:  jsii.Bool(false),
		},
	})
	return arc
}

// arcGate declares the routing control's RECOVERY_CONTROL check and the CALCULATED check
// the region's record uses: healthy only while both children are (health threshold 2 of
// 2: "the number of child health checks ... that Route 53 must consider healthy for the
// CALCULATED health check to be considered healthy",
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).
// So turning a region's control Off fails it over, and a dead region fails over whatever
// its control says.
func arcGate(c constructs.Construct, cfg Config, t Target, httpsCheck, routingControl *string) *string {
	rcCheck := route53healthcheck.NewRoute53HealthCheck(c, jsii.String("routing-control-check-"+t.Site.Role), &route53healthcheck.Route53HealthCheckConfig{
		Provider:          cfg.Site.Provider,
		Type:              jsii.String("RECOVERY_CONTROL"),
		RoutingControlArn: routingControl,
		Tags:              &map[string]*string{"Name": jsii.String(cfg.Name("payment-api-control", t.Site.Region))},
	})
	gate := route53healthcheck.NewRoute53HealthCheck(c, jsii.String("record-check-"+t.Site.Role), &route53healthcheck.Route53HealthCheckConfig{
		Provider:             cfg.Site.Provider,
		Type:                 jsii.String("CALCULATED"),
		ChildHealthchecks:    &[]*string{httpsCheck, rcCheck.Id()},
		ChildHealthThreshold: jsii.Number(2),
		Tags:                 &map[string]*string{"Name": jsii.String(cfg.Name("payment-api-record", t.Site.Region))},
	})
	return gate.Id()
}
