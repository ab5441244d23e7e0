package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/memstore"
)

const validBody = `{"paymentId":"p1","amount":1250,"currency":"USD","reference":"inv 1"}`

// caller is the principal the authorizer names on requests built here.
const caller = "client-a"

// authorizedBy sets the principal as API Gateway passes the TOKEN
// authorizer's principalId to a Lambda proxy integration.
func authorizedBy(principal string) events.APIGatewayProxyRequestContext {
	return events.APIGatewayProxyRequestContext{Authorizer: map[string]any{"principalId": principal, "principal": principal}}
}

func postReq(body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource: "/payments", Path: "/payments", HTTPMethod: http.MethodPost,
		Headers: map[string]string{"content-type": "application/json"}, Body: body,
		RequestContext: authorizedBy(caller),
	}
}

func getReq(id string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource: "/payments/{paymentId}", Path: "/payments/" + id, HTTPMethod: http.MethodGet,
		PathParameters: map[string]string{"paymentId": id},
		RequestContext: authorizedBy(caller),
	}
}

// as is req made by principal.
func as(principal string, req events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
	req.RequestContext = authorizedBy(principal)
	return req
}

func healthReq() events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{Resource: "/health", Path: "/health", HTTPMethod: http.MethodGet}
}

func newHandler(st payment.Store, checks ...api.Check) *api.Handler {
	return api.New(api.Config{
		Payments: &payment.Service{Store: st, Region: "us-east-1"},
		Checks:   checks,
		Region:   "us-east-1",
	})
}

// errorCode checks that a body is exactly {"error","message"} and returns the code.
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	code, _ := fields["error"].(string)
	msg, _ := fields["message"].(string)
	if len(fields) != 2 || code == "" || msg == "" {
		t.Fatalf("error body %s, want exactly a non-empty error and message", body)
	}
	return code
}

