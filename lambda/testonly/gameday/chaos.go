package gameday

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
)

// Chaos mode plays a random schedule of faults drawn from a seed over the two
// regions while clients post payments and read back their own acknowledged
// payments through the router. Same seed, same schedule (the timing of what
// the faults meet is the machine's). After the last fault heals, the primary
// must serve again within Options.StuckBound.

// Fault kinds.
const (
	faultKillAPI     = "kill-api"     // a region's API refuses connections; its table and replication go on
	faultKillProbe   = "kill-probe"   // a region's peer probe stops
	faultKill        = "kill"         // a region is gone: API, probe, table, replication to and from it
	faultReplPause   = "repl-pause"   // replication in one direction stops (it queues)
	faultReplLag     = "repl-lag"     // payment items lag in one direction; control items stay current
	faultReplReorder = "repl-reorder" // a random delay per write in one direction: items overtake each other
	faultPartition   = "partition"    // replication, the probe path or both cut, one direction or both
	faultProbeSlow   = "probe-slow"   // a region's probe requests to the other are delayed
	faultProbeFail   = "probe-fail"   // a region's probe requests to the other get no answer
	faultSkew        = "skew"         // a region's functions' clock is off
	faultDrain       = "drain"        // an operator drains a region (through the other region's table)
	faultBrownout    = "brownout"     // a region's /health fails and other requests alternate
)

var faultKinds = []string{faultKillAPI, faultKillProbe, faultKill, faultReplPause, faultReplLag, faultReplReorder,
	faultPartition, faultProbeSlow, faultProbeFail, faultSkew, faultDrain, faultBrownout}

// Fault is one entry of a chaos schedule.
type Fault struct {
	Kind   string
	Region int           // the region it hits; for replication and partitions, the direction from it
	Both   bool          // partitions: both directions
	What   string        // partitions: "replication", "probe-path" or "both"
	Param  time.Duration // lag, delay or skew
	Start  time.Duration // after the faults' window opens
	Len    time.Duration
}

func (f Fault) String() string {
	names := [2]string{Primary, Secondary}
	var where string
	switch f.Kind {
	case faultReplPause, faultReplLag, faultReplReorder:
		where = names[f.Region] + "→" + names[1-f.Region]
	case faultPartition:
		where = names[f.Region] + "→" + names[1-f.Region]
		if f.Both {
			where = names[0] + "↔" + names[1]
		}
		where += " " + f.What
	default:
		where = names[f.Region]
	}
	s := fmt.Sprintf("%5.2fs-%5.2fs %s %s", f.Start.Seconds(), (f.Start + f.Len).Seconds(), f.Kind, where)
	if f.Param != 0 {
		s += " " + f.Param.String()
	}
	return s
}

// Schedule draws the faults of seed over a window of d: two to five, each
// starting in the first 70% of the window, lasting 300 ms to half of it,
// healed by its end at the latest. They may overlap.
func Schedule(seed uint64, d time.Duration) []Fault {
	rng := rand.New(rand.NewPCG(seed, 0x6761_6d65_6461_79)) // "gameday"
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	n := 2 + rng.IntN(4)
	out := make([]Fault, 0, n)
	for range n {
		f := Fault{Kind: faultKinds[rng.IntN(len(faultKinds))], Region: rng.IntN(2)}
		f.Start = between(0, d*7/10)
		f.Len = min(between(300*time.Millisecond, d/2), d-f.Start)
		switch f.Kind {
		case faultReplLag:
			f.Param = between(200*time.Millisecond, 1500*time.Millisecond)
		case faultReplReorder:
			f.Param = between(100*time.Millisecond, 600*time.Millisecond)
		case faultPartition:
			f.Both = rng.IntN(2) == 0
			f.What = []string{"replication", "probe-path", "both"}[rng.IntN(3)]
		case faultProbeSlow:
			f.Param = between(500*time.Millisecond, 2500*time.Millisecond)
		case faultSkew:
			// Up to the skew the gate is configured to tolerate, either way.
			f.Param = between(gateRules.MaxSkew/4, gateRules.MaxSkew)
			if rng.IntN(2) == 0 {
				f.Param = -f.Param
			}
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Fault) int { return int(a.Start - b.Start) })
	return out
}

// toggle is a fault state that overlapping faults share: on with the first,
// off with the last.
type toggle struct {
	mu      sync.Mutex
	n       int
	on, off func()
}

func (t *toggle) inc() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n++; t.n == 1 {
		t.on()
	}
}

func (t *toggle) dec() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n--; t.n == 0 {
		t.off()
	}
}

// chaosState holds the toggles of one chaos run.
type chaosState struct {
	api, probe, table, drain [2]*toggle
	repl                     [2]*toggle // by direction: links[i]
	mu                       sync.Mutex
	lag, jitter              [2]map[int]time.Duration // by direction, by fault
	skew                     [2]map[int]time.Duration // by region, by fault
}

