package control_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

func TestReservedKeysCannotBePaymentIDs(t *testing.T) {
	for _, k := range []string{control.DrainKey("us-east-1"), control.PeerKey("us-east-2"), control.KeyPrefix} {
		if !control.IsReserved(k) {
			t.Errorf("IsReserved(%q) = false", k)
		}
		if err := payment.ValidateID(k); err == nil {
			t.Errorf("payment.ValidateID(%q) accepts a control key: the payment API could overwrite a lever", k)
		}
	}
	if control.IsReserved("pay_123-abc") {
		t.Error("a valid payment id is reported reserved")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		body string
		want control.State
	}{
		{"healthy", 200, `{"status":"ok","region":"us-east-1"}`, control.StateUp},
		{"200 without ok is not healthy", 200, `{"status":"degraded"}`, control.StateDown},
		{"200 with html", 200, `<html>hello</html>`, control.StateDown},
		{"dependency failing", 503, `{"status":"unavailable","failing":["dynamodb"]}`, control.StateDown},
		{"drained", 503, `{"status":"unavailable","failing":["drained","failback-gate"]}`, control.StateDrained},
		{"gate only: recovering", 503, `{"status":"unavailable","failing":["failback-gate"]}`, control.StateRecovering},
		{"gate and a dependency", 503, `{"status":"unavailable","failing":["failback-gate","s3"]}`, control.StateDown},
		{"502 from API Gateway", 502, `{"message":"Internal server error"}`, control.StateDown},
		{"504 from API Gateway", 504, `{"message":"Endpoint request timed out"}`, control.StateDown},
		{"500 from API Gateway, no body", 500, ``, control.StateDown},
		{"empty body", 503, ``, control.StateDown},
		// Refusals of the probe's own request: anyone can cause them, so they say
		// nothing about the region.
		{"429 throttled by API Gateway", 429, `{"message":"Too Many Requests"}`, control.StateUnknown},
		{"403 from the WAF", 403, `{"message":"Forbidden"}`, control.StateUnknown},
		{"403 route missing", 403, `{"message":"Missing Authentication Token"}`, control.StateUnknown},
		{"4xx even with a healthy-looking body", 429, `{"status":"ok"}`, control.StateUnknown},
		{"404 from a function that predates /status", 404, `{"error":"not_found","message":"no such resource"}`, control.StateUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := control.Classify(tc.code, []byte(tc.body)); got != tc.want {
				t.Errorf("Classify(%d, %s) = %s, want %s", tc.code, tc.body, got, tc.want)
			}
		})
	}
}

