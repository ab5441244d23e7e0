// Command peerwatch is the peer probe: scheduled every minute in each region,
// it watches the OTHER region's regional /status and the failover name's
// /status (the same answer as /health, which only Route 53's health checkers
// may request), records what it saw of the other region in this region's replica
// (the input of that region's failback gate), and publishes PeerHealthy and
// FailoverNameHealthy as CloudWatch metrics in Embedded Metric Format on
// stdout, in this region, where the alarms that page about the other region's
// loss live. See package probe.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda/cmd/peerwatch
//
// Environment:
//
//	TABLE_NAME           payments table (required): observations go to its replica here; the TableName dimension
//	PEER_REGION          the region watched (required), not this one
//	PEER_HEALTH_URL      https://<peer execute-api host>/prod/status (required)
//	FAILOVER_HEALTH_URL  https://<API_DOMAIN_NAME>/status (required)
//	SELF_STATUS_URL      https://<this region's execute-api host>/prod/status (required): when neither
//	                     it nor the peer answers, the round is unknown (the probe's own path is cut)
//	PROBE_ROUNDS         rounds per invocation, 1..10 (default 5)
//	PROBE_INTERVAL       time between round starts, a Go duration 1s..30s (default 10s)
//
// The region comes from AWS_REGION, which Lambda sets; a local DynamoDB from
// the SDK's own AWS_ENDPOINT_URL_DYNAMODB.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/probe"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := setup(context.Background(), os.Getenv, logger, os.Stdout, nil)
	if err != nil {
		// Failing init makes Lambda report the cause on every invoke; the
		// alarms treat the missing metrics as breaching, so someone is paged
		// about a probe that does not probe.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.handle)
}

const (
	defaultRounds   = 5
	maxRounds       = 10
	defaultInterval = 10 * time.Second
	minInterval     = time.Second
	maxInterval     = 30 * time.Second
)

type settings struct {
	table       string
	peerRegion  string
	peerURL     string
	failoverURL string
	selfURL     string
	rounds      int
	interval    time.Duration
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// loadSettings reads and checks the function's own environment, reporting
// every problem at once so a broken deploy is fixed in one round.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{
		table:       getenv("TABLE_NAME"),
		peerRegion:  getenv("PEER_REGION"),
		peerURL:     getenv("PEER_HEALTH_URL"),
		failoverURL: getenv("FAILOVER_HEALTH_URL"),
		selfURL:     getenv("SELF_STATUS_URL"),
		rounds:      defaultRounds,
		interval:    defaultInterval,
	}
	var errs []error
	if s.table == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set: it must name the payments table"))
	}
	switch {
	case s.peerRegion == "":
		errs = append(errs, errors.New("PEER_REGION is not set: it must name the region this function watches, e.g. us-east-1"))
	case !regionName.MatchString(s.peerRegion):
		errs = append(errs, fmt.Errorf("PEER_REGION=%q: want an AWS region name such as us-east-1", s.peerRegion))
	}
	if err := checkHealthURL(s.peerURL); err != nil {
		errs = append(errs, fmt.Errorf("PEER_HEALTH_URL%s: want the peer's regional https://<execute-api host>/<stage>/status (the WAF blocks /health for all but Route 53)", err))
	}
	// Required although the library can skip it: the FailoverNameHealthy
	// alarm treats missing data as breaching and would page for ever.
	if err := checkHealthURL(s.failoverURL); err != nil {
		errs = append(errs, fmt.Errorf("FAILOVER_HEALTH_URL%s: want https://<API_DOMAIN_NAME>/status", err))
	}
	if err := checkHealthURL(s.selfURL); err != nil {
		errs = append(errs, fmt.Errorf("SELF_STATUS_URL%s: want this region's own https://<execute-api host>/<stage>/status: a round is counted down only when this region's own API answers", err))
	} else if s.selfURL == s.peerURL {
		errs = append(errs, fmt.Errorf("SELF_STATUS_URL=%q is PEER_HEALTH_URL: it must be this region's own API, so that a cut path out of this region is not read as the peer down", s.selfURL))
	}
	if v := getenv("PROBE_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRounds {
			errs = append(errs, fmt.Errorf("PROBE_ROUNDS=%q: want a whole number of rounds from 1 to %d", v, maxRounds))
		}
		s.rounds = n
	}
	if v := getenv("PROBE_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minInterval || d > maxInterval {
			errs = append(errs, fmt.Errorf("PROBE_INTERVAL=%q: want a Go duration from %v to %v, e.g. 10s", v, minInterval, maxInterval))
		}
		s.interval = d
	}
	return s, errors.Join(errs...)
}

