package cli

// Operator levers of the failover: drain, undrain, status and failback-check. They
// read and write the control items of lambda/control in the payments global table
// through DynamoDB alone. Route 53's control plane is served from us-east-1, the
// region whose loss this deployment exists for, so no lever touches it: a drained
// region's /health answers 503 and Route 53's health checkers (data plane) move
// traffic.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/stacks/config"
)

// Bounds of every DynamoDB call the levers make. A region that is going away often
// accepts connections and never answers; the SDK's defaults (3 attempts, backoff up
// to 20 s, and no HTTP timeout of its own) would wait on it for a long time, while the
// operator needs to hear "try the other region" now. The standard retryer retries
// timeouts and refused connections, so leverAttempts bounds those too.
// https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/retries-timeouts
const (
	leverAttemptTimeout = 3 * time.Second // one HTTP attempt, connect included
	leverDialTimeout    = 2 * time.Second
	leverAttempts       = 2 // one retry: a lost packet, not a dead region
	leverMaxBackoff     = 300 * time.Millisecond
	leverBudget         = 20 * time.Second // a whole command, all calls included
)

// endpointFlag collects --endpoint REGION=URL (local stand-ins, VPC endpoints).
type endpointFlag map[string]string

func (e endpointFlag) String() string {
	var s []string
	for r, u := range e {
		s = append(s, r+"="+u)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func (e endpointFlag) Set(v string) error {
	region, raw, ok := strings.Cut(v, "=")
	if !ok || region == "" {
		return fmt.Errorf("want REGION=URL, e.g. us-east-2=https://vpce-0abc-dynamodb.us-east-2.vpce.amazonaws.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL", raw)
	}
	e[region] = raw
	return nil
}

// lever is what every lever command shares: the deployment's two regions, the
// table and how to reach each region's replica.
type lever struct {
	cfg       config.Config
	table     string
	endpoints endpointFlag
	aws       aws.Config
	// avoidFlag is the flag (--via, --region) that avoids a region that does not
	// answer by naming the other one; empty when the command has none.
	avoidFlag string
}

type leverFlags struct {
	table     *string
	endpoints endpointFlag
}

func addLeverFlags(fs *flag.FlagSet) *leverFlags {
	lf := &leverFlags{endpoints: endpointFlag{}}
	lf.table = fs.String("table", "", "the payments global table (default: payments-global-<ENVIRONMENT_SUFFIX>, as synthesized)")
	fs.Var(lf.endpoints, "endpoint", "`REGION=URL`: DynamoDB endpoint of REGION's replica (VPC endpoint, local stand-in); repeatable")
	return lf
}

// newLever reads the configuration synth uses and checks the regions named on the
// command line against it. Its errors are usage or configuration problems.
func newLever(lf *leverFlags, regions map[string]string) (*lever, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	l := &lever{cfg: cfg, table: *lf.table, endpoints: lf.endpoints}
	if l.table == "" {
		l.table = cfg.Name("payments", "global") // as stacks/dr.go names it
	}
	for r := range lf.endpoints {
		regions["--endpoint "+r+"=…"] = r
	}
	names := make([]string, 0, len(regions))
	for what := range regions {
		names = append(names, what)
	}
	sort.Strings(names)
	for _, what := range names {
		if r := regions[what]; r != cfg.PrimaryRegion && r != cfg.SecondaryRegion {
			return nil, fmt.Errorf("%s: %q is not a region of this deployment; accepted: %s (PRIMARY_REGION) or %s (SECONDARY_REGION)",
				what, r, cfg.PrimaryRegion, cfg.SecondaryRegion)
		}
	}
	return l, nil
}

// errNoCredentials: connect could not get credentials; a configuration problem,
// not a region that does not answer.
var errNoCredentials = errors.New("no AWS credentials")

// connect loads the standard credential chain (environment, profile, SSO, an
// assumed DR role, instance role) with the bounds above, and resolves the
// credentials once so that their absence is not reported as a silent region.
func (l *lever) connect(ctx context.Context) error {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(leverAttemptTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = leverDialTimeout })
	c, err := awsconfig.LoadDefaultConfig(ctx,
		// Each DynamoDB client names its own region; this one is where credential
		// providers that call STS or SSO go: not the primary, whose loss the
		// levers exist for.
		awsconfig.WithRegion(l.cfg.SecondaryRegion),
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = leverAttempts
				o.MaxBackoff = leverMaxBackoff
				// The client-side retry quota would turn a dead region's timeouts
				// into "retry quota exceeded", hiding the cause.
				o.RateLimiter = ratelimit.None
			})
		}))
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	if _, err := c.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w: %v; assume the DR operations role first (RUNBOOK.md, session setup)", errNoCredentials, err)
	}
	l.aws = c
	return nil
}

