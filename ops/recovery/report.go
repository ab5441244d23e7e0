// Package recovery computes the recovery budget that a synthesized payments-dr stack buys:
// how long a regional failure takes to route around (the RTO bound, term by term), how much
// data each store can lose (RPO), who gets told, and the gaps that void those numbers.
//
// It reads only the Terraform JSON (cdk.tf.json), so it describes what will be deployed,
// and it imports nothing from cdktf: it runs without jsii or Node.
//
// The RTO model, every term named in the report:
//
//	detection       request_interval × failure_threshold of the health check on the PRIMARY
//	                failover record: each Route 53 checker needs that many failed checks in a row.
//	check timeout   the last failed check may take until Route 53 gives up on it: 4 s to connect
//	                plus 2 s to answer for HTTP(S) checks, 10 s to connect for TCP checks.
//	DNS TTL         how long resolvers and clients may keep the PRIMARY answer: the record's ttl
//	                (a CNAME's, FAILOVER_RECORD=cname), or 60 s for an alias to API Gateway (the
//	                TTL Route 53 answers alias records with, FAILOVER_RECORD=alias).
//
// Not counted, and said so in the report: how long Route 53 takes to push a status change
// to its name servers (not published; seconds in practice), clients that ignore TTLs or
// keep connections open, and notification: alarms tell people, they do not move traffic.
//
// Notification is computed per failed region and lists only the pages that can be
// delivered while that region is gone: an alarm outside it, on a metric published outside
// it, notifying topics outside it. Anything else is listed as excluded.
package recovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/payments-dr/payments-dr/lambda/probe"
	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/metricregion"
)

// DefaultRTOTarget is the bound the report is checked against unless told otherwise.
// A minute: what the default configuration (CNAME records, DNS_TTL 20) is built to meet.
const DefaultRTOTarget = 60 * time.Second

// aliasTTLSeconds is what Route 53 answers an alias record to API Gateway with.
const aliasTTLSeconds = 60

// Report is the recovery budget of one stack.
type Report struct {
	// DNSName is the failover name clients call.
	DNSName string `json:"dnsName"`
	// Regions in provider order, each with its role and resource count.
	Regions      []Region      `json:"regions"`
	HealthChecks []HealthCheck `json:"healthChecks"`
	Detection    Detection     `json:"detection"`
	DNS          DNS           `json:"dns"`
	// Control is the operator's lever: "flag" (drain flags in the global table) or "arc"
	// (Route 53 ARC routing controls gating each record).
	Control       string         `json:"control"`
	ControlBasis  string         `json:"controlBasis"`
	Notifications []Notification `json:"notifications"`
	RTO           RTO            `json:"rto"`
	RPO           []Store        `json:"rpo"`
	Gaps          []Gap          `json:"gaps"`
	// Notes are facts worth knowing that are not gaps (an inverted health check).
	Notes []string `json:"notes,omitempty"`
}

// Region is one provider region.
type Region struct {
	Name      string `json:"name"`
	Role      string `json:"role"` // PRIMARY, SECONDARY or "" when no failover record targets it
	Resources int    `json:"resources"`
}

// HealthCheck is one Route 53 health check.
type HealthCheck struct {
	Region           string `json:"region"` // whose API it probes
	Type             string `json:"type"`
	Path             string `json:"path"`
	IntervalSeconds  int    `json:"intervalSeconds"`
	FailureThreshold int    `json:"failureThreshold"`
	Inverted         bool   `json:"inverted"`
	Record           string `json:"record,omitempty"` // PRIMARY/SECONDARY when a failover record uses it
}

// Detection is how long Route 53 takes to call the primary unhealthy.
type Detection struct {
	Region string `json:"region"`
	// Found is false when the PRIMARY record has no health check: then it never fails over.
	Found            bool   `json:"found"`
	Path             string `json:"path,omitempty"`
	IntervalSeconds  int    `json:"intervalSeconds,omitempty"`
	FailureThreshold int    `json:"failureThreshold,omitempty"`
	Seconds          int    `json:"seconds"`
	TimeoutSeconds   int    `json:"timeoutSeconds"`
}

// DNS is the time clients may keep the primary's answer.
type DNS struct {
	TTLSeconds int    `json:"ttlSeconds"`
	Basis      string `json:"basis"`
}

// Notification lists the pages that reach someone when FailedRegion is lost: alarms that
// fire on the loss, live outside FailedRegion, watch a metric published outside it and
// notify topics outside it. Informational: they page people; DNS failover does not wait
// for them.
type Notification struct {
	FailedRegion string        `json:"failedRegion"`
	Alarms       []AlarmNotice `json:"alarms"`
	// FirstSeconds is the earliest bounded time to first page, counted from the failure;
	// 0 when no listed alarm has a bound.
	FirstSeconds int `json:"firstSeconds,omitempty"`
	// Excluded names the alarms that fire on the loss but cannot page while it lasts,
	// each with the reason.
	Excluded []string `json:"excluded,omitempty"`
}

