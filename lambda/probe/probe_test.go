package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/probe"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

const (
	self = "us-east-2"
	peer = "us-east-1"
	// timeout is short so the hanging server costs the suite little; the
	// bound it proves is the same as with the 3 s default.
	timeout = 300 * time.Millisecond
	// slack allows for a loaded CI machine on top of the bounds under test.
	slack = 700 * time.Millisecond
)

var at = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Servers that answer like the payment function's /status (= /health) in each state, or
// fail the way a lost region, a proxy or a misconfiguration does. Each returns
// the URL to probe.
type server func(t *testing.T) string

func answering(code int, body string) server {
	return func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/prod/status"
	}
}

var (
	healthy     = answering(200, `{"status":"ok","region":"us-east-1"}`)
	depFailing  = answering(503, `{"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`)
	recovering  = answering(503, `{"status":"unavailable","region":"us-east-1","failing":["failback-gate"]}`)
	drained     = answering(503, `{"status":"unavailable","region":"us-east-1","failing":["drained","failback-gate"]}`)
	garbage     = answering(200, `<html><body>Welcome to nginx!</body></html>`)
	oversized   = answering(200, `{"status":"ok","padding":"`+strings.Repeat("x", probe.MaxBodyBytes)+`"}`)
	gatewayDown = answering(502, `{"message":"Internal server error"}`)
	// Refusals of the probe's own request, which anyone flooding /status can
	// cause: API Gateway's method throttle and a WAF block (API Gateway's
	// WAF_FILTERED answer).
	throttled  = answering(429, `{"message":"Too Many Requests"}`)
	wafBlocked = answering(403, `{"message":"Forbidden"}`)
	oversized4 = answering(403, `<html>`+strings.Repeat("x", probe.MaxBodyBytes)+`</html>`)
)

// hanging accepts the request and never answers, like a region whose load
// balancers still take connections but whose backends are gone.
func hanging(t *testing.T) string {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL + "/prod/status"
}

// refused is the address of a listener that has been closed: nothing listens.
func refused(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/prod/status"
}

