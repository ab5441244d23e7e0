package gameday

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// One game day at a time: their assertions are timing bounds (a check
	// interval, a catch-up window), and three at a time on two cores, beside
	// the other packages `make test` runs at once, missed them now and then
	// (a gate that was right, flagged). About 70 s instead of 40 s, shorter
	// than lambda/app's tests, which run beside it. An explicit -parallel wins.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if f := flag.Lookup("test.parallel"); f != nil && !explicit {
		f.Value.Set("1")
	}
	code := localaws.Run(m)
	CloseStandIns()
	os.Exit(code)
}

// TestRouterFailover feeds health-check results to the router and reads the
// DNS answer, as Route 53 failover records with a failure threshold of 3
// would give it.
func TestRouterFailover(t *testing.T) {
	type step struct {
		region int
		ok     bool
		want   int // answer after the step
	}
	p, s := 0, 1
	tests := []struct {
		name  string
		steps []step
	}{
		{"two failures are not enough", []step{{p, false, p}, {p, false, p}}},
		{"three failures fail over", []step{{p, false, p}, {p, false, p}, {p, false, s}}},
		{"a success resets the count", []step{{p, false, p}, {p, false, p}, {p, true, p}, {p, false, p}, {p, false, p}}},
		{"failback needs three successes", []step{{p, false, p}, {p, false, p}, {p, false, s}, {p, true, s}, {p, true, s}, {p, true, p}}},
		{"both unhealthy answer the primary", []step{{p, false, p}, {p, false, p}, {p, false, s}, {s, false, s}, {s, false, s}, {s, false, p}}},
		{"secondary unhealthy alone changes nothing", []step{{s, false, p}, {s, false, p}, {s, false, p}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter([2]string{Primary, Secondary}, [2]string{}, time.Second, time.Second, 3, &timeline{w: io.Discard, start: time.Now()})
			for i, st := range tc.steps {
				r.record(st.region, st.ok)
				if got := r.resolve(); got != st.want {
					t.Fatalf("after step %d (%+v): answer %d, want %d", i, st, got, st.want)
				}
			}
		})
	}
}

func TestAnsweredDuring(t *testing.T) {
	t0 := time.Now()
	h := []answer{{t0, 0}, {t0.Add(2 * time.Second), 1}, {t0.Add(5 * time.Second), 0}}
	for _, tc := range []struct {
		region   int
		from, to time.Duration
		want     bool
	}{
		{0, 3 * time.Second, 4 * time.Second, false},
		{1, 3 * time.Second, 4 * time.Second, true},
		{0, 3 * time.Second, 6 * time.Second, true},
		{0, time.Second, 3 * time.Second, true},
		{1, 5500 * time.Millisecond, 7 * time.Second, false},
	} {
		if _, got := answeredDuring(h, tc.region, t0.Add(tc.from), t0.Add(tc.to)); got != tc.want {
			t.Errorf("answeredDuring(%d, %v..%v) = %v, want %v", tc.region, tc.from, tc.to, got, tc.want)
		}
	}
}

func TestWrittenKey(t *testing.T) {
	for _, tc := range []struct {
		body, want string
		err        bool
	}{
		{`{"TableName":"t","Item":{"paymentId":{"S":"p1"},"amount":{"N":"1"}}}`, "p1", false},
		{`{"TableName":"t","Key":{"paymentId":{"S":"control#peer#us-east-1"}}}`, "control#peer#us-east-1", false},
		{`{"TableName":"t","Key":{"other":{"S":"x"}}}`, "", true},
		{`not json`, "", true},
	} {
		got, err := writtenKey([]byte(tc.body))
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("writtenKey(%s) = %q, %v", tc.body, got, err)
		}
	}
}