// connectFailed reports a failed connect with its exit code.
func connectFailed(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.Is(err, errNoCredentials) {
		return exitProblem
	}
	return exitFailed
}

// replica is region's replica of the table, through region's DynamoDB endpoint.
func (l *lever) replica(region string) control.Table {
	db := dynamodb.NewFromConfig(l.aws, func(o *dynamodb.Options) {
		o.Region = region
		if u, ok := l.endpoints[region]; ok {
			o.BaseEndpoint = aws.String(u)
		}
	})
	return control.Table{DB: db, Name: l.table}
}

func (l *lever) other(region string) string {
	if region == l.cfg.PrimaryRegion {
		return l.cfg.SecondaryRegion
	}
	return l.cfg.PrimaryRegion
}

func (l *lever) role(region string) string {
	if region == l.cfg.PrimaryRegion {
		return "primary"
	}
	return "secondary"
}

func (l *lever) regions() []string { return []string{l.cfg.PrimaryRegion, l.cfg.SecondaryRegion} }

// endpointName says which endpoint "through <region>" means.
func (l *lever) endpointName(region string) string { return l.endpoints.name("dynamodb", region) }

// name is region's endpoint of service as the operator knows it: the flag's URL, or
// AWS's regional endpoint.
func (e endpointFlag) name(service, region string) string {
	if u, ok := e[region]; ok {
		return u
	}
	return service + "." + region + ".amazonaws.com"
}

// explain turns a failed call through region's DynamoDB endpoint into what the
// operator should do next. An API error means DynamoDB answered (credentials, table
// name); anything else means the region did not answer in time.
func (l *lever) explain(region string, err error) error {
	return l.explainCall(region, "DynamoDB", l.endpointName(region), err, func(api smithy.APIError) string {
		if api.ErrorCode() == "ResourceNotFoundException" {
			return fmt.Sprintf("is %s the table (ENVIRONMENT_SUFFIX=%s, or --table)?", l.table, l.cfg.EnvironmentSuffix)
		}
		return "check the credentials (the DR operations role) and --table"
	})
}

// explainCall is explain for any service: hint says what to check when the service
// answered with an error.
func (l *lever) explainCall(region, service, endpoint string, err error, hint func(smithy.APIError) string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s refused: %s: %s; %s", region, service, api.ErrorCode(), api.ErrorMessage(), hint(api))
	}
	// The SDK's wrapping repeats the operation and attempt count; the transport's
	// own error (refused, timed out, no such host) is what tells the story.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		if ue.Timeout() {
			err = errors.New("every attempt timed out")
		}
	}
	err = fmt.Errorf("%s: %s did not answer at %s within %d attempts of %s: %v", region, service, endpoint, leverAttempts, leverAttemptTimeout, err)
	if l.avoidFlag != "" {
		err = fmt.Errorf("%w; if %s is impaired, use %s %s", err, region, l.avoidFlag, l.other(region))
	}
	return err
}

// parseCommand parses args, with flags before or after the positional argument
// (when positional names one). The flag package prints its own errors; the rest
// are printed here. false: usage problem.
func parseCommand(fs *flag.FlagSet, args []string, positional string) (string, bool) {
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	var arg string
	if positional != "" {
		if fs.NArg() == 0 {
			fmt.Fprintf(fs.Output(), "%s: missing %s (%s help)\n", fs.Name(), positional, opsCmd)
			return "", false
		}
		arg = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", false
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return "", false
	}
	return arg, true
}

