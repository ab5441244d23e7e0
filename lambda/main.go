// Command lambda is the payment function: the same binary serves the REST API
// in every region, against that region's replica of the payments table and
// that region's receipts bucket.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda
//
// Environment:
//
//	TABLE_NAME          payments table (required)
//	RECEIPTS_BUCKET     this region's receipts bucket (required)
//	MAX_AMOUNT_MINOR    largest payment in minor units (default 1000000000)
//	S3_FORCE_PATH_STYLE "true" for path-style S3 addressing (local S3 stand-ins)
//
// The region comes from AWS_REGION, which Lambda sets; local endpoints come
// from the SDK's own AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := setup(context.Background(), os.Getenv, logger)
	if err != nil {
		// Failing the init phase makes Lambda report the cause on every
		// invoke instead of serving requests against a half-configured store.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

type settings struct {
	table          string
	bucket         string
	maxAmount      int64
	forcePathStyle bool
}

// loadSettings reads and checks the function's own environment, reporting
// every problem at once so a broken deploy is fixed in one round.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{
		table:     getenv("TABLE_NAME"),
		bucket:    getenv("RECEIPTS_BUCKET"),
		maxAmount: payment.DefaultMaxAmount,
	}
	var errs []error
	if s.table == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set: it must name the payments table"))
	}
	if s.bucket == "" {
		errs = append(errs, errors.New("RECEIPTS_BUCKET is not set: it must name this region's receipts bucket"))
	}
	if v := getenv("MAX_AMOUNT_MINOR"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("MAX_AMOUNT_MINOR=%q: want a positive integer number of minor units", v))
		}
		s.maxAmount = n
	}
	if v := getenv("S3_FORCE_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("S3_FORCE_PATH_STYLE=%q: want true or false", v))
		}
		s.forcePathStyle = b
	}
	return s, errors.Join(errs...)
}

// setup builds the SDK clients once per cold start and wires the handler.
func setup(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*api.Handler, error) {
	s, err := loadSettings(getenv)
	if err != nil {
		return nil, err
	}
	// Short connect and request timeouts: a dependency that hangs should
	// become a quick 503 the client can retry, not a Lambda timeout.
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = time.Second }).
		WithTimeout(5 * time.Second)
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: AWS_REGION is set by the Lambda runtime; set it when running elsewhere")
	}
	db := dynamodb.NewFromConfig(cfg)
	st := store.New(
		db,
		s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = s.forcePathStyle }),
		s.table, s.bucket,
	)
	// The levers of the failover (package control): one attempt each, like the
	// other checks, because Route 53's next check is the retry.
	levers := control.Table{DB: db, Name: s.table, Attempts: 1}
	logger.Info("configured", "region", cfg.Region, "table", s.table, "bucket", s.bucket, "maxAmountMinor", s.maxAmount)
	return api.New(api.Config{
		Payments: &payment.Service{Store: st, Region: cfg.Region},
		Checks: []api.Check{
			{Name: store.DynamoDBName, Run: st.CheckTable},
			{Name: store.S3Name, Run: st.CheckBucket},
			{Name: control.CheckDrained, Run: levers.CheckNotDrained(cfg.Region)},
			{Name: control.CheckFailbackGate, Run: levers.CheckGateOpen(cfg.Region)},
		},
		Region:    cfg.Region,
		MaxAmount: s.maxAmount,
		Logger:    logger,
	}), nil
}
