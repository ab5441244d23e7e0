package restapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/stacks/failover"
	"github.com/payments-dr/payments-dr/stacks/function"
	"github.com/payments-dr/payments-dr/stacks/restapi"
)

// The infrastructure and the function are built from separate tables of routes and
// strings; these tests fail when the two drift apart.

type storedPayments struct{}

func (storedPayments) Submit(_ context.Context, _ string, r payment.Request) (payment.Record, bool, error) {
	return payment.Record{PaymentID: r.PaymentID, Amount: r.Amount, Currency: r.Currency, Status: payment.StatusProcessed}, true, nil
}

func (storedPayments) Get(_ context.Context, _, id string) (payment.Record, error) {
	return payment.Record{PaymentID: id, Amount: 1, Currency: "USD", Status: payment.StatusProcessed}, nil
}

func handler(checkErr error) *api.Handler {
	return api.New(api.Config{
		Payments: storedPayments{},
		Region:   "us-east-1",
		Checks:   []api.Check{{Name: "dynamodb", Run: func(context.Context) error { return checkErr }}},
	})
}

// request builds the proxy event API Gateway sends for route on the prod stage,
// with the principal the authorizer names on payment routes.
func request(route restapi.Route) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		HTTPMethod:     route.Method,
		Resource:       route.Path,
		Path:           route.Path,
		Headers:        map[string]string{"Content-Type": "application/json"},
		RequestContext: events.APIGatewayProxyRequestContext{Stage: restapi.Stage, RequestID: "contract"},
	}
	if route.Authorized {
		req.RequestContext.Authorizer = map[string]any{"principalId": "client-a"}
	}
	if strings.Contains(route.Path, "{paymentId}") {
		req.Path = strings.Replace(route.Path, "{paymentId}", "pay_1", 1)
		req.PathParameters = map[string]string{"paymentId": "pay_1"}
	}
	if route.Method == http.MethodPost {
		req.Body = `{"paymentId":"pay_1","amount":1250,"currency":"USD"}`
	}
	return req
}

func TestEveryDeployedRouteIsServed(t *testing.T) {
	for _, route := range restapi.Routes {
		t.Run(route.Method+" "+route.Path, func(t *testing.T) {
			resp, err := handler(nil).Handle(context.Background(), request(route))
			if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Errorf("answer %d %s, %v: the function does not serve a route the API deploys", resp.StatusCode, resp.Body, err)
			}
		})
	}
}

func TestHealthCheckMatchesOnlyAHealthyAnswer(t *testing.T) {
	health := restapi.Route{Method: http.MethodGet, Path: restapi.HealthPath}
	ok, _ := handler(nil).Handle(context.Background(), request(health))
	if ok.StatusCode != http.StatusOK || !strings.Contains(ok.Body, failover.HealthySearchString) {
		t.Errorf("healthy answer %d %s does not contain the health check's search string %s", ok.StatusCode, ok.Body, failover.HealthySearchString)
	}
	down, _ := handler(errors.New("table unreachable")).Handle(context.Background(), request(health))
	if down.StatusCode == http.StatusOK || strings.Contains(down.Body, failover.HealthySearchString) {
		t.Errorf("unhealthy answer %d %s would pass the health check", down.StatusCode, down.Body)
	}
	// Route 53 reads only the first 5,120 bytes of the body.
	if i := strings.Index(ok.Body, failover.HealthySearchString); i < 0 || i+len(failover.HealthySearchString) > 5120 {
		t.Errorf("search string not within the first 5,120 bytes")
	}
}

// TestStatusAnswersAsHealth: the peer probes read /status as Route 53 reads /health, so
// the two must answer alike, and the probes' reading (control.Classify) must agree with
// the health check's.
func TestStatusAnswersAsHealth(t *testing.T) {
	health := request(restapi.Route{Method: http.MethodGet, Path: restapi.HealthPath})
	status := request(restapi.Route{Method: http.MethodGet, Path: restapi.StatusPath})
	for _, tc := range []struct {
		name string
		err  error
		want control.State
	}{
		{"healthy", nil, control.StateUp},
		{"table unreachable", errors.New("table unreachable"), control.StateDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := handler(tc.err).Handle(context.Background(), health)
			s, _ := handler(tc.err).Handle(context.Background(), status)
			if h.StatusCode != s.StatusCode || h.Body != s.Body {
				t.Errorf("/status = %d %s, /health = %d %s", s.StatusCode, s.Body, h.StatusCode, h.Body)
			}
			if got := control.Classify(s.StatusCode, []byte(s.Body)); got != tc.want {
				t.Errorf("the probes read /status %d %s as %s, want %s", s.StatusCode, s.Body, got, tc.want)
			}
		})
	}
}

func TestReceiptsStayInsideTheGrantedPrefix(t *testing.T) {
	for _, id := range []string{"a", "pay_1", strings.Repeat("Z", 64)} {
		if key := payment.ReceiptKey(payment.Key("client-a", id)); !strings.HasPrefix(key, function.ReceiptsPrefix) || strings.Contains(strings.TrimPrefix(key, function.ReceiptsPrefix), "/") {
			t.Errorf("receipt key %q is outside %s*", key, function.ReceiptsPrefix)
		}
	}
}

// apiGatewayIntegrationTimeout is the REST API integration timeout the
// deployment keeps (the default and, without a quota increase, the maximum):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
const apiGatewayIntegrationTimeout = 29 * time.Second

// TestFunctionAnswersBeforeItsCallersGiveUp: the function's own budgets end
// inside its timeout, and its timeout inside API Gateway's, so a slow store
// reaches the client as the function's JSON 503 with Retry-After, never as a
// Lambda timeout (502) or an integration timeout (504).
func TestFunctionAnswersBeforeItsCallersGiveUp(t *testing.T) {
	fn := time.Duration(function.TimeoutSeconds) * time.Second
	tests := []struct {
		inner, outer       string
		innerDur, outerDur time.Duration
	}{
		{"api.DefaultRequestTimeout", "the function timeout", api.DefaultRequestTimeout, fn},
		{"api.DefaultHealthTimeout", "the function timeout", api.DefaultHealthTimeout, fn},
		{"the function timeout", "API Gateway's integration timeout", fn, apiGatewayIntegrationTimeout},
	}
	for _, tc := range tests {
		if tc.innerDur >= tc.outerDur {
			t.Errorf("%s (%v) must be shorter than %s (%v)", tc.inner, tc.innerDur, tc.outer, tc.outerDur)
		}
	}
}
