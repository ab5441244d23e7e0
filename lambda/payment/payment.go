// Package payment holds the payment domain: the request a client sends, the
// record the table keeps, how a request is validated and hashed, the receipt
// derived from a record, and the idempotent flow that ties them together.
package payment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Status is where a record stands in the create flow. A record is written as
// StatusReceived before its receipt exists and only becomes StatusProcessed
// after the receipt is stored, so "processed" always implies a receipt.
type Status string

const (
	StatusReceived  Status = "received"
	StatusProcessed Status = "processed"
)

// Request is a validated client request. Amount is in minor units of Currency
// (cents for USD, yen for JPY); money is never a float.
type Request struct {
	PaymentID string `json:"paymentId"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Reference string `json:"reference,omitempty"`
}

// Record is a payment as stored in the table and returned to clients.
// RequestHash is kept so that a replay can be told apart from a conflicting
// reuse of the same paymentId; it is not part of the API answer.
//
// A payment belongs to the caller that created it (Owner, the principal the
// authorizer named): the table key is Key(Owner, PaymentID), so the client's
// paymentId is an idempotency key per caller, and one caller can neither
// replay onto nor read another's payment. Owner and Key are not part of the
// API answer.
type Record struct {
	Key         string `dynamodbav:"paymentId" json:"-"` // the table's hash key
	Owner       string `dynamodbav:"owner" json:"-"`
	PaymentID   string `dynamodbav:"clientPaymentId" json:"paymentId"`
	Amount      int64  `dynamodbav:"amount" json:"amount"`
	Currency    string `dynamodbav:"currency" json:"currency"`
	Reference   string `dynamodbav:"reference,omitempty" json:"reference,omitempty"`
	Status      Status `dynamodbav:"status" json:"status"`
	ReceiptKey  string `dynamodbav:"receiptKey,omitempty" json:"receiptKey,omitempty"`
	CreatedAt   string `dynamodbav:"createdAt" json:"createdAt"`
	Region      string `dynamodbav:"region" json:"region"`
	ProcessedAt string `dynamodbav:"processedAt,omitempty" json:"processedAt,omitempty"`
	RequestHash string `dynamodbav:"requestHash" json:"-"`
	// AcceptedIn and AcceptedSeq put a payment the secondary created in the
	// sparse accept index that the primary's failback gate reads
	// (control.AcceptEntry); empty on the primary's payments.
	AcceptedIn  string `dynamodbav:"acceptedIn,omitempty" json:"-"`
	AcceptedSeq string `dynamodbav:"acceptedSeq,omitempty" json:"-"`
}

// ownerTagVersion separates the owner hash from any other use of SHA-256
// here; changing it would orphan every stored payment.
const ownerTagVersion = "payments-dr/owner/v1\n"

// Key is the table key of owner's payment paymentID:
// "<hex SHA-256 of the owner>.<paymentId>". The owner is hashed because a
// principal is free text from the identity provider (any length, any
// character) while the key must stay short, a single path segment (it names
// the receipt object, under the prefix the function's grants name) and free
// of '#', which marks control items. '.' is not in the paymentId alphabet, so
// a key can never equal a paymentId written before payments had owners, nor
// a control item's key.
func Key(owner, paymentID string) string {
	sum := sha256.Sum256([]byte(ownerTagVersion + owner))
	return hex.EncodeToString(sum[:]) + "." + paymentID
}

// ReceiptKey is the object key of a payment's receipt in a region's bucket,
// from its table key: every region and every retry agrees on it, and each
// owner's receipts share the prefix "receipts/<owner hash>.".
func ReceiptKey(key string) string {
	return "receipts/" + key + ".json"
}

var (
	// ErrNotFound: no record with that paymentId for that caller.
	ErrNotFound = errors.New("payment not found")
	// ErrNoOwner: a payment operation without a caller; the API refuses
	// such requests (401) before they get here.
	ErrNoOwner = errors.New("payment operation without an owner")
	// ErrExists: a conditional create lost to an existing record.
	ErrExists = errors.New("payment already exists")
	// ErrConflict: the paymentId was reused with a different request.
	ErrConflict = errors.New("paymentId reused with a different request")
	// ErrStateChanged: a conditional status change found the record no longer
	// in the state it expected (usually another invocation got there first).
	ErrStateChanged = errors.New("payment state changed concurrently")
)

// DependencyError reports that a backing service (the table or the bucket)
// failed or could not be reached. Callers answer 503 so that clients retry;
// the wrapped error is for logs only and never reaches a client.
type DependencyError struct {
	Dependency string // "dynamodb" or "s3": named in health answers and logs
	Op         string
	Err        error
}

func (e *DependencyError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Dependency, e.Op, e.Err)
}

func (e *DependencyError) Unwrap() error { return e.Err }