func TestBadRequests(t *testing.T) {
	with := func(mutate func(*events.APIGatewayProxyRequest)) events.APIGatewayProxyRequest {
		r := postReq(validBody)
		mutate(&r)
		return r
	}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		code   string
	}{
		// routing
		{"unknown path", events.APIGatewayProxyRequest{Path: "/refunds", HTTPMethod: "GET"}, 404, api.CodeNotFound},
		{"root", events.APIGatewayProxyRequest{Path: "/", HTTPMethod: "GET"}, 404, api.CodeNotFound},
		{"nested payment path", events.APIGatewayProxyRequest{Path: "/payments/p1/receipt", HTTPMethod: "GET"}, 404, api.CodeNotFound},
		{"wrong stage prefix", events.APIGatewayProxyRequest{Path: "/dev/health", HTTPMethod: "GET",
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod"}}, 404, api.CodeNotFound},
		{"GET /payments", events.APIGatewayProxyRequest{Resource: "/payments", Path: "/payments", HTTPMethod: "GET"}, 405, api.CodeMethodNotAllowed},
		{"PUT /payments", with(func(r *events.APIGatewayProxyRequest) { r.HTTPMethod = "PUT" }), 405, api.CodeMethodNotAllowed},
		{"DELETE payment", func() events.APIGatewayProxyRequest { r := getReq("p1"); r.HTTPMethod = "DELETE"; return r }(), 405, api.CodeMethodNotAllowed},
		{"POST /health", events.APIGatewayProxyRequest{Resource: "/health", Path: "/health", HTTPMethod: "POST"}, 405, api.CodeMethodNotAllowed},
		{"POST /status", events.APIGatewayProxyRequest{Resource: "/status", Path: "/status", HTTPMethod: "POST"}, 405, api.CodeMethodNotAllowed},
		{"/statuses is not /status", events.APIGatewayProxyRequest{Path: "/statuses", HTTPMethod: "GET"}, 404, api.CodeNotFound},
		// GET id
		{"id with dot", getReq("p.1"), 400, payment.CodeInvalidPaymentID},
		{"id too long", getReq(strings.Repeat("a", 65)), 400, payment.CodeInvalidPaymentID},
		{"encoded slash in path", events.APIGatewayProxyRequest{Path: "/payments/a%2Fb", HTTPMethod: "GET", RequestContext: authorizedBy(caller)}, 400, payment.CodeInvalidPaymentID},
		{"bad escape in path", events.APIGatewayProxyRequest{Path: "/payments/a%zz", HTTPMethod: "GET", RequestContext: authorizedBy(caller)}, 400, payment.CodeInvalidPaymentID},
		{"unknown id", getReq("nope"), 404, api.CodeNotFound},
		// content type and size
		{"no content type", with(func(r *events.APIGatewayProxyRequest) { r.Headers = nil }), 415, api.CodeUnsupportedMediaType},
		{"form content type", with(func(r *events.APIGatewayProxyRequest) {
			r.Headers = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		}), 415, api.CodeUnsupportedMediaType},
		{"text/plain", with(func(r *events.APIGatewayProxyRequest) { r.Headers = map[string]string{"CONTENT-TYPE": "text/plain"} }), 415, api.CodeUnsupportedMediaType},
		{"latin-1 charset", with(func(r *events.APIGatewayProxyRequest) {
			r.Headers = map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}
		}), 415, api.CodeUnsupportedMediaType},
		{"body over 16 KiB", postReq(`{"paymentId":"p1","amount":1,"currency":"USD","reference":"` + strings.Repeat("a", 16<<10) + `"}`), 413, api.CodePayloadTooLarge},
		{"base64 body over 16 KiB", with(func(r *events.APIGatewayProxyRequest) {
			r.IsBase64Encoded, r.Body = true, base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", 16<<10+1)))
		}), 413, api.CodePayloadTooLarge},
		{"bad base64", with(func(r *events.APIGatewayProxyRequest) { r.IsBase64Encoded, r.Body = true, "{not base64" }), 400, api.CodeInvalidBody},
		// body validation (the full matrix is in package payment)
		{"empty body", postReq(``), 400, payment.CodeInvalidJSON},
		{"malformed json", postReq(`{"paymentId":`), 400, payment.CodeInvalidJSON},
		{"trailing data", postReq(validBody + `{}`), 400, payment.CodeInvalidJSON},
		{"unknown field", postReq(`{"paymentId":"p1","amount":1,"currency":"USD","fee":1}`), 400, payment.CodeUnknownField},
		{"duplicate field", postReq(`{"paymentId":"p1","paymentId":"p2","amount":1,"currency":"USD"}`), 400, payment.CodeDuplicateField},
		{"missing amount", postReq(`{"paymentId":"p1","currency":"USD"}`), 400, payment.CodeMissingField},
		{"float amount", postReq(`{"paymentId":"p1","amount":12.5,"currency":"USD"}`), 400, payment.CodeInvalidAmount},
		{"string amount", postReq(`{"paymentId":"p1","amount":"1250","currency":"USD"}`), 400, payment.CodeInvalidAmount},
		{"negative amount", postReq(`{"paymentId":"p1","amount":-1,"currency":"USD"}`), 400, payment.CodeInvalidAmount},
		{"zero amount", postReq(`{"paymentId":"p1","amount":0,"currency":"USD"}`), 400, payment.CodeInvalidAmount},
		{"amount over max", postReq(`{"paymentId":"p1","amount":1000000001,"currency":"USD"}`), 400, payment.CodeInvalidAmount},
		{"bad id", postReq(`{"paymentId":"p 1","amount":1,"currency":"USD"}`), 400, payment.CodeInvalidPaymentID},
		{"unknown currency", postReq(`{"paymentId":"p1","amount":1,"currency":"ABC"}`), 400, payment.CodeUnsupportedCurrency},
		{"malformed currency", postReq(`{"paymentId":"p1","amount":1,"currency":"us"}`), 400, payment.CodeInvalidCurrency},
		{"long reference", postReq(`{"paymentId":"p1","amount":1,"currency":"USD","reference":"` + strings.Repeat("r", 141) + `"}`), 400, payment.CodeInvalidReference},
	}
	h := newHandler(memstore.New())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.Handle(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Handle returned error %v; it must always answer", err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
			if code := errorCode(t, resp.Body); code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
			if resp.Headers["Content-Type"] != "application/json" {
				t.Errorf("Content-Type = %q", resp.Headers["Content-Type"])
			}
			if tc.status == 405 && resp.Headers["Allow"] == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	st := memstore.New()
	h := newHandler(st)
	if resp, _ := h.Handle(context.Background(), postReq(validBody)); resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
	}
	stage := events.APIGatewayProxyRequestContext{Stage: "prod"}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
	}{
		{"template resource with path parameter", getReq("p1"), 200},
		{"template resource, id only in path", events.APIGatewayProxyRequest{Resource: "/payments/{paymentId}", Path: "/payments/p1", HTTPMethod: "GET"}, 200},
		{"path only", events.APIGatewayProxyRequest{Path: "/payments/p1", HTTPMethod: "GET"}, 200},
		{"stage-prefixed path", events.APIGatewayProxyRequest{Path: "/prod/payments/p1", HTTPMethod: "GET", RequestContext: stage}, 200},
		{"prefixed path, stage unknown", events.APIGatewayProxyRequest{Path: "/v1/payments/p1", HTTPMethod: "GET"}, 200},
		{"greedy proxy resource", events.APIGatewayProxyRequest{Resource: "/{proxy+}", Path: "/payments/p1", HTTPMethod: "GET"}, 200},
		{"trailing slash", events.APIGatewayProxyRequest{Path: "/health/", HTTPMethod: "GET"}, 200},
		{"stage-prefixed health", events.APIGatewayProxyRequest{Path: "/prod/health", HTTPMethod: "GET", RequestContext: stage}, 200},
		// API Gateway routes the apply-time secret segment below /health (stacks/restapi).
		{"secret health resource", events.APIGatewayProxyRequest{Resource: "/health/0123abcd", Path: "/health/0123abcd", HTTPMethod: "GET"}, 200},
		{"secret health through the stage", events.APIGatewayProxyRequest{Path: "/prod/health/0123abcd", HTTPMethod: "GET", RequestContext: stage}, 200},
		{"below the secret segment", events.APIGatewayProxyRequest{Path: "/health/0123abcd/more", HTTPMethod: "GET"}, 404},
		{"replay", postReq(validBody), 200},
		{"conflict", postReq(`{"paymentId":"p1","amount":1,"currency":"USD"}`), 409},
		{"mixed-case header, base64 body", events.APIGatewayProxyRequest{Resource: "/payments", Path: "/payments", HTTPMethod: "POST",
			MultiValueHeaders: map[string][]string{"Content-TYPE": {"application/json; charset=UTF-8"}},
			IsBase64Encoded:   true, Body: base64.StdEncoding.EncodeToString([]byte(validBody))}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req.RequestContext.Authorizer == nil {
				req.RequestContext.Authorizer = authorizedBy(caller).Authorizer
			}
			resp, _ := h.Handle(context.Background(), req)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tc.status, resp.Body)
			}
		})
	}
}

