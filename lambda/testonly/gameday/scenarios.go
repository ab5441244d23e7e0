package gameday

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
)

func (g *run) scenarios(ctx context.Context) error {
	if g.o.Chaos {
		return g.chaos(ctx)
	}
	if g.o.Scenario != "" {
		sc, ok := scenarios[g.o.Scenario]
		if !ok {
			return fmt.Errorf("scenario %q: want one of %v", g.o.Scenario, ScenarioNames())
		}
		return sc.play(g, ctx)
	}
	p, s := g.regions[0], g.regions[1]

	if err := g.steady(ctx); err != nil {
		return err
	}
	if err := g.killAndReturn(ctx, p, s); err != nil {
		return err
	}
	if g.o.NoDrill {
		return nil
	}
	sleep(ctx, g.o.Steady/2)
	return g.drill(ctx, p, s)
}

// kill takes a region away at once: its API refuses connections, its probe
// stops, replication to and from it stops, the other region cannot read its
// table. Its data survives; reachable undoes the last part.
func (g *run) kill(r *region) (reachable func()) {
	r.api.stop()
	r.rep.proxy.stop()
	for _, l := range g.links {
		l.pause()
	}
	r.stopProbe()
	return g.regions[1-r.idx].toPeerDB.refusing()
}

func (g *run) killAndReturn(ctx context.Context, p, s *region) error {
	tKill := time.Now()
	reachable := g.kill(p)
	g.tl.log("KILL %s: API and table endpoint closed, probe stopped, replication to and from it stopped", p.name)
	took, err := g.firstAck(ctx, 1, tKill, "failover after the kill")
	if err != nil {
		return err
	}
	g.res.Failovers = append(g.res.Failovers, Switch{"kill", took})
	g.tl.log("failover: first payment acknowledged by %s %.2fs after the kill", s.name, took.Seconds())
	if err := g.seenDown(ctx, p, tKill); err != nil {
		return err
	}
	g.tl.log("%s's replica records that its probe saw %s out of service", s.name, p.name)
	sleep(ctx, time.Until(tKill.Add(g.o.Outage)))

	// The primary comes back while its replica is behind: replication to it
	// restarts with the whole outage as backlog. Its table endpoint and
	// replication come back first and the API once the first outage
	// observation has reached its replica (see docs/game-day.md: a region whose
	// API returns while replication to it is still stopped reads its
	// pre-outage copy of the gate).
	backlog := g.links[1].pending()
	reachable()
	p.rep.proxy.start()
	g.links[0].resume()
	if !g.o.ReplicationLast {
		tResume := time.Now()
		g.links[1].resumeCatchingUp(g.o.CatchUp)
		if err := g.await(ctx, p.name+"'s failback gate reads closed (payments "+s.name+" accepted are missing)", func() bool { return g.gate(ctx).Verdict == control.VerdictBehind }); err != nil {
			return err
		}
		if g.o.Reorder {
			g.controlCurrentWhileBehind(ctx, tResume)
		}
	}
	tBack := time.Now()
	if err := p.api.start(); err != nil {
		return err
	}
	downBefore := p.peerDown.Load()
	if g.o.SlowRoundOnReturn {
		s.stallStatus(1, g.o.ProbeTimeout+250*time.Millisecond)
		g.tl.log("%s will answer the returning probe's first /status after %v: one down round", s.name, g.o.ProbeTimeout+250*time.Millisecond)
	}
	if err := p.startProbe(s, g.o.ProbeInterval, g.o.ProbeTimeout); err != nil {
		return err
	}
	if g.o.ReplicationLast {
		g.tl.log("RETURN %s: API back; replication to it still stopped (%d writes behind), restarts in %v", p.name, backlog, g.o.CatchUp)
		time.AfterFunc(g.o.CatchUp, func() {
			g.links[1].resumeCatchingUp(g.o.CatchUp)
			g.tl.log("replication to %s restarts; its backlog is worked through over %v", p.name, g.o.CatchUp)
		})
	} else {
		g.tl.log("RETURN %s: API back; its replica is %d writes behind, worked through over %v", p.name, backlog, g.o.CatchUp)
	}
	mon, monS := g.watchHealth(ctx, p), g.watchHealth(ctx, s)
	took, err = g.firstAck(ctx, 0, tBack, "failback after the return")
	samples, samplesS := mon(), monS()
	if err != nil {
		return err
	}
	back := tBack.Add(took)
	g.res.Failbacks = append(g.res.Failbacks, Switch{"return", took})
	caught := g.links[1].caughtUp()
	g.tl.log("failback: first payment acknowledged by %s %.2fs after its return (backlog done at %s)", p.name, took.Seconds(), g.tl.since(caught))

	// What the failback gate is for: no traffic to the primary while its
	// replica lacks what the secondary accepted.
	before := len(g.res.Violations)
	defer func() {
		if len(g.res.Violations) > before {
			g.explainReturn(ctx, samplesS)
		}
	}()
	if caught.IsZero() || back.Before(caught) {
		g.violate("%s acknowledged a payment at %s while its replica was still behind (backlog done: %s)", p.name, g.tl.since(back), g.tl.since(caught))
	}
	if at, ok := answeredDuring(g.router.history(), 0, tBack, orNow(caught)); ok {
		g.violate("router answered %s at %s while its replica was still behind", p.name, g.tl.since(at))
	}
	gated := false
	for _, h := range samples {
		if h.code == 200 && (caught.IsZero() || h.at.Before(caught)) {
			g.violate("%s /health answered 200 at %s while its replica was still behind", p.name, g.tl.since(h.at))
			break
		}
		gated = gated || (h.code == 503 && slices.Equal(h.failing, []string{control.CheckFailbackGate}))
	}
	if !gated {
		g.violate("%s /health never answered 503 failback-gate after its return", p.name)
	} else {
		g.tl.log("%s /health answered 503 failing [failback-gate] until its replica caught up", p.name)
	}
	if g.o.SlowRoundOnReturn {
		// The slow answer must have happened, and been seen as down, within
		// the return (before the primary took traffic back).
		if s.stalled.Load() == 0 || p.peerDown.Load() == downBefore {
			g.violate("slow round: %s's probe never saw %s down after the return (stalled answers %d)", p.name, s.name, s.stalled.Load())
		}
		for _, h := range samplesS {
			if slices.Contains(h.failing, control.CheckFailbackGate) {
				g.violate("slow round: %s /health answered %d failing %v at %s: one down round closed the gate of the region serving all traffic", s.name, h.code, h.failing, g.tl.since(h.at))
				break
			}
		}
	}
	g.readYourWrites(ctx, p, s, g.gateCutoff(tBack), "return")
	g.noFlap(tKill, tBack, 1, "kill")
	return nil
}