// untrustedTLS answers healthily over TLS with a certificate no trusted
// authority signed: an answer the probe must not believe.
func untrustedTLS(t *testing.T) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"ok","region":"us-east-1"}`)
	}))
	// The handshake failure is the expected outcome, not news for the test log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/prod/status"
}

// redirecting sends the probe to a healthy /status elsewhere; following it
// would report a region healthy on another host's word. hits counts requests
// that reached the target.
func redirecting(hits *atomic.Int32) server {
	return func(t *testing.T) string {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			fmt.Fprint(w, `{"status":"ok","region":"us-east-1"}`)
		}))
		t.Cleanup(target.Close)
		srv := httptest.NewServer(http.RedirectHandler(target.URL+"/status", http.StatusFound))
		t.Cleanup(srv.Close)
		return srv.URL + "/prod/status"
	}
}

type rig struct {
	prober  *probe.Prober
	levers  control.Table
	metrics *bytes.Buffer
	logs    *bytes.Buffer
}

func newRig(t *testing.T, levers control.Table, peerURL, failoverURL string, now func() time.Time) rig {
	t.Helper()
	r := rig{levers: levers, metrics: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	p, err := probe.New(probe.Config{
		Region: self, PeerRegion: peer,
		PeerHealthURL: peerURL, FailoverHealthURL: failoverURL,
		TableName: levers.Name,
		Levers:    levers,
		Timeout:   timeout,
		Metrics:   r.metrics,
		Logger:    slog.New(slog.NewJSONHandler(r.logs, nil)),
		Now:       now,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.prober = p
	return r
}

func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func linesAt(t *testing.T, b *bytes.Buffer, level string) []map[string]any {
	var out []map[string]any
	for _, m := range jsonLines(t, b) {
		if m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}

// wantDirectives is the _aws.CloudWatchMetrics member CloudWatch reads: one
// directive per dimension set, PeerHealthy and ObservationWriteFailed under
// {TableName, PeerRegion}, FailoverNameHealthy under {TableName, DomainName}.
func wantDirectives(failover bool) []any {
	d := []any{map[string]any{
		"Namespace":  "PaymentsDR",
		"Dimensions": []any{[]any{"TableName", "PeerRegion"}},
		"Metrics": []any{
			map[string]any{"Name": "PeerHealthy", "Unit": "None"},
			map[string]any{"Name": "ObservationWriteFailed", "Unit": "Count"},
		},
	}}
	if failover {
		d = append(d, map[string]any{
			"Namespace":  "PaymentsDR",
			"Dimensions": []any{[]any{"TableName", "DomainName"}},
			"Metrics":    []any{map[string]any{"Name": "FailoverNameHealthy", "Unit": "None"}},
		})
	}
	return d
}

func flag(s control.State) float64 {
	if s == control.StateUp {
		return 1
	}
	return 0
}

func TestRound(t *testing.T) {
	servers := localaws.Shared(t)
	var redirectHits atomic.Int32
	tests := []struct {
		name               string
		peer, failover     server // failover nil: not probed
		wantPeer, wantFail control.State
		reason             string // in every WARN line's reason
	}{
		{"healthy", healthy, healthy, control.StateUp, control.StateUp, ""},
		{"dependency failing", depFailing, depFailing, control.StateDown, control.StateDown, `HTTP 503: {"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`},
		{"recovering behind the failback gate", recovering, recovering, control.StateRecovering, control.StateRecovering, `"failing":["failback-gate"]`},
		{"drained", drained, drained, control.StateDrained, control.StateDrained, `"failing":["drained","failback-gate"]`},
		{"API Gateway 502", gatewayDown, gatewayDown, control.StateDown, control.StateDown, "HTTP 502"},
		{"hangs past the timeout", hanging, hanging, control.StateDown, control.StateDown, "no complete answer within 300ms"},
		{"connection refused", refused, refused, control.StateDown, control.StateDown, "connection refused"},
		{"untrusted TLS certificate", untrustedTLS, untrustedTLS, control.StateDown, control.StateDown, "certificate"},
		{"redirect", redirecting(&redirectHits), redirecting(&redirectHits), control.StateDown, control.StateDown, "HTTP 302"},
		{"oversized body", oversized, oversized, control.StateDown, control.StateDown, "over 8192 bytes"},
		{"garbage body", garbage, garbage, control.StateDown, control.StateDown, "HTTP 200: <html>"},
		{"peer lost, failover name answers from the survivor", refused, healthy, control.StateDown, control.StateUp, "connection refused"},
		{"throttled: could not tell", throttled, throttled, control.StateUnknown, control.StateUnknown, "HTTP 429"},
		{"blocked by the WAF: could not tell", wafBlocked, healthy, control.StateUnknown, control.StateUp, "HTTP 403"},
		{"refused with an oversized page: could not tell", oversized4, oversized4, control.StateUnknown, control.StateUnknown, "over 8192 bytes"},
		{"peer healthy, failover name broken", healthy, hanging, control.StateUp, control.StateDown, "no complete answer"},
		{"failover name not probed", depFailing, nil, control.StateDown, "", "HTTP 503"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			table := fmt.Sprintf("probe-round-%d", i)
			if err := servers.CreateTable(ctx, table); err != nil {
				t.Fatal(err)
			}
			levers := control.Table{DB: servers.DynamoDBClient(), Name: table}
			// An earlier outage on record: a round that sees the peer in
			// service must leave its lastDownAt alone (that is what opens the
			// gate); one that sees it out of service must move it to now.
			// Two down rounds: one alone would not count.
			seenDown := at.Add(-30 * time.Second)
			for _, when := range []time.Time{seenDown.Add(-10 * time.Second), seenDown} {
				if err := levers.RecordObservation(ctx, peer, self, control.StateDown, when); err != nil {
					t.Fatal(err)
				}
			}
			failoverURL := ""
			if tc.failover != nil {
				failoverURL = tc.failover(t)
			}
			r := newRig(t, levers, tc.peer(t), failoverURL, func() time.Time { return at })

			start := time.Now()
			obs := r.prober.Round(ctx)
			if d := time.Since(start); d > timeout+slack {
				t.Errorf("round took %v, want at most %v (+%v slack)", d, timeout, slack)
			}

			want := probe.Observation{At: at, Peer: tc.wantPeer, FailoverName: tc.wantFail}
			if obs != want {
				t.Errorf("Round = %+v, want %+v", obs, want)
			}

			// Metrics: one EMF line with both flags and their dimensions.
			lines := jsonLines(t, r.metrics)
			if len(lines) != 1 {
				t.Fatalf("%d metric lines, want 1:\n%s", len(lines), r.metrics)
			}
			emf := lines[0]
			wantAWS := map[string]any{"Timestamp": float64(at.UnixMilli()), "CloudWatchMetrics": wantDirectives(tc.failover != nil)}
			if diff := cmp.Diff(wantAWS, emf["_aws"]); diff != "" {
				t.Errorf("_aws (-want +got):\n%s", diff)
			}
			wantMembers := map[string]any{
				"TableName": table, "PeerRegion": peer, "PeerHealthy": flag(tc.wantPeer),
				"ObservationWriteFailed": 0.0,
				"Region":                 self, "PeerState": string(tc.wantPeer), "Recorded": true,
			}
			if tc.failover != nil {
				wantMembers["DomainName"] = "127.0.0.1"
				wantMembers["FailoverNameHealthy"] = flag(tc.wantFail)
				wantMembers["FailoverNameState"] = string(tc.wantFail)
			}
			got := map[string]any{}
			for k, v := range emf {
				if k != "_aws" && !strings.HasSuffix(k, "LatencyMs") {
					got[k] = v
				}
			}
			if diff := cmp.Diff(wantMembers, got); diff != "" {
				t.Errorf("EMF members (-want +got):\n%s", diff)
			}
			if _, ok := emf["PeerLatencyMs"].(float64); !ok {
				t.Errorf("PeerLatencyMs missing: %v", emf)
			}

			// Logs: a WARN with the reason for every answer that is not up.
			wantWarn := 0
			for _, s := range []control.State{tc.wantPeer, tc.wantFail} {
				if s != control.StateUp && s != "" {
					wantWarn++
				}
			}
			warns := linesAt(t, r.logs, "WARN")
			if len(warns) != wantWarn {
				t.Errorf("%d WARN lines, want %d:\n%s", len(warns), wantWarn, r.logs)
			}
			for _, w := range warns {
				if reason, _ := w["reason"].(string); !strings.Contains(reason, tc.reason) {
					t.Errorf("WARN reason %q does not contain %q", reason, tc.reason)
				}
			}

			// The observation in this region's replica.
			p, err := levers.Peer(ctx, peer)
			if err != nil {
				t.Fatal(err)
			}
			wantItem := control.Peer{Region: peer, Found: true, Observer: self, State: tc.wantPeer,
				HeartbeatAtMs: at.UnixMilli(), LastDownAtMs: seenDown.UnixMilli()}
			switch {
			case tc.wantPeer == control.StateUnknown:
				// No evidence either way: the earlier outage stays the newest
				// observation.
				wantItem.State, wantItem.HeartbeatAtMs, wantItem.UnknownAtMs = control.StateDown, seenDown.UnixMilli(), at.UnixMilli()
			case tc.wantPeer.OutOfService():
				wantItem.LastDownAtMs = at.UnixMilli()
			}
			if diff := cmp.Diff(wantItem, p); diff != "" {
				t.Errorf("%s (-want +got):\n%s", control.PeerKey(peer), diff)
			}
		})
	}
	if n := redirectHits.Load(); n != 0 {
		t.Errorf("the redirect target was requested %d times: redirects must not be followed", n)
	}
}

