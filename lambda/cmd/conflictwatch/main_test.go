package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// streamEvent is a DynamoDB stream batch as Lambda delivers it: one payment
// overwritten by a different request from the other region, one status
// change, one insert.
const streamEvent = `{"Records":[
 {"eventID":"e1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-2",
  "dynamodb":{"Keys":{"paymentId":{"S":"pay-2"}},
   "NewImage":{"paymentId":{"S":"pay-2"},"amount":{"N":"10"},"currency":{"S":"USD"},"reference":{"S":"SECRET-REF-2"},"status":{"S":"received"},"createdAt":{"S":"2025-01-02T03:04:00Z"},"region":{"S":"us-east-2"},"requestHash":{"S":"h2"}},
   "SequenceNumber":"100","SizeBytes":200,"StreamViewType":"NEW_AND_OLD_IMAGES"}},
 {"eventID":"e2","eventName":"MODIFY","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-2",
  "dynamodb":{"Keys":{"paymentId":{"S":"pay-2"}},
   "OldImage":{"paymentId":{"S":"pay-2"},"amount":{"N":"10"},"currency":{"S":"USD"},"reference":{"S":"SECRET-REF-2"},"status":{"S":"received"},"createdAt":{"S":"2025-01-02T03:04:00Z"},"region":{"S":"us-east-2"},"requestHash":{"S":"h2"}},
   "NewImage":{"paymentId":{"S":"pay-2"},"amount":{"N":"10"},"currency":{"S":"USD"},"reference":{"S":"SECRET-REF-2"},"status":{"S":"processed"},"receiptKey":{"S":"receipts/pay-2.json"},"createdAt":{"S":"2025-01-02T03:04:00Z"},"region":{"S":"us-east-2"},"processedAt":{"S":"2025-01-02T03:04:01Z"},"requestHash":{"S":"h2"}},
   "SequenceNumber":"101","SizeBytes":250,"StreamViewType":"NEW_AND_OLD_IMAGES"}},
 {"eventID":"e3","eventName":"MODIFY","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-2",
  "dynamodb":{"Keys":{"paymentId":{"S":"pay-1"}},
   "OldImage":{"paymentId":{"S":"pay-1"},"amount":{"N":"1500"},"currency":{"S":"USD"},"reference":{"S":"SECRET-REF-OHIO"},"status":{"S":"processed"},"receiptKey":{"S":"receipts/pay-1.json"},"createdAt":{"S":"2025-01-02T03:04:05Z"},"region":{"S":"us-east-2"},"processedAt":{"S":"2025-01-02T03:04:05.300Z"},"requestHash":{"S":"hashA"}},
   "NewImage":{"paymentId":{"S":"pay-1"},"amount":{"N":"99"},"currency":{"S":"EUR"},"reference":{"S":"SECRET-REF-VIRGINIA"},"status":{"S":"received"},"createdAt":{"S":"2025-01-02T03:04:05.120Z"},"region":{"S":"us-east-1"},"requestHash":{"S":"hashB"}},
   "SequenceNumber":"102","SizeBytes":300,"StreamViewType":"NEW_AND_OLD_IMAGES"}}
]}`

func TestHandlerEndToEnd(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(streamEvent), &ev); err != nil {
		t.Fatal(err)
	}
	// One stream for logs and metrics, as stdout is in Lambda.
	var stdout bytes.Buffer
	h, err := newHandler(func(k string) string {
		return map[string]string{"TABLE_NAME": "payments"}[k]
	}, slog.New(slog.NewJSONHandler(&stdout, nil)), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC)
	h.now = func() time.Time { return at }

	if err := h.handle(context.Background(), ev); err != nil {
		t.Fatalf("handle = %v, want nil", err)
	}

	if strings.Contains(stdout.String(), "SECRET-REF") {
		t.Errorf("output carries the payment reference:\n%s", stdout.String())
	}
	var emf, overwrite []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		switch {
		case m["_aws"] != nil:
			emf = append(emf, m)
		case m["level"] == "ERROR":
			overwrite = append(overwrite, m)
		}
	}
	if len(emf) != 1 {
		t.Fatalf("%d EMF lines, want 1:\n%s", len(emf), stdout.String())
	}
	wantEMF := map[string]any{
		"_aws": map[string]any{
			"Timestamp": float64(at.UnixMilli()),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "PaymentsDR",
				"Dimensions": []any{[]any{"TableName"}},
				"Metrics": []any{
					map[string]any{"Name": "PaymentOverwritten", "Unit": "Count"},
					map[string]any{"Name": "PaymentRemoved", "Unit": "Count"},
				},
			}},
		},
		"TableName":          "payments",
		"PaymentOverwritten": float64(1),
		"PaymentRemoved":     float64(0),
	}
	if diff := cmp.Diff(wantEMF, emf[0]); diff != "" {
		t.Errorf("EMF (-want +got):\n%s", diff)
	}
	if len(overwrite) != 1 || overwrite[0]["paymentId"] != "pay-1" || overwrite[0]["oldRegion"] != "us-east-2" ||
		overwrite[0]["newRegion"] != "us-east-1" || overwrite[0]["oldAmount"] != "1500" || overwrite[0]["newAmount"] != "99" {
		t.Errorf("ERROR lines = %v, want one for pay-1 us-east-2 1500 -> us-east-1 99", overwrite)
	}
}

func TestHandlerNeverFails(t *testing.T) {
	var logs bytes.Buffer
	h := &handler{table: "payments", log: slog.New(slog.NewJSONHandler(&logs, nil)), out: brokenWriter{}, now: time.Now}
	if err := h.handle(context.Background(), events.DynamoDBEvent{}); err != nil {
		t.Fatalf("handle = %v, want nil (a failed batch would block the stream)", err)
	}
	if !strings.Contains(logs.String(), "could not report payment conflicts") {
		t.Errorf("write failure not logged:\n%s", logs.String())
	}
}

func TestNewHandlerNeedsTable(t *testing.T) {
	_, err := newHandler(func(string) string { return "" }, slog.New(slog.DiscardHandler), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("newHandler without TABLE_NAME: err = %v, want one naming TABLE_NAME", err)
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
