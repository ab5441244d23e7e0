// Package gameday runs the payment API's two regions on this machine and
// takes the primary away: killed, brought back while its replica lags,
// drained and undrained. Both regions run the production wiring (package app)
// against their own local DynamoDB and S3 stand-ins; replication between the
// two tables is real and can lag or stop; a router answers like Route 53
// failover records; clients, let in by each region's JWT authorizer as two
// callers, post payments all along and retry until each is acknowledged.
// At the end it counts what was acknowledged, lost or
// duplicated.
package gameday

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/testonly/authtest"
)

// Region names: the deployment's primary and secondary.
const (
	Primary   = "us-east-1"
	Secondary = "us-east-2"
)

// Options set the pace of the game day. Route 53's 30 s × 3 checks, the
// probe's 10 s rounds and a 60 s DNS TTL are scaled down to fractions of a
// second; their ratios are kept (detection takes several checks, a TTL
// outlives a check).
type Options struct {
	Clients int           // concurrent clients
	Pace    time.Duration // between one client's payments
	TTL     time.Duration // DNS answer cached by a client
	Timeout time.Duration // per client request

	Lag time.Duration // normal replication lag, each direction

	ProbeInterval time.Duration // peer probe rounds
	ProbeTimeout  time.Duration

	CheckInterval  time.Duration // router health checks
	CheckTimeout   time.Duration
	CheckThreshold int

	Steady  time.Duration // traffic before the primary is killed
	Outage  time.Duration // the primary stays dead at least this long
	CatchUp time.Duration // the primary's replica works through its backlog over this
	Drill   time.Duration // the primary stays drained at least this long

	// Deadline bounds each awaited transition (failover, failback, replication drained).
	Deadline time.Duration
	// ScenarioBound: in a named scenario, a failover or failback that takes
	// longer is a violation (Route 53's 3 checks, 300 ms here, a 250 ms TTL
	// and a payment, with room for a heavily loaded machine; the brownout's
	// and the partition's failbacks wait for their lagged payments).
	ScenarioBound time.Duration

	// DisableFailbackGate serves /health without the failback-gate check,
	// to show that the game day catches a premature failback.
	DisableFailbackGate bool
	// ReplicationLast brings the primary's API back while replication to it
	// is still stopped; replication restarts CatchUp later. Without it,
	// replication restarts first and the API follows once the first outage
	// observation has reached the primary's replica.
	ReplicationLast bool
	// NoDrill stops after the kill and the return.
	NoDrill bool
	// Scenario names one of the issue 13 scenarios (Scenarios); "" plays
	// the kill, return and drill.
	Scenario string
	// GateOnSecondary has the secondary's /health run a failback gate too,
	// as before issue 13 (shows what observer-dies catches).
	GateOnSecondary bool
	// Seed fixes every random draw (replication delays, chaos schedules).
	Seed uint64
	// Jitter is a random extra replication delay drawn per write: items
	// overtake each other (each item's own writes stay in order).
	Jitter time.Duration
	// Chaos plays a random schedule of faults drawn from Seed over
	// ChaosDuration instead of a scenario; after the last fault heals the
	// primary must serve again within StuckBound.
	Chaos         bool
	ChaosDuration time.Duration
	StuckBound    time.Duration
	// Reorder: a replica catching up after a pause gets control items at
	// once and payment items in random order over the catch-up.
	Reorder bool
	// SlowRoundOnReturn makes the secondary answer the first /status request
	// of the returning primary's probe only after the probe's timeout: one
	// down round of a region that serves all traffic, as a loaded machine
	// produced by chance. It must not close the secondary's failback gate.
	SlowRoundOnReturn bool

	Timeline io.Writer    // the readable timeline; nil: discarded
	Logger   *slog.Logger // the functions' own logs; nil: discarded
}

// Defaults are the pace of `make gameday`.
func Defaults() Options {
	return Options{
		Clients: 4, Pace: 20 * time.Millisecond, TTL: 250 * time.Millisecond, Timeout: 2 * time.Second,
		Lag: 50 * time.Millisecond,
		// Timeouts are not scaled: /health bounds itself at 1.2 s
		// (api.DefaultHealthTimeout), which Route 53's 2 s must cover.
		ProbeInterval: 150 * time.Millisecond, ProbeTimeout: 2 * time.Second,
		CheckInterval: 100 * time.Millisecond, CheckTimeout: 2 * time.Second, CheckThreshold: 3,
		Steady: 2 * time.Second, Outage: 3 * time.Second, CatchUp: 2 * time.Second, Drill: 2 * time.Second,
		Deadline: 30 * time.Second, ScenarioBound: 10 * time.Second,
		// The stuck bound: after the last fault heals, the backlog of a
		// paused link (hundreds of writes) and payments lagged up to 1.5 s
		// replicate, the gate reads them, the router needs 3 checks
		// (300 ms) and clients a TTL (250 ms); 6 s leaves room for a
		// loaded 2-core machine.
		ChaosDuration: 3 * time.Second, StuckBound: 6 * time.Second,
	}
}