// TestRoundsCountDownTwice runs rounds against a peer whose answer changes
// between them: a single round that gets no answer in time (a slow answer
// under load) is not counted as the peer out of service (lastDownAt); two in
// a row are, as one drained round is.
func TestRoundsCountDownTwice(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	const table = "probe-rounds"
	if err := servers.CreateTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	levers := control.Table{DB: servers.DynamoDBClient(), Name: table}
	type answer struct {
		code  int
		body  string
		stall bool // answers after the probe's timeout
	}
	var (
		ok      = answer{200, `{"status":"ok","region":"us-east-1"}`, false}
		slow    = answer{200, `{"status":"ok","region":"us-east-1"}`, true}
		failing = answer{503, `{"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`, false}
		drain   = answer{503, `{"status":"unavailable","region":"us-east-1","failing":["drained","failback-gate"]}`, false}
	)
	var current atomic.Pointer[answer]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := current.Load()
		if a.stall {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(timeout + 200*time.Millisecond):
			}
		}
		w.WriteHeader(a.code)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	now := at
	r := newRig(t, levers, srv.URL+"/prod/status", "", func() time.Time { return now })
	for i, step := range []struct {
		peer    answer
		want    control.State
		counted bool
	}{
		{ok, control.StateUp, false},
		{slow, control.StateDown, false}, // one slow round: not counted
		{ok, control.StateUp, false},
		{failing, control.StateDown, false},
		{slow, control.StateDown, true}, // the second down round in a row
		{ok, control.StateUp, false},
		{drain, control.StateDrained, true},
		{ok, control.StateUp, false},
	} {
		now = at.Add(time.Duration(i) * 10 * time.Second)
		current.Store(&step.peer)
		obs := r.prober.Round(ctx)
		if obs.Peer != step.want || obs.Recorded != nil {
			t.Fatalf("round %d: %+v, want peer %s recorded", i, obs, step.want)
		}
		p, err := levers.Peer(ctx, peer)
		if err != nil {
			t.Fatal(err)
		}
		if counted := p.LastDownAtMs == now.UnixMilli(); counted != step.counted {
			t.Errorf("round %d (%s): counted out of service = %v, want %v; item %+v", i, step.want, counted, step.counted, p)
		}
	}
}

