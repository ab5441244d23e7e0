// Package api answers API Gateway (REST, Lambda proxy integration) requests:
// routing, request decoding, health checks and the JSON error bodies. Payment
// routes act for the caller the Lambda authorizer named (lambda/cmd/authorizer);
// a payment request without one is answered 401 and touches nothing.
package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/payments-dr/payments-dr/lambda/payment"
)

// MaxBodyBytes bounds a POST body; a payment request is well under 1 KiB.
const MaxBodyBytes = 16 << 10

// deadlineMargin is kept back from the invocation deadline so that a slow
// dependency still gets a 503 with Retry-After instead of a Lambda timeout,
// which API Gateway would turn into a bare 502/504.
const deadlineMargin = 300 * time.Millisecond

// DefaultRequestTimeout is a payment request's budget: all its store calls,
// retries included, then the answer. A request still waiting on a store when
// it runs out answers 503 with Retry-After, about 1 s inside the 5 s a client
// should wait at most in a brownout, 6 s inside the function timeout (10 s)
// and far inside API Gateway's 29 s integration timeout, so neither ever
// answers for us with a bare 502/504.
const DefaultRequestTimeout = 4 * time.Second

// Payments is the payment flow the handlers drive (payment.Service), on
// behalf of owner, the authenticated caller.
type Payments interface {
	Submit(ctx context.Context, owner string, req payment.Request) (payment.Record, bool, error)
	Get(ctx context.Context, owner, paymentID string) (payment.Record, error)
}

// Config wires a Handler.
type Config struct {
	Payments  Payments
	Checks    []Check // this region's dependencies, probed by GET /health
	Region    string
	MaxAmount int64 // largest amount in minor units; 0 means payment.DefaultMaxAmount
	Logger    *slog.Logger
	// HealthTimeout bounds the whole health check; 0 means DefaultHealthTimeout.
	HealthTimeout time.Duration
	// RequestTimeout bounds a payment request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Writes, when set, is asked before every payment write: a non-nil error
	// (the failback gate of the primary is closed) refuses it with 503 and
	// Retry-After, and nothing is written. Reads are not asked.
	Writes func(ctx context.Context) error
	// Status, when set, adds what it returns to the /health and /status body
	// as "gate" (an operator override in force, the gate's verdict).
	Status func() any
}

// Handler serves the REST API.
type Handler struct {
	cfg Config
}

// New returns a Handler; the zero values of optional Config fields get defaults.
func New(cfg Config) *Handler {
	if cfg.MaxAmount <= 0 {
		cfg.MaxAmount = payment.DefaultMaxAmount
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = DefaultHealthTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg}
}

// Handle is the Lambda entry point. It never returns an error: API Gateway
// would turn one into a bare 502, so every failure becomes a JSON answer.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	start := time.Now()
	log := h.cfg.Logger.With(requestIDs(ctx, req)...)
	attrs := []any{"method", req.HTTPMethod, "path", req.Path}
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic", "panic", fmt.Sprint(p))
			resp = errorResponse(errInternal)
		}
		log.Info("request", append(attrs, "status", resp.StatusCode, "durationMs", time.Since(start).Milliseconds())...)
	}()

	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 2*deadlineMargin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}

	r, id, err := resolve(req)
	if err != nil {
		return errorResponse(&apiError{status: http.StatusBadRequest, code: payment.CodeInvalidPaymentID,
			message: "paymentId is not a valid path segment"}), nil
	}
	if r == routeNone {
		return errorResponse(&apiError{status: http.StatusNotFound, code: CodeNotFound, message: "no such resource"}), nil
	}
	if req.HTTPMethod != allowed[r] {
		return errorResponse(&apiError{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed,
			message: "method not allowed", header: map[string]string{"Allow": allowed[r]}}), nil
	}

	if r == routeHealth {
		return h.health(ctx, log), nil
	}
	caller, ok := principal(req)
	if !ok {
		return errorResponse(errUnauthenticated), nil
	}
	attrs = append(attrs, "principal", caller)
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	defer cancel()
	if r == routePayments {
		out, more, err := h.create(ctx, log, caller, req)
		attrs = append(attrs, more...)
		return h.answer(log, out, err), nil
	}
	out, err := h.get(ctx, caller, id)
	attrs = append(attrs, "paymentId", id)
	return h.answer(log, out, err), nil
}

