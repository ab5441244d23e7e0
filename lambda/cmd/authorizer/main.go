// Command authorizer is the API Gateway (REST API) TOKEN authorizer of the
// payment routes, in every region: it validates the caller's JWT bearer
// token (package auth) and tells API Gateway who the caller is. It depends on
// nothing in the other region: only on the identity provider's JWKS
// endpoint, whose keys it keeps while that endpoint is down, and on its own
// region's replica of the payments table, where the region's authorizers
// keep a copy of the last good key set (package jwksstore). An execution
// environment that starts while the identity provider is unreachable (the
// secondary's, at failover) validates with the newest copy either region
// saved, replicated by the global table, if it is at most 24 h old.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda/cmd/authorizer
//
// Environment:
//
//	AUTH_ISSUER    the identity provider's issuer (https URL, the tokens' iss)
//	AUTH_AUDIENCE  the audience tokens for this API carry (aud)
//	AUTH_JWKS_URL  the identity provider's JWKS endpoint (https URL)
//	TABLE_NAME     the payments global table (the copy of the key set)
//	PEER_REGION    the deployment's other region, whose copy is read too
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/jwksstore"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	cfg, err := loadConfig(ctx, os.Getenv)
	if err != nil {
		// A failed init makes every authorization fail (API Gateway
		// answers 500): closed, and the cause is in the log.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	cfg.Logger = logger
	// The first JWKS fetch is bounded by auth.DefaultFetchTimeout, and the
	// store's read or write by auth.DefaultStoreTimeout; if the identity
	// provider is down it is retried on later calls.
	v, err := auth.New(ctx, cfg)
	if err != nil {
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(newHandler(v, logger).handle)
}

// loadConfig reads the environment, reporting every problem at once, and
// connects the key store to this region's DynamoDB endpoint.
func loadConfig(ctx context.Context, getenv func(string) string) (auth.Config, error) {
	cfg, authErr := auth.LoadConfig(getenv)
	// Each store call is bounded by auth.DefaultStoreTimeout; a dial that
	// hangs must fail well within it.
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 300 * time.Millisecond }).
		WithTimeout(auth.DefaultStoreTimeout)
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	if err != nil {
		return cfg, errors.Join(authErr, fmt.Errorf("load AWS config: %w", err))
	}
	store, storeErr := jwksstore.FromEnv(getenv, dynamodb.NewFromConfig(awsCfg))
	cfg.Store = store
	return cfg, errors.Join(authErr, storeErr)
}