// Switch is one failover or failback, measured from the event (kill, return,
// drain, undrain) to the first payment acknowledged by the region taking
// over.
type Switch struct {
	Scenario string
	Took     time.Duration
}

// Result is what the game day found.
type Result struct {
	Failovers, Failbacks []Switch
	Acknowledged         int
	Lost                 []string // ids, with why
	Duplicated           []string
	// CreatedTwice lists payments whose create ran in both regions (one
	// record is kept by last writer wins, and it is the one acknowledged;
	// otherwise they are in Duplicated). It happens when a region dies after
	// writing a payment and before answering: the client retries elsewhere.
	CreatedTwice []string
	Violations   []string // scenario assertions that failed
	Retries      int
	Reads        int      // clients' read-backs through the failover name answered (2xx or 404)
	Stale        []string // of those, acknowledged payments answered 404
	// Chaos mode: the schedule played, what was stuck after it healed (at
	// most one), and how long the primary took to serve again.
	Schedule  []Fault
	Stuck     []string
	Recovered time.Duration
}

// Worst returns the longest switch; zero when there is none.
func Worst(s []Switch) time.Duration {
	var w time.Duration
	for _, x := range s {
		w = max(w, x.Took)
	}
	return w
}

// Line is the summary line of `make gameday`.
func (r Result) Line() string {
	return fmt.Sprintf("gameday: failover %.1fs, failback %.1fs, acknowledged %d, lost %d, duplicated %d",
		Worst(r.Failovers).Seconds(), Worst(r.Failbacks).Seconds(), r.Acknowledged, len(r.Lost), len(r.Duplicated))
}

// OK reports a game day with nothing lost or duplicated and every scenario
// assertion holding.
func (r Result) OK() bool {
	return len(r.Lost) == 0 && len(r.Duplicated) == 0 && len(r.Violations) == 0 && len(r.Stale) == 0 && len(r.Stuck) == 0
}

// Principals are the callers the game day's clients authenticate as.
var Principals = [2]string{"gameday-client-a", "gameday-client-b"}

// run holds one game day's moving parts.
type run struct {
	o       Options
	tl      *timeline
	idp     *authtest.IdP // the identity provider both regions' authorizers trust
	regions [2]*region
	links   [2]*link // links[i]: from regions[i] to the other
	router  *router
	clients *clients
	res     Result
}

func (g *run) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	g.res.Violations = append(g.res.Violations, msg)
	g.tl.log("VIOLATION: %s", msg)
}

// Run plays the game day. An error means the harness itself could not run
// (stand-ins missing, a transition that never came within the deadline);
// what the game day found is in Result.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Timeline == nil {
		o.Timeline = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if sc, ok := scenarios[o.Scenario]; ok && sc.options != nil {
		sc.options(&o)
	}
	g := &run{o: o, tl: &timeline{w: o.Timeline, start: time.Now()}}
	defer g.close()
	if err := g.setup(ctx); err != nil {
		return g.res, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go g.router.run(runCtx)

	// Clients are bounded by their own context so that a payment in flight
	// when they are stopped still gets its retries, but not forever.
	clientCtx, stopClients := context.WithTimeout(ctx, 10*time.Minute)
	defer stopClients()
	g.clients.start(clientCtx)
	err := g.scenarios(ctx)
	g.tl.log("stopping clients (each finishes the payment it is on)")
	g.clients.stop()
	if err != nil {
		return g.res, err
	}
	if err := g.count(ctx); err != nil {
		return g.res, err
	}
	stale, reads := g.clients.staleReads()
	g.res.Reads = reads
	for _, s := range stale {
		g.res.Stale = append(g.res.Stale, fmt.Sprintf("%s/%s acknowledged by %s, 404 from %s at %s", s.Owner, s.ID, g.regions[s.Acked].name, g.regions[s.Region].name, g.tl.since(s.At)))
	}
	if len(stale) > 0 {
		g.violate("%d of %d read-backs through the failover name answered 404 for an acknowledged payment, e.g. %s", len(stale), reads, g.res.Stale[0])
	}
	return g.res, nil
}