// AlarmNotice is one alarm that fires on the failure and can page.
type AlarmNotice struct {
	Name   string `json:"name"`
	Metric string `json:"metric"` // namespace/metric
	Region string `json:"region"` // where the alarm lives
	// AfterSeconds is period × evaluation periods once the metric breaches.
	AfterSeconds int `json:"afterSeconds"`
	// FirstPageSeconds bounds the time from the failure to the page; 0 when the alarm
	// needs something besides the failure (e.g. writes to replicate) and has no bound.
	FirstPageSeconds int      `json:"firstPageSeconds,omitempty"`
	Basis            string   `json:"basis"`
	TopicRegions     []string `json:"topicRegions"`
	Why              string   `json:"why"`
}

// RTO is the upper bound on the time to route clients around a failed primary.
type RTO struct {
	Terms []Term `json:"terms"`
	// Bounded is false when a term is missing (no health check on the PRIMARY record).
	Bounded    bool     `json:"bounded"`
	Seconds    int      `json:"seconds"`
	NotCounted []string `json:"notCounted"`
}

// Term is one named part of the RTO bound.
type Term struct {
	Name    string `json:"name"`
	Seconds int    `json:"seconds"`
	Basis   string `json:"basis"`
}

// Bound is the RTO bound as a duration.
func (r RTO) Bound() time.Duration { return time.Duration(r.Seconds) * time.Second }

// Store is one replicated data store and its replication links.
type Store struct {
	Name     string `json:"name"`     // payments, receipts
	Kind     string `json:"kind"`     // DynamoDB global table, S3 replication (RTC)
	Resource string `json:"resource"` // table or bucket names
	Links    []Link `json:"links"`
}

// Link is replication from one region to another.
type Link struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Typical string `json:"typical"` // what AWS says replication usually takes
	// GuaranteeSeconds is a contractual bound (S3 RTC), 0 when there is none.
	GuaranteeSeconds int `json:"guaranteeSeconds,omitempty"`
	// AlarmSeconds is the ReplicationLatency alarm threshold: the bound we watch; 0 when
	// nothing watches this link.
	AlarmSeconds float64 `json:"alarmSeconds,omitempty"`
	Alarm        string  `json:"alarm,omitempty"`
}

// GapKind names a kind of gap.
type GapKind string

// The gaps the report looks for.
const (
	RegionWithoutHealthCheck GapKind = "region-without-health-check"
	RecordWithoutHealthCheck GapKind = "record-without-health-check"
	OneWayReplication        GapKind = "one-way-replication"
	MissingReplica           GapKind = "missing-replica"
	AlarmWithoutAction       GapKind = "alarm-without-action"
	// NoSubscriber: an alert topic nobody subscribes to (ALERT_EMAIL empty). A warning:
	// the stack may be synthesized that way, and on-call tooling may subscribe outside
	// Terraform; `report --strict` fails on it.
	NoSubscriber GapKind = "no-alert-subscriber"
	// NoPageFromOutside: nothing outside a region pages, with a bounded delay, when that
	// region is lost.
	NoPageFromOutside GapKind = "no-page-from-outside"
	// NoOperators: no DR operations role, because DR_OPERATOR_ARNS names nobody. A
	// warning: the levers then need an administrator's credentials.
	NoOperators GapKind = "no-dr-operators"
	// SSOOnlyOperators: every principal the DR operations role trusts is an IAM Identity
	// Center role. A warning: Identity Center runs in one region (its primary), and if
	// that is the region that failed nobody can sign in to assume the role; a
	// break-glass principal that does not depend on it closes the gap (RUNBOOK.md).
	SSOOnlyOperators GapKind = "sso-only-dr-operators"
	// ExampleIssuer: the authorizers trust an issuer under a domain reserved for
	// examples (the default AUTH_ISSUER). A warning: the deployment fails closed, every
	// payment call is refused, until AUTH_ISSUER and AUTH_JWKS_URL name the real one.
	ExampleIssuer GapKind = "example-auth-issuer"
	// Destroyable: a resource holding payments, receipts, the keys to them or the zone's
	// delegation may be destroyed by a plan (no prevent_destroy; a table without deletion
	// protection), as DELETION_PROTECTION=false synthesizes it. A warning: right for a test
	// environment torn down on purpose, never for one that takes payments.
	Destroyable GapKind = "destroyable-data"
)

// protectedTypes are the resources a plan must never destroy in a deployment that takes
// payments; tables also carry DynamoDB's own deletion protection.
var protectedTypes = []string{"aws_dynamodb_table", "aws_dynamodb_table_replica", "aws_s3_bucket", "aws_kms_key", "aws_route53_zone"}

// Gap is something that voids a number of the report.
type Gap struct {
	Kind    GapKind `json:"kind"`
	Subject string  `json:"subject"`
	Detail  string  `json:"detail"`
	// Warning gaps fail only a strict check.
	Warning bool `json:"warning,omitempty"`
}