// refusingDB answers every call the way DynamoDB refuses a role without the
// grant (or whose key is unusable): at once, with an API error.
type refusingDB struct{ control.DynamoDB }

var errRefused = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: dynamodb:UpdateItem"}

func (refusingDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errRefused
}

func (refusingDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errRefused
}

// TestRoundWhenDynamoDBFails: the metrics are how a person learns the peer
// is gone, so they are published whether or not the observation could be
// written; the write's failure is reported, bounded in time, and published as
// ObservationWriteFailed = 1, the metric the stack's alarm pages on (the
// handler returns nil whatever happened, so nothing else would).
func TestRoundWhenDynamoDBFails(t *testing.T) {
	tests := []struct {
		name   string
		levers func(t *testing.T) control.Table
	}{
		{"the role may not write the item", func(t *testing.T) control.Table {
			return control.Table{DB: refusingDB{}, Name: "payments"}
		}},
		{"table does not exist", func(t *testing.T) control.Table {
			return control.Table{DB: localaws.Shared(t).DynamoDBClient(), Name: "no-such-table"}
		}},
		{"DynamoDB stopped", func(t *testing.T) control.Table {
			s := localaws.Dedicated(t)
			if err := s.CreateTable(context.Background(), "payments"); err != nil {
				t.Fatal(err)
			}
			s.DynamoDB.Stop()
			return control.Table{DB: s.DynamoDBClient(), Name: "payments"}
		}},
		{"DynamoDB accepts connections and never answers", func(t *testing.T) control.Table {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			s := &localaws.Servers{}
			db := dynamodb.NewFromConfig(s.Config(), func(o *dynamodb.Options) {
				o.BaseEndpoint = aws.String("http://" + l.Addr().String())
			})
			return control.Table{DB: db, Name: "payments"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.levers(t), healthy(t), healthy(t), func() time.Time { return at })
			start := time.Now()
			obs := r.prober.Round(context.Background())
			if d := time.Since(start); d > timeout+probe.RecordTimeout+slack {
				t.Errorf("round took %v, want at most %v", d, timeout+probe.RecordTimeout)
			}
			if obs.Recorded == nil {
				t.Fatal("Recorded = nil, want the write's error")
			}
			if obs.Peer != control.StateUp || obs.FailoverName != control.StateUp {
				t.Errorf("states %s/%s, want up/up: the peer answered", obs.Peer, obs.FailoverName)
			}
			lines := jsonLines(t, r.metrics)
			if len(lines) != 1 {
				t.Fatalf("%d metric lines, want 1 even though the write failed:\n%s", len(lines), r.metrics)
			}
			if lines[0]["PeerHealthy"] != 1.0 || lines[0]["FailoverNameHealthy"] != 1.0 || lines[0]["Recorded"] != false ||
				lines[0]["ObservationWriteFailed"] != 1.0 {
				t.Errorf("metric line %v, want PeerHealthy 1, FailoverNameHealthy 1, ObservationWriteFailed 1, Recorded false", lines[0])
			}
			if diff := cmp.Diff(wantDirectives(true), lines[0]["_aws"].(map[string]any)["CloudWatchMetrics"]); diff != "" {
				t.Errorf("directives (-want +got):\n%s", diff)
			}
			errs := linesAt(t, r.logs, "ERROR")
			if len(errs) != 1 || errs[0]["key"] != control.PeerKey(peer) {
				t.Errorf("want one ERROR naming %s, got:\n%s", control.PeerKey(peer), r.logs)
			}
		})
	}
}