// principal is the caller the Lambda authorizer named: API Gateway passes
// the authorizer's principalId to a Lambda proxy integration in
// requestContext.authorizer
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
// Payment routes are reachable only through the authorizer, so a request
// without one is refused rather than served as some default caller.
func principal(req events.APIGatewayProxyRequest) (string, bool) {
	p, _ := req.RequestContext.Authorizer["principalId"].(string)
	return p, strings.TrimSpace(p) != ""
}

// requestIDs ties a log line to both the Lambda invocation and the API
// Gateway request, which is the id clients and access logs show.
func requestIDs(ctx context.Context, req events.APIGatewayProxyRequest) []any {
	var ids []any
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		ids = append(ids, "requestId", lc.AwsRequestID)
	}
	if req.RequestContext.RequestID != "" {
		ids = append(ids, "apiRequestId", req.RequestContext.RequestID)
	}
	return ids
}

func (h *Handler) answer(log *slog.Logger, resp events.APIGatewayProxyResponse, err error) events.APIGatewayProxyResponse {
	if err == nil {
		return resp
	}
	e := classify(err)
	if e.status >= 500 {
		log.Error("request failed", "error", err.Error(), "code", e.code)
	}
	return errorResponse(e)
}

// create handles POST /payments. The extra log attributes are the only parts
// of a payment that are logged: id, amount and currency.
func (h *Handler) create(ctx context.Context, log *slog.Logger, caller string, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, []any, error) {
	if err := checkContentType(header(req, "Content-Type")); err != nil {
		return events.APIGatewayProxyResponse{}, nil, err
	}
	body, err := readBody(req)
	if err != nil {
		return events.APIGatewayProxyResponse{}, nil, err
	}
	p, err := payment.Parse(body, h.cfg.MaxAmount)
	if err != nil {
		return events.APIGatewayProxyResponse{}, nil, err
	}
	attrs := []any{"paymentId", p.PaymentID, "amount", p.Amount, "currency", p.Currency}
	// After validation, so a bad request is told what is wrong with it whatever
	// the gate says; before anything is written.
	if h.cfg.Writes != nil {
		if err := h.cfg.Writes(ctx); err != nil {
			log.Warn("payment write refused", "reason", err.Error())
			return events.APIGatewayProxyResponse{}, attrs, errWritesRefused
		}
	}
	rec, created, err := h.cfg.Payments.Submit(ctx, caller, p)
	if err != nil {
		return events.APIGatewayProxyResponse{}, attrs, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return jsonResponse(status, rec), append(attrs, "created", created), nil
}

func (h *Handler) get(ctx context.Context, caller, id string) (events.APIGatewayProxyResponse, error) {
	if err := payment.ValidateID(id); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	rec, err := h.cfg.Payments.Get(ctx, caller, id)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return jsonResponse(http.StatusOK, rec), nil
}

// header looks a header up case-insensitively: API Gateway passes them as
// the client sent them.
func header(req events.APIGatewayProxyRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func checkContentType(ct string) error {
	unsupported := &apiError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType,
		message: "Content-Type must be application/json"}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return unsupported
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported
	}
	return nil
}

func readBody(req events.APIGatewayProxyRequest) ([]byte, error) {
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, code: CodePayloadTooLarge,
		message: fmt.Sprintf("body must be at most %d bytes", MaxBodyBytes)}
	if !req.IsBase64Encoded {
		if len(req.Body) > MaxBodyBytes {
			return nil, tooLarge
		}
		return []byte(req.Body), nil
	}
	// Refuse before decoding: anything this long decodes to more than the limit.
	if len(req.Body) > base64.StdEncoding.EncodedLen(MaxBodyBytes) {
		return nil, tooLarge
	}
	body, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, code: CodeInvalidBody, message: "body is not valid base64"}
	}
	if len(body) > MaxBodyBytes {
		return nil, tooLarge
	}
	return body, nil
}