func (g *run) drill(ctx context.Context, p, s *region) error {
	// Through the secondary's endpoint, as the runbook says: the surviving
	// region's table; replication carries the flag to the primary.
	levers := s.levers()
	tDrain := time.Now()
	if err := levers.SetDrain(ctx, control.Drain{Region: p.name, Drained: true, Reason: "game day drill", By: "gameday"}, tDrain); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	g.tl.log("DRILL: drain %s through %s's table", p.name, s.name)
	took, err := g.firstAck(ctx, 1, tDrain, "failover after the drain")
	if err != nil {
		return err
	}
	g.res.Failovers = append(g.res.Failovers, Switch{"drain", took})
	g.tl.log("failover: first payment acknowledged by %s %.2fs after the drain", s.name, took.Seconds())
	if err := g.seenDown(ctx, p, tDrain); err != nil {
		return err
	}
	sleep(ctx, time.Until(tDrain.Add(g.o.Drill)))

	tUndrain := time.Now()
	if err := levers.SetDrain(ctx, control.Drain{Region: p.name, Drained: false, Reason: "drill over", By: "gameday"}, tUndrain); err != nil {
		return fmt.Errorf("undrain: %w", err)
	}
	g.tl.log("UNDRAIN %s through %s's table", p.name, s.name)
	took, err = g.firstAck(ctx, 0, tUndrain, "failback after the undrain")
	if err != nil {
		return err
	}
	g.res.Failbacks = append(g.res.Failbacks, Switch{"undrain", took})
	g.tl.log("failback: first payment acknowledged by %s %.2fs after the undrain", p.name, took.Seconds())
	g.readYourWrites(ctx, p, s, g.gateCutoff(tUndrain), "undrain")
	g.noFlap(tDrain, tUndrain, 1, "drill")
	return nil
}