func TestPaymentAnswer(t *testing.T) {
	h := newHandler(memstore.New())
	resp, _ := h.Handle(context.Background(), postReq(validBody))
	var got map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"paymentId", "amount", "currency", "reference", "status", "receiptKey", "createdAt", "region"} {
		if _, ok := got[k]; !ok {
			t.Errorf("answer lacks %q: %s", k, resp.Body)
		}
	}
	for _, k := range []string{"requestHash", "owner"} {
		if _, ok := got[k]; ok {
			t.Errorf("answer exposes %s: %s", k, resp.Body)
		}
	}
	if got["status"] != "processed" || got["amount"] != float64(1250) {
		t.Errorf("answer %s", resp.Body)
	}
}

func TestDependencyFailureIs503(t *testing.T) {
	st := memstore.New()
	st.Fail = func(op string) error {
		if op == memstore.OpPutReceipt {
			return &payment.DependencyError{Dependency: "s3", Op: "PutObject", Err: errors.New("dial tcp 10.0.0.1:443: secret internals")}
		}
		return nil
	}
	resp, _ := newHandler(st).Handle(context.Background(), postReq(validBody))
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Headers["Retry-After"])
	}
	if errorCode(t, resp.Body) != api.CodeDependencyUnavailable || strings.Contains(resp.Body, "internals") {
		t.Errorf("body %s", resp.Body)
	}
}