// checkHealthURL returns an error worded to follow the variable's name.
// Both endpoints are HTTPS-only (API Gateway serves no plain HTTP), so an
// http:// URL could never answer and would page for ever.
func checkHealthURL(raw string) error {
	if raw == "" {
		return errors.New(" is not set")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || !strings.HasSuffix(u.Path, "/status") {
		return fmt.Errorf("=%q", raw)
	}
	return nil
}

// setup builds the DynamoDB client and the prober once per cold start.
// probeClient is nil in Lambda (probe.NewHTTPClient); tests pass one that
// trusts their local TLS servers.
func setup(ctx context.Context, getenv func(string) string, logger *slog.Logger, out io.Writer, probeClient *http.Client) (*handler, error) {
	s, err := loadSettings(getenv)
	errs := []error{err}
	// Short timeouts: the write of a round is bounded by probe.RecordTimeout
	// anyway; a dial that hangs should fail well within it so a retry fits.
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = time.Second }).
		WithTimeout(probe.RecordTimeout)
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("load AWS config: %w", err))
	case cfg.Region == "":
		errs = append(errs, errors.New("no AWS region: AWS_REGION is set by the Lambda runtime; set it when running elsewhere"))
	case cfg.Region == s.peerRegion:
		errs = append(errs, fmt.Errorf("PEER_REGION=%q is this function's own region (AWS_REGION): it must name the other region, or a region's loss would be reported only from inside it", s.peerRegion))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	p, err := probe.New(probe.Config{
		Region:            cfg.Region,
		PeerRegion:        s.peerRegion,
		PeerHealthURL:     s.peerURL,
		FailoverHealthURL: s.failoverURL,
		SelfHealthURL:     s.selfURL,
		TableName:         s.table,
		Levers:            control.Table{DB: dynamodb.NewFromConfig(cfg), Name: s.table},
		HTTPClient:        probeClient,
		Metrics:           out,
		Logger:            logger,
	})
	if err != nil {
		return nil, err
	}
	logger.Info("configured", "region", cfg.Region, "peerRegion", s.peerRegion, "table", s.table,
		"peerHealthUrl", s.peerURL, "failoverHealthUrl", s.failoverURL, "rounds", s.rounds, "interval", s.interval.String())
	return &handler{prober: p, rounds: s.rounds, interval: s.interval, log: logger, region: cfg.Region, peer: s.peerRegion}, nil
}

type handler struct {
	prober       *probe.Prober
	rounds       int
	interval     time.Duration
	log          *slog.Logger
	region, peer string
}

// handle serves the EventBridge Scheduler invocation. It takes no event: the
// schedule's input carries nothing the probe needs, and a handler that
// decoded it would fail on an empty payload.
//
// It returns nil whatever the peer said: an unhealthy peer is data (metrics,
// logs, the observation), not a failed invocation, and a retried invocation
// would only probe again later than the schedule.
func (h *handler) handle(ctx context.Context) error {
	obs := h.prober.Run(ctx, h.rounds, h.interval)
	if len(obs) == 0 {
		// No metrics this minute: the alarms treat that as breaching.
		h.log.Error("no probe round fitted before the invocation's deadline: the function timeout must exceed PROBE_ROUNDS x PROBE_INTERVAL plus a round",
			"region", h.region, "peerRegion", h.peer)
		return nil
	}
	states := make([]string, len(obs))
	unrecorded := 0
	for i, o := range obs {
		states[i] = string(o.Peer)
		if o.Recorded != nil {
			unrecorded++
		}
	}
	h.log.Info("probe rounds done", "region", h.region, "peerRegion", h.peer,
		"rounds", len(obs), "peerStates", states, "failoverName", string(obs[len(obs)-1].FailoverName), "unrecorded", unrecorded)
	return nil
}
