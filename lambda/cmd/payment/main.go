// Command lambda is the payment function: the same binary serves the REST API
// in every region, against that region's replica of the payments table and
// that region's receipts bucket. The wiring lives in package app, which the
// local game day (lambda/gameday) reuses.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda/cmd/payment
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
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payments-dr/payments-dr/lambda/app"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := app.Setup(context.Background(), os.Getenv, logger)
	if err != nil {
		// Failing the init phase makes Lambda report the cause on every
		// invoke instead of serving requests against a half-configured store.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
