package gameday

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/app"
	"github.com/payments-dr/payments-dr/lambda/control"
)

// The scenarios of issue 13: each plays one sequence the failover logic
// once broke in, on the same two regions, router and clients as the game
// day, and asserts what a user depends on (Result.Violations), besides the
// final count of lost and duplicated payments.

// scenario is one named game day.
type scenario struct {
	point   int            // the numbered problem it reproduces
	doc     string         // one line for -h and the README
	options func(*Options) // adjustments before the regions start
	play    func(*run, context.Context) error
}

var scenarios = map[string]scenario{
	"observer-dies": {point: 1,
		doc: "us-east-1's probe sees us-east-2 down (a blip), then us-east-1 dies: us-east-2 keeps serving, its /health never runs the gate",
		options: func(o *Options) {
			// Two down rounds must be recorded within the blip: the probe's own
			// timeout is not what is tested here.
			o.ProbeTimeout = time.Second
		},
		play: (*run).observerDies},
	"reordered-replication": {point: 2,
		doc: "the primary returns while payment items lag and arrive out of order and control items are current: no traffic back before every payment is in its replica",
		options: func(o *Options) {
			o.Reorder, o.NoDrill = true, true
			o.Jitter = gateRules.Tolerance / 2
			// The backlog must outlast checking the condition and the API's
			// return, or there is nothing left to gate on a loaded machine.
			o.CatchUp = max(o.CatchUp, 3*time.Second)
		},
		play: func(g *run, ctx context.Context) error {
			if err := g.steady(ctx); err != nil {
				return err
			}
			return g.killAndReturn(ctx, g.regions[0], g.regions[1])
		}},
	"brownout": {point: 3,
		doc:  "Route 53 fails over on a brownout the probe sees as alternating rounds: the gate still closes on the payments the secondary accepted, and opens once they replicated",
		play: (*run).brownout},
	"partition": {point: 4,
		doc:  "partition between the regions while clients reach both, then replication up and the probe path down, then the reverse: the secondary never gates, the primary fails closed and refuses writes while behind",
		play: (*run).partition},
}

