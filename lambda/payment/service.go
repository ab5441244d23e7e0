package payment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
)

// Store is what the flow needs from persistence. Create and MarkProcessed
// must be conditional writes; see the store package for the DynamoDB/S3
// implementation.
type Store interface {
	// Create writes rec only if no record with its Key exists, else ErrExists.
	Create(ctx context.Context, rec Record) error
	// Get reads the record with table key key (see Key) with a strongly
	// consistent read, or ErrNotFound.
	Get(ctx context.Context, key string) (Record, error)
	// MarkProcessed moves rec from received to processed if the stored item
	// is still received and still the very record rec describes (same
	// requestHash, createdAt and region: the fields its receipt is rendered
	// from), else ErrStateChanged. It returns the new record.
	MarkProcessed(ctx context.Context, rec Record, receiptKey, processedAt string) (Record, error)
	// ReceiptMatches reports whether this region's bucket holds exactly body at key.
	ReceiptMatches(ctx context.Context, key string, body []byte) (bool, error)
	PutReceipt(ctx context.Context, key string, body []byte) error
}

// timeLayout is fixed-width so that stored timestamps sort as strings.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Service runs the idempotent create flow. Every step is a conditional or
// repeatable write, so a client retry after any failure either finishes the
// same payment or is told the id is taken; it never creates a second one.
type Service struct {
	Store  Store
	Region string // recorded on new payments; the receipt names it
	// Peer, when set, is the other region's replica, read when a payment is
	// not in this one: an acknowledged payment may still be replicating
	// (each item on its own, typically within a second, longer while a region
	// is impaired) when its caller reads it back through the failover name.
	// PeerTimeout bounds that read (0: DefaultPeerTimeout); a peer that does
	// not answer in time makes the miss a DependencyError (503, retry), not a
	// 404: the payment may exist there.
	Peer        Reader
	PeerTimeout time.Duration
	// IndexAccepted: this region is the secondary, so each payment it creates
	// goes into the accept index the primary's failback gate reads.
	IndexAccepted bool
	Now           func() time.Time // nil means time.Now
	// InFlight is how long after stamping createdAt the invocation that
	// created a record may still be finishing it: its request budget plus the
	// clock skew between instances. Zero means DefaultInFlight.
	InFlight time.Duration
	// MaxWait bounds how long a duplicate waits for that invocation before
	// finishing the payment itself. Zero means DefaultMaxWait.
	MaxWait time.Duration
}

// Defaults of the wait for an in-flight identical request (awaitCreator).
// DefaultInFlight fits the function's 4 s request budget plus 1 s of skew.
const (
	DefaultInFlight = 5 * time.Second
	DefaultMaxWait  = time.Second
	// finishReserve is kept of the caller's budget for the work after a wait
	// (a receipt read, perhaps a write and the status update).
	finishReserve = time.Second
	firstPoll     = 20 * time.Millisecond
	maxPoll       = 200 * time.Millisecond
)

func (s *Service) now() string {
	return s.clock().UTC().Format(timeLayout)
}

// Submit creates owner's payment, or replays owner's earlier identical
// request. created is true only for the call that wrote the record.
func (s *Service) Submit(ctx context.Context, owner string, req Request) (rec Record, created bool, err error) {
	if owner == "" {
		return Record{}, false, ErrNoOwner
	}
	rec = Record{
		Key:         Key(owner, req.PaymentID),
		Owner:       owner,
		PaymentID:   req.PaymentID,
		Amount:      req.Amount,
		Currency:    req.Currency,
		Reference:   req.Reference,
		Status:      StatusReceived,
		CreatedAt:   s.now(),
		Region:      s.Region,
		RequestHash: req.Hash(),
	}
	if s.IndexAccepted {
		rec.AcceptedIn, rec.AcceptedSeq = control.AcceptEntry(s.Region, rec.Key, s.clock())
	}
	err = s.Store.Create(ctx, rec)
	if err == nil {
		rec, err = s.finish(ctx, rec, false)
		return rec, true, err
	}
	if !errors.Is(err, ErrExists) {
		return Record{}, false, err
	}

	existing, err := s.Store.Get(ctx, rec.Key)
	if errors.Is(err, ErrNotFound) {
		// The conditional put just saw the record, so the table is not
		// answering consistently; a retry will sort it out.
		// (Not wrapping ErrNotFound: a POST must never answer 404.)
		return Record{}, false, retryable("GetItem", fmt.Errorf("payment %s: conditional put saw a record the read did not", req.PaymentID))
	}
	if err != nil {
		return Record{}, false, err
	}
	if existing.RequestHash != rec.RequestHash {
		return Record{}, false, ErrConflict
	}
	if existing, err = s.awaitCreator(ctx, existing); err != nil {
		return Record{}, false, err
	}
	// The first attempt may have stopped part way, or may still be running
	// concurrently; either way finishing here is safe because the receipt
	// is deterministic and the status change is conditional.
	rec, err = s.finish(ctx, existing, true)
	return rec, false, err
}