func TestItemsAgainstDynamoDB(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	const name = "control-test"
	if err := servers.CreateTable(ctx, name); err != nil {
		t.Fatal(err)
	}
	tbl := control.Table{DB: servers.DynamoDBClient(), Name: name, Attempts: 1}
	const region, observer = "us-east-1", "us-east-2"
	t0 := time.UnixMilli(1_800_000_000_000)
	drained := tbl.CheckNotDrained(region)

	// wantOut: the observer's newest recorded round counted the region out of
	// service (what status shows as the last down round).
	checks := func(t *testing.T, wantDrained, wantOut bool) {
		t.Helper()
		if err := drained(ctx); errors.Is(err, control.ErrDrained) != wantDrained || (err != nil && !wantDrained) {
			t.Errorf("drained check = %v, want drained=%v", err, wantDrained)
		}
		p, err := tbl.Peer(ctx, region)
		if err != nil {
			t.Fatal(err)
		}
		if got := outOfService(p); got != wantOut {
			t.Errorf("peer item %+v: counted out of service = %v, want %v", p, got, wantOut)
		}
	}
	observe := func(s control.State, at time.Time) {
		t.Helper()
		if err := tbl.RecordObservation(ctx, region, observer, s, at); err != nil {
			t.Fatal(err)
		}
	}

	checks(t, false, false) // nothing written: in service

	if err := tbl.SetDrain(ctx, control.Drain{Region: region, Drained: true, Reason: "drill", By: "alice"}, t0); err != nil {
		t.Fatal(err)
	}
	d, err := tbl.Drain(ctx, region)
	if err != nil || !d.Drained || d.Reason != "drill" || d.By != "alice" || d.AtMs != t0.UnixMilli() {
		t.Fatalf("Drain = %+v, %v", d, err)
	}
	observe(control.StateDrained, t0.Add(10*time.Second))
	checks(t, true, true)

	if err := tbl.SetDrain(ctx, control.Drain{Region: region, Drained: false, By: "alice"}, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	checks(t, false, true) // undrained, but nothing newer from the observer yet

	observe(control.StateRecovering, t0.Add(30*time.Second))
	checks(t, false, false)

	observe(control.StateDown, t0.Add(38*time.Second))
	checks(t, false, false) // one down round does not count
	observe(control.StateDown, t0.Add(40*time.Second))
	checks(t, false, true)
	// A delayed round from before the outage must not reopen the gate.
	observe(control.StateUp, t0.Add(35*time.Second))
	checks(t, false, true)
	p, err := tbl.Peer(ctx, region)
	if err != nil || p.HeartbeatAtMs != t0.Add(40*time.Second).UnixMilli() || p.State != control.StateDown || p.Observer != observer {
		t.Fatalf("Peer = %+v, %v: an older round overwrote a newer one", p, err)
	}
	// A round whose requests were refused (throttled, blocked) changes nothing
	// the gate reads: it stays closed, and the newest real observation stays.
	observe(control.StateUnknown, t0.Add(45*time.Second))
	checks(t, false, true)
	p, err = tbl.Peer(ctx, region)
	if err != nil || p.State != control.StateDown || p.HeartbeatAtMs != t0.Add(40*time.Second).UnixMilli() ||
		p.LastDownAtMs != t0.Add(40*time.Second).UnixMilli() || p.UnknownAtMs != t0.Add(45*time.Second).UnixMilli() {
		t.Fatalf("after an unknown round Peer = %+v, %v; want state, heartbeat and lastDownAt of the round at +40s, unknownAt +45s", p, err)
	}
	observe(control.StateUp, t0.Add(50*time.Second))
	checks(t, false, false)
	// ... and it cannot close an open gate: a flood of /status is not an outage.
	observe(control.StateUnknown, t0.Add(60*time.Second))
	observe(control.StateUnknown, t0.Add(55*time.Second)) // delayed: unknownAt never moves back
	checks(t, false, false)
	p, err = tbl.Peer(ctx, region)
	if err != nil || p.State != control.StateUp || p.LastDownAtMs != t0.Add(40*time.Second).UnixMilli() || p.UnknownAtMs != t0.Add(60*time.Second).UnixMilli() {
		t.Fatalf("after unknown rounds Peer = %+v, %v; want state up, lastDownAt +40s, unknownAt +60s", p, err)
	}
}

// TestDownRoundsCount drives sequences of rounds through RecordObservation
// against the local DynamoDB: the gate closes on a drained round or on the
// second down round in a row (at most MaxRoundGap apart), never on one down
// round alone; unknown rounds neither count nor break the count; a round older
// than the item's newest changes nothing.
func TestDownRoundsCount(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	const name = "control-rounds"
	if err := servers.CreateTable(ctx, name); err != nil {
		t.Fatal(err)
	}
	tbl := control.Table{DB: servers.DynamoDBClient(), Name: name, Attempts: 1}
	const observer = "us-east-2"
	t0 := time.UnixMilli(1_800_000_000_000)
	type round struct {
		s  control.State
		at time.Duration // after t0
	}
	var (
		up         = func(at time.Duration) round { return round{control.StateUp, at} }
		down       = func(at time.Duration) round { return round{control.StateDown, at} }
		drained    = func(at time.Duration) round { return round{control.StateDrained, at} }
		recovering = func(at time.Duration) round { return round{control.StateRecovering, at} }
		unknown    = func(at time.Duration) round { return round{control.StateUnknown, at} }
		s          = time.Second
		never      = time.Duration(-1)
	)
	for i, tc := range []struct {
		name      string
		rounds    []round
		open      bool
		lastDown  time.Duration // never: no lastDownAt
		state     control.State // newest recorded state
		heartbeat time.Duration
	}{
		{"first-ever round down: not counted", []round{down(0)}, true, never, control.StateDown, 0},
		{"first-ever rounds down twice: closed", []round{down(0), down(10 * s)}, false, 10 * s, control.StateDown, 10 * s},
		{"up, down: one round, open", []round{up(0), down(10 * s)}, true, never, control.StateDown, 10 * s},
		{"up, down, down: closed", []round{up(0), down(10 * s), down(20 * s)}, false, 20 * s, control.StateDown, 20 * s},
		{"down three times: lastDownAt follows", []round{up(0), down(10 * s), down(20 * s), down(30 * s)}, false, 30 * s, control.StateDown, 30 * s},
		{"up, down, up: open", []round{up(0), down(10 * s), up(20 * s)}, true, never, control.StateUp, 20 * s},
		{"down, up, down: open", []round{up(0), down(10 * s), up(20 * s), down(30 * s)}, true, never, control.StateDown, 30 * s},
		{"drained once: closed", []round{up(0), drained(10 * s)}, false, 10 * s, control.StateDrained, 10 * s},
		{"first-ever round drained: closed", []round{drained(0)}, false, 0, control.StateDrained, 0},
		{"drained, down: the down round counts", []round{up(0), drained(10 * s), down(20 * s)}, false, 20 * s, control.StateDown, 20 * s},
		{"down, drained: closed by the drain", []round{up(0), down(10 * s), drained(20 * s)}, false, 20 * s, control.StateDrained, 20 * s},
		{"outage over: a later heartbeat opens", []round{down(0), down(10 * s), up(20 * s)}, true, 10 * s, control.StateUp, 20 * s},
		{"outage over, then one down round: stays open", []round{down(0), down(10 * s), up(20 * s), down(30 * s)}, true, 10 * s, control.StateDown, 30 * s},
		{"recovering, down: one round, open", []round{down(0), down(10 * s), recovering(20 * s), down(30 * s)}, true, 10 * s, control.StateDown, 30 * s},
		{"recovering, down, down: closed", []round{down(0), down(10 * s), recovering(20 * s), down(30 * s), down(40 * s)}, false, 40 * s, control.StateDown, 40 * s},
		{"down, unknown, down: unknown does not break the count", []round{up(0), down(10 * s), unknown(20 * s), down(30 * s)}, false, 30 * s, control.StateDown, 30 * s},
		{"up, unknown, down: one round, open", []round{up(0), unknown(10 * s), down(20 * s)}, true, never, control.StateDown, 20 * s},
		{"only unknown before: one round, open", []round{unknown(0), down(10 * s)}, true, never, control.StateDown, 10 * s},
		{"down rounds MaxRoundGap apart: counted", []round{up(0), down(10 * s), down(10*s + control.MaxRoundGap)}, false, 10*s + control.MaxRoundGap, control.StateDown, 10*s + control.MaxRoundGap},
		{"down rounds more than MaxRoundGap apart (the observer was away): open", []round{up(0), down(10 * s), down(11*s + control.MaxRoundGap)}, true, never, control.StateDown, 11*s + control.MaxRoundGap},
		{"... and the next down round counts", []round{up(0), down(10 * s), down(11*s + control.MaxRoundGap), down(21*s + control.MaxRoundGap)}, false, 21*s + control.MaxRoundGap, control.StateDown, 21*s + control.MaxRoundGap},
		{"a delayed older down round neither counts nor moves back", []round{up(0), down(20 * s), down(10 * s)}, true, never, control.StateDown, 20 * s},
		{"a delayed older down round after a counted one changes nothing", []round{down(0), down(20 * s), down(10 * s)}, false, 20 * s, control.StateDown, 20 * s},
		{"a delayed older up round cannot break the count", []round{up(0), down(10 * s), up(5 * s), down(20 * s)}, false, 20 * s, control.StateDown, 20 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			region := fmt.Sprintf("region-%d", i)
			for _, r := range tc.rounds {
				if err := tbl.RecordObservation(ctx, region, observer, r.s, t0.Add(r.at)); err != nil {
					t.Fatalf("%s round at +%v: %v", r.s, r.at, err)
				}
			}
			p, err := tbl.Peer(ctx, region)
			if err != nil {
				t.Fatal(err)
			}
			want := control.Peer{Region: region, Found: true, Observer: observer, State: tc.state, HeartbeatAtMs: t0.Add(tc.heartbeat).UnixMilli()}
			if tc.lastDown != never {
				want.LastDownAtMs = t0.Add(tc.lastDown).UnixMilli()
			}
			got := p
			got.UnknownAtMs = 0
			if got != want {
				t.Errorf("after %v:\n got %+v\nwant %+v", tc.rounds, got, want)
			}
			if out := outOfService(p); out == tc.open {
				t.Errorf("after %v: counted out of service = %v, want %v (item %+v)", tc.rounds, out, !tc.open, p)
			}
		})
	}
}

// TestChecksFailWhenTheTableDoesNotAnswer: a region that cannot read its own
// levers is not healthy, whatever they hold.
func TestChecksFailWhenTheTableDoesNotAnswer(t *testing.T) {
	servers := localaws.Shared(t)
	tbl := control.Table{DB: servers.DynamoDBClient(), Name: "no-such-table", Attempts: 1}
	ctx := context.Background()
	for name, check := range map[string]func(context.Context) error{
		"drained": tbl.CheckNotDrained("us-east-1"),
		"gate":    (&control.Gate{Region: "us-east-1", Secondary: "us-east-2", Local: tbl, Remote: tbl}).Check,
	} {
		if err := check(ctx); err == nil {
			t.Errorf("%s check passed against a missing table", name)
		}
	}
}

// outOfService: the observer's newest recorded round counted the region out
// of service (a drained round, or the second down round in a row).
func outOfService(p control.Peer) bool {
	return p.LastDownAtMs != 0 && p.HeartbeatAtMs <= p.LastDownAtMs
}
