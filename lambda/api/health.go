package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// DefaultHealthTimeout keeps the whole check well inside the 2 s a Route 53
// HTTPS health check waits, leaving room for API Gateway and TLS.
const DefaultHealthTimeout = 1200 * time.Millisecond

// Check probes one dependency; Name is what a failing answer reports.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

type healthBody struct {
	Status  string   `json:"status"`
	Region  string   `json:"region"`
	Failing []string `json:"failing,omitempty"`
}

// health probes every dependency concurrently under one deadline. The body
// names only the failing dependencies; details go to the log. Route 53
// matches the exact bytes "status":"ok", so the healthy body is compact JSON.
func (h *Handler) health(ctx context.Context, log *slog.Logger) events.APIGatewayProxyResponse {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.HealthTimeout)
	defer cancel()

	errs := make([]error, len(h.cfg.Checks))
	var wg sync.WaitGroup
	for i, c := range h.cfg.Checks {
		wg.Go(func() { errs[i] = c.Run(ctx) })
	}
	wg.Wait()

	body := healthBody{Status: "ok", Region: h.cfg.Region}
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