// TestAdapter checks the API Gateway stand-in: the event carries what the
// handler routes on, and the answer's status, headers and body come back.
func TestAdapter(t *testing.T) {
	var seen events.APIGatewayProxyRequest
	var answered atomic.Int32
	s, err := newServer("adapter", &adapter{
		handle: func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			seen = req
			if _, ok := ctx.Deadline(); !ok {
				return events.APIGatewayProxyResponse{}, errors.New("no invocation deadline")
			}
			return events.APIGatewayProxyResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`}, nil
		},
		answered: func(events.APIGatewayProxyRequest, events.APIGatewayProxyResponse) { answered.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	resp, err := http.Post(s.URL()+"/payments", "application/json", strings.NewReader(`{"paymentId":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if seen.HTTPMethod != "POST" || seen.Path != "/payments" || seen.Body != `{"paymentId":"a"}` ||
		seen.Headers["Content-Type"] != "application/json" || seen.RequestContext.RequestID == "" {
		t.Errorf("event %+v", seen)
	}
	if answered.Load() != 1 {
		t.Errorf("answered %d times", answered.Load())
	}
	// Stopped, it refuses connections; started again, same URL.
	s.stop()
	if _, err := http.Get(s.URL() + "/health"); err == nil {
		t.Error("a stopped server answered")
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(s.URL() + "/health"); err != nil {
		t.Errorf("restarted server: %v", err)
	} else {
		resp.Body.Close()
	}
}

// TestAdapterAuthorizer: like API Gateway with a TOKEN authorizer on the
// payment methods, the stand-in refuses a bad token with 401 without
// invoking the function, passes the principal on, and leaves /health open.
func TestAdapterAuthorizer(t *testing.T) {
	var invoked atomic.Int32
	var principal atomic.Value
	s, err := newServer("adapter", &adapter{
		handle: func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			invoked.Add(1)
			p, _ := req.RequestContext.Authorizer["principalId"].(string)
			principal.Store(p)
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		},
		authorize: func(_ context.Context, h string) (string, error) {
			if h != "Bearer good" {
				return "", errors.New("bad token")
			}
			return "client-a", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	tests := []struct {
		path, token   string
		status        int
		wantInvoked   bool
		wantPrincipal string
	}{
		{"/payments/p1", "", 401, false, ""},
		{"/payments/p1", "Bearer bad", 401, false, ""},
		{"/payments/p1", "Bearer good", 200, true, "client-a"},
		{"/health", "", 200, true, ""},
	}
	for _, tc := range tests {
		invoked.Store(0)
		principal.Store("")
		req, _ := http.NewRequest(http.MethodGet, s.URL()+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || (invoked.Load() == 1) != tc.wantInvoked || principal.Load() != tc.wantPrincipal {
			t.Errorf("%s with %q: %d, invoked %d, principal %q; want %d, %v, %q", tc.path, tc.token,
				resp.StatusCode, invoked.Load(), principal.Load(), tc.status, tc.wantInvoked, tc.wantPrincipal)
		}
	}
}

// pair is two replicas on the shared dynalite (one table each) with links
// both ways.
type pair struct {
	reps    [2]*replica
	links   [2]*link
	clients [2]*dynamodb.Client // through each replica's proxy
}

var pairs atomic.Int32

func newPair(t *testing.T, lag time.Duration) *pair {
	servers := localaws.Shared(t)
	ctx := context.Background()
	clk := &clock{}
	p := &pair{}
	n := pairs.Add(1)
	for i := range p.reps {
		table := fmt.Sprintf("repl-%d-%d", n, i)
		if err := servers.CreateTable(ctx, table); err != nil {
			t.Fatal(err)
		}
		r := &replica{region: fmt.Sprint(i), table: table, target: servers.DynamoDB.URL, direct: servers.DynamoDBClient(),
			clock: clk, log: slog.New(slog.DiscardHandler), versions: map[string]int64{}, fwd: &http.Client{Timeout: 5 * time.Second}}
		var err error
		if r.proxy, err = newServer("table", r); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.proxy.stop)
		p.reps[i] = r
		p.clients[i] = dynamodb.NewFromConfig(servers.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(r.proxy.URL()) })
	}
	for i := range p.reps {
		p.links[i] = newLink(fmt.Sprint(i), p.reps[1-i], lag, slog.New(slog.DiscardHandler))
		p.reps[i].out = p.links[i]
		go p.links[i].run()
		t.Cleanup(p.links[i].close)
	}
	return p
}

func (p *pair) put(t *testing.T, i int, key, val string, cond string) error {
	t.Helper()
	in := &dynamodb.PutItemInput{TableName: &p.reps[i].table, Item: map[string]types.AttributeValue{
		"paymentId": &types.AttributeValueMemberS{Value: key}, "v": &types.AttributeValueMemberS{Value: val}}}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	_, err := p.clients[i].PutItem(context.Background(), in)
	return err
}

func (p *pair) read(t *testing.T, i int, key string) string {
	t.Helper()
	item, err := p.reps[i].get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := item["v"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s", what)
		}
	}
}

func TestReplicationLagAndPause(t *testing.T) {
	p := newPair(t, 300*time.Millisecond)
	start := time.Now()
	if err := p.put(t, 0, "k1", "a", ""); err != nil {
		t.Fatal(err)
	}
	if got := p.read(t, 1, "k1"); got != "" && time.Since(start) < 300*time.Millisecond {
		t.Errorf("replicated before the lag: %q", got)
	}
	waitFor(t, "k1 replicated", func() bool { return p.read(t, 1, "k1") == "a" })

	// A conditional write that fails changes nothing and replicates nothing.
	if err := p.put(t, 0, "k1", "b", "attribute_not_exists(paymentId)"); err == nil {
		t.Fatal("conditional put over an existing item succeeded")
	}
	if n := p.links[0].pending(); n != 0 {
		t.Errorf("a failed write was queued (%d pending)", n)
	}

	// Paused, writes queue; resumed, they arrive in write order.
	p.links[0].pause()
	for i := range 5 {
		if err := p.put(t, 0, "k2", fmt.Sprint(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(400 * time.Millisecond)
	if got := p.read(t, 1, "k2"); got != "" {
		t.Errorf("paused link delivered %q", got)
	}
	p.links[0].resumeCatchingUp(200 * time.Millisecond)
	waitFor(t, "backlog delivered", func() bool { return !p.links[0].caughtUp().IsZero() })
	if got := p.read(t, 1, "k2"); got != "4" {
		t.Errorf("after the backlog, k2 = %q, want the last write 4", got)
	}
}

// TestReplicationLastWriterWins writes one item in both regions while
// replication is stopped: both must converge on the later write, as a
// global table does, instead of swapping or keeping their own.
func TestReplicationLastWriterWins(t *testing.T) {
	p := newPair(t, 10*time.Millisecond)
	p.links[0].pause()
	p.links[1].pause()
	if err := p.put(t, 1, "k", "older", ""); err != nil {
		t.Fatal(err)
	}
	if err := p.put(t, 0, "k", "newer", ""); err != nil {
		t.Fatal(err)
	}
	p.links[0].resume()
	p.links[1].resume()
	waitFor(t, "drained", func() bool { return p.links[0].pending()+p.links[1].pending() == 0 })
	for i := range p.reps {
		if got := p.read(t, i, "k"); got != "newer" {
			t.Errorf("replica %d holds %q, want the last write", i, got)
		}
	}
}

// TestReplicationCapturesAWriteWhoseCallerHungUp: a write that reached the
// table is applied, and must replicate, even when its caller hangs up before
// the answer (a region killed in the middle of an invocation, a client
// timeout). Forwarded with the caller's context, such a write was applied
// locally and never captured: the game day's occasional lost payment.
func TestReplicationCapturesAWriteWhoseCallerHungUp(t *testing.T) {
	p := newPair(t, 10*time.Millisecond)
	dynalite := p.reps[0].target
	// The table applies the write at once and answers late.
	late, err := newServer("late table", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, dynalite+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		time.Sleep(300 * time.Millisecond)
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer late.stop()
	p.reps[0].target = late.URL()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = p.clients[0].PutItem(ctx, &dynamodb.PutItemInput{TableName: &p.reps[0].table, Item: map[string]types.AttributeValue{
		"paymentId": &types.AttributeValueMemberS{Value: "hung-up"}, "v": &types.AttributeValueMemberS{Value: "applied"}}})
	if err == nil {
		t.Fatal("the caller got an answer before its timeout; the test needs it to hang up first")
	}
	waitFor(t, "the applied write replicated", func() bool { return p.read(t, 1, "hung-up") == "applied" })
}
