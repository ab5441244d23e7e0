package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

type route int

const (
	routeNone route = iota
	routeHealth
	routePayments // /payments
	routePayment  // /payments/{paymentId}
)

// allowed lists the methods of each route, for dispatch and the Allow header.
var allowed = map[route]string{
	routeHealth:   http.MethodGet,
	routePayments: http.MethodPost,
	routePayment:  http.MethodGet,
}

// resolve finds the route of a proxy request and, for a single payment, the
// raw id. API Gateway sends the resource template ("/payments/{paymentId}")
// in Resource and the concrete path in Path; a greedy proxy resource or a
// hand-built event may leave only Path usable, and Path may carry the stage
// or a base-path prefix, so both are tried.
func resolve(req events.APIGatewayProxyRequest) (route, string, error) {
	target := req.Resource
	if target == "" || strings.Contains(target, "{proxy+}") {
		target = req.Path
	}
	r, id := matchWithPrefix(target, req.RequestContext.Stage)
	if r != routePayment {
		return r, "", nil
	}
	if v, ok := req.PathParameters["paymentId"]; ok {
		return r, v, nil
	}
	if target != req.Path { // matched the template; the id is in the path
		if _, id = matchWithPrefix(req.Path, req.RequestContext.Stage); id == "" {
			return routePayment, "", nil
		}
	}
	// A raw path is still percent-encoded; path parameters are not.
	unescaped, err := url.PathUnescape(id)
	if err != nil {
		return routePayment, "", err
	}
	return r, unescaped, nil
}

// matchWithPrefix matches path as is, then without a leading stage segment
// (the given stage, or any first segment when the stage is unknown).
func matchWithPrefix(path, stage string) (route, string) {
	if r, id := match(path); r != routeNone {
		return r, id
	}
	rest := strings.TrimPrefix(path, "/")
	first, tail, ok := strings.Cut(rest, "/")
	if !ok || (stage != "" && first != stage) {
		return routeNone, ""
	}
	return match("/" + tail)
}

func match(path string) (route, string) {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	switch path {
	// /status is /health under another name: the same checks, the same answer. The WAF
	// keeps /health for Route 53's health checkers; everyone else asks /status.
	case "/health", "/status":
		return routeHealth, ""
	case "/payments":
		return routePayments, ""
	}
	// API Gateway routes only the apply-time secret segment below /health here (stacks/
	// restapi, HealthPath), so the function need not know it.
	if secret, ok := strings.CutPrefix(path, "/health/"); ok && secret != "" && !strings.Contains(secret, "/") {
		return routeHealth, ""
	}
	if id, ok := strings.CutPrefix(path, "/payments/"); ok && id != "" && !strings.Contains(id, "/") {
		return routePayment, id
	}
	return routeNone, ""
}