// regionLever parses a command that names a <region> (and may take --via) and
// checks both against the configuration; false: a usage problem, reported.
func regionLever(fs *flag.FlagSet, lf *leverFlags, args []string, stderr io.Writer) (string, *lever, bool) {
	region, ok := parseCommand(fs, args, "<region>")
	if !ok {
		return "", nil, false
	}
	named := map[string]string{"<region>": region}
	if v := fs.Lookup("via"); v != nil && v.Value.String() != "" {
		named["--via"] = v.Value.String()
	}
	l, err := newLever(lf, named)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return "", nil, false
	}
	return region, l, true
}

func cmdDrain(args []string, stdout, stderr io.Writer) int {
	return setDrain("drain", true, args, stdout, stderr)
}
func cmdUndrain(args []string, stdout, stderr io.Writer) int {
	return setDrain("undrain", false, args, stdout, stderr)
}

func setDrain(name string, drained bool, args []string, stdout, stderr io.Writer) int {
	fs := newFlags(name, stderr)
	lf := addLeverFlags(fs)
	via := fs.String("via", "", "write through this region's DynamoDB endpoint (default: the other region, since the one being "+name+"ed may be failing)")
	reason := fs.String("reason", "", "why, kept in the item and shown by status and /health logs")
	by := fs.String("by", os.Getenv("USER"), "who, kept in the item")
	region, l, ok := regionLever(fs, lf, args, stderr)
	if !ok {
		return exitProblem
	}
	l.avoidFlag = "--via"
	if *via == "" {
		*via = l.other(region)
	}
	if *by == "" {
		*by = "unknown"
	}
	ctx, cancel := context.WithTimeout(context.Background(), leverBudget)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return connectFailed(stderr, name, err)
	}
	t := l.replica(*via)
	before, err := t.Drain(ctx, region)
	if err != nil {
		fmt.Fprintf(stderr, "%s %s: nothing written: %v\n", name, region, l.explain(*via, err))
		return exitFailed
	}
	d := control.Drain{Region: region, Drained: drained, Reason: *reason, By: *by}
	now := time.Now()
	if err := t.SetDrain(ctx, d, now); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", name, region, l.explain(*via, err))
		return exitFailed
	}
	d.AtMs = now.UnixMilli()
	fmt.Fprintf(stdout, "%s %s: wrote %s = %s\n", name, region, control.DrainKey(region), describeDrain(d))
	fmt.Fprintf(stdout, "  table %s, through %s's DynamoDB endpoint (%s)\n", l.table, *via, l.endpointName(*via))
	fmt.Fprintf(stdout, "  before: %s (as read in %s's replica)\n", describeDrain(before), *via)

	other := l.other(region)
	checks := fmt.Sprintf("%d failed checks %d s apart", l.cfg.HealthCheckFailureThreshold, l.cfg.HealthCheckInterval)
	if drained {
		// ReplicationLatency grows while the receiving region is degraded:
		// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html
		arrival := fmt.Sprintf("the global table replicates the flag to %s's replica (as fast as replication runs; later if %s is degraded)", region, region)
		if *via == region {
			arrival = fmt.Sprintf("the flag is in %s's replica now, and replicates to %s's", region, other)
		}
		fmt.Fprintf(stdout, "\nNext: %s; %s's /health then answers 503 with %q failing, and Route 53's health checkers move traffic to %s after %s, "+
			"plus the record's TTL (%s report shows the budget).\n", arrival, region, control.CheckDrained, other, checks, opsCmd)
		fmt.Fprintf(stdout, "Watch:\n")
		fmt.Fprintf(stdout, "  %s status                  the flag in each replica; %s's probe reports %s %q within a round\n", opsCmd, other, region, control.StateDrained)
		fmt.Fprintf(stdout, "  curl -s <%s API>/prod/status  503 {\"status\":\"unavailable\",...,\"failing\":[%q]} (the same answer Route 53 gets from /health)\n", region, control.CheckDrained)
		fmt.Fprintf(stdout, "  dig +short %s    %s's addresses\n", l.cfg.DomainName, other)
		// When every record of a group is unhealthy Route 53 treats them all as
		// healthy, so failover answers with the primary: two drained regions are no
		// drain at all.
		// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html
		if od, err := t.Drain(ctx, other); err == nil && od.Drained {
			fmt.Fprintf(stdout, "\nwarning: %s is drained too (%s, as read in %s's replica). With both regions unhealthy Route 53 answers with the primary (%s) anyway: undrain one of them (%s undrain %s).\n",
				other, describeDrain(od), *via, l.cfg.PrimaryRegion, opsCmd, other)
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "\n%s does not take traffic back yet: its /health keeps answering 503 (%q) until its failback gate opens: "+
		"%s's peer probe must run one round that sees %s back in service (a round every %s by default) and that heartbeat must replicate "+
		"into %s's replica, which shows that the payments %s took meanwhile are there first. Route 53 then needs its healthy checks, plus the record's TTL.\n",
		region, control.CheckFailbackGate, other, region, "10 s", region, other)
	fmt.Fprintf(stdout, "Watch:\n")
	fmt.Fprintf(stdout, "  %s failback-check --region %s   exit 0 once %s may take traffic back, with the reason\n", opsCmd, region, region)
	fmt.Fprintf(stdout, "  %s status                              both drain flags, the peer observations and the gates\n", opsCmd)
	return exitOK
}