// awaitCreator gives the invocation that created rec, when it may still be
// running, the chance to finish before this duplicate touches the receipt:
// it re-reads the record until it is processed, the creator's InFlight time
// is over (it has given up: its answer was a 503), MaxWait has passed, or
// only finishReserve is left of ctx. Then the caller finishes the payment,
// which is safe even beside a creator that is still running (see finish);
// waiting makes that the exception. Without the wait every one of a burst of
// identical requests rewrote the receipt while the others read it, and the
// S3 stand-in, which rewrites an object in place, served some of those reads
// short of their Content-Length: 503s after the attempt timeout (issue 9).
// S3 itself never serves a partial object ("Updates to a single key are
// atomic ... you will get the old data or the new data, but never partial
// or corrupt data",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel),
// but each rewrite is still a billed PUT, a new object version and a
// replication.
//
// A retry of Create inside the SDK whose first attempt did land sees its own
// record here and waits like a duplicate; it is answered 200, not 201.
func (s *Service) awaitCreator(ctx context.Context, rec Record) (Record, error) {
	if rec.Status != StatusReceived {
		return rec, nil
	}
	created, err := time.Parse(timeLayout, rec.CreatedAt)
	if err != nil {
		return rec, nil // no age to judge by; finishing is safe
	}
	inFlight, maxWait := s.InFlight, s.MaxWait
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	wait := min(created.Add(inFlight).Sub(s.clock()), maxWait)
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)-finishReserve)
	}
	until := time.Now().Add(wait)
	for delay := firstPoll; rec.Status == StatusReceived; delay = min(2*delay, maxPoll) {
		left := time.Until(until)
		if left <= 0 {
			return rec, nil
		}
		timer := time.NewTimer(min(delay, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return Record{}, ctx.Err()
		case <-timer.C:
		}
		if rec, err = s.reread(ctx, rec); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// reread reads rec's payment again while another writer may be changing it.
func (s *Service) reread(ctx context.Context, rec Record) (Record, error) {
	cur, err := s.Store.Get(ctx, rec.Key)
	if errors.Is(err, ErrNotFound) {
		return Record{}, retryable("GetItem", fmt.Errorf("payment %s vanished while being processed", rec.PaymentID))
	}
	if err != nil {
		return Record{}, err
	}
	if cur.RequestHash != rec.RequestHash {
		// Only possible across regions: a conflicting create in the other
		// region won last-writer-wins over this one. A receipt already
		// written here is stale until that record is replayed or its
		// receipt replicates; see the package note in store.Create.
		return Record{}, ErrConflict
	}
	return cur, nil
}

func (s *Service) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Get returns owner's payment paymentID. Another caller's payment is
// ErrNotFound, exactly like a missing one: the key already includes the
// owner, and the owner check keeps that true for any item whose key and
// owner disagree.
func (s *Service) Get(ctx context.Context, owner, paymentID string) (Record, error) {
	if owner == "" {
		return Record{}, ErrNoOwner
	}
	rec, err := s.Store.Get(ctx, Key(owner, paymentID))
	if errors.Is(err, ErrNotFound) && s.Peer != nil {
		rec, err = s.fromPeer(ctx, Key(owner, paymentID))
	}
	if err != nil {
		return Record{}, err
	}
	if rec.Owner != owner {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// Reader reads a record by table key (a Store does).
type Reader interface {
	Get(ctx context.Context, key string) (Record, error)
}

// DefaultPeerTimeout bounds the read of the other region's replica on a miss:
// a region that is gone turns a miss into a 503 this much later.
const DefaultPeerTimeout = 500 * time.Millisecond

func (s *Service) fromPeer(ctx context.Context, key string) (Record, error) {
	d := s.PeerTimeout
	if d <= 0 {
		d = DefaultPeerTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	rec, err := s.Peer.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, ErrNotFound
	case err != nil:
		// Not here, and the other replica cannot say: the payment may be
		// acknowledged and stranded there (a region lost, a partition). A
		// 404 would tell its client it does not exist; a retryable 503 does
		// not lie (the game day counts a 404 for an acknowledged payment as
		// a stale read).
		return Record{}, retryable("GetItem in the peer region", err)
	}
	return rec, nil
}

// finish makes this region's bucket hold the record's receipt and only then
// marks the record processed, so a processed record always has its receipt.
//
// verify (replays) first checks the bucket and writes only what is missing or
// different. It applies to processed records too: on the global table a
// record processed in the other region replicates here within about a
// second, its receipt only within S3 replication's ~15 minutes, and a
// failover in between would otherwise answer 2xx for a payment whose receipt
// is stuck in the failed region. The receipt is rendered from stored fields
// only, so rewriting it here is byte-for-byte what the other region wrote.
func (s *Service) finish(ctx context.Context, rec Record, verify bool) (Record, error) {
	for attempt := 0; ; attempt++ {
		key := ReceiptKey(rec.Key)
		body := Receipt(rec)
		write := true
		if verify {
			ok, err := s.Store.ReceiptMatches(ctx, key, body)
			if err != nil {
				return Record{}, err
			}
			write = !ok
		}
		if write {
			if err := s.Store.PutReceipt(ctx, key, body); err != nil {
				return Record{}, err
			}
		}
		if rec.Status == StatusProcessed {
			return rec, nil
		}
		done, err := s.Store.MarkProcessed(ctx, rec, key, s.now())
		if !errors.Is(err, ErrStateChanged) {
			return done, err
		}
		// Someone else got there first (a concurrent replay here, or a
		// write replicated from the other region): look again.
		cur, err := s.reread(ctx, rec)
		if err != nil {
			return Record{}, err
		}
		if cur.Status == StatusProcessed && bytes.Equal(Receipt(cur), body) {
			return cur, nil // the receipt we just wrote or checked is its receipt
		}
		if attempt == 2 {
			return Record{}, retryable("UpdateItem", fmt.Errorf("payment %s: state kept changing (status %q)", rec.PaymentID, cur.Status))
		}
		// Same request, but another region's copy of it (different
		// createdAt/region) replaced ours: finish that record instead.
		rec, verify = cur, true
	}
}

// retryable reports a table state that should settle (replication, a
// concurrent writer, a peer replica that cannot be read) as a dependency failure, so the client gets 503 and
// retries instead of a 500 or, worse, a 404 on a POST.
func retryable(op string, err error) error {
	return &DependencyError{Dependency: "dynamodb", Op: op, Err: err}
}