func (g *run) newChaosState(ctx context.Context) *chaosState {
	cs := &chaosState{}
	for i, r := range g.regions {
		other := g.regions[1-i]
		cs.api[i] = &toggle{on: r.api.stop, off: func() {
			if err := r.api.start(); err != nil {
				g.violate("chaos: %s API cannot start again: %v", r.name, err)
			}
		}}
		cs.probe[i] = &toggle{on: r.stopProbe, off: func() {
			if err := r.startProbe(other, g.o.ProbeInterval, g.o.ProbeTimeout); err != nil {
				g.violate("chaos: %s probe cannot start again: %v", r.name, err)
			}
		}}
		var reachable func()
		cs.table[i] = &toggle{on: func() { r.rep.proxy.stop(); reachable = other.toPeerDB.refusing() }, off: func() {
			reachable()
			if err := r.rep.proxy.start(); err != nil {
				g.violate("chaos: %s table endpoint cannot start again: %v", r.name, err)
			}
		}}
		cs.drain[i] = &toggle{on: func() { g.setDrain(ctx, r, true) }, off: func() { g.setDrain(ctx, r, false) }}
		l := g.links[i]
		cs.repl[i] = &toggle{on: l.pause, off: l.resume}
		cs.lag[i], cs.jitter[i], cs.skew[i] = map[int]time.Duration{}, map[int]time.Duration{}, map[int]time.Duration{}
	}
	return cs
}