func describeDrain(d control.Drain) string {
	if d.AtMs == 0 {
		return "not drained (never set)"
	}
	s := "not drained"
	if d.Drained {
		s = "drained"
	}
	if d.Reason != "" {
		s += fmt.Sprintf(", reason %q", d.Reason)
	}
	if d.By != "" {
		s += ", by " + d.By
	}
	return s + ", at " + stampMs(d.AtMs)
}

// shortDrain fits a table cell.
func shortDrain(d control.Drain) string {
	switch {
	case d.AtMs == 0:
		return "no"
	case d.Drained:
		return fmt.Sprintf("YES %q by %s at %s", d.Reason, d.By, stampMs(d.AtMs))
	}
	return fmt.Sprintf("no (by %s at %s)", d.By, stampMs(d.AtMs))
}

func stampMs(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// replicaView is what one replica holds about both regions.
type replicaView struct {
	region string
	took   time.Duration
	err    error // the first failed read; later reads were skipped
	drains map[string]control.Drain
	peers  map[string]control.Peer
	// override is the primary's gate override in this replica.
	override control.Override
}

// read reads the items of regions from region's replica, stopping at the first
// failure: a replica that does not answer once would only spend the budget again.
func (l *lever) read(ctx context.Context, region string, regions []string, drains, peers bool) (v replicaView) {
	v = replicaView{region: region, drains: map[string]control.Drain{}, peers: map[string]control.Peer{}}
	start := time.Now()
	defer func() { v.took = time.Since(start) }()
	t := l.replica(region)
	for _, r := range regions {
		if drains {
			d, err := t.Drain(ctx, r)
			if err != nil {
				v.err = l.explain(region, err)
				return v
			}
			v.drains[r] = d
		}
		if peers {
			p, err := t.Peer(ctx, r)
			if err != nil {
				v.err = l.explain(region, err)
				return v
			}
			v.peers[r] = p
		}
	}
	if peers {
		o, err := t.Override(ctx, l.cfg.PrimaryRegion)
		if err != nil {
			v.err = l.explain(region, err)
			return v
		}
		v.override = o
	}
	return v
}

// readAll reads replicas concurrently, so that one that hangs costs its own
// timeout and not the others'.
func (l *lever) readAll(ctx context.Context, replicas, regions []string, drains, peers bool) []replicaView {
	views := make([]replicaView, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() { views[i] = l.read(ctx, r, regions, drains, peers) })
	}
	wg.Wait()
	return views
}