func (g Gap) String() string {
	w := ""
	if g.Warning {
		w = " (warning)"
	}
	return fmt.Sprintf("%s%s: %s: %s", g.Kind, w, g.Subject, g.Detail)
}

// Analyze computes the report of one synthesized DR stack.
func Analyze(stackJSON []byte) (Report, error) {
	s, err := ParseStack(stackJSON)
	if err != nil {
		return Report{}, err
	}
	records := s.FailoverRecords()
	if len(records) == 0 || FailoverType(records[0]) != "PRIMARY" {
		return Report{}, errors.New("no aws_route53_record with a PRIMARY failover routing policy: is this the DR stack?")
	}
	a := analysis{s: s}
	a.DNSName = records[0].Str("name")
	a.regions(records)
	a.healthChecks(records)
	a.detection(records[0])
	a.dns(records)
	a.rto()
	a.control(records)
	for _, r := range a.s.ServingRegions() {
		a.notification(r)
	}
	a.tables()
	a.buckets()
	a.alarmActions()
	a.subscribers()
	a.operators()
	a.issuers()
	a.protection()
	return a.Report, nil
}

type analysis struct {
	Report
	s       *Stack
	primary string
}

func (a *analysis) gap(kind GapKind, subject, format string, args ...any) {
	a.Gaps = append(a.Gaps, Gap{Kind: kind, Subject: subject, Detail: fmt.Sprintf(format, args...)})
}

func (a *analysis) regions(records []*Resource) {
	roles := map[string]string{}
	for _, rec := range records {
		if t := a.s.TargetRegion(rec); t != "" && roles[t] == "" {
			roles[t] = FailoverType(rec)
		}
	}
	a.primary = a.s.TargetRegion(records[0])
	counts := a.s.ResourcesByRegion()
	for _, r := range a.s.Regions {
		a.Regions = append(a.Regions, Region{Name: r, Role: roles[r], Resources: counts[r]})
	}
}

func (a *analysis) healthChecks(records []*Resource) {
	used := map[*Resource]string{}
	for _, rec := range records {
		hc := a.probingCheck(rec)
		if hc == nil {
			a.gap(RecordWithoutHealthCheck, FailoverType(rec)+" "+rec.Str("name"),
				"the %s failover record (to %s) has no health check: Route 53 treats it as always healthy", FailoverType(rec), a.s.TargetRegion(rec))
			continue
		}
		used[hc] = FailoverType(rec)
	}
	checked := map[string]bool{}
	for _, hc := range a.s.Resources("aws_route53_health_check") {
		if !probes(hc) {
			continue // ARC's RECOVERY_CONTROL and CALCULATED checks probe no endpoint
		}
		h := HealthCheck{
			Region:           a.s.HealthCheckRegion(hc),
			Type:             hc.Str("type"),
			Path:             Readable(hc.Str("resource_path")),
			IntervalSeconds:  int(hc.Num(30, "request_interval")),
			FailureThreshold: int(hc.Num(3, "failure_threshold")),
			Inverted:         hc.Bool("invert_healthcheck"),
			Record:           used[hc],
		}
		checked[h.Region] = true
		a.HealthChecks = append(a.HealthChecks, h)
		if h.Inverted && h.Record == "SECONDARY" {
			a.Notes = append(a.Notes, fmt.Sprintf("the SECONDARY health check (%s) is inverted: the secondary counts as healthy only while it fails", h.Region))
		}
	}
	sort.SliceStable(a.HealthChecks, func(i, j int) bool {
		return a.s.RegionIndex(a.HealthChecks[i].Region) < a.s.RegionIndex(a.HealthChecks[j].Region)
	})
	for _, r := range a.s.ServingRegions() {
		if !checked[r] {
			a.gap(RegionWithoutHealthCheck, r, "no Route 53 health check probes the API in %s", r)
		}
	}
}

func (a *analysis) detection(primary *Resource) {
	d := Detection{Region: a.primary}
	if hc := a.probingCheck(primary); hc != nil {
		d.Found = true
		d.Path = Readable(hc.Str("resource_path"))
		d.IntervalSeconds = int(hc.Num(30, "request_interval"))
		d.FailureThreshold = int(hc.Num(3, "failure_threshold"))
		d.Seconds = d.IntervalSeconds * d.FailureThreshold
		d.TimeoutSeconds = 6 // 4 s to connect + 2 s to answer
		if strings.HasPrefix(hc.Str("type"), "TCP") {
			d.TimeoutSeconds = 10
		}
		if hc.Bool("invert_healthcheck") {
			a.Notes = append(a.Notes, fmt.Sprintf("the PRIMARY health check (%s) is inverted: clients are sent to the secondary while the primary is healthy", a.primary))
		}
	}
	a.Detection = d
}

// probes reports whether a health check probes an endpoint (HTTP, HTTPS, TCP).
func probes(hc *Resource) bool {
	t := hc.Str("type")
	return strings.HasPrefix(t, "HTTP") || t == "TCP"
}

