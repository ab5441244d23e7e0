package payment

import (
	"strings"
	"testing"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{1250, "USD", "12.50 USD"},
		{5, "USD", "0.05 USD"},
		{100, "EUR", "1.00 EUR"},
		{1250, "JPY", "1250 JPY"},
		{1, "BHD", "0.001 BHD"},
		{1234567, "KWD", "1234.567 KWD"},
		{-5, "USD", "-0.05 USD"},
	}
	for _, tc := range tests {
		if got := FormatAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestReceiptDependsOnlyOnStoredFields(t *testing.T) {
	rec := Record{Key: Key("client-a", "p1"), Owner: "client-a", PaymentID: "p1", Amount: 1250, Currency: "USD", Reference: "inv", Status: StatusReceived,
		CreatedAt: "2025-01-02T03:04:05.006Z", Region: "us-east-1", RequestHash: "h"}
	want := `{"receiptVersion":2,"paymentId":"p1","owner":"client-a","amount":1250,"currency":"USD","amountDisplay":"12.50 USD",` +
		`"reference":"inv","createdAt":"2025-01-02T03:04:05.006Z","region":"us-east-1","requestHash":"h"}` + "\n"
	if got := string(Receipt(rec)); got != want {
		t.Fatalf("Receipt =\n%s\nwant\n%s", got, want)
	}
	// Status changes and processing metadata must not change the receipt,
	// or a replay would write a different object.
	done := rec
	done.Status, done.ReceiptKey, done.ProcessedAt = StatusProcessed, ReceiptKey(rec.Key), "2025-01-02T03:04:06.000Z"
	if string(Receipt(done)) != want {
		t.Error("receipt changed with processing state")
	}
}

func TestKey(t *testing.T) {
	a := Key("client-a", "p1")
	tests := []struct {
		name  string
		other string
	}{
		{"another owner", Key("client-b", "p1")},
		{"another id", Key("client-a", "p2")},
		// Owner and id are not simply concatenated.
		{"shifted boundary", Key("client-a.p", "1")},
		{"the bare id", "p1"},
	}
	for _, tc := range tests {
		if tc.other == a {
			t.Errorf("%s: same key %q", tc.name, a)
		}
	}
	if Key("client-a", "p1") != a {
		t.Error("Key is not deterministic")
	}
	if len(a) != 64+1+2 || strings.ContainsAny(a, "#/") || !strings.HasSuffix(a, ".p1") {
		t.Errorf("Key = %q, want <64 hex>.p1, without '#' or '/'", a)
	}
}
