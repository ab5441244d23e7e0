package conflict

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/payments-dr/payments-dr/lambda/emf"
)

// EMF document (CloudWatch embedded metric format specification): a root
// object whose _aws member holds the millisecond Timestamp and the metric
// directives; each directive's dimension names and metric names are root
// members holding the dimension values and metric values.
type emfDocument struct {
	AWS         emf.Metadata `json:"_aws"`
	TableName   string       `json:"TableName"`
	Overwritten int          `json:"PaymentOverwritten"`
	Removed     int          `json:"PaymentRemoved"`
}

// EMFLine returns the EMF log line (without newline) that publishes the two
// counters for table at time now.
func EMFLine(table string, overwritten, removed int, now time.Time) ([]byte, error) {
	if table == "" {
		// CloudWatch rejects an empty dimension value: the line would be
		// dropped and the alarms would see no data.
		return nil, errors.New("conflict: empty table name for the " + DimensionTable + " dimension")
	}
	return json.Marshal(emfDocument{
		AWS: emf.Metadata{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emf.Directive{{
				Namespace:  MetricNamespace,
				Dimensions: [][]string{{DimensionTable}},
				Metrics: []emf.Metric{
					{Name: MetricOverwritten, Unit: "Count"},
					{Name: MetricRemoved, Unit: "Count"},
				},
			}},
		},
		TableName:   table,
		Overwritten: overwritten,
		Removed:     removed,
	})
}

// Report writes one EMF line to w for the batch (also when nothing was found,
// so the metrics always have data points), one ERROR log per finding, one
// INFO log per same-request re-creation, and one WARN if records lacked
// images. Only Snapshot fields are logged, never the payment's reference.
//
// w must be where CloudWatch Logs picks lines up (stdout in Lambda); the line
// is written in one Write so it cannot interleave with other log output.
func Report(log *slog.Logger, w io.Writer, table string, res Result, now time.Time) error {
	if res.MissingImages > 0 {
		log.Warn("stream records lack old or new images; overwrites cannot be detected: the table stream must be NEW_AND_OLD_IMAGES",
			"table", table, "records", res.MissingImages, "streamViewType", res.StreamViewType)
	}
	for _, f := range res.Findings {
		switch f.Kind {
		case KindOverwritten:
			log.Error("acknowledged payment overwritten by a different request (global table last-writer-wins)",
				findingAttrs(table, f)...)
		case KindRemoved:
			log.Error("payment removed from the table", findingAttrs(table, f)...)
		}
	}
	for _, f := range res.Recreated {
		log.Info("payment recreated by the same request in another region", findingAttrs(table, f)...)
	}

	overwritten, removed := res.Counts()
	line, err := EMFLine(table, overwritten, removed, now)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("conflict: write metrics line: %w", err)
	}
	return nil
}

func findingAttrs(table string, f Finding) []any {
	a := []any{
		"table", table,
		"kind", string(f.Kind),
		"paymentId", f.PaymentID,
		"eventId", f.EventID,
		"oldAmount", f.Old.Amount,
		"oldCurrency", f.Old.Currency,
		"oldRegion", f.Old.Region,
		"oldCreatedAt", f.Old.CreatedAt,
		"oldStatus", f.Old.Status,
	}
	if f.New != nil {
		a = append(a,
			"newAmount", f.New.Amount,
			"newCurrency", f.New.Currency,
			"newRegion", f.New.Region,
			"newCreatedAt", f.New.CreatedAt,
			"newStatus", f.New.Status,
		)
	}
	return a
}