// TestHealth runs each case on both names of the route: /status must answer exactly as
// /health does (the peer probes read /status as Route 53 reads /health).
func TestHealth(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("down") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		checks []api.Check
		status int
		body   string
	}{
		{"all ok", []api.Check{{Name: "dynamodb", Run: ok}, {Name: "s3", Run: ok}}, 200,
			`{"status":"ok","region":"us-east-1"}`},
		{"table down", []api.Check{{Name: "dynamodb", Run: down}, {Name: "s3", Run: ok}}, 503,
			`{"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`},
		{"both down, one hanging", []api.Check{{Name: "dynamodb", Run: down}, {Name: "s3", Run: hang}}, 503,
			`{"status":"unavailable","region":"us-east-1","failing":["dynamodb","s3"]}`},
	}
	paths := []events.APIGatewayProxyRequest{
		healthReq(),
		{Resource: "/status", Path: "/status", HTTPMethod: http.MethodGet},
		{Resource: "/status", Path: "/prod/status", HTTPMethod: http.MethodGet, RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod"}},
	}
	for _, tc := range tests {
		for _, req := range paths {
			t.Run(tc.name+" "+req.Path, func(t *testing.T) {
				h := api.New(api.Config{Checks: tc.checks, Region: "us-east-1", HealthTimeout: 100 * time.Millisecond})
				start := time.Now()
				resp, _ := h.Handle(context.Background(), req)
				if elapsed := time.Since(start); elapsed > time.Second {
					t.Errorf("%s took %v", req.Path, elapsed)
				}
				if resp.StatusCode != tc.status || resp.Body != tc.body {
					t.Errorf("%s = %d %s, want %d %s", req.Path, resp.StatusCode, resp.Body, tc.status, tc.body)
				}
			})
		}
	}
}

