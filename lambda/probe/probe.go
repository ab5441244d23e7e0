// Package probe watches the other region from this one: it asks the peer
// region's regional /status and the failover name's /status (the same answer
// as /health, which the WAF keeps for Route 53's health checkers), writes what
// it saw of the peer into this region's replica (package control), and
// publishes the answers as CloudWatch metrics in Embedded Metric Format.
//
// It runs in the region that survives. An alarm or topic in the region that
// failed cannot page anyone, so each region watches the other and pages from
// its own side; and the failback gate of the peer is built from the
// observations written here.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
)

// Defaults and bounds of one round.
const (
	// DefaultTimeout bounds each status request (connect, TLS, headers and
	// body). Route 53's own HTTPS checks allow about 4 s to connect and 2 s
	// for the answer; a /health slower than that fails over anyway.
	DefaultTimeout = 3 * time.Second
	// DialTimeout bounds the TCP connect: a region that is gone usually
	// shows as a connect that never completes, and we want to say so early.
	DialTimeout = 2 * time.Second
	// RecordTimeout bounds the DynamoDB write of a round, so a round never
	// takes longer than Timeout + RecordTimeout.
	RecordTimeout = 2 * time.Second
	// MaxBodyBytes is the most of a /status body that is read. Ours is under
	// 200 bytes; anything bigger is not our answer and is not trusted.
	MaxBodyBytes = 8 << 10
	// runMargin is left before the context's deadline after the last round,
	// so the Lambda handler can return before the function's timeout.
	runMargin = 250 * time.Millisecond
)

// Config is what a Prober needs; see New for defaults.
type Config struct {
	Region, PeerRegion string // this region, the region probed
	PeerHealthURL      string // the peer's regional /status URL
	FailoverHealthURL  string // the failover name's /status URL; "" = not probed
	// SelfHealthURL is this region's own regional /status URL, asked beside the
	// peer's: when it gets no answer at all either, the probe's own path is what
	// failed (this region's outbound network, its DNS), not the peer, and the
	// round is unknown instead of down. "" = not asked.
	SelfHealthURL string
	TableName     string           // metric dimension
	Levers        control.Table    // where observations of PeerRegion are written (this region's replica)
	HTTPClient    *http.Client     // nil: a client with Timeout (no redirects)
	Timeout       time.Duration    // per request; 0: 3 s
	Metrics       io.Writer        // EMF lines; nil: discarded
	Logger        *slog.Logger     // nil: discarded
	Now           func() time.Time // nil: time.Now
}

// Observation is the outcome of one round.
type Observation struct {
	At           time.Time
	Peer         control.State // what PeerHealthURL said
	FailoverName control.State // what FailoverHealthURL said ("" when not probed)
	// OwnPathCut: the peer got no answer and neither did SelfHealthURL, so
	// Peer is unknown rather than down.
	OwnPathCut bool
	Recorded   error // the DynamoDB write's error, nil when written
}