// probingCheck is the check that probes the endpoint of rec: its own health check, or
// with ARC the probing child of the CALCULATED check it uses.
func (a *analysis) probingCheck(rec *Resource) *Resource {
	hc := a.s.RefTo(rec.Get("health_check_id"), "aws_route53_health_check")
	if hc == nil || probes(hc) {
		return hc
	}
	for _, child := range hc.List("child_healthchecks") {
		if c := a.s.RefTo(child, "aws_route53_health_check"); c != nil && probes(c) {
			return c
		}
	}
	return nil
}

// control names the failover lever: ARC when every failover record's check is a
// CALCULATED one with a RECOVERY_CONTROL child, else the drain flags.
func (a *analysis) control(records []*Resource) {
	arc := len(records) > 0
	for _, rec := range records {
		hc := a.s.RefTo(rec.Get("health_check_id"), "aws_route53_health_check")
		gated := false
		if hc != nil && hc.Str("type") == "CALCULATED" {
			for _, child := range hc.List("child_healthchecks") {
				if c := a.s.RefTo(child, "aws_route53_health_check"); c != nil && c.Str("type") == "RECOVERY_CONTROL" {
					gated = true
				}
			}
		}
		arc = arc && gated
	}
	if arc {
		a.Control = "arc"
		a.ControlBasis = "Route 53 ARC routing controls: each record needs its region's HTTPS check and its routing control On (set through a cluster endpoint); drain flags also work"
		return
	}
	a.Control = "flag"
	a.ControlBasis = "drain flag per region in the global table, read by that region's /health; go run ./ops/cmd/dr drain|undrain <region>"
}

func (a *analysis) dns(records []*Resource) {
	// Clients that resolved just before the failover keep the answer for its TTL: the
	// largest TTL among the failover records bounds that (the same holds for failing back).
	for _, rec := range records {
		ttl, basis := aliasTTLSeconds, fmt.Sprintf("alias A record to the API Gateway regional domain in %s: Route 53 answers with %d s", a.s.TargetRegion(rec), aliasTTLSeconds)
		if rec.Get("alias") == nil {
			ttl = int(rec.Num(0, "ttl"))
			basis = fmt.Sprintf("%s record's ttl", FailoverType(rec))
			if rec.Str("type") == "CNAME" {
				// The target's own A records (cached for their TTL) do not add: after the
				// failover the CNAME names the other region's domain, resolved afresh.
				basis = fmt.Sprintf("%s CNAME to the API Gateway regional domain in %s: its ttl", FailoverType(rec), a.s.TargetRegion(rec))
			}
		}
		if ttl > a.DNS.TTLSeconds || a.DNS.Basis == "" {
			a.DNS = DNS{TTLSeconds: ttl, Basis: basis}
		}
	}
}

func (a *analysis) rto() {
	d := a.Detection
	r := RTO{
		Bounded: d.Found,
		NotCounted: []string{
			"Route 53 pushing the status change to its name servers (not published; seconds in practice)",
			"resolvers or clients that ignore the TTL, and connections kept open to the failed region",
			"notification: alarms page people, they do not gate the DNS failover",
		},
	}
	if d.Found {
		r.Terms = append(r.Terms,
			Term{"detection", d.Seconds, fmt.Sprintf("PRIMARY health check on %s %s: %d s interval × %d failures", d.Region, d.Path, d.IntervalSeconds, d.FailureThreshold)},
			Term{"check timeout", d.TimeoutSeconds, "the last failed check may run until Route 53 gives up on it"},
		)
	} else {
		r.Terms = append(r.Terms, Term{"detection", 0, "none: the PRIMARY record has no health check, so Route 53 never fails over"})
	}
	r.Terms = append(r.Terms, Term{"DNS TTL", a.DNS.TTLSeconds, a.DNS.Basis})
	for _, t := range r.Terms {
		r.Seconds += t.Seconds
	}
	a.RTO = r
}

// probeRoundSeconds bounds one probe round (lambda/probe): its health requests' timeout
// plus the timeout of the write that records them; the last round before an alarm's
// period ends may take that long to report.
var probeRoundSeconds = int((probe.DefaultTimeout + probe.RecordTimeout) / time.Second)