func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("status", stderr)
	lf := addLeverFlags(fs)
	via := fs.String("via", "", "read only this region's replica (default: both, each through its own region)")
	if _, ok := parseCommand(fs, args, ""); !ok {
		return exitProblem
	}
	named := map[string]string{}
	if *via != "" {
		named["--via"] = *via
	}
	l, err := newLever(lf, named)
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return exitProblem
	}
	l.avoidFlag = "--via"
	ctx, cancel := context.WithTimeout(context.Background(), leverBudget)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return connectFailed(stderr, "status", err)
	}
	replicas := l.regions()
	if *via != "" {
		replicas = []string{*via}
	}
	views := l.readAll(ctx, replicas, l.regions(), true, true)

	fmt.Fprintf(stdout, "table %s (primary %s, secondary %s), read at %s\n", l.table, l.cfg.PrimaryRegion, l.cfg.SecondaryRegion, stampMs(time.Now().UnixMilli()))
	answered := 0
	for _, v := range views {
		if v.err != nil {
			fmt.Fprintf(stdout, "replica %s: NO ANSWER: %v\n", v.region, v.err)
			continue
		}
		answered++
		fmt.Fprintf(stdout, "replica %s: answered in %s\n", v.region, v.took.Round(time.Millisecond))
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tREAD IN\tDRAIN\tPEER STATE\tOBSERVER\tHEARTBEAT\tLAST DOWN")
	for _, r := range l.regions() {
		for _, v := range views {
			label := r + " (" + l.role(r) + ")"
			if v.err != nil {
				fmt.Fprintf(tw, "%s\t%s\t(no answer)\t\t\t\t\n", label, v.region)
				continue
			}
			p := v.peers[r]
			state, observer := "(none)", "-"
			if p.Found {
				state, observer = peerState(p), p.Observer
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, v.region, shortDrain(v.drains[r]), state, observer,
				stampMs(p.HeartbeatAtMs), stampMs(p.LastDownAtMs))
		}
	}
	tw.Flush()

	fmt.Fprintln(stdout)
	for _, v := range views {
		if v.err == nil {
			fmt.Fprintf(stdout, "gate override of %s in %s's replica: %s\n", l.cfg.PrimaryRegion, v.region, describeOverride(v.override, time.Now()))
		}
	}
	d := l.gate().Evaluate(ctx)
	fmt.Fprintf(stdout, "failback gate of %s (the primary; the secondary has none), as its /health evaluates it: %s: %s\n", l.cfg.PrimaryRegion, d.Verdict, d.Reason)
	if answered == 0 {
		fmt.Fprintf(stderr, "status: no replica answered within %s\n", leverBudget)
		return exitFailed
	}
	return exitOK
}

// gate is the primary's failback gate as its /health evaluates it, read
// through both regions' endpoints; it writes nothing (the watermark is the
// function's).
func (l *lever) gate() *control.Gate {
	r := control.DefaultGateRules
	// An operator's read may wait longer than Route 53's check does.
	r.RemoteTimeout = leverAttemptTimeout
	return &control.Gate{
		Region: l.cfg.PrimaryRegion, Secondary: l.cfg.SecondaryRegion,
		Local: l.replica(l.cfg.PrimaryRegion), Remote: l.replica(l.cfg.SecondaryRegion),
		Rules: r, ReadOnly: true,
	}
}

func describeOverride(o control.Override, now time.Time) string {
	switch {
	case o.AtMs == 0:
		return "none"
	case !o.Active(now):
		return "expired: " + o.String()
	}
	return "IN FORCE: " + o.String()
}

func cmdFailbackCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("failback-check", stderr)
	lf := addLeverFlags(fs)
	region := fs.String("region", "", "the region that would take traffic back (default: PRIMARY_REGION)")
	if _, ok := parseCommand(fs, args, ""); !ok {
		return exitProblem
	}
	named := map[string]string{}
	if *region != "" {
		named["--region"] = *region
	}
	l, err := newLever(lf, named)
	if err != nil {
		fmt.Fprintf(stderr, "failback-check: %v\n", err)
		return exitProblem
	}
	if *region == "" {
		*region = l.cfg.PrimaryRegion
	}
	ctx, cancel := context.WithTimeout(context.Background(), leverBudget)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return connectFailed(stderr, "failback-check", err)
	}
	back, observer := *region, l.other(*region)
	views := l.readAll(ctx, []string{back, observer}, []string{back}, true, true)
	own, obs := views[0], views[1]

	fmt.Fprintf(stdout, "failback-check %s (%s), observed by %s; table %s\n", back, l.role(back), observer, l.table)
	describe := func(v replicaView, what string) {
		if v.err != nil {
			fmt.Fprintf(stdout, "  %s's replica (%s): NO ANSWER: %v\n", v.region, what, v.err)
			return
		}
		fmt.Fprintf(stdout, "  %s's replica (%s): %s; peer item: %s\n", v.region, what, describeDrain(v.drains[back]), describePeer(v.peers[back]))
	}
	describe(own, "what its /health reads")
	describe(obs, "what "+observer+"'s probe wrote")

	safe, why := l.failbackVerdict(ctx, back, observer, own, obs)
	if !safe {
		fmt.Fprintf(stdout, "not safe: %s\n", why)
		return exitFailed
	}
	fmt.Fprintf(stdout, "safe: %s may take traffic back: %s\n", back, why)
	return exitOK
}

// peerState is the observer's newest state, saying so when it is a down round
// that did not count: last down is written (and the gate closes) on the
// second down round in a row, or on one drained round.
func peerState(p control.Peer) string {
	if p.State == control.StateDown && p.HeartbeatAtMs > p.LastDownAtMs {
		return "down (1 round, not counted)"
	}
	return string(p.State)
}

func describePeer(p control.Peer) string {
	if !p.Found {
		return "none"
	}
	d := fmt.Sprintf("state %s, heartbeat %s, last down %s", peerState(p), stampMs(p.HeartbeatAtMs), stampMs(p.LastDownAtMs))
	if p.UnknownAtMs > p.HeartbeatAtMs {
		// Rounds whose requests were refused (429/403) after the last real one:
		// no evidence either way, and the observer's alarm is paging.
		d += fmt.Sprintf(", probe refused since %s (could not tell)", stampMs(p.UnknownAtMs))
	}
	return d
}

// failbackVerdict decides from the drain flags in both replicas and, for the
// primary, its failback gate.
func (l *lever) failbackVerdict(ctx context.Context, back, observer string, own, obs replicaView) (bool, string) {
	if own.err != nil {
		return false, fmt.Sprintf("%s's replica did not answer (above), so its /health cannot pass either", back)
	}
	// A flag written through the observer's endpoint (the default) reaches the
	// region's replica only by replication: the newer of the two copies is the
	// operator's intent.
	mineD, theirsD := own.drains[back], obs.drains[back]
	newer := obs.err == nil && theirsD.AtMs > mineD.AtMs
	switch {
	case mineD.Drained && newer && !theirsD.Drained:
		return false, fmt.Sprintf("%s is still drained in its own replica: the undrain written through %s (%s) has not replicated to %s yet", back, observer, describeDrain(theirsD), back)
	case mineD.Drained:
		return false, fmt.Sprintf("%s is still drained (%s); run `%s undrain %s`", back, describeDrain(mineD), opsCmd, back)
	case newer && theirsD.Drained:
		return false, fmt.Sprintf("%s was drained through %s (%s) and that has not replicated to %s yet", back, observer, describeDrain(theirsD), back)
	}
	if back != l.cfg.PrimaryRegion {
		return true, fmt.Sprintf("%s is the secondary: it has no failback gate (Route 53 sends it traffic only while %s is unhealthy), and it is not drained", back, observer)
	}
	d := l.gate().Evaluate(ctx)
	if !d.Open() {
		return false, fmt.Sprintf("%s's failback gate is closed (%s): %s", back, d.Verdict, d.Reason)
	}
	return true, fmt.Sprintf("%s's failback gate is open (%s): %s", back, d.Verdict, d.Reason)
}