func TestLogLine(t *testing.T) {
	var buf strings.Builder
	h := api.New(api.Config{
		Payments: &payment.Service{Store: memstore.New(), Region: "us-east-1"},
		Region:   "us-east-1",
		Logger:   slog.New(slog.NewJSONHandler(&buf, nil)),
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	req := postReq(`{"paymentId":"p1","amount":1250,"currency":"USD","reference":"private note"}`)
	req.RequestContext.RequestID = "api-req-1"
	h.Handle(ctx, req)

	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q", buf.String())
	}
	want := map[string]any{"requestId": "lambda-req-1", "apiRequestId": "api-req-1", "paymentId": "p1",
		"amount": float64(1250), "currency": "USD", "status": float64(201)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if strings.Contains(buf.String(), "private note") {
		t.Errorf("log carries the payment reference: %s", buf.String())
	}
}

// fakePayments fails every call with err.
type fakePayments struct{ err error }

func (f fakePayments) Submit(context.Context, string, payment.Request) (payment.Record, bool, error) {
	return payment.Record{}, false, f.err
}
func (f fakePayments) Get(context.Context, string, string) (payment.Record, error) {
	return payment.Record{}, f.err
}

func TestErrorMapping(t *testing.T) {
	throttled := &payment.DependencyError{Dependency: "dynamodb", Op: "PutItem",
		Err: errors.New("ProvisionedThroughputExceededException: arn:aws:dynamodb:us-east-1:123456789012:table/secret")}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"throttled", throttled, 503, api.CodeDependencyUnavailable},
		{"dependency wrapping not-found", &payment.DependencyError{Dependency: "dynamodb", Op: "GetItem", Err: payment.ErrNotFound}, 503, api.CodeDependencyUnavailable},
		{"dependency wrapping conflict", &payment.DependencyError{Dependency: "dynamodb", Op: "GetItem", Err: payment.ErrConflict}, 503, api.CodeDependencyUnavailable},
		{"deadline", fmt.Errorf("operation error: %w", context.DeadlineExceeded), 503, api.CodeDependencyUnavailable},
		{"canceled", context.Canceled, 503, api.CodeDependencyUnavailable},
		{"conflict", payment.ErrConflict, 409, api.CodeIdempotencyConflict},
		{"not found", payment.ErrNotFound, 404, api.CodeNotFound},
		{"anything else", errors.New("unmarshal payment: secret internals"), 500, api.CodeInternal},
	}
	for _, tc := range tests {
		for _, req := range []events.APIGatewayProxyRequest{postReq(validBody), getReq("p1")} {
			t.Run(tc.name+" "+req.HTTPMethod, func(t *testing.T) {
				if req.HTTPMethod == http.MethodPost && errors.Is(tc.err, payment.ErrNotFound) && tc.status == 404 {
					t.Skip("Submit never returns a bare ErrNotFound")
				}
				h := api.New(api.Config{Payments: fakePayments{tc.err}, Region: "us-east-1"})
				resp, _ := h.Handle(context.Background(), req)
				if resp.StatusCode != tc.status || errorCode(t, resp.Body) != tc.code {
					t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
				}
				if (tc.status == 503) != (resp.Headers["Retry-After"] != "") {
					t.Errorf("Retry-After = %q with status %d", resp.Headers["Retry-After"], resp.StatusCode)
				}
				if strings.Contains(resp.Body, "secret") || strings.Contains(resp.Body, "Exception") {
					t.Errorf("body leaks internals: %s", resp.Body)
				}
			})
		}
	}
}

// TestHealthIgnoringContext: a check stuck past its context must not hold
// the answer beyond the health deadline (Route 53 gives up at ~2 s).
func TestHealthIgnoringContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := func(context.Context) error { <-release; return nil }
	ok := func(context.Context) error { return nil }
	h := api.New(api.Config{Checks: []api.Check{{Name: "dynamodb", Run: ok}, {Name: "s3", Run: stuck}},
		Region: "us-east-1", HealthTimeout: 50 * time.Millisecond})
	start := time.Now()
	resp, _ := h.Handle(context.Background(), healthReq())
	if d := time.Since(start); d > time.Second {
		t.Errorf("health took %v", d)
	}
	want := `{"status":"unavailable","region":"us-east-1","failing":["s3"]}`
	if resp.StatusCode != 503 || resp.Body != want || strings.Contains(resp.Body, `"status":"ok"`) {
		t.Errorf("health = %d %s, want 503 %s", resp.StatusCode, resp.Body, want)
	}
}

// hungPayments is a store that never answers: each call waits for its
// context, as an SDK call to a hung dependency ends with a deadline error.
type hungPayments struct{}

func (hungPayments) Submit(ctx context.Context, _ string, _ payment.Request) (payment.Record, bool, error) {
	<-ctx.Done()
	return payment.Record{}, false, fmt.Errorf("operation error DynamoDB: PutItem: %w", ctx.Err())
}

func (hungPayments) Get(ctx context.Context, _, _ string) (payment.Record, error) {
	<-ctx.Done()
	return payment.Record{}, fmt.Errorf("operation error DynamoDB: GetItem: %w", ctx.Err())
}

