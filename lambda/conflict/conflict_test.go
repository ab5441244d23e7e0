package conflict

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/payments-dr/payments-dr/lambda/payment"
)

const secretRef = "INVOICE-7731 for Jane Q. Customer"

// payKey is the table key of client-a's payment pay-1 (payment.Key): the
// items below have the shape the payment function writes since payments
// have owners.
var payKey = payment.Key("client-a", "pay-1")

type image map[string]events.DynamoDBAttributeValue

// item builds a stored payment image as the payment function writes it.
func item(status, createdAt, region, amount, currency, hash string) image {
	im := image{
		"paymentId":       events.NewStringAttribute(payKey),
		"owner":           events.NewStringAttribute("client-a"),
		"clientPaymentId": events.NewStringAttribute("pay-1"),
		"amount":          events.NewNumberAttribute(amount),
		"currency":        events.NewStringAttribute(currency),
		"reference":       events.NewStringAttribute(secretRef),
		"status":          events.NewStringAttribute(status),
		"createdAt":       events.NewStringAttribute(createdAt),
		"region":          events.NewStringAttribute(region),
		"requestHash":     events.NewStringAttribute(hash),
	}
	if status == "processed" {
		im["receiptKey"] = events.NewStringAttribute(payment.ReceiptKey(payKey))
		im["processedAt"] = events.NewStringAttribute("2025-01-02T03:04:06Z")
	}
	return im
}

func record(name, viewType string, old, cur image) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID:   "ev-" + name,
		EventName: name,
		Change: events.DynamoDBStreamRecord{
			Keys:           map[string]events.DynamoDBAttributeValue{"paymentId": events.NewStringAttribute(payKey)},
			OldImage:       old,
			NewImage:       cur,
			StreamViewType: viewType,
		},
	}
}

const (
	t1   = "2025-01-02T03:04:05Z"
	t2   = "2025-01-02T03:04:05.120Z"
	east = "us-east-1"
	ohio = "us-east-2"
	both = "NEW_AND_OLD_IMAGES"
)

