package store_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

// TestConditionalWrites pins the DynamoDB and S3 semantics the payment flow
// relies on, against the local servers and the real SDK clients.
func TestConditionalWrites(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	if err := servers.Provision(ctx, "store-test", "store-test"); err != nil {
		t.Fatal(err)
	}
	st := store.New(servers.DynamoDBClient(), servers.S3Client(), "store-test", "store-test")
	rec := payment.Record{Key: payment.Key("client-a", "s1"), Owner: "client-a", PaymentID: "s1", Amount: 5, Currency: "EUR", Status: payment.StatusReceived,
		CreatedAt: "2025-01-01T00:00:00.000Z", Region: "us-east-1", RequestHash: "h1"}
	key := payment.ReceiptKey(rec.Key)
	otherHash, otherCopy := rec, rec
	otherHash.RequestHash = "h2"
	otherCopy.CreatedAt, otherCopy.Region = "2025-01-01T00:00:00.500Z", "us-east-2"
	body := payment.Receipt(rec)

	steps := []struct {
		name string
		run  func() error
		want error
	}{
		{"get before create", func() error { _, err := st.Get(ctx, rec.Key); return err }, payment.ErrNotFound},
		{"create", func() error { return st.Create(ctx, rec) }, nil},
		{"create again", func() error { return st.Create(ctx, rec) }, payment.ErrExists},
		{"mark with another hash", func() error { _, err := st.MarkProcessed(ctx, otherHash, key, "t"); return err }, payment.ErrStateChanged},
		{"mark another region's copy", func() error { _, err := st.MarkProcessed(ctx, otherCopy, key, "t"); return err }, payment.ErrStateChanged},
		{"receipt absent", func() error { return wantMatch(st, key, body, false) }, nil},
		{"put other receipt", func() error { return st.PutReceipt(ctx, key, payment.Receipt(otherCopy)) }, nil},
		{"receipt differs", func() error { return wantMatch(st, key, body, false) }, nil},
		{"put receipt", func() error { return st.PutReceipt(ctx, key, body) }, nil},
		{"receipt present", func() error { return wantMatch(st, key, body, true) }, nil},
		{"receipt with extra bytes", func() error { return wantMatch(st, key, body[:len(body)-1], false) }, nil},
		{"mark", func() error { _, err := st.MarkProcessed(ctx, rec, key, "t"); return err }, nil},
		{"mark twice", func() error { _, err := st.MarkProcessed(ctx, rec, key, "t"); return err }, payment.ErrStateChanged},
		{"table check", func() error { return st.CheckTable(ctx) }, nil},
		{"bucket check", func() error { return st.CheckBucket(ctx) }, nil},
	}
	for _, s := range steps {
		if err := s.run(); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	got, err := st.Get(ctx, rec.Key)
	want := rec
	want.Status, want.ReceiptKey, want.ProcessedAt = payment.StatusProcessed, key, "t"
	if err != nil || got != want {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
	}
}

func wantMatch(st *store.Store, key string, body []byte, want bool) error {
	got, err := st.ReceiptMatches(context.Background(), key, body)
	if err == nil && got != want {
		return errors.New("ReceiptMatches disagrees with the bucket")
	}
	return err
}
