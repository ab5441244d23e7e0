package payment

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is what the flow needs from persistence. Create and MarkProcessed
// must be conditional writes; see the store package for the DynamoDB/S3
// implementation.
type Store interface {
	// Create writes rec only if no record with its paymentId exists, else ErrExists.
	Create(ctx context.Context, rec Record) error
	// Get reads a record with a strongly consistent read, or ErrNotFound.
	Get(ctx context.Context, paymentID string) (Record, error)
	// MarkProcessed moves a record from received to processed if it still
	// carries requestHash, else ErrStateChanged. It returns the new record.
	MarkProcessed(ctx context.Context, paymentID, requestHash, receiptKey, processedAt string) (Record, error)
	ReceiptExists(ctx context.Context, key string) (bool, error)
	PutReceipt(ctx context.Context, key string, body []byte) error
}

// timeLayout is fixed-width so that stored timestamps sort as strings.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Service runs the idempotent create flow. Every step is a conditional or
// repeatable write, so a client retry after any failure either finishes the
// same payment or is told the id is taken; it never creates a second one.
type Service struct {
	Store  Store
	Region string           // recorded on new payments; the receipt names it
	Now    func() time.Time // nil means time.Now
}

func (s *Service) now() string {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Format(timeLayout)
}

// Submit creates the payment, or replays an earlier identical request.
// created is true only for the call that wrote the record.
func (s *Service) Submit(ctx context.Context, req Request) (rec Record, created bool, err error) {
	rec = Record{
		PaymentID:   req.PaymentID,
		Amount:      req.Amount,
		Currency:    req.Currency,
		Reference:   req.Reference,
		Status:      StatusReceived,
		CreatedAt:   s.now(),
		Region:      s.Region,
		RequestHash: req.Hash(),
	}
	err = s.Store.Create(ctx, rec)
	if err == nil {
		rec, err = s.finish(ctx, rec, false)
		return rec, true, err
	}
	if !errors.Is(err, ErrExists) {
		return Record{}, false, err
	}

	existing, err := s.Store.Get(ctx, req.PaymentID)
	if errors.Is(err, ErrNotFound) {
		// The conditional put just saw the record, so the table is not
		// answering consistently; a retry will sort it out.
		return Record{}, false, &DependencyError{Dependency: "dynamodb", Op: "GetItem", Err: err}
	}
	if err != nil {
		return Record{}, false, err
	}
	if existing.RequestHash != rec.RequestHash {
		return Record{}, false, ErrConflict
	}
	// The first attempt may have stopped part way, or may still be running
	// concurrently; either way finishing here is safe because the receipt
	// is deterministic and the status change is conditional.
	rec, err = s.finish(ctx, existing, true)
	return rec, false, err
}

// Get returns the stored payment.
func (s *Service) Get(ctx context.Context, paymentID string) (Record, error) {
	return s.Store.Get(ctx, paymentID)
}

// finish writes the receipt (if needed) and only then marks the record
// processed, so a processed record always has its receipt.
func (s *Service) finish(ctx context.Context, rec Record, replay bool) (Record, error) {
	if rec.Status == StatusProcessed {
		return rec, nil
	}
	key := ReceiptKey(rec.PaymentID)
	write := true
	if replay {
		// Skip the rewrite when the receipt is there: the bucket is
		// versioned and replicated, and an identical new version is waste.
		exists, err := s.Store.ReceiptExists(ctx, key)
		if err != nil {
			return Record{}, err
		}
		write = !exists
	}
	if write {
		if err := s.Store.PutReceipt(ctx, key, Receipt(rec)); err != nil {
			return Record{}, err
		}
	}
	done, err := s.Store.MarkProcessed(ctx, rec.PaymentID, rec.RequestHash, key, s.now())
	if !errors.Is(err, ErrStateChanged) {
		return done, err
	}
	// Someone else marked it first; their result stands if it is ours.
	done, err = s.Store.Get(ctx, rec.PaymentID)
	if err != nil {
		return Record{}, err
	}
	if done.Status != StatusProcessed || done.RequestHash != rec.RequestHash {
		return Record{}, fmt.Errorf("payment %s: unexpected state %q after concurrent update", rec.PaymentID, done.Status)
	}
	return done, nil
}