// setDrain writes the drain flag of r as an operator does, through the other
// region's table (or r's own when the other's does not answer), retrying
// until it is written: an undrain that is never written is a stuck region.
func (g *run) setDrain(ctx context.Context, r *region, drained bool) {
	d := control.Drain{Region: r.name, Drained: drained, Reason: "chaos", By: "gameday"}
	for deadline := time.Now().Add(g.o.Deadline); ; {
		for _, via := range []*region{g.regions[1-r.idx], r} {
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			err := via.levers().SetDrain(wctx, d, time.Now())
			cancel()
			if err == nil {
				g.tl.log("chaos: %s drained=%v written through %s's table", r.name, drained, via.name)
				return
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			g.violate("chaos: could not write %s drained=%v through either table", r.name, drained)
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func sumOf(m map[int]time.Duration) time.Duration {
	var s time.Duration
	for _, v := range m {
		s += v
	}
	return s
}

func (cs *chaosState) reshape(g *run, dir int) {
	g.links[dir].shape(g.o.Jitter+sumOf(cs.jitter[dir]), sumOf(cs.lag[dir]), g.o.Reorder)
}

func (cs *chaosState) reskew(g *run, region int) {
	g.regions[region].skew.Store(int64(sumOf(cs.skew[region])))
}

// apply starts fault n and returns what heals it.
func (g *run) apply(cs *chaosState, n int, f Fault) (heal func()) {
	r := g.regions[f.Region]
	switch f.Kind {
	case faultKillAPI:
		cs.api[f.Region].inc()
		return cs.api[f.Region].dec
	case faultKillProbe:
		cs.probe[f.Region].inc()
		return cs.probe[f.Region].dec
	case faultKill:
		ts := []*toggle{cs.api[f.Region], cs.probe[f.Region], cs.table[f.Region], cs.repl[0], cs.repl[1]}
		for _, t := range ts {
			t.inc()
		}
		return func() {
			for _, t := range ts {
				t.dec()
			}
		}
	case faultReplPause:
		cs.repl[f.Region].inc()
		return cs.repl[f.Region].dec
	case faultReplLag, faultReplReorder:
		m := &cs.lag
		if f.Kind == faultReplReorder {
			m = &cs.jitter
		}
		cs.mu.Lock()
		m[f.Region][n] = f.Param
		cs.reshape(g, f.Region)
		cs.mu.Unlock()
		return func() {
			cs.mu.Lock()
			delete(m[f.Region], n)
			cs.reshape(g, f.Region)
			cs.mu.Unlock()
		}
	case faultPartition:
		dirs := []int{f.Region}
		if f.Both {
			dirs = []int{0, 1}
		}
		var heals []func()
		for _, d := range dirs {
			if f.What != "probe-path" {
				cs.repl[d].inc()
				heals = append(heals, cs.repl[d].dec)
			}
			if f.What != "replication" {
				heals = append(heals, g.regions[d].toPeerAPI.partition(), g.regions[d].toPeerDB.partition())
			}
		}
		return func() {
			for _, h := range heals {
				h()
			}
		}
	case faultProbeSlow:
		return r.toPeerAPI.slow(f.Param)
	case faultProbeFail:
		return r.toPeerAPI.refusing()
	case faultSkew:
		cs.mu.Lock()
		cs.skew[f.Region][n] = f.Param
		cs.reskew(g, f.Region)
		cs.mu.Unlock()
		return func() {
			cs.mu.Lock()
			delete(cs.skew[f.Region], n)
			cs.reskew(g, f.Region)
			cs.mu.Unlock()
		}
	case faultDrain:
		cs.drain[f.Region].inc()
		return cs.drain[f.Region].dec
	case faultBrownout:
		r.brownout.Add(1)
		return func() { r.brownout.Add(-1) }
	}
	panic("chaos: unknown fault " + f.Kind)
}

// chaos plays the schedule, then checks that the primary serves again.
func (g *run) chaos(ctx context.Context) error {
	sched := Schedule(g.o.Seed, g.o.ChaosDuration)
	g.res.Schedule = sched
	g.tl.log("chaos: seed %d, %d faults over %v:", g.o.Seed, len(sched), g.o.ChaosDuration)
	for _, f := range sched {
		g.tl.log("  %s", f)
	}
	// A short steady state: the primary serves before the first fault.
	if _, err := g.firstAck(ctx, 0, time.Now(), "steady state"); err != nil {
		return err
	}
	sleep(ctx, g.o.Steady/4)
	cs := g.newChaosState(ctx)
	type event struct {
		at   time.Duration
		heal bool
		n    int
	}
	var evs []event
	for n, f := range sched {
		evs = append(evs, event{f.Start, false, n}, event{f.Start + f.Len, true, n})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return int(a.at - b.at) })
	heals := make([]func(), len(sched))
	t0 := time.Now()
	for _, e := range evs {
		sleep(ctx, time.Until(t0.Add(e.at)))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e.heal {
			heals[e.n]()
			g.tl.log("chaos: healed %s", sched[e.n])
		} else {
			heals[e.n] = g.apply(cs, e.n, sched[e.n])
			g.tl.log("chaos: FAULT %s", sched[e.n])
		}
	}
	healed := time.Now()
	g.tl.log("chaos: every fault healed; the primary must serve again within %v", g.o.StuckBound)
	took, why := g.primaryServes(ctx, healed)
	if why != "" {
		g.res.Stuck = append(g.res.Stuck, why)
		g.tl.log("STUCK: %s", why)
		return nil
	}
	g.res.Recovered = took
	g.tl.log("chaos: the primary serves again %.2fs after the last fault healed", took.Seconds())
	return nil
}

// primaryServes waits until the router answers the primary and the primary
// acknowledges a payment, within StuckBound of healed; why says what was
// still wrong at the bound.
func (g *run) primaryServes(ctx context.Context, healed time.Time) (time.Duration, string) {
	deadline := healed.Add(g.o.StuckBound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if g.router.resolve() == 0 && g.router.isHealthy(0) {
			since := time.Now()
			if at, ok := g.clients.firstAckBy(ctx, 0, since, time.Until(deadline)); ok {
				return at.Sub(healed), ""
			}
			break
		}
		sleep(ctx, 20*time.Millisecond)
	}
	h := g.router.healthyBoth()
	var parts []string
	switch {
	case !h[0] && !h[1]:
		parts = append(parts, "no region healthy")
	case !h[0]:
		parts = append(parts, Primary+" unhealthy")
	default:
		parts = append(parts, "no payment acknowledged by "+Primary)
	}
	code, failing, err := g.regions[0].health(ctx)
	parts = append(parts, fmt.Sprintf("%s /health %d failing %v (%v)", Primary, code, failing, err))
	if st, err := g.regions[0].status(ctx); err == nil {
		parts = append(parts, fmt.Sprintf("its /status %s", st))
	}
	d := g.gate(ctx)
	parts = append(parts, fmt.Sprintf("gate %s: %s", d.Verdict, d.Reason))
	parts = append(parts, fmt.Sprintf("replication pending %d and %d", g.links[0].pending(), g.links[1].pending()))
	return 0, fmt.Sprintf("%v after the last fault healed: %s", g.o.StuckBound, strings.Join(parts, "; "))
}

// ChaosLine is the one line chaos mode ends with.
func (r Result) ChaosLine(seed uint64) string {
	return fmt.Sprintf("chaos: seed %d, faults %d, acknowledged %d, lost %d, duplicated %d, stale reads %d, stuck %d",
		seed, len(r.Schedule), r.Acknowledged, len(r.Lost), len(r.Duplicated), len(r.Stale), len(r.Stuck))
}

// ChaosSeeds plays chaos mode once per seed, parallel runs at a time (each
// with its own stand-ins), and hands each outcome to done with its timeline,
// as the runs end. base's Timeline is ignored: each run writes its own.
func ChaosSeeds(ctx context.Context, base Options, seeds []uint64, parallel int, done func(seed uint64, res Result, timeline string, err error)) {
	next := make(chan uint64)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Go(func() {
			for seed := range next {
				o := base
				o.Chaos, o.Seed = true, seed
				var tl lockedBuffer
				o.Timeline = &tl
				res, err := Run(ctx, o)
				done(seed, res, tl.String(), err)
			}
		})
	}
	for _, s := range seeds {
		select {
		case next <- s:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// lockedBuffer is a timeline kept for printing when a run fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