// notification lists the pages deliverable when failed is lost, from the alarms that fire
// on its loss; those that live in failed, watch a metric published only in failed, or
// notify a topic in failed are excluded (and named).
func (a *analysis) notification(failed string) {
	n := Notification{FailedRegion: failed}
	primary := failed == a.primary
	for _, al := range a.s.Resources("aws_cloudwatch_metric_alarm") {
		ns, metric := al.Str("namespace"), al.Str("metric_name")
		period, evals := int(al.Num(60, "period")), int(al.Num(1, "evaluation_periods"))
		notice := AlarmNotice{
			Name: al.Str("alarm_name"), Metric: ns + "/" + metric, Region: al.Region,
			AfterSeconds: period * evals, TopicRegions: a.s.AlarmTopicRegions(al),
		}
		probeBound := func() {
			notice.FirstPageSeconds = period*(evals+1) + probeRoundSeconds
			notice.Basis = fmt.Sprintf("period %ds × (%d evaluation period(s) + 1 for a failure mid-period) + %ds probe round (request + record timeouts)", period, evals, probeRoundSeconds)
		}
		switch {
		case ns == "PaymentsDR" && metric == "PeerHealthy" && al.Str("dimensions", "PeerRegion") == failed:
			notice.Why = "the probe in " + al.Region + " sees " + failed + "'s /status fail (the same answer Route 53 gets from /health; a probe that stops reporting or is refused breaches too)"
			probeBound()
		case ns == "PaymentsDR" && metric == "FailoverNameHealthy" && primary:
			notice.Why = fmt.Sprintf("the probe in %s sees the failover name fail until DNS moves off %s (RTO bound %ds)", al.Region, failed, a.RTO.Seconds)
			probeBound()
		case ns == "AWS/Route53" && metric == "HealthCheckStatus":
			hc := a.s.RefTo(al.Get("dimensions", "HealthCheckId"), "aws_route53_health_check")
			if hc == nil || a.s.HealthCheckRegion(hc) != failed {
				continue
			}
			notice.Why = "Route 53 marks " + failed + " unhealthy"
			interval, threshold := int(hc.Num(30, "request_interval")), int(hc.Num(3, "failure_threshold"))
			notice.FirstPageSeconds = interval*threshold + period*evals
			notice.Basis = fmt.Sprintf("Route 53 detection %ds × %d + period %ds × %d", interval, threshold, period, evals)
		case al.Region == failed && (ns == "AWS/ApiGateway" ||
			ns == "AWS/Lambda" && a.s.ServesAPI(a.s.RefTo(al.Get("dimensions", "FunctionName"), "aws_lambda_function"))):
			notice.Why = "the serving path in " + failed + " fails"
		case ns == "AWS/DynamoDB" && metric == "ReplicationLatency" && al.Str("dimensions", "ReceivingRegion") == failed:
			notice.Why = "writes in " + al.Region + " cannot reach " + failed
			notice.Basis = fmt.Sprintf("period %ds × %d once replication lags past the threshold; no bound from the failure (needs writes)", period, evals)
		case ns == "AWS/S3":
			b := a.s.RefTo(al.Get("dimensions", "DestinationBucket"), "aws_s3_bucket")
			if b == nil || b.Region != failed {
				continue
			}
			notice.Why = "receipts written in " + al.Region + " cannot reach " + failed
			notice.Basis = fmt.Sprintf("period %ds × %d once the metric breaches; no bound from the failure (needs writes)", period, evals)
		default:
			continue
		}
		switch {
		case al.Region == failed:
			n.Excluded = append(n.Excluded, notice.Name+" (alarm in "+failed+")")
			continue
		case ns == "AWS/Route53" && failed == metricregion.Route53Region:
			n.Excluded = append(n.Excluded, notice.Name+" (AWS/Route53 metrics exist only in "+metricregion.Route53Region+")")
			continue
		case len(notice.TopicRegions) == 0:
			n.Excluded = append(n.Excluded, notice.Name+" (no topic)")
			continue
		case slices.Contains(notice.TopicRegions, failed):
			n.Excluded = append(n.Excluded, notice.Name+" (topic in "+failed+")")
			continue
		}
		n.Alarms = append(n.Alarms, notice)
		if t := notice.FirstPageSeconds; t > 0 && (n.FirstSeconds == 0 || t < n.FirstSeconds) {
			n.FirstSeconds = t
		}
	}
	sort.Strings(n.Excluded)
	sort.SliceStable(n.Alarms, func(i, j int) bool {
		x, y := n.Alarms[i], n.Alarms[j]
		if x.Region != y.Region {
			return a.s.RegionIndex(x.Region) < a.s.RegionIndex(y.Region)
		}
		return x.Name < y.Name
	})
	if n.FirstSeconds == 0 {
		a.gap(NoPageFromOutside, failed, "no alarm outside %s pages with a bounded delay when it is lost: nobody is told it is gone", failed)
	}
	a.Notifications = append(a.Notifications, n)
}

// subscribers: an alert topic without a subscription pages nobody.
func (a *analysis) subscribers() {
	var lonely []string
	seen := map[*Resource]bool{}
	for _, al := range a.s.Resources("aws_cloudwatch_metric_alarm") {
		for _, act := range al.List("alarm_actions") {
			t := a.s.RefTo(act, "aws_sns_topic")
			if t == nil || seen[t] {
				continue
			}
			seen[t] = true
			subscribed := false
			for _, sub := range a.s.Resources("aws_sns_topic_subscription") {
				subscribed = subscribed || a.s.RefTo(sub.Get("topic_arn"), "aws_sns_topic") == t
			}
			if !subscribed {
				lonely = append(lonely, t.Str("name")+" ("+t.Region+")")
			}
		}
	}
	if len(lonely) > 0 {
		sort.Strings(lonely)
		a.Gaps = append(a.Gaps, Gap{Kind: NoSubscriber, Subject: strings.Join(lonely, ", "), Warning: true,
			Detail: "no subscriber on the alert topics: every alarm pages nobody; set ALERT_EMAIL or subscribe on-call tooling to these topics"})
	}
}

