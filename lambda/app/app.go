// Package app wires the payment function: settings from the environment, the
// SDK clients, the store, the failover levers and the /health checks. The
// Lambda main (package lambda) and the local game day (lambda/gameday) build
// their handlers here, so the game day exercises exactly the production wiring.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
)

// Settings are the function's own settings.
type Settings struct {
	Table          string
	Bucket         string
	MaxAmount      int64
	ForcePathStyle bool

	// DynamoDBEndpoint and S3Endpoint override the SDK's endpoints. They are
	// not read from the environment: in Lambda the SDK resolves endpoints
	// itself (and reads AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3),
	// which serves one region per process. The game day runs two regions in
	// one process and points each at its own stand-ins here.
	DynamoDBEndpoint string
	S3Endpoint       string

	// PeerRegion (PEER_REGION, optional) is the other region of the pair: a
	// payment missing here is looked for in its replica, and the primary's
	// failback gate reads its accept index.
	PeerRegion string
	// Role (DR_ROLE: primary or secondary; default secondary, which never
	// gates) is this region's place in the failover records. Only the primary
	// runs the failback gate and refuses writes while it is closed; only the
	// secondary indexes the payments it accepts (control.AcceptEntry).
	Role string
	// PeerDynamoDBEndpoint overrides the SDK's endpoint for PeerRegion (the
	// game day; not read from the environment).
	PeerDynamoDBEndpoint string
	// GateRules of the failback gate; zero: control.DefaultGateRules (the game
	// day's timescale is shorter; not read from the environment).
	GateRules control.GateRules
	// Now is the function's clock; nil: time.Now (the game day skews it).
	Now func() time.Time
}

// LoadSettings reads and checks the function's own environment, reporting
// every problem at once so a broken deploy is fixed in one round.
func LoadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		Table:      getenv("TABLE_NAME"),
		Bucket:     getenv("RECEIPTS_BUCKET"),
		MaxAmount:  payment.DefaultMaxAmount,
		PeerRegion: getenv("PEER_REGION"),
		Role:       getenv("DR_ROLE"),
	}
	var errs []error
	if s.Table == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set: it must name the payments table"))
	}
	if s.Bucket == "" {
		errs = append(errs, errors.New("RECEIPTS_BUCKET is not set: it must name this region's receipts bucket"))
	}
	if v := getenv("MAX_AMOUNT_MINOR"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("MAX_AMOUNT_MINOR=%q: want a positive integer number of minor units", v))
		}
		s.MaxAmount = n
	}
	switch s.Role {
	case "":
		s.Role = control.RoleSecondary
	case control.RolePrimary, control.RoleSecondary:
	default:
		errs = append(errs, fmt.Errorf("DR_ROLE=%q: want %s or %s", s.Role, control.RolePrimary, control.RoleSecondary))
	}
	if s.Role == control.RolePrimary && s.PeerRegion == "" {
		errs = append(errs, errors.New("DR_ROLE=primary needs PEER_REGION: the failback gate reads the secondary's replica"))
	}
	if v := getenv("S3_FORCE_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("S3_FORCE_PATH_STYLE=%q: want true or false", v))
		}
		s.ForcePathStyle = b
	}
	return s, errors.Join(errs...)
}

// The bounds of every AWS call the function makes, each inside the next:
//
//	DialTimeout < AttemptTimeout < CallTimeout < api.DefaultRequestTimeout
//	  < function timeout (10 s, stacks/function) < API Gateway's 29 s
//
// and for /health: AttemptTimeout < api.DefaultHealthTimeout < Route 53's 2 s.
// A store that accepts connections and then answers nothing (a brownout) so
// costs a POST at most CallTimeout per call and the request budget in all,
// answered as a 503 with Retry-After, instead of the whole function timeout
// spent in the SDK's default 3 attempts without a per-attempt bound.
// (TestBudgetsNest keeps the order; TestBrownout measures the outcome.)
const (
	// DialTimeout bounds a TCP connect (net.Dialer.Timeout).
	DialTimeout = 500 * time.Millisecond
	// AttemptTimeout bounds one HTTP attempt: connect, request, headers and
	// the whole response body (http.Client.Timeout, which the SDK's
	// BuildableClient sets per request, so each retry gets its own). DynamoDB
	// and S3 answer our small requests in tens of milliseconds; a second
	// without an answer is a stuck attempt worth retrying on a fresh
	// connection rather than waiting on.
	AttemptTimeout = time.Second
	// CallTimeout is one SDK operation's total budget, every attempt and
	// backoff included (a context deadline set around the operation).
	CallTimeout = 2500 * time.Millisecond
	// MaxAttempts and MaxBackoff: the SDK's standard retryer (3 attempts, but
	// a backoff of up to 20 s by default, far beyond any budget here).
	MaxAttempts = 3
	MaxBackoff  = 200 * time.Millisecond
	// WriteGateMaxAge: a payment write trusts a failback-gate decision this
	// old (the same instance's /health, or its previous write), so a busy
	// primary evaluates the gate about once a second per instance, not per write.
	WriteGateMaxAge = time.Second
	// WriteGateTimeout bounds that evaluation inside a payment's budget.
	WriteGateTimeout = 750 * time.Millisecond
	// ClockSkew is allowed between function instances' clocks when one judges
	// from a record's createdAt whether its creator can still be running.
	ClockSkew = time.Second
)

