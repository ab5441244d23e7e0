// Command conflictwatch consumes one region's payments table stream
// (NEW_AND_OLD_IMAGES) and reports payments the global table lost to
// last-writer-wins (or deletions) as CloudWatch metrics in Embedded Metric
// Format, written to stdout, so it needs no cloudwatch:PutMetricData
// permission. See package conflict.
//
// Build (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o bootstrap ./lambda/cmd/conflictwatch
//
// Environment:
//
//	TABLE_NAME  payments table (required): the value of the TableName dimension
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payments-dr/payments-dr/lambda/conflict"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := newHandler(os.Getenv, logger, os.Stdout)
	if err != nil {
		// Failing init makes Lambda report the cause on every invoke instead
		// of publishing metrics under a wrong or empty dimension.
		logger.Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.handle)
}

type handler struct {
	table string
	log   *slog.Logger
	out   io.Writer // receives the EMF lines: stdout in Lambda
	now   func() time.Time
}

func newHandler(getenv func(string) string, logger *slog.Logger, out io.Writer) (*handler, error) {
	table := getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set: it must name the payments table whose stream this function reads")
	}
	return &handler{table: table, log: logger, out: out, now: time.Now}, nil
}

// handle always returns nil: an overwrite has already happened when its
// stream record arrives, so retrying the batch cannot undo it, and a failing
// batch would block the shard until the records expire. Problems are logged.
func (h *handler) handle(_ context.Context, ev events.DynamoDBEvent) error {
	res := conflict.Analyze(ev.Records)
	if err := conflict.Report(h.log, h.out, h.table, res, h.now()); err != nil {
		h.log.Error("could not report payment conflicts", "table", h.table, "error", err.Error())
	}
	return nil
}