// SSORolePath is in the path of the roles IAM Identity Center provisions for its
// permission sets (arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/[<region>/]AWSReservedSSO_<set>_<id>),
// the form DR_OPERATOR_ARNS documents for an SSO role.
const SSORolePath = "/aws-reserved/sso.amazonaws.com/"

// operators: the runbook's levers are meant to be pulled with the DR operations role, by
// someone who can still sign in on the day a region is lost.
func (a *analysis) operators() {
	for _, r := range a.s.Resources("aws_iam_role") {
		if strings.HasPrefix(r.Str("name"), config.DROperationsRolePrefix) {
			a.breakGlass(r)
			return
		}
	}
	a.Gaps = append(a.Gaps, Gap{Kind: NoOperators, Subject: config.DROperationsRolePrefix + "*", Warning: true,
		Detail: "no DR operations role: DR_OPERATOR_ARNS names nobody, so drain/undrain/status need an administrator's credentials; set it to the on-call roles (e.g. an SSO permission set's role)"})
}

// breakGlass: when every principal the role's trust policy names is an IAM Identity
// Center role, the only way in runs through Identity Center, which serves sign-in from
// its primary region (and any additional regions it is replicated to); AWS recommends
// break-glass access even then.
// https://docs.aws.amazon.com/singlesignon/latest/userguide/resiliency-regional-behavior.html
func (a *analysis) breakGlass(role *Resource) {
	trust := a.s.RefTo(role.Get("assume_role_policy"), DataPrefix+"aws_iam_policy_document")
	if trust == nil {
		return
	}
	var principals []string
	for _, st := range trust.List("statement") {
		stm, _ := st.(map[string]any)
		if effect, _ := stm["effect"].(string); effect == "Deny" {
			continue
		}
		for _, p := range asList(stm["principals"]) {
			pm, _ := p.(map[string]any)
			if pm["type"] != "AWS" {
				continue
			}
			ids, _ := pm["identifiers"].([]any)
			for _, id := range ids {
				if s, ok := id.(string); ok {
					principals = append(principals, s)
				}
			}
		}
	}
	if len(principals) == 0 || slices.ContainsFunc(principals, func(p string) bool { return !strings.Contains(p, SSORolePath) }) {
		return
	}
	a.Gaps = append(a.Gaps, Gap{Kind: SSOOnlyOperators, Subject: role.Str("name"), Warning: true,
		Detail: "every DR_OPERATOR_ARNS entry is an IAM Identity Center role: Identity Center runs in one region, and if that is the failed one nobody can sign in to assume this role; " +
			"add a break-glass principal that does not depend on it (an IAM role assumable with IAM user credentials and a hardware MFA kept offline; RUNBOOK.md, break-glass access)"})
}

// issuers: a function configured with an AUTH_ISSUER under a reserved example domain
// (RFC 2606) accepts no real token.
func (a *analysis) issuers() {
	var example []string
	for _, fn := range a.s.Resources("aws_lambda_function") {
		issuer, _ := fn.Get("environment", "variables", "AUTH_ISSUER").(string)
		if issuer == "" {
			continue
		}
		if u, err := url.Parse(issuer); err == nil && exampleDomain(u.Hostname()) {
			example = append(example, fn.Str("function_name")+" ("+fn.Region+")")
		}
	}
	if len(example) > 0 {
		sort.Strings(example)
		a.Gaps = append(a.Gaps, Gap{Kind: ExampleIssuer, Subject: strings.Join(example, ", "), Warning: true,
			Detail: "the authorizers trust an example issuer: every payment call is refused (401) until AUTH_ISSUER and AUTH_JWKS_URL name your identity provider"})
	}
}

// protection: every resource of protectedTypes refuses a destroy.
func (a *analysis) protection() {
	var open []string
	for _, typ := range protectedTypes {
		for _, r := range a.s.Resources(typ) {
			tableUnprotected := strings.HasPrefix(typ, "aws_dynamodb_table") && !r.Bool("deletion_protection_enabled")
			if !r.Bool("lifecycle", "prevent_destroy") || tableUnprotected {
				open = append(open, r.Address())
			}
		}
	}
	if len(open) > 0 {
		sort.Strings(open)
		a.Gaps = append(a.Gaps, Gap{Kind: Destroyable, Subject: strings.Join(open, ", "), Warning: true,
			Detail: "a plan may destroy these (DELETION_PROTECTION=false, or no lifecycle prevent_destroy): the payments, the receipts, the keys that decrypt them or the zone's name servers go with them; only for a test environment torn down on purpose"})
	}
}

