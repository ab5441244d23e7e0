package gameday

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/app"
	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/probe"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// region is one region of the game day: its own dynalite and s3rver, the
// replicating table endpoint in front of dynalite, the payment function
// wired by package app behind an API Gateway stand-in, and its peer probe.
type region struct {
	idx      int
	name     string
	aws      *localaws.Servers
	table    string // the global table's name in this run
	rep      *replica
	api      *server
	fn       *adapter // the API stand-in: its invocations
	cfg      aws.Config
	settings app.Settings
	tl       *timeline

	mu      sync.Mutex
	created map[string]int // payments (table keys) this region's function answered 201 for, even if the client never saw it

	probeStop func()
	// peerDown counts this region's probe rounds that saw the peer down.
	peerDown atomic.Int32
	// stalls is how many /status requests are still to be answered late,
	// after stallFor; stalled counts those answered so.
	stalls, stalled atomic.Int32
	stallFor        atomic.Int64

	opts    regionOptions
	handler atomic.Pointer[api.Handler]

	// skew is added to the functions' and the probe's clock (nanoseconds).
	skew atomic.Int64
	// brownout: /health fails (Route 53's checkers see it down) and every
	// other request of the rest is answered 503 (the probe sees alternating
	// rounds, clients some failures).
	brownout atomic.Int32
	brownN   map[string]int // requests per User-Agent during a brownout (under mu)
	// toPeerAPI and toPeerDB are this region's paths to the other region's
	// API (the probe) and table (the gate's and a GET's cross-region reads).
	toPeerAPI, toPeerDB *path
}

type regionOptions struct {
	lag                 time.Duration
	disableFailbackGate bool
	gateOnSecondary     bool  // the secondary's /health runs a gate too (the defect of issue 13, point 1)
	run                 int64 // this run's number in the process: its table's and buckets' names
	probeInterval       time.Duration
	logger              *slog.Logger // the function's own log
	auth                auth.Config  // the region's authorizer, trusting the game day's identity provider
}

func startRegion(ctx context.Context, idx int, name string, clk *clock, o regionOptions, tl *timeline) (*region, error) {
	servers, err := standIns.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: local AWS stand-ins: %w", name, err)
	}
	// The global table's name is the same in both regions; each run has its
	// own, so stand-ins can serve one run after another.
	tableName := fmt.Sprintf("payments-gameday-%d", o.run)
	r := &region{idx: idx, name: name, aws: servers, table: tableName, tl: tl, created: map[string]int{}}
	bucket := fmt.Sprintf("receipts-%s-%d", name, o.run)
	if err := servers.Provision(ctx, tableName, bucket); err != nil {
		r.close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.rep = &replica{
		region: name, table: tableName, target: servers.DynamoDB.URL, direct: servers.DynamoDBClient(),
		clock: clk, log: slog.New(slog.DiscardHandler), versions: map[string]int64{},
		fwd: &http.Client{Timeout: 10 * time.Second},
	}
	if r.rep.proxy, err = newServer(name+" table", r.rep); err != nil {
		r.close()
		return nil, err
	}
	// The production SDK configuration (package app), with this region and
	// the stand-ins' static credentials instead of the environment's.
	r.cfg, err = app.LoadAWSConfig(ctx,
		config.WithRegion(name),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localaws.AccessKey, localaws.SecretKey, "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		r.close()
		return nil, err
	}
	r.settings = app.Settings{
		Table: tableName, Bucket: bucket, ForcePathStyle: true,
		DynamoDBEndpoint: r.rep.proxy.URL(), S3Endpoint: servers.S3.URL,
	}
	r.opts = o
	r.wire(nil)
	// Each region has its own authorizer function with its own key cache,
	// as deployed.
	authorizer, err := auth.New(ctx, o.auth)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("%s: authorizer: %w", name, err)
	}
	r.fn = &adapter{handle: func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if r.brownedOut(req) {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusServiceUnavailable, Body: `{"message":"Service Unavailable"}`}, nil
		}
		if req.Path == "/status" && r.stalls.Add(-1) >= 0 {
			// A slow answer, as under load: the function answers, late.
			time.Sleep(time.Duration(r.stallFor.Load()))
			r.stalled.Add(1)
		}
		return r.handler.Load().Handle(ctx, req)
	}, authorize: authorizer.Validate, answered: r.answered}
	r.api, err = newServer(name+" API", r.fn)
	if err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// wire builds the function as package app does in Lambda. With a peer, its
// /health also reads the peer's replica (directly, as PEER_REGION's endpoint
// would be reached in AWS) for the failback gate; the regions are started one
// after the other, so the peer is wired in once both exist.
func (r *region) wire(peer *region) {
	s := r.settings
	if peer != nil {
		s.PeerRegion, s.PeerDynamoDBEndpoint = peer.name, r.toPeerDB.URL()
		s.GateRules = gateRules
	}
	s.Now = r.now
	s.Role = control.RoleSecondary
	if r.idx == 0 {
		s.Role = control.RolePrimary
	}
	fn := app.Config(r.cfg, s, r.opts.logger)
	if peer != nil && r.idx == 1 && r.opts.gateOnSecondary {
		// As before issue 13: the secondary's /health ran a failback gate
		// too. Its payments still go into the accept index; it gates on the
		// primary's.
		p := s
		p.Role = control.RolePrimary
		gated := app.Config(r.cfg, p, r.opts.logger)
		for _, c := range gated.Checks {
			if c.Name == control.CheckFailbackGate {
				fn.Checks = append(fn.Checks, c)
			}
		}
		fn.Writes, fn.Status = gated.Writes, gated.Status
	}
	if r.opts.disableFailbackGate {
		// The harness's own check that it catches a premature failback:
		// /health without the gate and writes never refused, as before issue 7.
		fn.Checks = slices.DeleteFunc(fn.Checks, func(c api.Check) bool { return c.Name == control.CheckFailbackGate })
		fn.Writes = nil
	}
	r.handler.Store(api.New(fn))
}