func (g *run) setup(ctx context.Context) error {
	// The identity provider lives outside both regions, as the deployer's
	// does: a local JWKS endpoint and tokens signed with a key made here.
	key, err := authtest.RSAKey("gameday-1")
	if err != nil {
		return err
	}
	if g.idp, err = authtest.Start(key); err != nil {
		return err
	}
	var callers [2]caller
	for i, p := range Principals {
		claims := authtest.Claims(p, time.Now())
		claims["exp"] = time.Now().Add(24 * time.Hour).Unix() // outlives any game day
		if callers[i].token, err = authtest.Mint(key, claims); err != nil {
			return err
		}
		callers[i].principal = p
	}
	g.tl.log("starting %s and %s: dynalite + s3rver each, replicating table endpoints, functions, API stand-ins with JWT authorizers", Primary, Secondary)
	clk := &clock{}
	ro := regionOptions{lag: g.o.Lag, disableFailbackGate: g.o.DisableFailbackGate, gateOnSecondary: g.o.GateOnSecondary,
		probeInterval: g.o.ProbeInterval, logger: g.o.Logger,
		auth: g.idp.Config()}
	ro.auth.Logger = g.o.Logger
	ro.run = runs.Add(1)
	for i, name := range []string{Primary, Secondary} {
		var err error
		if g.regions[i], err = startRegion(ctx, i, name, clk, ro, g.tl); err != nil {
			return err
		}
	}
	for i, r := range g.regions {
		peer := g.regions[1-i]
		var err error
		if r.toPeerAPI, err = newPath(r.name+"→"+peer.name+" API", peer.api.URL()); err != nil {
			return err
		}
		if r.toPeerDB, err = newPath(r.name+"→"+peer.name+" table", peer.aws.DynamoDB.URL); err != nil {
			return err
		}
	}
	for i := range g.regions {
		g.regions[i].wire(g.regions[1-i])
	}
	for i := range g.regions {
		from, to := g.regions[i], g.regions[1-i]
		g.links[i] = newLink(from.name+"→"+to.name, to.rep, g.o.Lag, slog.New(slog.DiscardHandler))
		g.links[i].seed(g.o.Seed)
		g.links[i].shape(g.o.Jitter, 0, g.o.Reorder)
		from.rep.out = g.links[i]
		go g.links[i].run()
	}
	for i := range g.regions {
		if err := g.regions[i].startProbe(g.regions[1-i], g.o.ProbeInterval, g.o.ProbeTimeout); err != nil {
			return err
		}
	}
	g.router = newRouter([2]string{Primary, Secondary}, [2]string{g.regions[0].api.URL(), g.regions[1].api.URL()},
		g.o.CheckInterval, g.o.CheckTimeout, g.o.CheckThreshold, g.tl)
	g.clients = &clients{
		n: g.o.Clients, callers: callers, pace: g.o.Pace, ttl: g.o.TTL, timeout: g.o.Timeout, router: g.router,
		urls:  [2]string{g.regions[0].api.URL(), g.regions[1].api.URL()},
		runID: strconv.FormatInt(time.Now().UnixMilli()%1e8, 36), seed: g.o.Seed, tl: g.tl,
	}
	// Both regions must be healthy before the game starts.
	for _, r := range g.regions {
		var last string
		if err := g.await(ctx, r.name+" healthy", func() bool {
			code, failing, err := r.health(ctx)
			last = fmt.Sprintf("/health %d failing %v (%v)", code, failing, err)
			return err == nil && code == 200
		}); err != nil {
			return fmt.Errorf("%w: last %s", err, last)
		}
	}
	return nil
}

func (g *run) close() {
	for _, r := range g.regions {
		if r != nil {
			r.stopProbe()
		}
	}
	for _, l := range g.links {
		if l != nil {
			l.close()
		}
	}
	for _, r := range g.regions {
		if r != nil {
			r.close()
		}
	}
	if g.idp != nil {
		g.idp.Close()
	}
}

// await polls cond until it holds or the deadline passes.
func (g *run) await(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(g.o.Deadline)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, g.o.Deadline)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// firstAck waits for the first payment acknowledged by region since t.
func (g *run) firstAck(ctx context.Context, region int, since time.Time, what string) (time.Duration, error) {
	at, ok := g.clients.firstAckBy(ctx, region, since, g.o.Deadline)
	if !ok {
		return 0, fmt.Errorf("%s: no payment acknowledged by %s within %v", what, g.regions[region].name, g.o.Deadline)
	}
	return at.Sub(since), nil
}

// gate evaluates the primary's failback gate as its /health does, on the two
// replicas directly.
func (g *run) gate(ctx context.Context) control.Decision {
	p, s := g.regions[0], g.regions[1]
	gate := &control.Gate{Region: p.name, Secondary: s.name, Rules: gateRules, ReadOnly: true,
		Local:  control.Table{DB: p.rep.direct, Name: p.table},
		Remote: control.Table{DB: s.rep.direct, Name: s.table}}
	return gate.Evaluate(ctx)
}

// seenDown waits until the other region's replica records that it saw r out
// of service after t.
func (g *run) seenDown(ctx context.Context, r *region, t time.Time) error {
	other := g.regions[1-r.idx]
	return g.await(ctx, other.name+"'s probe records "+r.name+" out of service", func() bool {
		p, err := other.peerItem(ctx, r.name)
		return err == nil && p.LastDownAtMs >= t.UnixMilli()
	})
}