// TestRequestBudget: a payment request waiting on a hung store answers 503
// with Retry-After when its budget ends, or 300 ms before the invocation's
// deadline if that comes first.
func TestRequestBudget(t *testing.T) {
	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		budget     time.Duration
		invocation time.Duration // Lambda's deadline; 0: none
		min, max   time.Duration
	}{
		{"POST within its budget", postReq(validBody), 150 * time.Millisecond, 0, 150 * time.Millisecond, time.Second},
		{"GET within its budget", getReq("p1"), 150 * time.Millisecond, 0, 150 * time.Millisecond, time.Second},
		{"invocation deadline first", postReq(validBody), time.Minute, 900 * time.Millisecond, 550 * time.Millisecond, 850 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := api.New(api.Config{Payments: hungPayments{}, Region: "us-east-1", RequestTimeout: tc.budget})
			ctx := context.Background()
			if tc.invocation > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.invocation)
				defer cancel()
			}
			start := time.Now()
			resp, _ := h.Handle(ctx, tc.req)
			took := time.Since(start)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" ||
				errorCode(t, resp.Body) != api.CodeDependencyUnavailable {
				t.Errorf("answer %d %v %s, want 503 %s with Retry-After", resp.StatusCode, resp.Headers, resp.Body, api.CodeDependencyUnavailable)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("took %v, want between %v and %v", took, tc.min, tc.max)
			}
		})
	}
}

// TestUnauthenticated: a payment request that reaches the function without
// the authorizer's principal (a misdeployed method, a test call from the
// console) is refused before anything is read or stored.
func TestUnauthenticated(t *testing.T) {
	without := func(req events.APIGatewayProxyRequest, authorizer map[string]any) events.APIGatewayProxyRequest {
		req.RequestContext.Authorizer = authorizer
		return req
	}
	tests := []struct {
		name       string
		authorizer map[string]any
	}{
		{"no authorizer context", nil},
		{"no principalId", map[string]any{"principal": caller}},
		{"empty principalId", map[string]any{"principalId": ""}},
		{"blank principalId", map[string]any{"principalId": "  "}},
		{"principalId not a string", map[string]any{"principalId": 42}},
	}
	for _, tc := range tests {
		for _, req := range []events.APIGatewayProxyRequest{postReq(validBody), getReq("p1")} {
			t.Run(tc.name+" "+req.HTTPMethod, func(t *testing.T) {
				st := memstore.New()
				h := newHandler(st)
				resp, err := h.Handle(context.Background(), without(req, tc.authorizer))
				if err != nil || resp.StatusCode != http.StatusUnauthorized || errorCode(t, resp.Body) != api.CodeUnauthenticated {
					t.Fatalf("got %d %s, %v; want 401 %s", resp.StatusCode, resp.Body, err, api.CodeUnauthenticated)
				}
				if resp.Headers["WWW-Authenticate"] != "Bearer" {
					t.Errorf("WWW-Authenticate = %q, want Bearer", resp.Headers["WWW-Authenticate"])
				}
				if st.Len() != 0 || st.ReceiptPuts() != 0 {
					t.Errorf("stored %d records and %d receipts for an unauthenticated request", st.Len(), st.ReceiptPuts())
				}
			})
		}
	}
	// /health has no authorizer: Route 53's checkers call it anonymously.
	if resp, _ := newHandler(memstore.New()).Handle(context.Background(), healthReq()); resp.StatusCode != http.StatusOK {
		t.Errorf("health without a principal: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestOwnershipOverTheAPI(t *testing.T) {
	st := memstore.New()
	h := newHandler(st)
	do := func(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
		t.Helper()
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	bodyB := `{"paymentId":"p1","amount":777,"currency":"EUR"}`
	a := do(as("client-a", postReq(validBody)))
	b := do(as("client-b", postReq(bodyB)))
	if a.StatusCode != 201 || b.StatusCode != 201 {
		t.Fatalf("same paymentId from two callers: %d %s / %d %s; want two 201s", a.StatusCode, a.Body, b.StatusCode, b.Body)
	}
	if st.Len() != 2 || st.ReceiptPuts() != 2 {
		t.Fatalf("%d records, %d receipts; want 2 and 2", st.Len(), st.ReceiptPuts())
	}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		body   string
	}{
		{"a replays", as("client-a", postReq(validBody)), 200, a.Body},
		{"b replays", as("client-b", postReq(bodyB)), 200, b.Body},
		{"a reuses its key for another request", as("client-a", postReq(bodyB)), 409, ""},
		{"a reads its own", as("client-a", getReq("p1")), 200, a.Body},
		{"b reads its own", as("client-b", getReq("p1")), 200, b.Body},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(tc.req)
			if resp.StatusCode != tc.status || (tc.body != "" && resp.Body != tc.body) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tc.status, tc.body)
			}
		})
	}

	// Another caller's payment is answered exactly like one that does not
	// exist: nothing tells the caller the id is taken.
	missing := do(as("client-c", getReq("p404")))
	others := do(as("client-c", getReq("p1")))
	if missing.StatusCode != 404 || !reflect.DeepEqual(others, missing) {
		t.Errorf("another caller's payment: %+v\nmissing payment: %+v\nwant the same 404", others, missing)
	}
}