func exampleDomain(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range []string{"example.com", "example.net", "example.org"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// tables: a global table replicates every replica to every other one.
func (a *analysis) tables() {
	serving := a.s.ServingRegions()
	for _, t := range a.s.Resources("aws_dynamodb_table") {
		regions := a.s.TableRegions(t)
		name := t.Str("name")
		st := Store{Name: storeName(name, ""), Kind: "DynamoDB global table", Resource: name}
		for _, from := range regions {
			for _, to := range regions {
				if from == to {
					continue
				}
				l := Link{From: from, To: to, Typical: "sub-second typical"}
				if al := a.latencyAlarm("AWS/DynamoDB", from, func(al *Resource) bool {
					return al.Str("dimensions", "ReceivingRegion") == to && a.s.RefTo(al.Get("dimensions", "TableName"), "aws_dynamodb_table") == t
				}); al != nil {
					l.AlarmSeconds = al.Num(0, "threshold") / 1000 // milliseconds
					l.Alarm = al.Str("alarm_name")
				}
				st.Links = append(st.Links, l)
			}
		}
		for _, r := range serving {
			if !slices.Contains(regions, r) {
				a.gap(MissingReplica, st.Name+" "+r, "table %s has no replica in %s, which serves the API", name, r)
			}
		}
		a.RPO = append(a.RPO, st)
	}
}

// buckets: the buckets the functions write or replicate, linked by replication rules.
func (a *analysis) buckets() {
	var buckets []*Resource
	name := ""
	add := func(b *Resource) {
		if b != nil && !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	for _, fn := range a.s.Resources("aws_lambda_function") {
		vars, _ := fn.Get("environment", "variables").(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			if b := a.s.RefTo(vars[k], "aws_s3_bucket"); b != nil {
				add(b)
				if name == "" {
					name = strings.ToLower(strings.TrimSuffix(k, "_BUCKET"))
				}
			}
		}
	}
	type edge struct{ from, to *Resource }
	rules := map[edge]map[string]any{}
	for _, rc := range a.s.Resources("aws_s3_bucket_replication_configuration") {
		src := a.s.RefTo(rc.Get("bucket"), "aws_s3_bucket")
		add(src)
		for _, r := range rc.List("rule") {
			rule, _ := r.(map[string]any)
			dst := a.s.RefTo(get(rule, "destination", "bucket"), "aws_s3_bucket")
			add(dst)
			if src != nil && dst != nil && get(rule, "status") == "Enabled" {
				rules[edge{src, dst}] = rule
			}
		}
	}
	if len(buckets) == 0 {
		return
	}
	sort.SliceStable(buckets, func(i, j int) bool { return a.s.RegionIndex(buckets[i].Region) < a.s.RegionIndex(buckets[j].Region) })
	var names []string
	for _, b := range buckets {
		names = append(names, b.Str("bucket"))
	}
	st := Store{Name: storeName(names[0], name), Kind: "S3 replication", Resource: strings.Join(names, ", ")}
	for _, from := range buckets {
		for _, to := range buckets {
			if from == to || from.Region == to.Region {
				continue
			}
			rule, ok := rules[edge{from, to}]
			if !ok {
				if _, back := rules[edge{to, from}]; back {
					a.gap(OneWayReplication, st.Name+" "+from.Region+" → "+to.Region,
						"%s replicates to %s but not back: objects written in %s during a failover never reach %s", to.Str("bucket"), from.Str("bucket"), from.Region, to.Region)
				} else if from.Region < to.Region {
					a.gap(MissingReplica, st.Name+" "+from.Region+" ⇄ "+to.Region,
						"%s and %s do not replicate either way", from.Str("bucket"), to.Str("bucket"))
				}
				continue
			}
			l := Link{From: from.Region, To: to.Region, Typical: "minutes, not guaranteed (no RTC)"}
			if get(rule, "destination", "replication_time", "status") == "Enabled" {
				minutes := num(get(rule, "destination", "replication_time", "time", "minutes"))
				l.GuaranteeSeconds = int(minutes * 60)
				l.Typical = fmt.Sprintf("99.99%% within %g min (RTC)", minutes)
			}
			// The alarm sits where S3 publishes ReplicationLatency: the destination's region.
			latencyRegion := metricregion.MustRegion("AWS/S3", "ReplicationLatency", metricregion.Place{Source: from.Region, Destination: to.Region})
			if al := a.latencyAlarm("AWS/S3", latencyRegion, func(al *Resource) bool {
				return a.s.RefTo(al.Get("dimensions", "SourceBucket"), "aws_s3_bucket") == from &&
					a.s.RefTo(al.Get("dimensions", "DestinationBucket"), "aws_s3_bucket") == to
			}); al != nil {
				l.AlarmSeconds = al.Num(0, "threshold") // seconds
				l.Alarm = al.Str("alarm_name")
			}
			st.Links = append(st.Links, l)
		}
	}
	a.RPO = append(a.RPO, st)
}

func (a *analysis) latencyAlarm(namespace, region string, match func(*Resource) bool) *Resource {
	for _, al := range a.s.Resources("aws_cloudwatch_metric_alarm") {
		if al.Str("namespace") == namespace && al.Str("metric_name") == "ReplicationLatency" && al.Region == region && match(al) {
			return al
		}
	}
	return nil
}

func (a *analysis) alarmActions() {
	for _, al := range a.s.Resources("aws_cloudwatch_metric_alarm") {
		if len(al.List("alarm_actions")) == 0 {
			a.gap(AlarmWithoutAction, al.Str("alarm_name"), "alarm in %s on %s/%s has no alarm_actions: it changes state and tells no one", al.Region, al.Str("namespace"), al.Str("metric_name"))
		}
	}
}

// storeName is the env-var name of a store (RECEIPTS_BUCKET -> receipts), else the first
// word of its resource name (payments-global-dev -> payments).
func storeName(resource, fromEnv string) string {
	if fromEnv != "" {
		return fromEnv
	}
	first, _, _ := strings.Cut(resource, "-")
	return first
}

func get(v any, path ...string) any {
	r := Resource{Attrs: map[string]any{"v": v}}
	return r.Get(append([]string{"v"}, path...)...)
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// Check fails when the RTO bound is missing or above target, or a gap exists (a warning
// gap only when strict); the error names every problem.
func (r Report) Check(target time.Duration, strict bool) error {
	var problems []string
	switch {
	case !r.RTO.Bounded:
		problems = append(problems, "RTO: no bound: the PRIMARY failover record has no health check")
	case r.RTO.Bound() > target:
		problems = append(problems, fmt.Sprintf("RTO: bound %s exceeds the target %s (%s)", r.RTO.Bound(), target, r.RTO.sum()))
	}
	for _, g := range r.Gaps {
		if strict || !g.Warning {
			problems = append(problems, "gap "+g.String())
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "\n"))
}

func (r RTO) sum() string {
	parts := make([]string, len(r.Terms))
	for i, t := range r.Terms {
		parts[i] = fmt.Sprintf("%s %ds", t.Name, t.Seconds)
	}
	return strings.Join(parts, " + ")
}

// RTOLine is the bound with its terms: "RTO ≤ 96s = detection 30s + check timeout 6s + DNS TTL 60s".
func (r Report) RTOLine() string {
	if !r.RTO.Bounded {
		return "RTO: unbounded (the PRIMARY failover record has no health check)"
	}
	return fmt.Sprintf("RTO ≤ %ds = %s", r.RTO.Seconds, r.RTO.sum())
}

// RPOLine is one line per store: "RPO payments: sub-second typical, alarm at 60s; ...".
func (r Report) RPOLine() string {
	parts := make([]string, 0, len(r.RPO))
	for _, st := range r.RPO {
		parts = append(parts, st.Name+": "+st.summary())
	}
	if len(parts) == 0 {
		return "RPO: no replicated store"
	}
	return "RPO: " + strings.Join(parts, "; ")
}

// summary of a store's links: one phrase when every link says the same.
func (st Store) summary() string {
	var phrases []string
	for _, l := range st.Links {
		if p := l.phrase(); !slices.Contains(phrases, p) {
			phrases = append(phrases, p)
		}
	}
	if len(phrases) == 0 {
		return "not replicated"
	}
	if len(phrases) == 1 {
		return phrases[0] + " (" + st.direction() + ")"
	}
	var each []string
	for _, l := range st.Links {
		each = append(each, l.From+"→"+l.To+" "+l.phrase())
	}
	return strings.Join(each, ", ")
}

func (st Store) direction() string {
	if len(st.Links) == 2 && st.Links[0].From == st.Links[1].To && st.Links[0].To == st.Links[1].From {
		return st.Links[0].From + " ⇄ " + st.Links[0].To
	}
	var each []string
	for _, l := range st.Links {
		each = append(each, l.From+" → "+l.To)
	}
	return strings.Join(each, ", ")
}

func (l Link) phrase() string {
	if l.AlarmSeconds > 0 {
		return l.Typical + ", alarm at " + seconds(l.AlarmSeconds)
	}
	return l.Typical + ", unwatched"
}

func seconds(s float64) string {
	if s == math.Trunc(s) {
		return fmt.Sprintf("%gs", s)
	}
	return fmt.Sprintf("%.3gs", s)
}

// Summary is the few lines the synth prints: RTO bound and RPO, and gaps if any.
func (r Report) Summary() []string {
	lines := []string{r.RTOLine(), r.RPOLine()}
	for _, n := range r.Notifications {
		if n.FirstSeconds > 0 {
			lines = append(lines, fmt.Sprintf("first page when %s fails: ≤ %ds, from outside it", n.FailedRegion, n.FirstSeconds))
		}
	}
	if n := len(r.Gaps); n > 0 {
		lines = append(lines, fmt.Sprintf("%d gap(s) (%d warning): run `go run ./ops/cmd/dr report` for details", n, r.Warnings()))
	}
	return lines
}

// Warnings counts the warning gaps.
func (r Report) Warnings() int {
	n := 0
	for _, g := range r.Gaps {
		if g.Warning {
			n++
		}
	}
	return n
}

// JSON is the report as indented JSON.
func (r Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
