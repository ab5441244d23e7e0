package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// pair is two regions wired as deployed (DR_ROLE primary and secondary), each
// on its own DynamoDB and S3 stand-ins, with no replication between them: the
// test moves items by hand, in whatever order it needs.
type pair struct {
	primary, secondary *api.Handler
	tables             [2]control.Table // direct, for the test's own reads and copies
}

var fastGate = control.GateRules{Tolerance: 200 * time.Millisecond, MaxSkew: 50 * time.Millisecond, Settle: time.Second,
	// Generous: the stand-ins answer slowly on a loaded machine, and a read of the
	// secondary that times out reads unknown. The hung test checks the bound.
	RemoteTimeout: time.Second, PageSize: 100, MaxPages: 2}

func newPair(t *testing.T, peerEndpointOfPrimary string) pair {
	t.Helper()
	ctx := context.Background()
	servers := [2]*localaws.Servers{localaws.Dedicated(t), localaws.Dedicated(t)}
	const table = "payments-pair"
	regions := [2]string{"us-east-1", "us-east-2"}
	var p pair
	for i, srv := range servers {
		if err := srv.Provision(ctx, table, "receipts-"+regions[i]); err != nil {
			t.Fatal(err)
		}
		p.tables[i] = control.Table{DB: srv.DynamoDBClient(), Name: table}
	}
	for i, role := range []string{control.RolePrimary, control.RoleSecondary} {
		cfg, err := LoadAWSConfig(ctx, config.WithRegion(regions[i]),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localaws.AccessKey, localaws.SecretKey, "")),
			config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
		if err != nil {
			t.Fatal(err)
		}
		peer := servers[1-i].DynamoDB.URL
		if i == 0 && peerEndpointOfPrimary != "" {
			peer = peerEndpointOfPrimary
		}
		h := api.New(Config(cfg, Settings{
			Table: table, Bucket: "receipts-" + regions[i], ForcePathStyle: true, Role: role,
			DynamoDBEndpoint: servers[i].DynamoDB.URL, S3Endpoint: servers[i].S3.URL,
			PeerRegion: regions[1-i], PeerDynamoDBEndpoint: peer, GateRules: fastGate,
		}, slog.New(slog.DiscardHandler)))
		if i == 0 {
			p.primary = h
		} else {
			p.secondary = h
		}
	}
	return p
}

func post(h *api.Handler, owner, id string) events.APIGatewayProxyResponse {
	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{
		Path: "/payments", HTTPMethod: http.MethodPost,
		Headers:        map[string]string{"Content-Type": "application/json"},
		Body:           `{"paymentId":"` + id + `","amount":1250,"currency":"USD"}`,
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{"principalId": owner}},
	})
	return resp
}

func get(h *api.Handler, owner, id string) events.APIGatewayProxyResponse {
	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{
		Path: "/payments/" + id, HTTPMethod: http.MethodGet, PathParameters: map[string]string{"paymentId": id},
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{"principalId": owner}},
	})
	return resp
}