// Prober probes one peer region; it is safe for sequential use by one
// invocation at a time (Lambda runs one invocation per instance).
type Prober struct {
	cfg    Config
	client *http.Client
	domain string // host of FailoverHealthURL: the DomainName dimension
}

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Prober, error) {
	var errs []error
	if cfg.Region == "" {
		errs = append(errs, errors.New("probe: Region is empty"))
	}
	if cfg.PeerRegion == "" {
		errs = append(errs, errors.New("probe: PeerRegion is empty"))
	} else if cfg.PeerRegion == cfg.Region {
		// A region that watches itself pages from the region that failed.
		errs = append(errs, fmt.Errorf("probe: PeerRegion %q is this region: the probe must watch the other one", cfg.PeerRegion))
	}
	if _, err := checkURL(cfg.PeerHealthURL); err != nil {
		errs = append(errs, fmt.Errorf("probe: PeerHealthURL: %w", err))
	}
	if cfg.SelfHealthURL != "" {
		if _, err := checkURL(cfg.SelfHealthURL); err != nil {
			errs = append(errs, fmt.Errorf("probe: SelfHealthURL: %w", err))
		}
	}
	var domain string
	if cfg.FailoverHealthURL != "" {
		u, err := checkURL(cfg.FailoverHealthURL)
		if err != nil {
			errs = append(errs, fmt.Errorf("probe: FailoverHealthURL: %w", err))
		} else {
			domain = u.Hostname()
		}
	}
	if cfg.TableName == "" {
		// CloudWatch drops an EMF line with an empty dimension value: the
		// alarms would see no data.
		errs = append(errs, errors.New("probe: TableName (the metric dimension) is empty"))
	}
	if cfg.Levers.DB == nil || cfg.Levers.Name == "" {
		errs = append(errs, errors.New("probe: Levers needs a DynamoDB client and a table name"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("probe: Timeout %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = NewHTTPClient(cfg.Timeout)
	}
	return &Prober{cfg: cfg, client: client, domain: domain}, nil
}

func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return nil, errors.New("empty")
	case err != nil:
		return nil, err
	case (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "":
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return u, nil
}

// NewHTTPClient is the client a Prober uses when Config.HTTPClient is nil.
//
// It never follows a redirect: the 3xx itself is the answer, and it is not a
// healthy one (Classify reads it as down). It keeps no idle connections, so
// every round dials afresh and resolves the name again: a connection kept
// alive to the failover name would stay with the region DNS pointed at when
// it was opened, and the probe would not see what clients see after Route 53
// moves the name.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dial := min(DialTimeout, timeout)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: dial}).DialContext,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 64 << 10,
			DisableKeepAlives:      true,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is what one GET of a /status URL came to.
type answer struct {
	state   control.State
	status  int    // HTTP status; 0 when no answer
	reason  string // why the state is not up; "" when up
	latency time.Duration
}

// Round probes both URLs concurrently, records what it saw of the peer and
// writes one EMF line. It takes at most Timeout + RecordTimeout.
//
// If ctx ends while the URLs are being probed, the failures are ours, not the
// peer's: the round is abandoned (both states empty, Recorded says why),
// nothing is written and no metric is published, so a cut-short invocation
// cannot page anyone or close the peer's failback gate.
func (p *Prober) Round(ctx context.Context) Observation {
	var peer, failover, self answer
	var wg sync.WaitGroup
	wg.Go(func() { peer = p.get(ctx, p.cfg.PeerHealthURL) })
	if p.cfg.FailoverHealthURL != "" {
		wg.Go(func() { failover = p.get(ctx, p.cfg.FailoverHealthURL) })
	}
	if p.cfg.SelfHealthURL != "" {
		wg.Go(func() { self = p.get(ctx, p.cfg.SelfHealthURL) })
	}
	wg.Wait()
	// Stamped once the answers are in: a lastDownAt that is later rather than
	// earlier keeps the peer's failback gate closed a little longer, never
	// opens it early.
	at := p.cfg.Now()
	if err := ctx.Err(); err != nil {
		p.cfg.Logger.Warn("probe round abandoned: the invocation ended while probing",
			"region", p.cfg.Region, "peerRegion", p.cfg.PeerRegion, "error", err.Error())
		return Observation{At: at, Recorded: fmt.Errorf("probe round abandoned: %w", err)}
	}

	obs := Observation{At: at, Peer: peer.state, FailoverName: failover.state}
	// Any HTTP answer from this region's own API, healthy or not, shows the
	// path out works; no answer at all from either says nothing about the peer.
	if p.cfg.SelfHealthURL != "" && peer.status == 0 && peer.state == control.StateDown && self.status == 0 {
		obs.Peer, obs.OwnPathCut = control.StateUnknown, true
		peer.state = control.StateUnknown
		peer.reason = "no answer from the peer, and none from this region's own " + p.cfg.SelfHealthURL + " either (" + self.reason + "): the probe's own path is cut; " + peer.reason
	}
	p.warn("peer region not healthy", p.cfg.PeerHealthURL, peer)
	if p.cfg.FailoverHealthURL != "" {
		p.warn("failover name not healthy", p.cfg.FailoverHealthURL, failover)
	}

	rctx, cancel := context.WithTimeout(ctx, RecordTimeout)
	obs.Recorded = p.cfg.Levers.RecordObservation(rctx, p.cfg.PeerRegion, p.cfg.Region, peer.state, at)
	cancel()
	if obs.Recorded != nil {
		// The peer's failback gate is built from these writes; without them
		// it stays as it was (closed, if the peer was last seen down).
		p.cfg.Logger.Error("could not record the peer observation",
			"region", p.cfg.Region, "peerRegion", p.cfg.PeerRegion, "key", control.PeerKey(p.cfg.PeerRegion),
			"state", string(peer.state), "error", obs.Recorded.Error())
	}

	if err := p.emit(obs, peer, failover); err != nil {
		p.cfg.Logger.Error("could not write the metrics line", "error", err.Error())
	}
	return obs
}

func (p *Prober) warn(msg, target string, a answer) {
	if a.state == control.StateUp {
		return
	}
	attrs := []any{
		"region", p.cfg.Region, "peerRegion", p.cfg.PeerRegion, "url", target,
		"state", string(a.state), "reason", a.reason, "latencyMs", a.latency.Milliseconds(),
	}
	if a.status != 0 {
		attrs = append(attrs, "status", a.status)
	}
	p.cfg.Logger.Warn(msg, attrs...)
}

// get asks one /status URL. Every failure to get an answer at all is
// StateDown: that is how a lost region shows, and what Route 53's checkers
// would conclude too. An answer is read by control.Classify, which calls a 4xx
// refusal of this request StateUnknown.
func (p *Prober) get(ctx context.Context, target string) answer {
	start := time.Now()
	// The client's own Timeout may be longer (a caller's client); this bounds
	// the request, including reading the body, whatever client is used.
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	a := p.fetch(ctx, target)
	a.latency = time.Since(start)
	return a
}

// failed describes a request that got no usable answer, saying so plainly
// when it was the timeout (the transport's own timeouts included) that ended it.
func (p *Prober) failed(ctx context.Context, status int, what string, err error) answer {
	reason := what + err.Error()
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		reason = fmt.Sprintf("no complete answer within %v: %s", p.cfg.Timeout, reason)
	}
	return answer{state: control.StateDown, status: status, reason: reason}
}

func (p *Prober) fetch(ctx context.Context, target string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return answer{state: control.StateDown, reason: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "payments-dr-peer-probe ("+p.cfg.Region+")")
	resp, err := p.client.Do(req)
	if err != nil {
		return p.failed(ctx, 0, "", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	switch {
	case err != nil:
		return p.failed(ctx, resp.StatusCode, "reading the body: ", err)
	case len(body) > MaxBodyBytes:
		// Not our answer: only the status code counts (a 4xx is still a refusal).
		return answer{state: control.Classify(resp.StatusCode, nil), status: resp.StatusCode,
			reason: fmt.Sprintf("HTTP %d with a body over %d bytes: not a /status answer", resp.StatusCode, MaxBodyBytes)}
	}
	a := answer{state: control.Classify(resp.StatusCode, body), status: resp.StatusCode}
	if a.state != control.StateUp {
		a.reason = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, excerpt(body))
		if loc := resp.Header.Get("Location"); loc != "" {
			a.reason += " (redirect to " + loc + ", not followed)"
		}
	}
	return a
}

// excerpt keeps log lines short and single-line whatever the body holds.
func excerpt(body []byte) string {
	const max = 256
	s := string(body)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
}

// Run does up to rounds rounds, interval apart (measured start to start, so a
// slow round does not shift the schedule). It stops early when ctx's deadline
// leaves no room for another full round (Timeout + RecordTimeout, plus a
// margin to return), so a Lambda invocation never runs into its timeout, and
// when ctx ends.
func (p *Prober) Run(ctx context.Context, rounds int, interval time.Duration) []Observation {
	var out []Observation
	first := time.Now()
	for i := range rounds {
		next := first.Add(time.Duration(i) * interval)
		if !p.fits(ctx, next) {
			break
		}
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return out
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		out = append(out, p.Round(ctx))
	}
	return out
}

// fits reports whether a round that starts at start ends before ctx's
// deadline with runMargin to spare.
func (p *Prober) fits(ctx context.Context, start time.Time) bool {
	deadline, ok := ctx.Deadline()
	if !ok {
		return true
	}
	return !start.Add(p.cfg.Timeout + RecordTimeout + runMargin).After(deadline)
}
