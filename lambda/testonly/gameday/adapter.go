package gameday

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// invokeTimeout is the deployed function's timeout (stacks/function
// TimeoutSeconds): the invocation's deadline, as Lambda sets it.
const invokeTimeout = 10 * time.Second

// maxPayload is API Gateway's request payload limit (10 MB).
const maxPayload = 10 << 20

// adapter stands in for API Gateway's REST API with a Lambda proxy
// integration: it turns an HTTP request into the event the handler reads
// (method, path, headers, body, stage, request id, the authorizer's
// principal) and the handler's answer back into an HTTP response.
type adapter struct {
	handle func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	// authorize, when set, stands in for the TOKEN authorizer of every
	// method but GET /health: it gets the Authorization header and names
	// the caller, or refuses (401, the function is not invoked).
	authorize func(ctx context.Context, authorization string) (principal string, err error)
	// answered, when set, sees every response the handler produced, even one
	// the client never received because the connection was cut.
	answered func(req events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse)
	seq      atomic.Int64
	// inflight counts payment writes still running, including those whose
	// client is gone (a killed API): they may still write.
	inflight atomic.Int64
}

func (a *adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		http.Error(w, `{"message":"Request Entity Too Large"}`, http.StatusRequestEntityTooLarge)
		return
	}
	req := events.APIGatewayProxyRequest{
		HTTPMethod:        r.Method,
		Path:              r.URL.Path,
		Headers:           map[string]string{},
		MultiValueHeaders: map[string][]string(r.Header.Clone()),
		Body:              string(body),
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage:      "prod",
			RequestID:  fmt.Sprintf("gameday-%d", a.seq.Add(1)),
			HTTPMethod: r.Method,
			Path:       r.URL.Path,
		},
	}
	for k, v := range r.Header {
		req.Headers[k] = v[len(v)-1] // API Gateway keeps the last value of a repeated header
	}
	if a.authorize != nil && r.URL.Path != "/health" && r.URL.Path != "/status" {
		principal, err := a.authorize(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Unauthorized"}`))
			return
		}
		// What API Gateway passes on from the authorizer's answer
		// (principalId and its context map; lambda/authorizer).
		req.RequestContext.Authorizer = map[string]any{"principalId": principal, "principal": principal}
	}
	if q := r.URL.Query(); len(q) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k, v := range q {
			req.QueryStringParameters[k] = v[len(v)-1]
		}
	}
	// A client that hangs up does not cancel a Lambda invocation: the
	// function runs to the end under its own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), invokeTimeout)
	defer cancel()
	writes := r.Method == http.MethodPost
	if writes {
		a.inflight.Add(1)
	}
	resp, err := a.handle(ctx, req)
	if writes {
		a.inflight.Add(-1)
	}
	if err != nil {
		// API Gateway answers a failed invocation with a bare 502.
		resp = events.APIGatewayProxyResponse{StatusCode: http.StatusBadGateway, Body: `{"message": "Internal server error"}`}
	}
	if a.answered != nil {
		a.answered(req, resp)
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if out, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}
