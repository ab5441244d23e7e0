package conflict

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// wantEMF is the EMF document, as decoded JSON, that the alarms rely on.
func wantEMF(table string, overwritten, removed float64) map[string]any {
	return map[string]any{
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
		"TableName":          table,
		"PaymentOverwritten": overwritten,
		"PaymentRemoved":     removed,
	}
}

func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line is not one JSON object: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func TestReport(t *testing.T) {
	tests := []struct {
		name      string
		records   []events.DynamoDBEventRecord
		emfCounts [2]float64
		wantLogs  []map[string]any // level, msg and the finding fields
	}{
		{
			name:      "nothing found still publishes zeros",
			records:   []events.DynamoDBEventRecord{record("INSERT", both, nil, receivedA), record("MODIFY", both, receivedA, processedA)},
			emfCounts: [2]float64{0, 0},
		},
		{
			name:      "overwrite",
			records:   []events.DynamoDBEventRecord{record("MODIFY", both, processedA, receivedBOhio)},
			emfCounts: [2]float64{1, 0},
			wantLogs: []map[string]any{{
				"level": "ERROR", "msg": "acknowledged payment overwritten by a different request (global table last-writer-wins)",
				"table": "payments", "kind": "overwritten", "paymentId": payKey, "eventId": "ev-MODIFY",
				"oldAmount": "1500", "oldCurrency": "USD", "oldRegion": east, "oldCreatedAt": t1, "oldStatus": "processed",
				"newAmount": "99", "newCurrency": "EUR", "newRegion": ohio, "newCreatedAt": t2, "newStatus": "received",
			}},
		},
		{
			name:      "remove",
			records:   []events.DynamoDBEventRecord{record("REMOVE", both, processedA, nil)},
			emfCounts: [2]float64{0, 1},
			wantLogs: []map[string]any{{
				"level": "ERROR", "msg": "payment removed from the table",
				"table": "payments", "kind": "removed", "paymentId": payKey, "eventId": "ev-REMOVE",
				"oldAmount": "1500", "oldCurrency": "USD", "oldRegion": east, "oldCreatedAt": t1, "oldStatus": "processed",
			}},
		},
		{
			name:      "recreated is info only",
			records:   []events.DynamoDBEventRecord{record("MODIFY", both, processedA, receivedAOhio)},
			emfCounts: [2]float64{0, 0},
			wantLogs: []map[string]any{{
				"level": "INFO", "msg": "payment recreated by the same request in another region",
				"table": "payments", "kind": "recreated", "paymentId": payKey, "eventId": "ev-MODIFY",
				"oldAmount": "1500", "oldCurrency": "USD", "oldRegion": east, "oldCreatedAt": t1, "oldStatus": "processed",
				"newAmount": "1500", "newCurrency": "USD", "newRegion": ohio, "newCreatedAt": t2, "newStatus": "received",
			}},
		},
		{
			name: "missing images warn once per batch",
			records: []events.DynamoDBEventRecord{
				record("MODIFY", "KEYS_ONLY", nil, nil),
				record("REMOVE", "KEYS_ONLY", nil, nil),
			},
			emfCounts: [2]float64{0, 0},
			wantLogs: []map[string]any{{
				"level": "WARN", "msg": "stream records lack old or new images; overwrites cannot be detected: the table stream must be NEW_AND_OLD_IMAGES",
				"table": "payments", "records": float64(2), "streamViewType": "KEYS_ONLY",
			}},
		},
		{
			name: "several findings: one error line each, one metrics line",
			records: []events.DynamoDBEventRecord{
				record("MODIFY", both, processedA, receivedBOhio),
				record("MODIFY", both, receivedA, receivedBOhio),
				record("REMOVE", both, receivedBOhio, nil),
			},
			emfCounts: [2]float64{2, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs, out bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			res := Analyze(tt.records)
			if err := Report(log, &out, "payments", res, at); err != nil {
				t.Fatalf("Report: %v", err)
			}

			if strings.Count(out.String(), "\n") != 1 || !strings.HasSuffix(out.String(), "\n") {
				t.Fatalf("want exactly one EMF line, got %q", out.String())
			}
			emf := decodeLines(t, out.Bytes())[0]
			if diff := cmp.Diff(wantEMF("payments", tt.emfCounts[0], tt.emfCounts[1]), emf); diff != "" {
				t.Errorf("EMF document (-want +got):\n%s", diff)
			}

			gotLogs := decodeLines(t, logs.Bytes())
			errorLines := 0
			for _, l := range gotLogs {
				delete(l, "time")
				if l["level"] == "ERROR" {
					errorLines++
				}
			}
			if errorLines != len(res.Findings) {
				t.Errorf("%d ERROR lines for %d findings", errorLines, len(res.Findings))
			}
			if tt.wantLogs != nil {
				if diff := cmp.Diff(tt.wantLogs, gotLogs); diff != "" {
					t.Errorf("logs (-want +got):\n%s", diff)
				}
			}
			for _, b := range []string{logs.String(), out.String()} {
				if strings.Contains(b, secretRef) || strings.Contains(b, "receipts/") {
					t.Errorf("output carries body text:\n%s", b)
				}
			}
		})
	}
}

func TestEMFLineExact(t *testing.T) {
	got, err := EMFLine("payments", 1, 0, at)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_aws":{"Timestamp":1735787045678,"CloudWatchMetrics":[{"Namespace":"PaymentsDR","Dimensions":[["TableName"]],"Metrics":[{"Name":"PaymentOverwritten","Unit":"Count"},{"Name":"PaymentRemoved","Unit":"Count"}]}]},"TableName":"payments","PaymentOverwritten":1,"PaymentRemoved":0}`
	if string(got) != want {
		t.Errorf("EMFLine =\n%s\nwant\n%s", got, want)
	}
}

func TestReportErrors(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	t.Run("empty table name", func(t *testing.T) {
		var out bytes.Buffer
		if err := Report(log, &out, "", Result{}, at); err == nil || out.Len() != 0 {
			t.Errorf("Report with no table: err=%v, wrote %q; want an error and nothing written", err, out.String())
		}
	})
	t.Run("write fails", func(t *testing.T) {
		if err := Report(log, failingWriter{}, "payments", Result{}, at); err == nil {
			t.Error("Report ignored a failed write")
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