// explainReturn logs what a failed return leaves to read: both peer items in
// both replicas, and the secondary's /health answers that were not 200 (the
// router answers the primary when both regions are unhealthy).
func (g *run) explainReturn(ctx context.Context, secondary []healthSample) {
	for _, of := range g.regions {
		for _, in := range g.regions {
			p, err := in.peerItem(ctx, of.name)
			g.tl.log("  %s in %s's replica: state %s, heartbeat %s, lastDownAt %s (%v)", control.PeerKey(of.name), in.name,
				p.State, g.tl.since(msTime(p.HeartbeatAtMs)), g.tl.since(msTime(p.LastDownAtMs)), err)
		}
	}
	d := g.gate(ctx)
	g.tl.log("  %s's failback gate now: %s: %s", g.regions[0].name, d.Verdict, d.Reason)
	n := 0
	for _, h := range secondary {
		if h.code != 200 && n < 10 {
			g.tl.log("  %s /health at %s: %d failing %v", g.regions[1].name, g.tl.since(h.at), h.code, h.failing)
			n++
		}
	}
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// noFlap checks that once the router moved to region after from, it stayed
// there until to.
func (g *run) noFlap(from, to time.Time, region int, what string) {
	h := g.router.history()
	var moved time.Time
	for i, a := range h {
		// Already answering region at from (a loaded machine can move the
		// router a check early) counts as moved at from.
		inForce := a.Region == region && !a.At.After(from) && (i+1 == len(h) || h[i+1].At.After(from))
		if inForce || (a.Region == region && a.At.After(from) && a.At.Before(to)) {
			moved = later(a.At, from)
			break
		}
	}
	if moved.IsZero() {
		g.violate("%s: router never answered %s", what, g.regions[region].name)
		return
	}
	if at, ok := answeredDuring(h, 1-region, moved, to); ok {
		g.violate("%s: router went back to %s at %s", what, g.regions[1-region].name, g.tl.since(at))
	}
}

// gateCutoff is the time before which every payment the secondary
// acknowledged must be in the primary's replica once the router answered the
// primary again after from: the gate was open at the first of the router's
// last healthy checks, and then excused at most the secondary's live tail
// (gateRules.Tolerance, MaxSkew) and what was in flight (a margin).
func (g *run) gateCutoff(from time.Time) time.Time {
	for _, a := range g.router.history() {
		if a.Region == 0 && a.At.After(from) {
			return a.At.Add(-time.Duration(g.o.CheckThreshold)*g.o.CheckInterval - gateRules.Tolerance - gateRules.MaxSkew - 100*time.Millisecond)
		}
	}
	return from
}

// readYourWrites reads back, from the primary's replica right after it took
// traffic again, every payment the secondary acknowledged before cutoff.
func (g *run) readYourWrites(ctx context.Context, p, s *region, cutoff time.Time, what string) {
	var ids []ack
	for _, a := range g.clients.snapshot() {
		if a.Region == s.idx && a.At.Before(cutoff) {
			ids = append(ids, a)
		}
	}
	var (
		mu      sync.Mutex
		missing []string
		wg      sync.WaitGroup
		next    = make(chan ack)
	)
	for range 8 {
		wg.Go(func() {
			for a := range next {
				// In the replica itself: the API would find a payment that is
				// still replicating in the secondary's (payment.Service.Peer).
				if found, err := p.holds(ctx, payment.Key(a.Owner, a.ID)); err != nil || !found {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s/%s (found %v, %v)", a.Owner, a.ID, found, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, a := range ids {
		next <- a
	}
	close(next)
	wg.Wait()
	if len(missing) > 0 {
		slices.Sort(missing)
		g.violate("%s: %d of %d payments acknowledged by %s were not readable at %s when it took traffic again, e.g. %s",
			what, len(missing), len(ids), s.name, p.name, missing[0])
		return
	}
	g.tl.log("%s: all %d payments acknowledged by %s read back from %s as it takes traffic again", what, len(ids), s.name, p.name)
}

type healthSample struct {
	at      time.Time // when the answer arrived
	code    int
	failing []string
}

// watchHealth samples r's /health until the returned function is called,
// which returns the samples.
func (g *run) watchHealth(ctx context.Context, r *region) func() []healthSample {
	ctx, cancel := context.WithCancel(ctx)
	var samples []healthSample
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			code, failing, err := r.health(ctx)
			if err == nil {
				samples = append(samples, healthSample{time.Now(), code, failing})
			}
			sleep(ctx, 50*time.Millisecond)
		}
	}()
	return func() []healthSample { cancel(); <-done; return samples }
}