// LoadAWSConfig loads the SDK configuration with the function's bounds: the
// per-attempt timeout of the HTTP client, the retryer's attempts and backoff,
// and a total budget per operation, so that a dependency that hangs becomes a
// quick 503 the client can retry, not a Lambda timeout.
//
// SDK mechanisms used, per the AWS SDK for Go v2 developer guide:
//   - http.Client timeout "includes the time to connect, process any
//     redirects, and read the complete response body"; Dialer.Timeout bounds
//     the connect:
//     https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/custom-http
//   - retry.Standard (default 3 attempts, max backoff 20 s) wrapped with
//     retry.AddWithMaxAttempts and retry.AddWithMaxBackoffDelay, given as a
//     function that returns a new retryer per client so no retry token bucket
//     is shared across clients:
//     https://aws.github.io/aws-sdk-go-v2/docs/configuring-sdk/retries-timeouts
//   - an operation deadline through the context every operation takes;
//     callBudget sets one around every operation, retries included
//     (TestBrownout: a hung store's call ends at CallTimeout).
func LoadAWSConfig(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = DialTimeout }).
		WithTimeout(AttemptTimeout)
	base := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer {
			return retry.AddWithMaxBackoffDelay(retry.AddWithMaxAttempts(retry.NewStandard(), MaxAttempts), MaxBackoff)
		}),
		config.WithAPIOptions([]func(*middleware.Stack) error{callBudget(CallTimeout)}),
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(base, opts...)...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: AWS_REGION is set by the Lambda runtime; set it when running elsewhere")
	}
	return cfg, nil
}

// callBudget puts a deadline of d around each SDK operation (the SDK's
// retries run inside it), unless the caller's context ends sooner.
func callBudget(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CallBudget",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				out, md, err := next.HandleInitialize(ctx, in)
				// GetObject's body is read after the operation returns, over
				// the same request: it keeps the budget until it is closed.
				if o, ok := out.Result.(*s3.GetObjectOutput); ok && err == nil && o.Body != nil {
					o.Body = &cancelOnClose{ReadCloser: o.Body, cancel: cancel}
					return out, md, err
				}
				cancel()
				return out, md, err
			}), middleware.Before)
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// DynamoDB returns the table client of the function (and of anything that
// must reach the table the way it does, such as the game day's peer probe).
func DynamoDB(cfg aws.Config, s Settings) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if s.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
		}
	})
}

// Config wires the handler's configuration from an SDK config: the payment
// flow over this region's replica and bucket, and the /health checks,
// including the failover levers of package control.
func Config(cfg aws.Config, s Settings, logger *slog.Logger) api.Config {
	db := DynamoDB(cfg, s)
	st := store.New(
		db,
		s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = s.ForcePathStyle
			if s.S3Endpoint != "" {
				o.BaseEndpoint = aws.String(s.S3Endpoint)
			}
		}),
		s.Table, s.Bucket,
	)
	// The levers of the failover (package control): one attempt each, like the
	// other checks, because Route 53's next check is the retry.
	levers := control.Table{DB: db, Name: s.Table, Attempts: 1}
	svc := &payment.Service{Store: st, Region: cfg.Region, InFlight: api.DefaultRequestTimeout + ClockSkew, Now: s.Now,
		IndexAccepted: s.Role == control.RoleSecondary}
	checks := []api.Check{
		{Name: store.DynamoDBName, Run: st.CheckTable},
		{Name: store.S3Name, Run: st.CheckBucket},
		{Name: control.CheckDrained, Run: levers.CheckNotDrained(cfg.Region)},
	}
	var writes func(context.Context) error
	var status func() any
	if s.PeerRegion != "" && s.PeerRegion != cfg.Region {
		peerDB := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.Region = s.PeerRegion
			if s.PeerDynamoDBEndpoint != "" {
				o.BaseEndpoint = aws.String(s.PeerDynamoDBEndpoint)
			}
		})
		// Reads only, and only on a miss here: no receipts in the other region.
		svc.Peer = store.New(peerDB, nil, s.Table, "")
		if s.Role == control.RolePrimary {
			gate := &control.Gate{
				Region: cfg.Region, Secondary: s.PeerRegion,
				Local: levers, Remote: control.Table{DB: peerDB, Name: s.Table, Attempts: 1},
				Rules: s.GateRules, Now: s.Now,
			}
			checks = append(checks, api.Check{Name: control.CheckFailbackGate, Run: gate.Check})
			writes = func(ctx context.Context) error {
				// A slow evaluation must not eat the payment's budget: past the
				// bound it reads unknown, which does not refuse.
				ctx, cancel := context.WithTimeout(ctx, WriteGateTimeout)
				defer cancel()
				if d := gate.Writes(ctx, WriteGateMaxAge); d.RefuseWrites {
					return fmt.Errorf("%w (%s): %s", control.ErrGateClosed, d.Verdict, d.Reason)
				}
				return nil
			}
			status = gate.Status
		}
	}
	logger.Info("configured", "region", cfg.Region, "role", s.Role, "table", s.Table, "bucket", s.Bucket, "maxAmountMinor", s.MaxAmount)
	return api.Config{
		// A duplicate may wait for the invocation creating the same payment
		// as long as that invocation can run: its request budget, plus skew.
		Payments:       svc,
		Checks:         checks,
		Writes:         writes,
		Status:         status,
		Region:         cfg.Region,
		MaxAmount:      s.MaxAmount,
		Logger:         logger,
		RequestTimeout: api.DefaultRequestTimeout,
		HealthTimeout:  api.DefaultHealthTimeout,
	}
}

// Setup builds the SDK clients once per cold start, from the environment
// (getenv for the function's own settings, the SDK's standard variables for
// the rest), and wires the handler.
func Setup(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*api.Handler, error) {
	s, err := LoadSettings(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.New(Config(cfg, s, logger)), nil
}
