package review

import (
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkReviewTwoFullSynths is the cost of one `go run . review` after the build:
// reading both folders (the reviewed synth and a copy that renames the payments table,
// so the plan has replacements to propagate), planning every stack, the recovery report
// on both sides, and rendering the text. `make bench` prints it as ms/review.
func BenchmarkReviewTwoFullSynths(b *testing.B) {
	head := loadSynth(b)
	head.resource(b, drStack, "aws_dynamodb_table", "payments-table_7633156F")["name"] = "payments-ledger-dev"
	headDir := head.write(b)
	baseDir := filepath.Join("..", "..", "generated")
	b.ResetTimer()
	for b.Loop() {
		base, err := LoadDir(baseDir)
		if err != nil {
			b.Fatal(err)
		}
		h, err := LoadDir(headDir)
		if err != nil {
			b.Fatal(err)
		}
		if err := Review(base, h).Write(io.Discard, Text, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/review")
}
