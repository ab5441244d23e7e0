// Package conflict detects acknowledged payments that the payments global
// table lost after the fact, by reading one region's table stream
// (NEW_AND_OLD_IMAGES), and reports them as CloudWatch metrics through
// Embedded Metric Format log lines that alarms watch.
//
// Why: the table is a DynamoDB global table with last-writer-wins. When two
// regions create the same paymentId concurrently from different requests,
// each region's conditional create succeeds locally, both clients get 201,
// and replication then silently replaces one acknowledged payment with the
// other. That cannot be prevented with the pinned provider, so it is detected:
// the losing region's stream shows a MODIFY whose old and new images carry
// different request hashes. Deletions are reported too, since the payment
// function never deletes.
//
// Only the attributes named in Snapshot are read from an image; the client's
// reference text and any other body text never reach a log line.
package conflict

import (
	"github.com/aws/aws-lambda-go/events"
	"strings"
)

// Names the infrastructure's alarms refer to. Changing any of them breaks the
// alarms silently (an alarm on a metric that no longer exists just sits in
// INSUFFICIENT_DATA), so they are fixed.
const (
	MetricNamespace   = "PaymentsDR"
	MetricOverwritten = "PaymentOverwritten"
	MetricRemoved     = "PaymentRemoved"
	DimensionTable    = "TableName"
)

// Table attribute names read from stream images (see payment.Record).
const (
	attrPaymentID   = "paymentId"
	attrAmount      = "amount"
	attrCurrency    = "currency"
	attrStatus      = "status"
	attrCreatedAt   = "createdAt"
	attrRegion      = "region"
	attrRequestHash = "requestHash"
)

// Kind says what happened to a payment.
type Kind string

const (
	// KindOverwritten: a payment was replaced by a different request for the
	// same paymentId (the old image's requestHash differs from the new one's).
	KindOverwritten Kind = "overwritten"
	// KindRemoved: a payment was deleted.
	KindRemoved Kind = "removed"
	// KindRecreated: the same request replaced the payment, as written by the
	// other region (another createdAt or region). Harmless; it never appears
	// in Detect's answer, only in Result.Recreated for an info log.
	KindRecreated Kind = "recreated"
)

// Snapshot is the part of a payment image that may be logged. Amount is the
// number exactly as stored (minor units of Currency). Fields missing from the
// image are empty.
type Snapshot struct {
	Amount    string
	Currency  string
	Region    string
	CreatedAt string
	Status    string
}

// Finding is one payment the table lost.
type Finding struct {
	Kind Kind
	// PaymentID is the item's key, "<owner hash>.<client paymentId>"
	// (payment.Key): what GetItem needs to look at it.
	PaymentID string
	// EventID is the stream record's eventID, to find the record again.
	EventID string
	// Old is the payment as it was before the change.
	Old Snapshot
	// New is the payment that replaced it; nil for KindRemoved.
	New *Snapshot
}

// Result is what one batch of stream records showed.
type Result struct {
	// Findings are the overwritten and removed payments, in record order.
	Findings []Finding
	// Recreated are same-request replacements from the other region: not
	// findings, worth an info line.
	Recreated []Finding
	// MissingImages counts MODIFY and REMOVE records that lacked the images
	// needed to judge them: the stream is not NEW_AND_OLD_IMAGES.
	MissingImages int
	// StreamViewType is the view type of the first record missing images, to
	// name the misconfiguration in the warning.
	StreamViewType string
}

// Counts returns how many findings of each kind r holds.
func (r Result) Counts() (overwritten, removed int) {
	for _, f := range r.Findings {
		switch f.Kind {
		case KindOverwritten:
			overwritten++
		case KindRemoved:
			removed++
		}
	}
	return overwritten, removed
}

// Detect returns a Finding for each record that overwrote a payment with a
// different request or removed one. INSERTs, status changes and same-request
// re-creations are not findings, nor are records lacking the images to judge.
func Detect(records []events.DynamoDBEventRecord) []Finding {
	return Analyze(records).Findings
}

// Analyze is Detect with the by-products Report logs: same-request
// re-creations and records that lacked images.
func Analyze(records []events.DynamoDBEventRecord) Result {
	var res Result
	for _, rec := range records {
		ch := rec.Change
		// Control items (failover levers, health probes) share the table and
		// change every probe round; they are not payments.
		if strings.Contains(attr(ch.Keys, attrPaymentID), "#") {
			continue
		}
		switch events.DynamoDBOperationType(rec.EventName) {
		case events.DynamoDBOperationTypeModify:
			if ch.OldImage == nil || ch.NewImage == nil {
				res.missing(ch.StreamViewType)
				continue
			}
			old, cur := snapshot(ch.OldImage), snapshot(ch.NewImage)
			f := Finding{PaymentID: paymentID(ch, ch.NewImage), EventID: rec.EventID, Old: old, New: &cur}
			switch {
			case attr(ch.OldImage, attrRequestHash) != attr(ch.NewImage, attrRequestHash):
				f.Kind = KindOverwritten
				res.Findings = append(res.Findings, f)
			case old.CreatedAt != cur.CreatedAt || old.Region != cur.Region:
				f.Kind = KindRecreated
				res.Recreated = append(res.Recreated, f)
			}
		case events.DynamoDBOperationTypeRemove:
			if ch.OldImage == nil {
				res.missing(ch.StreamViewType)
				continue
			}
			res.Findings = append(res.Findings, Finding{
				Kind:      KindRemoved,
				PaymentID: paymentID(ch, ch.OldImage),
				EventID:   rec.EventID,
				Old:       snapshot(ch.OldImage),
			})
		}
	}
	return res
}

func (r *Result) missing(viewType string) {
	if r.MissingImages == 0 {
		r.StreamViewType = viewType
	}
	r.MissingImages++
}

func snapshot(img map[string]events.DynamoDBAttributeValue) Snapshot {
	return Snapshot{
		Amount:    attr(img, attrAmount),
		Currency:  attr(img, attrCurrency),
		Region:    attr(img, attrRegion),
		CreatedAt: attr(img, attrCreatedAt),
		Status:    attr(img, attrStatus),
	}
}

// paymentID prefers the record's key over the image: the key is always there.
func paymentID(ch events.DynamoDBStreamRecord, img map[string]events.DynamoDBAttributeValue) string {
	if id := attr(ch.Keys, attrPaymentID); id != "" {
		return id
	}
	return attr(img, attrPaymentID)
}

// attr reads a string or number attribute as text. The events accessors
// panic on a type mismatch, so the type is checked first; anything else
// (absent, null, another type) reads as "".
func attr(img map[string]events.DynamoDBAttributeValue, name string) string {
	av, ok := img[name]
	if !ok {
		return ""
	}
	switch av.DataType() {
	case events.DataTypeString:
		return av.String()
	case events.DataTypeNumber:
		return av.Number()
	}
	return ""
}
