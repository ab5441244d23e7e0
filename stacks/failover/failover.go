// Package failover holds the DNS failover between the two regions: the hosted zone, one
// Route 53 health check per region on that region's own API, the PRIMARY/SECONDARY alias
// records of the failover name, and the alarms on the health checks' status.
package failover

import (
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53healthcheck"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zone"
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
	// IntervalSeconds and FailureThreshold set how fast a dead region is detected.
	IntervalSeconds  int
	FailureThreshold int
	// Topic in the metrics region for the health-check alarms.
	Topic *monitoring.Topic
	// Name is the stack's {service}-{region}-{environment} naming.
	Name func(service, region string) string
}

// Zone resolves the hosted zone first: the API constructs need its id for certificate
// validation before the failover records exist.
func Zone(scope constructs.Construct, id string, cfg Config) (zoneID *string, nameServers *[]*string) {
	if cfg.ZoneID != "" {
		return jsii.String(cfg.ZoneID), nil
	}
	z := route53zone.NewRoute53Zone(scope, jsii.String(id), &route53zone.Route53ZoneConfig{
		Provider: cfg.Site.Provider,
		Name:     jsii.String(cfg.ZoneName),
		Comment:  jsii.String("payments-dr failover zone"),
	})
	return z.ZoneId(), z.NameServers()
}

// New declares health checks, failover records and health-check alarms in zoneID, and
// returns the health-check ids in Targets order.
func New(scope constructs.Construct, id string, zoneID *string, cfg Config) []*string {
	c := constructs.NewConstruct(scope, jsii.String(id))
	var ids []*string
	for _, t := range cfg.Targets {
		role := "SECONDARY"
		if t.Primary {
			role = "PRIMARY"
		}
		check := route53healthcheck.NewRoute53HealthCheck(c, jsii.String("health-check-"+t.Site.Role), &route53healthcheck.Route53HealthCheckConfig{
			Provider: cfg.Site.Provider,
			// The region's own execute-api host: checking the failover name would test
			// whichever region DNS currently points at, not this one.
			Type:             jsii.String("HTTPS_STR_MATCH"),
			Fqdn:             t.API.Host,
			Port:             jsii.Number(443),
			ResourcePath:     jsii.String("/" + restapi.Stage + restapi.HealthPath),
			SearchString:     jsii.String(HealthySearchString),
			EnableSni:        jsii.Bool(true),
			RequestInterval:  jsii.Number(float64(cfg.IntervalSeconds)),
			FailureThreshold: jsii.Number(float64(cfg.FailureThreshold)),
			MeasureLatency:   jsii.Bool(true),
			Tags:             &map[string]*string{"Name": jsii.String(cfg.Name("payment-api-health", t.Site.Region))},
		})
		ids = append(ids, check.Id())
		route53record.NewRoute53Record(c, jsii.String("record-"+t.Site.Role), &route53record.Route53RecordConfig{
			Provider:      cfg.Site.Provider,
			ZoneId:        zoneID,
			Name:          jsii.String(cfg.DomainName),
			Type:          jsii.String("A"),
			SetIdentifier: jsii.String(t.Site.Role + "-" + t.Site.Region),
			FailoverRoutingPolicy: &route53record.Route53RecordFailoverRoutingPolicy{
				Type: jsii.String(role),
			},
			HealthCheckId: check.Id(),
			Alias: &route53record.Route53RecordAlias{
				Name:                 t.API.AliasName,
				ZoneId:               t.API.AliasZone,
				EvaluateTargetHealth: jsii.Bool(true),
			},
		})
		cfg.Topic.Alarm("health-check-alarm-"+t.Site.Role, monitoring.Alarm{
			Name:        cfg.Name("payment-api-health", t.Site.Region),
			Description: "Route 53 sees the " + strings.ToLower(role) + " region " + t.Site.Region + " as unhealthy; DNS fails over away from it.",
			Namespace:   "AWS/Route53", Metric: "HealthCheckStatus",
			Dimensions: map[string]*string{"HealthCheckId": check.Id()},
			Statistic:  "Minimum", PeriodSeconds: 60, EvaluationPeriods: 1, Threshold: 1,
			Comparison: "LessThanThreshold", TreatMissingData: "breaching",
		})
	}
	return ids
}
