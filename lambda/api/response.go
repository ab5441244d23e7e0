package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/payments-dr/payments-dr/lambda/payment"
)

// Error codes of non-validation failures (validation codes live in payment).
const (
	CodeUnauthenticated       = "unauthenticated"
	CodeNotFound              = "not_found"
	CodeMethodNotAllowed      = "method_not_allowed"
	CodeUnsupportedMediaType  = "unsupported_media_type"
	CodePayloadTooLarge       = "payload_too_large"
	CodeInvalidBody           = "invalid_body"
	CodeIdempotencyConflict   = "idempotency_conflict"
	CodeDependencyUnavailable = "dependency_unavailable"
	CodeInternal              = "internal_error"
	CodeFailbackInProgress    = "failback_in_progress"
)

// retryAfterSeconds is what a 503 asks clients to wait: long enough for a
// restarted dependency connection, short enough to stay inside client timeouts.
const retryAfterSeconds = "1"

// apiError is an answer we chose to give; anything else becomes a 500.
type apiError struct {
	status  int
	code    string
	message string
	header  map[string]string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

var errInternal = &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "internal error"}

// errUnauthenticated answers a payment request that reached the function
// without an authenticated caller. The challenge is RFC 6750's.
var errUnauthenticated = &apiError{status: http.StatusUnauthorized, code: CodeUnauthenticated,
	message: "a bearer token is required", header: map[string]string{"WWW-Authenticate": "Bearer"}}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func jsonResponse(status int, v any) events.APIGatewayProxyResponse {
	body, err := json.Marshal(v)
	if err != nil { // only our own fixed types are marshalled
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal_error","message":"internal error"}`)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(body),
	}
}

// errWritesRefused answers a payment write while this region's failback gate
// is closed: the client retries, and after its DNS answer expires it reaches
// the region that serves.
var errWritesRefused = &apiError{status: http.StatusServiceUnavailable, code: CodeFailbackInProgress,
	message: "this region is not taking payments until it holds every payment the other region accepted; retry the same request",
	header:  map[string]string{"Retry-After": retryAfterSeconds}}

// classify turns any error from a handler into the answer a client sees.
// Only codes and fixed messages leave the function: SDK errors and
// internal details stay in the logs.
func classify(err error) *apiError {
	var ae *apiError
	var ve *payment.ValidationError
	var de *payment.DependencyError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &apiError{status: http.StatusBadRequest, code: ve.Code, message: ve.Message}
	// Dependency failures first: a DependencyError may wrap a sentinel
	// (ErrNotFound from a read that should have found the record) and
	// must still be a retryable 503, never a 404 or 409.
	case errors.As(err, &de), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{status: http.StatusServiceUnavailable, code: CodeDependencyUnavailable,
			message: "a backing service is unavailable; retry the same request",
			header:  map[string]string{"Retry-After": retryAfterSeconds}}
	case errors.Is(err, payment.ErrConflict):
		return &apiError{status: http.StatusConflict, code: CodeIdempotencyConflict,
			message: "paymentId was already used for a different request"}
	case errors.Is(err, payment.ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "payment not found"}
	default:
		return errInternal
	}
}

func errorResponse(e *apiError) events.APIGatewayProxyResponse {
	resp := jsonResponse(e.status, errorBody{Error: e.code, Message: e.message})
	for k, v := range e.header {
		resp.Headers[k] = v
	}
	return resp
}