func healthOf(t *testing.T, h *api.Handler) (int, []string, map[string]any) {
	t.Helper()
	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{Path: "/status", HTTPMethod: http.MethodGet})
	var body struct {
		Failing []string       `json:"failing"`
		Gate    map[string]any `json:"gate"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("/status body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, body.Failing, body.Gate
}

// copyItem replicates one payment from the secondary's replica to the
// primary's, as the global table would, item by item.
func (p pair) copyItem(t *testing.T, owner, id string) {
	t.Helper()
	ctx := context.Background()
	key := payment.Key(owner, id)
	out, err := p.tables[1].DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &p.tables[1].Name,
		Key: map[string]types.AttributeValue{control.KeyAttribute: &types.AttributeValueMemberS{Value: key}}})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("read %s in the secondary: %v", key, err)
	}
	if _, err := p.tables[0].DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &p.tables[0].Name, Item: out.Item}); err != nil {
		t.Fatal(err)
	}
}

// TestOnlyThePrimaryGates: whatever the table holds, the secondary's /health
// never runs the failback gate and it never refuses a write: Route 53 sends it
// traffic only while the primary is unhealthy, so a gate there could only make
// both regions unhealthy, and then Route 53 answers with the failed primary
// (issue 13, problem 1).
func TestOnlyThePrimaryGates(t *testing.T) {
	p := newPair(t, "")
	// The primary accepted nothing the secondary lacks, and a closed override
	// of the *secondary's* name would be ignored too: there is no such gate.
	if err := p.tables[1].SetOverride(context.Background(), control.Override{Region: "us-east-2", State: control.OverrideClosed, Reason: "test", By: "t"}, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if code, failing, _ := healthOf(t, p.secondary); code != 200 {
		t.Errorf("secondary /status = %d failing %v, want 200", code, failing)
	}
	if r := post(p.secondary, "client-a", "s-1"); r.StatusCode != 201 {
		t.Errorf("secondary POST = %d %s, want 201", r.StatusCode, r.Body)
	}
	// The primary's does run it: the payment above is not in its replica
	// (once it is older than the secondary's live tail).
	time.Sleep(fastGate.Tolerance + fastGate.MaxSkew + 50*time.Millisecond)
	if code, failing, _ := healthOf(t, p.primary); code != 503 || !slices.Equal(failing, []string{control.CheckFailbackGate}) {
		t.Errorf("primary /status = %d failing %v, want 503 [failback-gate]", code, failing)
	}
}

// TestPrimaryGateFollowsThePayments walks the primary through a failback:
// the secondary accepted payments, they replicate in any order, and the
// primary passes /health and takes writes only once every one is in its
// replica; a payment it lacks is still readable through it meanwhile.
func TestPrimaryGateFollowsThePayments(t *testing.T) {
	p := newPair(t, "")
	if code, _, gate := healthOf(t, p.primary); code != 200 || gate["verdict"] != string(control.VerdictOpen) {
		t.Fatalf("nothing accepted in the secondary: primary /status = %d gate %v, want 200 open", code, gate)
	}
	ids := []string{"fo-1", "fo-2", "fo-3"}
	for _, id := range ids {
		if r := post(p.secondary, "client-a", id); r.StatusCode != 201 {
			t.Fatalf("secondary POST %s = %d %s", id, r.StatusCode, r.Body)
		}
	}
	// Past the live tail: these are a backlog now, not the secondary's newest
	// work still replicating.
	time.Sleep(fastGate.Tolerance + fastGate.MaxSkew + 50*time.Millisecond)
	// Out of order: the newest first.
	for i := len(ids) - 1; i >= 0; i-- {
		code, failing, gate := healthOf(t, p.primary)
		if code != 503 || !slices.Equal(failing, []string{control.CheckFailbackGate}) || gate["verdict"] != string(control.VerdictBehind) {
			t.Errorf("%d of %d replicated: primary /status = %d failing %v gate %v, want 503 behind", len(ids)-1-i, len(ids), code, failing, gate)
		}
		if r := post(p.primary, "client-b", "new-"+ids[i]); r.StatusCode != 503 || !strings.Contains(r.Body, api.CodeFailbackInProgress) || r.Headers["Retry-After"] == "" {
			t.Errorf("primary POST while behind = %d %s %v, want 503 %s with Retry-After", r.StatusCode, r.Body, r.Headers, api.CodeFailbackInProgress)
		}
		// Not here yet, but an acknowledged payment is never answered 404
		// while the secondary answers.
		if r := get(p.primary, "client-a", ids[0]); r.StatusCode != 200 {
			t.Errorf("primary GET of a payment still in the secondary only = %d %s, want 200", r.StatusCode, r.Body)
		}
		p.copyItem(t, "client-a", ids[i])
		time.Sleep(WriteGateMaxAge) // the write path's cached decision
	}
	if code, failing, _ := healthOf(t, p.primary); code != 200 {
		t.Errorf("all replicated: primary /status = %d failing %v, want 200", code, failing)
	}
	if r := post(p.primary, "client-b", "after"); r.StatusCode != 201 {
		t.Errorf("primary POST after the catch-up = %d %s, want 201", r.StatusCode, r.Body)
	}
	// Another caller's payment with the same id is a different payment: the
	// gate's evidence is by table key.
	if r := get(p.primary, "client-b", ids[0]); r.StatusCode != 404 {
		t.Errorf("another caller's GET = %d, want 404", r.StatusCode)
	}
}

// TestPrimaryGateOverride: an operator's override decides, in either
// direction, from either replica's copy, and shows in /status; an expired one
// is ignored.
func TestPrimaryGateOverride(t *testing.T) {
	p := newPair(t, "")
	ctx := context.Background()
	now := time.Now()
	for _, step := range []struct {
		name    string
		in      int // replica written
		state   string
		at      time.Time
		d       time.Duration
		code    int
		verdict control.Verdict
		post    int
	}{
		{"closed through the primary", 0, control.OverrideClosed, now, time.Hour, 503, control.VerdictOverrideClosed, 503},
		{"opened through the secondary, newer", 1, control.OverrideOpen, now.Add(time.Second), time.Hour, 200, control.VerdictOverrideOpen, 201},
		{"closed again through the primary, newest", 0, control.OverrideClosed, now.Add(2 * time.Second), time.Hour, 503, control.VerdictOverrideClosed, 503},
		{"both expired: the evidence decides", 0, control.OverrideClosed, now.Add(-2 * time.Hour), time.Hour, 200, control.VerdictOpen, 201},
	} {
		if step.name == "both expired: the evidence decides" {
			if err := p.tables[1].SetOverride(ctx, control.Override{Region: "us-east-1", State: control.OverrideOpen, Reason: "x", By: "t"}, step.at, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.tables[step.in].SetOverride(ctx, control.Override{Region: "us-east-1", State: step.state, Reason: "stuck gate drill", By: "oncall"}, step.at, step.d); err != nil {
			t.Fatal(err)
		}
		time.Sleep(WriteGateMaxAge)
		code, _, gate := healthOf(t, p.primary)
		if code != step.code || gate["verdict"] != string(step.verdict) {
			t.Errorf("%s: /status = %d gate %v, want %d %s", step.name, code, gate, step.code, step.verdict)
		}
		if step.verdict != control.VerdictOpen && (gate["by"] != "oncall" || gate["reason"] != "stuck gate drill") {
			t.Errorf("%s: /status gate %v does not show who and why", step.name, gate)
		}
		if r := post(p.primary, "client-a", "ov-"+strings.ReplaceAll(step.name, " ", "-")[:8]+time.Now().Format("150405.000")[7:]); r.StatusCode != step.post {
			t.Errorf("%s: POST = %d %s, want %d", step.name, r.StatusCode, r.Body, step.post)
		}
	}
}

// TestPrimaryFailsClosedWhenTheSecondaryHangs: a secondary whose DynamoDB
// accepts connections and never answers (a region going away, or a partition)
// closes the primary's gate within the bound (Route 53 still answers with the
// primary if the secondary is unhealthy too), but does not refuse writes:
// that is also how a dead secondary looks, and then all traffic is here.
func TestPrimaryFailsClosedWhenTheSecondaryHangs(t *testing.T) {
	p := newPair(t, localaws.Hanging(t))
	start := time.Now()
	code, failing, gate := healthOf(t, p.primary)
	took := time.Since(start)
	if code != 503 || !slices.Equal(failing, []string{control.CheckFailbackGate}) || gate["verdict"] != string(control.VerdictUnknown) {
		t.Errorf("secondary hangs: primary /status = %d failing %v gate %v, want 503 unknown", code, failing, gate)
	}
	if took > fastGate.RemoteTimeout+400*time.Millisecond {
		t.Errorf("/status took %v: the reads of the secondary must end at %v", took, fastGate.RemoteTimeout)
	}
	if r := post(p.primary, "client-a", "alone"); r.StatusCode != 201 {
		t.Errorf("POST with the secondary unreadable = %d %s, want 201", r.StatusCode, r.Body)
	}
	// Not here and the secondary cannot say: it may hold an acknowledged
	// payment, so the answer is a retryable 503, not a 404, within the bound.
	start = time.Now()
	if r := get(p.primary, "client-a", "missing"); r.StatusCode != 503 || r.Headers["Retry-After"] == "" {
		t.Errorf("GET of a payment not here with the secondary hung = %d %v, want 503 with Retry-After", r.StatusCode, r.Headers)
	}
	if took := time.Since(start); took > payment.DefaultPeerTimeout+400*time.Millisecond {
		t.Errorf("GET took %v: the read of the secondary must end at %v", took, payment.DefaultPeerTimeout)
	}
}