// ScenarioNames lists the named scenarios.
func ScenarioNames() []string {
	var names []string
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ScenarioDoc describes a named scenario ("" when there is none).
func ScenarioDoc(name string) string {
	sc, ok := scenarios[name]
	if !ok {
		return ""
	}
	return fmt.Sprintf("issue 13 point %d: %s", sc.point, sc.doc)
}

// steady waits for the primary to acknowledge payments, then lets traffic run.
func (g *run) steady(ctx context.Context) error {
	g.tl.log("steady state: %d clients post payments through the router (TTL %v), replication lag %v; they authenticate as %s and %s, the two clients of a pair with the same paymentIds",
		g.o.Clients, g.o.TTL, g.o.Lag, Principals[0], Principals[1])
	start := time.Now()
	if _, err := g.firstAck(ctx, 0, start, "steady state"); err != nil {
		return err
	}
	sleep(ctx, g.o.Steady)
	for _, a := range g.clients.snapshot() {
		if a.Region == 1 {
			g.violate("steady state: %s acknowledged %s while %s was healthy", Secondary, a.ID, Primary)
			break
		}
	}
	return nil
}

// switched waits up to scenarioBound for a payment acknowledged by region
// after since and records it; a violation when none comes.
func (g *run) switched(ctx context.Context, region int, since time.Time, what string, into *[]Switch) bool {
	at, ok := g.clients.firstAckBy(ctx, region, since, g.o.ScenarioBound)
	if !ok {
		g.violate("%s: %s acknowledged no payment within %v", what, g.regions[region].name, g.o.ScenarioBound)
		return false
	}
	*into = append(*into, Switch{what, at.Sub(since)})
	g.tl.log("%s: first payment acknowledged by %s %.2fs later", what, g.regions[region].name, at.Sub(since).Seconds())
	return true
}

// neverGated asserts that none of r's /health answers ran a failback gate
// (and, from since on, that all were 200: it serves all traffic).
func (g *run) neverGated(r *region, samples []healthSample, since time.Time, what string) {
	for _, h := range samples {
		if slices.Contains(h.failing, control.CheckFailbackGate) {
			g.violate("%s: %s /health answered %d failing %v at %s: the secondary ran a failback gate", what, r.name, h.code, h.failing, g.tl.since(h.at))
			return
		}
	}
	for _, h := range samples {
		if h.at.After(since) && h.code != 200 {
			g.violate("%s: %s /health answered %d failing %v at %s while it was the only region serving", what, r.name, h.code, h.failing, g.tl.since(h.at))
			return
		}
	}
}

// gatedSeen reports whether r's /health answered 503 failing the failback
// gate between from and to.
func gatedSeen(samples []healthSample, from, to time.Time) bool {
	for _, h := range samples {
		if h.at.After(from) && h.at.Before(to) && h.code == 503 && slices.Contains(h.failing, control.CheckFailbackGate) {
			return true
		}
	}
	return false
}

// revive brings a killed region back whole: its table, replication both
// ways, its API and its probe.
func (g *run) revive(r *region, reachable func()) error {
	reachable()
	if err := r.rep.proxy.start(); err != nil {
		return err
	}
	for _, l := range g.links {
		l.resume()
	}
	if err := r.api.start(); err != nil {
		return err
	}
	g.tl.log("RETURN %s: table, replication, API and probe back", r.name)
	return r.startProbe(g.regions[1-r.idx], g.o.ProbeInterval, g.o.ProbeTimeout)
}

// observerDies is issue 13, point 1. us-east-1's probe sees us-east-2 down
// (us-east-2 blips, or us-east-1's path out degrades) and records it, which
// replicates; then us-east-1 dies. Before the fix, us-east-2's /health ran a
// gate on that record and read closed; with us-east-1 gone nothing could open
// it, both regions answered 503 and Route 53 served the dead primary.
func (g *run) observerDies(ctx context.Context) error {
	p, s := g.regions[0], g.regions[1]
	if err := g.steady(ctx); err != nil {
		return err
	}
	mon := g.watchHealth(ctx, s)
	tBlip := time.Now()
	heal := p.toPeerAPI.refusing()
	g.tl.log("BLIP: %s's probe gets no answer from %s (connections reset; its own /status answers, so the rounds are down, not unknown)", p.name, s.name)
	err := g.await(ctx, s.name+"'s replica records that "+p.name+"'s probe saw it down", func() bool {
		it, err := s.peerItem(ctx, s.name)
		return err == nil && it.LastDownAtMs >= tBlip.UnixMilli()
	})
	heal()
	if err != nil {
		mon()
		return err
	}
	g.tl.log("%s's replica holds %s with a lastDownAt from %s's probe (what closed its gate before issue 13); blip over", s.name, control.PeerKey(s.name), p.name)

	tKill := time.Now()
	reachable := g.kill(p)
	g.tl.log("KILL %s: API and table endpoint closed, probe stopped, replication to and from it stopped", p.name)
	failedOver := g.switched(ctx, 1, tKill, "failover after the observer died", &g.res.Failovers)
	sleep(ctx, time.Until(tKill.Add(g.o.Outage)))
	samples := mon()
	g.neverGated(s, samples, tKill.Add(g.o.ScenarioBound), "observer-dies")
	if failedOver {
		g.noFlap(tKill, time.Now(), 1, "observer-dies")
	}
	return g.revive(p, reachable)
}

// brownoutPaymentLag delays the secondary's payments to the primary during a
// brownout, past the gate's tolerance, so that its return is gated.
const brownoutPaymentLag = 1500 * time.Millisecond

// brownout is issue 13, point 3. The primary browns out: Route 53's checks
// fail, while the secondary's probe sees alternating rounds and never
// counts it down. Before the fix the gate was built from probe rounds and
// stayed open: the primary took traffic back while the payments the
// secondary accepted were still replicating.
func (g *run) brownout(ctx context.Context) error {
	p, s := g.regions[0], g.regions[1]
	if err := g.steady(ctx); err != nil {
		return err
	}
	tB := time.Now()
	p.brownout.Add(1)
	g.links[1].shape(g.o.Jitter, brownoutPaymentLag, g.o.Reorder)
	g.tl.log("BROWNOUT %s: /health fails, every other request of each caller answered 503 (the probe's rounds alternate); %s's payments replicate to it %v late", p.name, s.name, brownoutPaymentLag)
	g.switched(ctx, 1, tB, "failover on the brownout", &g.res.Failovers)
	sleep(ctx, time.Until(tB.Add(g.o.Outage)))

	mon := g.watchHealth(ctx, p)
	tEnd := time.Now()
	g.links[1].shape(g.o.Jitter, 0, g.o.Reorder) // new payments at the normal lag; the brownout's stay late
	p.brownout.Add(-1)
	g.tl.log("BROWNOUT over: %s answers again; %d payment writes of %s still replicating to it", p.name, g.links[1].pendingPayments(), s.name)
	ok := g.switched(ctx, 0, tEnd, "failback after the brownout", &g.res.Failbacks)
	samples := mon()

	if it, err := s.peerItem(ctx, p.name); err == nil && it.LastDownAtMs >= tB.UnixMilli() {
		g.violate("brownout: %s's probe counted %s down (lastDownAt %s): the scenario did not hide the outage from the probe", s.name, p.name, g.tl.since(msTime(it.LastDownAtMs)))
	}
	if !gatedSeen(samples, tEnd, time.Now()) {
		g.violate("brownout: %s /health never answered 503 failback-gate after the brownout, though %s accepted payments that were still replicating", p.name, s.name)
	}
	if ok {
		g.readYourWrites(ctx, p, s, g.gateCutoff(tEnd), "brownout")
		g.noFlap(tB, tEnd, 1, "brownout")
	}
	return nil
}

// partition is issue 13, point 4: the regions lose each other while clients
// reach both; then replication comes back while the probe path (the gate's
// and a GET's cross-region reads, the probe's requests) stays cut; then the
// reverse. The secondary must serve throughout (before the fix a partial
// partition closed both gates); the primary fails closed while it cannot read
// the secondary, and refuses writes while it knows it is behind.
func (g *run) partition(ctx context.Context) error {
	p, s := g.regions[0], g.regions[1]
	if err := g.steady(ctx); err != nil {
		return err
	}
	monS, monP := g.watchHealth(ctx, s), g.watchHealth(ctx, p)
	t1 := time.Now()
	for _, l := range g.links {
		l.pause()
	}
	heals := []func(){p.toPeerAPI.partition(), p.toPeerDB.partition(), s.toPeerAPI.partition(), s.toPeerDB.partition()}
	g.tl.log("PARTITION: replication and the probe path cut both ways; clients still reach both regions")
	failedOver := g.switched(ctx, 1, t1, "failover on the partition", &g.res.Failovers)
	sleep(ctx, time.Until(t1.Add(g.o.Outage)))

	t2 := time.Now()
	for _, l := range g.links {
		l.resume()
	}
	g.tl.log("PARTIAL PARTITION: replication back, the probe path still cut")
	sleep(ctx, g.o.Outage/2)

	// Replication down again, long enough for the secondary's newest
	// payments to be a backlog rather than its live tail, then the probe
	// path back: the primary now reads what it lacks.
	g.links[1].pause()
	sleep(ctx, gateRules.Tolerance+gateRules.MaxSkew+100*time.Millisecond)
	t3 := time.Now()
	for _, h := range heals {
		h()
	}
	g.tl.log("PARTIAL PARTITION: probe path back, replication from %s to %s cut", s.name, p.name)
	g.refusesWrites(ctx, p, t3)
	sleep(ctx, max(g.o.Outage/2, 2*app.WriteGateMaxAge))

	t4 := time.Now()
	g.links[1].resume()
	g.tl.log("HEALED: replication from %s to %s back", s.name, p.name)
	ok := g.switched(ctx, 0, t4, "failback after the partition", &g.res.Failbacks)
	samplesS, samplesP := monS(), monP()

	g.neverGated(s, samplesS, t1.Add(g.o.ScenarioBound), "partition")
	if !gatedSeen(samplesP, t1, t2) || !gatedSeen(samplesP, t2, t3) {
		g.violate("partition: %s /health did not fail closed (503 failback-gate) while it could not read %s", p.name, s.name)
	}
	if !gatedSeen(samplesP, t3, t4) {
		g.violate("partition: %s /health did not answer 503 failback-gate while it lacked %s's payments", p.name, s.name)
	}
	// The write path trusts a decision up to WriteGateMaxAge old.
	refuseFrom := t3.Add(app.WriteGateMaxAge + app.WriteGateTimeout)
	for _, a := range g.clients.snapshot() {
		if a.Region == 0 && a.Status == http.StatusCreated && a.At.After(refuseFrom) && a.At.Before(t4) {
			g.violate("partition: %s created %s/%s at %s while its gate was closed (behind)", p.name, a.Owner, a.ID, g.tl.since(a.At))
			break
		}
	}
	if failedOver {
		g.noFlap(t1, t4, 1, "partition")
	}
	if ok {
		g.readYourWrites(ctx, p, s, g.gateCutoff(t4), "partition")
	}
	stale, reads := g.clients.staleReads()
	g.tl.log("partition: %d read-backs answered, %d stale (404 for an acknowledged payment)", reads, len(stale))
	return nil
}

// refusesWrites posts new payments straight to r (a client whose cached DNS
// answer still points there) until one is refused with 503
// failback_in_progress and Retry-After; a violation when none is within
// twice the write path's decision age.
func (g *run) refusesWrites(ctx context.Context, r *region, since time.Time) {
	who := g.clients.callers[0]
	deadline := since.Add(2*(app.WriteGateMaxAge+app.WriteGateTimeout) + time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		id := fmt.Sprintf("gd-%s-refused-%d", g.clients.runID, n)
		body, _ := json.Marshal(map[string]any{"paymentId": id, "amount": 100, "currency": "USD"})
		code, retryAfter, out, err := postOnce(ctx, r.api.URL(), who.token, body)
		if err == nil && code == http.StatusServiceUnavailable && retryAfter != "" && strings.Contains(out, api.CodeFailbackInProgress) {
			g.tl.log("%s refuses a payment write while behind: 503 %s, Retry-After %s", r.name, api.CodeFailbackInProgress, retryAfter)
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
	g.violate("%s never refused a payment write (503 %s) while it lacked payments the other region accepted", r.name, api.CodeFailbackInProgress)
}

func postOnce(ctx context.Context, base, token string, body []byte) (code int, retryAfter, out string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/payments", bytes.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b), err
}

// controlCurrentWhileBehind asserts the condition reordered-replication is
// about: the primary's replica already holds a control item the secondary
// wrote after replication resumed (its probe's heartbeat) while payments it
// accepted before are still missing. A gate built on that control item, as
// before issue 13, would have opened here.
func (g *run) controlCurrentWhileBehind(ctx context.Context, resumed time.Time) {
	p := g.regions[0]
	err := g.await(ctx, p.name+"'s replica holds a current heartbeat while payments are missing", func() bool {
		it, err := p.peerItem(ctx, p.name)
		return err == nil && it.HeartbeatAtMs >= resumed.UnixMilli() && g.gate(ctx).Verdict == control.VerdictBehind
	})
	if err != nil {
		g.violate("reordered replication: %v", err)
		return
	}
	d := g.gate(ctx)
	g.tl.log("reordered replication: %s's replica holds a heartbeat written after replication resumed, and its gate reads %s: %s", p.name, d.Verdict, d.Reason)
}