// countingPayments records whether the flow was reached.
type countingPayments struct{ submits, gets int }

func (c *countingPayments) Submit(context.Context, string, payment.Request) (payment.Record, bool, error) {
	c.submits++
	return payment.Record{PaymentID: "p-1", Status: payment.StatusProcessed}, true, nil
}
func (c *countingPayments) Get(context.Context, string, string) (payment.Record, error) {
	c.gets++
	return payment.Record{PaymentID: "p-1", Status: payment.StatusProcessed}, nil
}

// TestWritesRefusedWhileTheGateIsClosed: the primary refuses payment writes
// while its failback gate holds it out (503 failback_in_progress, Retry-After,
// nothing reaches the store); a request that is bad anyway is still told why;
// reads are never asked.
func TestWritesRefusedWhileTheGateIsClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		closed  bool
		req     events.APIGatewayProxyRequest
		status  int
		code    string
		submits int
	}{
		{"gate open", false, postReq(`{"paymentId":"p-1","amount":100,"currency":"USD"}`), 201, "", 1},
		{"gate closed", true, postReq(`{"paymentId":"p-1","amount":100,"currency":"USD"}`), 503, api.CodeFailbackInProgress, 0},
		{"gate closed, bad request", true, postReq(`{"paymentId":"p-1","amount":1.5,"currency":"USD"}`), 400, payment.CodeInvalidAmount, 0},
		{"gate closed, a read", true, getReq("p-1"), 200, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pay := &countingPayments{}
			asked := 0
			h := api.New(api.Config{Payments: pay, Region: "us-east-1", Writes: func(context.Context) error {
				asked++
				if tc.closed {
					return errors.New("failback gate closed (behind)")
				}
				return nil
			}})
			resp, _ := h.Handle(context.Background(), tc.req)
			if resp.StatusCode != tc.status || pay.submits != tc.submits {
				t.Fatalf("%d %s (submits %d), want %d (submits %d)", resp.StatusCode, resp.Body, pay.submits, tc.status, tc.submits)
			}
			if tc.code != "" && errorCode(t, resp.Body) != tc.code {
				t.Errorf("code of %s, want %s", resp.Body, tc.code)
			}
			if tc.status == 503 && resp.Headers["Retry-After"] == "" {
				t.Errorf("503 without Retry-After: %v", resp.Headers)
			}
			if tc.req.HTTPMethod == http.MethodGet && asked != 0 {
				t.Errorf("a read asked the write gate %d times", asked)
			}
		})
	}
}