var (
	receivedA  = item("received", t1, east, "1500", "USD", "hashA")
	processedA = item("processed", t1, east, "1500", "USD", "hashA")
	// The same request, created concurrently in the other region.
	receivedAOhio = item("received", t2, ohio, "1500", "USD", "hashA")
	// A different request reusing the id in the other region.
	receivedBOhio = item("received", t2, ohio, "99", "EUR", "hashB")
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name    string
		records []events.DynamoDBEventRecord
		want    Result
	}{
		{
			name:    "insert is never a finding",
			records: []events.DynamoDBEventRecord{record("INSERT", both, nil, receivedA)},
			want:    Result{},
		},
		{
			name:    "received to processed with the same hash",
			records: []events.DynamoDBEventRecord{record("MODIFY", both, receivedA, processedA)},
			want:    Result{},
		},
		{
			name:    "same request recreated in the other region",
			records: []events.DynamoDBEventRecord{record("MODIFY", both, processedA, receivedAOhio)},
			want: Result{Recreated: []Finding{{
				Kind: KindRecreated, PaymentID: payKey, EventID: "ev-MODIFY",
				Old: Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "processed"},
				New: &Snapshot{Amount: "1500", Currency: "USD", Region: ohio, CreatedAt: t2, Status: "received"},
			}}},
		},
		{
			name:    "different request overwrote an acknowledged payment",
			records: []events.DynamoDBEventRecord{record("MODIFY", both, processedA, receivedBOhio)},
			want: Result{Findings: []Finding{{
				Kind: KindOverwritten, PaymentID: payKey, EventID: "ev-MODIFY",
				Old: Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "processed"},
				New: &Snapshot{Amount: "99", Currency: "EUR", Region: ohio, CreatedAt: t2, Status: "received"},
			}}},
		},
		{
			name: "new image without requestHash is a different request",
			records: func() []events.DynamoDBEventRecord {
				cur := item("received", t1, east, "1500", "USD", "")
				delete(cur, "requestHash")
				return []events.DynamoDBEventRecord{record("MODIFY", both, receivedA, cur)}
			}(),
			want: Result{Findings: []Finding{{
				Kind: KindOverwritten, PaymentID: payKey, EventID: "ev-MODIFY",
				Old: Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "received"},
				New: &Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "received"},
			}}},
		},
		{
			name:    "remove",
			records: []events.DynamoDBEventRecord{record("REMOVE", both, processedA, nil)},
			want: Result{Findings: []Finding{{
				Kind: KindRemoved, PaymentID: payKey, EventID: "ev-REMOVE",
				Old: Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "processed"},
			}}},
		},
		{
			name: "keys-only stream: missing images are counted, not findings",
			records: []events.DynamoDBEventRecord{
				record("INSERT", "KEYS_ONLY", nil, nil),
				record("MODIFY", "KEYS_ONLY", nil, nil),
				record("REMOVE", "KEYS_ONLY", nil, nil),
			},
			want: Result{MissingImages: 2, StreamViewType: "KEYS_ONLY"},
		},
		{
			name:    "new-image-only stream: modify lacks the old image",
			records: []events.DynamoDBEventRecord{record("MODIFY", "NEW_IMAGE", nil, receivedBOhio)},
			want:    Result{MissingImages: 1, StreamViewType: "NEW_IMAGE"},
		},
		{
			name: "attributes of an unexpected type read as empty, without panicking",
			records: func() []events.DynamoDBEventRecord {
				old := item("processed", t1, east, "1500", "USD", "hashA")
				old["amount"] = events.NewBooleanAttribute(true)
				old["region"] = events.NewNullAttribute()
				return []events.DynamoDBEventRecord{record("REMOVE", both, old, nil)}
			}(),
			want: Result{Findings: []Finding{{
				Kind: KindRemoved, PaymentID: payKey, EventID: "ev-REMOVE",
				Old: Snapshot{Currency: "USD", CreatedAt: t1, Status: "processed"},
			}}},
		},
		{
			name: "mixed batch keeps record order",
			records: []events.DynamoDBEventRecord{
				record("INSERT", both, nil, receivedA),
				record("MODIFY", both, receivedA, processedA),
				record("MODIFY", both, processedA, receivedBOhio),
				record("REMOVE", both, receivedBOhio, nil),
			},
			want: Result{Findings: []Finding{
				{
					Kind: KindOverwritten, PaymentID: payKey, EventID: "ev-MODIFY",
					Old: Snapshot{Amount: "1500", Currency: "USD", Region: east, CreatedAt: t1, Status: "processed"},
					New: &Snapshot{Amount: "99", Currency: "EUR", Region: ohio, CreatedAt: t2, Status: "received"},
				},
				{
					Kind: KindRemoved, PaymentID: payKey, EventID: "ev-REMOVE",
					Old: Snapshot{Amount: "99", Currency: "EUR", Region: ohio, CreatedAt: t2, Status: "received"},
				},
			}},
		},
		{
			name: "empty batch",
			want: Result{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Analyze(tt.records)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Analyze (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Findings, Detect(tt.records)); diff != "" {
				t.Errorf("Detect (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPaymentIDFallsBackToImage(t *testing.T) {
	rec := record("REMOVE", both, processedA, nil)
	rec.Change.Keys = nil
	got := Detect([]events.DynamoDBEventRecord{rec})
	if len(got) != 1 || got[0].PaymentID != payKey {
		t.Fatalf("Detect = %+v, want one finding for pay-1", got)
	}
}

func TestCounts(t *testing.T) {
	r := Result{
		Findings:  []Finding{{Kind: KindOverwritten}, {Kind: KindRemoved}, {Kind: KindOverwritten}},
		Recreated: []Finding{{Kind: KindRecreated}},
	}
	o, rm := r.Counts()
	if o != 2 || rm != 1 {
		t.Errorf("Counts = %d, %d; want 2, 1", o, rm)
	}
}

// TestControlItemsAreNotPayments: the peer probe rewrites its item every round
// and an operator may delete a drain flag; neither is a lost payment.
func TestControlItemsAreNotPayments(t *testing.T) {
	for _, key := range []string{"control#peer#us-east-1", "control#drain#us-east-2", "health#probe"} {
		ctl := func(name string, old, cur image) events.DynamoDBEventRecord {
			r := record(name, both, old, cur)
			r.Change.Keys = map[string]events.DynamoDBAttributeValue{"paymentId": events.NewStringAttribute(key)}
			return r
		}
		res := Analyze([]events.DynamoDBEventRecord{
			ctl("MODIFY", receivedA, receivedBOhio),
			ctl("REMOVE", receivedA, nil),
		})
		if len(res.Findings) != 0 || len(res.Recreated) != 0 {
			t.Errorf("%s: findings %+v, recreated %+v; want none", key, res.Findings, res.Recreated)
		}
	}
}