func (r *region) answered(req events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse) {
	if req.HTTPMethod != http.MethodPost || resp.StatusCode != http.StatusCreated {
		return
	}
	var rec struct {
		PaymentID string `json:"paymentId"`
	}
	owner, _ := req.RequestContext.Authorizer["principalId"].(string)
	if json.Unmarshal([]byte(resp.Body), &rec) == nil {
		r.mu.Lock()
		r.created[payment.Key(owner, rec.PaymentID)]++
		r.mu.Unlock()
	}
}

// createdCount is how many times this region's function created the payment
// with table key key.
func (r *region) createdCount(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.created[key]
}

// gateRules are production's (control.DefaultGateRules) on the game day's
// timescale: replication lags 50 ms here, not about a second. Settle is not
// scaled: a payment's acceptedSeq is stamped when its request starts and its
// write may land as late as the request's budget (api.DefaultRequestTimeout,
// not scaled here either) plus the instances' clock skew; a watermark moved
// past it before it landed would never see it. With Settle at 1 s, a loaded
// machine let the primary open its gate while such a payment was missing.
var gateRules = control.GateRules{
	Tolerance: 250 * time.Millisecond, MaxSkew: 100 * time.Millisecond, Settle: api.DefaultRequestTimeout + app.ClockSkew,
	RemoteTimeout: 500 * time.Millisecond, PageSize: 500, MaxPages: 4,
}

// levers is this region's replica as the operator tools and probes see it:
// through the replicating endpoint.
func (r *region) levers() control.Table {
	return control.Table{DB: app.DynamoDB(r.cfg, r.settings), Name: r.table}
}

// startProbe runs the real peer probe (package probe) of this region against
// the peer's API, writing into this region's replica.
func (r *region) startProbe(peer *region, interval, timeout time.Duration) error {
	p, err := probe.New(probe.Config{
		Region: r.name, PeerRegion: peer.name,
		// /status, as deployed: /health is for Route 53's checkers (the router here).
		PeerHealthURL: r.toPeerAPI.URL() + "/status",
		// Its own path out, as deployed (SELF_STATUS_URL): a round that
		// reaches neither is unknown, not down.
		SelfHealthURL: r.api.URL() + "/status",
		Now:           r.now,
		TableName:     r.table,
		Levers:        r.levers(),
		Timeout:       timeout,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var last control.State
		for {
			obs := p.Round(ctx)
			if ctx.Err() != nil {
				return
			}
			if obs.Peer == control.StateDown {
				r.peerDown.Add(1)
			}
			if obs.Peer != last {
				r.tl.log("probe in %s: %s is %s", r.name, peer.name, obs.Peer)
				last = obs.Peer
			}
			if obs.Recorded != nil {
				r.tl.log("probe in %s: observation not recorded: %v", r.name, obs.Recorded)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
		}
	}()
	r.probeStop = func() { cancel(); <-done }
	return nil
}

// brownedOut reports whether req fails in a brownout: /health always (most
// of Route 53's checkers see it fail), anything else every other request of
// the same caller (User-Agent), so a probe sees its rounds alternate.
func (r *region) brownedOut(req events.APIGatewayProxyRequest) bool {
	if r.brownout.Load() <= 0 {
		return false
	}
	if req.Path == "/health" {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.brownN == nil {
		r.brownN = map[string]int{}
	}
	ua := req.Headers["User-Agent"]
	r.brownN[ua]++
	return r.brownN[ua]%2 == 0
}

// now is this region's functions' clock: the machine's, skewed.
func (r *region) now() time.Time { return time.Now().Add(time.Duration(r.skew.Load())) }

// stallStatus answers the next n /status requests only after d.
func (r *region) stallStatus(n int, d time.Duration) {
	r.stallFor.Store(int64(d))
	r.stalls.Store(int32(n))
}

func (r *region) stopProbe() {
	if r.probeStop != nil {
		r.probeStop()
		r.probeStop = nil
	}
}

// health GETs this region's /health directly.
func (r *region) health(ctx context.Context) (int, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.api.URL()+"/health", nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if err != nil {
		return 0, nil, err
	}
	var h struct {
		Failing []string `json:"failing"`
	}
	json.Unmarshal(body, &h)
	return resp.StatusCode, h.Failing, nil
}

// peerItem reads this region's copy of control#peer#<region> directly.
func (r *region) peerItem(ctx context.Context, of string) (control.Peer, error) {
	return control.Table{DB: r.rep.direct, Name: r.table}.Peer(ctx, of)
}

// holds reports whether this region's replica holds the item with key key.
func (r *region) holds(ctx context.Context, key string) (bool, error) {
	item, err := r.rep.get(ctx, key)
	return len(item) > 0, err
}

func (r *region) close() {
	r.stopProbe()
	if r.api != nil {
		r.api.stop()
	}
	for _, p := range []*path{r.toPeerAPI, r.toPeerDB} {
		if p != nil {
			p.stop()
		}
	}
	if r.rep != nil && r.rep.proxy != nil {
		r.rep.proxy.stop()
	}
	if r.aws != nil {
		standIns.put(r.aws, r.table)
	}
}

// status GETs this region's /status directly: what its checks and gate say.
func (r *region) status(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.api.URL()+"/status", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 2<<10))
	return fmt.Sprintf("%d %s", resp.StatusCode, body), err
}
