// Package memstore is an in-memory payment.Store for unit tests, with the
// same conditional semantics as the DynamoDB/S3 store and a hook to make any
// operation fail.
package memstore

import (
	"bytes"
	"context"
	"sync"

	"github.com/payments-dr/payments-dr/lambda/payment"
)

// Operation names passed to Fail.
const (
	OpCreate         = "Create"
	OpGet            = "Get"
	OpMarkProcessed  = "MarkProcessed"
	OpReceiptMatches = "ReceiptMatches"
	OpPutReceipt     = "PutReceipt"
)

// Store is safe for concurrent use.
type Store struct {
	// Fail, when set, is asked before each operation; a non-nil error is
	// returned instead of performing it.
	Fail func(op string) error

	mu          sync.Mutex
	records     map[string]payment.Record
	receipts    map[string][]byte
	receiptPuts int
}

var _ payment.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{records: map[string]payment.Record{}, receipts: map[string][]byte{}}
}

func (s *Store) fail(op string) error {
	if s.Fail == nil {
		return nil
	}
	return s.Fail(op)
}

func (s *Store) Create(_ context.Context, rec payment.Record) error {
	if err := s.fail(OpCreate); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[rec.Key]; ok {
		return payment.ErrExists
	}
	s.records[rec.Key] = rec
	return nil
}

func (s *Store) Get(_ context.Context, key string) (payment.Record, error) {
	if err := s.fail(OpGet); err != nil {
		return payment.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key]
	if !ok {
		return payment.Record{}, payment.ErrNotFound
	}
	return rec, nil
}

func (s *Store) MarkProcessed(_ context.Context, want payment.Record, key, at string) (payment.Record, error) {
	if err := s.fail(OpMarkProcessed); err != nil {
		return payment.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[want.Key]
	if !ok || rec.Status != payment.StatusReceived || rec.RequestHash != want.RequestHash ||
		rec.CreatedAt != want.CreatedAt || rec.Region != want.Region {
		return payment.Record{}, payment.ErrStateChanged
	}
	rec.Status, rec.ReceiptKey, rec.ProcessedAt = payment.StatusProcessed, key, at
	s.records[want.Key] = rec
	return rec, nil
}

func (s *Store) ReceiptMatches(_ context.Context, key string, body []byte) (bool, error) {
	if err := s.fail(OpReceiptMatches); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.receipts[key]
	return ok && bytes.Equal(got, body), nil
}

// Put stores rec as is, bypassing the conditions: a write replicated from
// another region of the global table.
func (s *Store) Put(rec payment.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[rec.Key] = rec
}

// DeleteReceipt removes a receipt: one not yet replicated to this region.
func (s *Store) DeleteReceipt(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.receipts, key)
}

func (s *Store) PutReceipt(_ context.Context, key string, body []byte) error {
	if err := s.fail(OpPutReceipt); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipts[key] = append([]byte(nil), body...)
	s.receiptPuts++
	return nil
}

// Receipt returns a stored receipt, if any.
func (s *Store) Receipt(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.receipts[key]
	return b, ok
}

// Record returns the stored record with table key key, if any.
func (s *Store) Record(key string) (payment.Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key]
	return rec, ok
}

// Len counts the stored records.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// ReceiptPuts counts receipt writes, to show replays skip needless rewrites.
func (s *Store) ReceiptPuts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receiptPuts
}
