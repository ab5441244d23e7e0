package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// DefaultHealthTimeout keeps the whole check well inside the 2 s a Route 53
// HTTPS health check waits, leaving room for API Gateway and TLS.
const DefaultHealthTimeout = 1200 * time.Millisecond

var errHealthTimeout = errors.New("no answer within the health check deadline")

// Check probes one dependency; Name is what a failing answer reports.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

type healthBody struct {
	Status  string   `json:"status"`
	Region  string   `json:"region"`
	Failing []string `json:"failing,omitempty"`
	Gate    any      `json:"gate,omitempty"`
}

// health probes every dependency concurrently under one deadline. The body
// names only the failing dependencies; details go to the log. Route 53
// matches the exact bytes "status":"ok", so the healthy body is compact JSON.
func (h *Handler) health(ctx context.Context, log *slog.Logger) events.APIGatewayProxyResponse {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.HealthTimeout)
	defer cancel()

	// Collect answers until the deadline, not until every check returns:
	// a check that ignores its context (a stuck dial, a DNS lookup) must
	// not hold the answer past Route 53's timeout. A check that has not
	// answered by then counts as failing.
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(h.cfg.Checks)) // buffered: late checks never block
	for i, c := range h.cfg.Checks {
		go func() { results <- result{i, c.Run(ctx)} }()
	}
	errs := make([]error, len(h.cfg.Checks))
	for i := range errs {
		errs[i] = errHealthTimeout
	}
	for range h.cfg.Checks {
		select {
		case r := <-results:
			errs[r.i] = r.err
			continue
		case <-ctx.Done():
		}
		break
	}

	body := healthBody{Status: "ok", Region: h.cfg.Region}
	if h.cfg.Status != nil {
		body.Gate = h.cfg.Status()
	}
	for i, err := range errs {
		if err != nil {
			body.Failing = append(body.Failing, h.cfg.Checks[i].Name)
			log.Warn("health check failed", "dependency", h.cfg.Checks[i].Name, "error", err.Error())
		}
	}
	if len(body.Failing) > 0 {
		body.Status = "unavailable"
		resp := jsonResponse(http.StatusServiceUnavailable, body)
		resp.Headers["Retry-After"] = retryAfterSeconds
		return resp
	}
	return jsonResponse(http.StatusOK, body)
}
