// Command authorizer is the API Gateway (REST API) TOKEN authorizer of the
// payment routes, in every region: it validates the caller's JWT bearer
// token (package auth) and tells API Gateway who the caller is. It depends on
// nothing in the other region, only on the identity provider's JWKS endpoint,
// and keeps serving with the keys it last fetched while that endpoint is down.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda/authorizer
//
// Environment:
//
//	AUTH_ISSUER    the identity provider's issuer (https URL, the tokens' iss)
//	AUTH_AUDIENCE  the audience tokens for this API carry (aud)
//	AUTH_JWKS_URL  the identity provider's JWKS endpoint (https URL)
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payments-dr/payments-dr/lambda/auth"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := auth.LoadConfig(os.Getenv)
	if err != nil {
		// A failed init makes every authorization fail (API Gateway
		// answers 500): closed, and the cause is in the log.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	cfg.Logger = logger
	// The first JWKS fetch is bounded by auth.DefaultFetchTimeout; if the
	// identity provider is down it is retried on later calls.
	v, err := auth.New(context.Background(), cfg)
	if err != nil {
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(newHandler(v, logger).handle)
}