// TestRoundAbandonedWhenContextEnds: when the invocation itself runs out, the
// failed requests say nothing about the peer; publishing 0 would page
// someone and recording "down" would close the peer's failback gate.
func TestRoundAbandonedWhenContextEnds(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	if err := servers.CreateTable(ctx, "probe-abandoned"); err != nil {
		t.Fatal(err)
	}
	levers := control.Table{DB: servers.DynamoDBClient(), Name: "probe-abandoned"}
	r := newRig(t, levers, hanging(t), hanging(t), func() time.Time { return at })

	short, cancel := context.WithTimeout(ctx, timeout/3)
	defer cancel()
	obs := r.prober.Round(short)
	if obs.Recorded == nil || obs.Peer != "" || obs.FailoverName != "" {
		t.Errorf("Round = %+v, want no states and an error", obs)
	}
	if r.metrics.Len() != 0 {
		t.Errorf("metrics published for an abandoned round:\n%s", r.metrics)
	}
	if p, err := levers.Peer(ctx, peer); err != nil || p.Found {
		t.Errorf("observation written for an abandoned round: %+v, %v", p, err)
	}
}

func TestRun(t *testing.T) {
	servers := localaws.Shared(t)
	round := timeout + probe.RecordTimeout
	tests := []struct {
		name      string
		deadline  time.Duration // 0: none
		cancel    time.Duration // 0: never
		rounds    int
		interval  time.Duration
		min, max  int
		maxLength time.Duration // Run returns within this
	}{
		{"all rounds without a deadline", 0, 0, 3, 150 * time.Millisecond, 3, 3, 2*150*time.Millisecond + round},
		// Rounds may start at 0, 0.4 and 0.8 s and still end (2.3 s later,
		// plus the margin to return) before 3.5 s; the fourth may not.
		{"stops before the deadline", 3500 * time.Millisecond, 0, 10, 400 * time.Millisecond, 2, 3, 3500 * time.Millisecond},
		{"deadline too close for one round", round, 0, 5, time.Second, 0, 0, 50 * time.Millisecond},
		{"cancelled while waiting", 0, 500 * time.Millisecond, 5, 2 * time.Second, 1, 1, 500*time.Millisecond + slack},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := fmt.Sprintf("probe-run-%d", i)
			if err := servers.CreateTable(context.Background(), table); err != nil {
				t.Fatal(err)
			}
			levers := control.Table{DB: servers.DynamoDBClient(), Name: table}
			// When each round's request reached the peer: the schedule is
			// start to start, whatever each round's answers took.
			var mu sync.Mutex
			var arrivals []time.Time
			peerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				fmt.Fprint(w, `{"status":"ok","region":"us-east-1"}`)
			}))
			t.Cleanup(peerSrv.Close)
			r := newRig(t, levers, peerSrv.URL+"/prod/status", healthy(t), nil)

			ctx := context.Background()
			start := time.Now()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.deadline))
				defer cancel()
			}
			if tc.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.cancel, cancel)
				defer cancel()
			}
			obs := r.prober.Run(ctx, tc.rounds, tc.interval)
			took := time.Since(start)

			if len(obs) < tc.min || len(obs) > tc.max {
				t.Errorf("%d rounds, want %d..%d", len(obs), tc.min, tc.max)
			}
			if took > tc.maxLength+slack {
				t.Errorf("Run took %v, want at most %v", took, tc.maxLength)
			}
			if d, ok := ctx.Deadline(); ok && time.Now().After(d) {
				t.Errorf("Run returned %v after the deadline", time.Since(d))
			}
			for j, o := range obs {
				if o.Peer != control.StateUp || o.Recorded != nil {
					t.Errorf("round %d: %+v", j, o)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(arrivals) != len(obs) {
				t.Errorf("the peer was asked %d times in %d rounds", len(arrivals), len(obs))
			}
			// Round j is due j intervals after the start, never earlier. Gaps
			// between consecutive arrivals are not the measure: on a loaded
			// machine one round's request can arrive late and the next on time.
			for j := 1; j < len(arrivals); j++ {
				if at, due := arrivals[j].Sub(start), time.Duration(j)*tc.interval; at < due-20*time.Millisecond {
					t.Errorf("round %d reached the peer %v after the start, before it was due at %v", j, at, due)
				}
			}
			if n := len(jsonLines(t, r.metrics)); n != len(obs) {
				t.Errorf("%d metric lines for %d rounds", n, len(obs))
			}
			p, err := levers.Peer(context.Background(), peer)
			if err != nil {
				t.Fatal(err)
			}
			if len(obs) > 0 && p.HeartbeatAtMs != obs[len(obs)-1].At.UnixMilli() {
				t.Errorf("heartbeat %d, want the last round's %d", p.HeartbeatAtMs, obs[len(obs)-1].At.UnixMilli())
			}
			if len(obs) == 0 && p.Found {
				t.Errorf("an observation was written without a round: %+v", p)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := func() probe.Config {
		return probe.Config{
			Region: self, PeerRegion: peer,
			PeerHealthURL:     "https://abc.execute-api.us-east-1.amazonaws.com/prod/status",
			FailoverHealthURL: "https://api.payments.example.com/status",
			TableName:         "payments",
			Levers:            control.Table{DB: &dynamodb.Client{}, Name: "payments"},
		}
	}
	if _, err := probe.New(good()); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	tests := []struct {
		name   string
		change func(*probe.Config)
		want   []string
	}{
		{"no regions", func(c *probe.Config) { c.Region, c.PeerRegion = "", "" }, []string{"Region is empty", "PeerRegion is empty"}},
		{"watches itself", func(c *probe.Config) { c.PeerRegion = self }, []string{"PeerRegion", "this region"}},
		{"peer URL missing", func(c *probe.Config) { c.PeerHealthURL = "" }, []string{"PeerHealthURL"}},
		{"peer URL relative", func(c *probe.Config) { c.PeerHealthURL = "/prod/status" }, []string{"PeerHealthURL"}},
		{"failover URL not http", func(c *probe.Config) { c.FailoverHealthURL = "ftp://api.example.com/status" }, []string{"FailoverHealthURL"}},
		{"no table name", func(c *probe.Config) { c.TableName = "" }, []string{"TableName"}},
		{"no levers", func(c *probe.Config) { c.Levers = control.Table{} }, []string{"Levers"}},
		{"negative timeout", func(c *probe.Config) { c.Timeout = -time.Second }, []string{"Timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(&c)
			_, err := probe.New(c)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestRoundChecksItsOwnPath (issue 13): a probe whose own way out is cut
// (this region's outbound network degrades first, as it often does before a
// regional failure) gets no answer from the peer, and none from its own
// region's /status either: the round is unknown (unknownAt only), not a down
// round against a peer that is fine. When its own API answers, even 503, the
// path works and the peer's silence counts.
func TestRoundChecksItsOwnPath(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	refused := "http://127.0.0.1:1/prod/status" // nothing listens on port 1
	ownAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(503)
		fmt.Fprint(w, `{"status":"unavailable","region":"us-east-2","failing":["s3"]}`)
	}))
	t.Cleanup(ownAPI.Close)
	for i, tc := range []struct {
		name     string
		self     string
		want     control.State
		cut      bool
		recorded control.State // the item's state afterwards ("" when none)
	}{
		{"own API answers: the peer is down", ownAPI.URL + "/prod/status", control.StateDown, false, control.StateDown},
		{"own API silent too: unknown", refused, control.StateUnknown, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := fmt.Sprintf("probe-own-path-%d", i)
			if err := servers.CreateTable(ctx, table); err != nil {
				t.Fatal(err)
			}
			levers := control.Table{DB: servers.DynamoDBClient(), Name: table}
			p, err := probe.New(probe.Config{
				Region: self, PeerRegion: peer, PeerHealthURL: refused, SelfHealthURL: tc.self,
				TableName: table, Levers: levers, Timeout: timeout,
			})
			if err != nil {
				t.Fatal(err)
			}
			obs := p.Round(ctx)
			if obs.Peer != tc.want || obs.OwnPathCut != tc.cut || obs.Recorded != nil {
				t.Fatalf("round = %+v, want peer %s, own path cut %v", obs, tc.want, tc.cut)
			}
			item, err := levers.Peer(ctx, peer)
			if err != nil {
				t.Fatal(err)
			}
			if item.State != tc.recorded || (tc.cut && (item.UnknownAtMs == 0 || item.HeartbeatAtMs != 0)) {
				t.Errorf("item %+v: want state %q (an own-path cut writes unknownAt only)", item, tc.recorded)
			}
		})
	}
}
