package payment_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/memstore"
)

var (
	req1     = payment.Request{PaymentID: "p1", Amount: 1250, Currency: "USD", Reference: "inv 1"}
	owner    = "client-a"
	key1     = payment.Key(owner, "p1")
	errOops  = &payment.DependencyError{Dependency: "s3", Op: "PutObject", Err: errors.New("connection refused")}
	fixedNow = time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)
)

// newService serves requests one after the other: every earlier request has
// returned, so no creator is in flight (InFlight of a nanosecond) and a
// replay never waits for one.
func newService(st payment.Store) *payment.Service {
	return &payment.Service{Store: st, Region: "us-east-1", Now: func() time.Time { return fixedNow }, InFlight: time.Nanosecond}
}

// failOnce makes op fail the first time only.
func failOnce(op string) func(string) error {
	var mu sync.Mutex
	done := false
	return func(got string) error {
		mu.Lock()
		defer mu.Unlock()
		if got == op && !done {
			done = true
			return errOops
		}
		return nil
	}
}

func TestSubmit(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(string) error
		requests []payment.Request
		// outcome of the last request
		wantCreated bool
		wantErr     error
		wantPuts    int
	}{
		{name: "create", requests: []payment.Request{req1}, wantCreated: true, wantPuts: 1},
		{name: "replay", requests: []payment.Request{req1, req1}, wantPuts: 1},
		{name: "conflict", requests: []payment.Request{req1, {PaymentID: "p1", Amount: 1, Currency: "USD"}}, wantErr: payment.ErrConflict, wantPuts: 1},
		{name: "receipt write failed, retry finishes", fail: failOnce(memstore.OpPutReceipt), requests: []payment.Request{req1, req1}, wantPuts: 1},
		{name: "mark failed, retry does not rewrite receipt", fail: failOnce(memstore.OpMarkProcessed), requests: []payment.Request{req1, req1}, wantPuts: 1},
		{name: "create failed, retry creates", fail: failOnce(memstore.OpCreate), requests: []payment.Request{req1, req1}, wantCreated: true, wantPuts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			st.Fail = tc.fail
			svc := newService(st)
			var (
				rec     payment.Record
				created bool
				err     error
			)
			for _, r := range tc.requests {
				rec, created, err = svc.Submit(context.Background(), owner, r)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if created != tc.wantCreated {
				t.Errorf("created = %v, want %v", created, tc.wantCreated)
			}
			if got := st.ReceiptPuts(); got != tc.wantPuts {
				t.Errorf("receipt writes = %d, want %d", got, tc.wantPuts)
			}
			stored, _ := st.Record(key1)
			if stored.Status != payment.StatusProcessed || stored.ReceiptKey != payment.ReceiptKey(key1) {
				t.Fatalf("stored record %+v, want processed with its receipt key", stored)
			}
			receipt, ok := st.Receipt(stored.ReceiptKey)
			if !ok || string(receipt) != string(payment.Receipt(stored)) {
				t.Errorf("receipt %q does not match the stored record", receipt)
			}
			if err == nil && rec != stored {
				t.Errorf("answer %+v differs from stored %+v", rec, stored)
			}
		})
	}
}

func TestSubmitDependencyFailure(t *testing.T) {
	st := memstore.New()
	st.Fail = func(op string) error {
		if op == memstore.OpPutReceipt {
			return errOops
		}
		return nil
	}
	_, _, err := newService(st).Submit(context.Background(), owner, req1)
	var de *payment.DependencyError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DependencyError", err)
	}
	if rec, _ := st.Record(key1); rec.Status != payment.StatusReceived {
		t.Errorf("status = %q without a receipt, want received", rec.Status)
	}
}

func TestSubmitConcurrentIdentical(t *testing.T) {
	st := memstore.New()
	// The creator's receipt write is slow, so the duplicates find the record
	// received and without a receipt: they wait for the creator rather than
	// write the receipt too.
	var once sync.Once
	st.Fail = func(op string) error {
		if op == memstore.OpPutReceipt {
			once.Do(func() { time.Sleep(50 * time.Millisecond) })
		}
		return nil
	}
	svc := &payment.Service{Store: st, Region: "us-east-1"}
	const n = 50
	var wg sync.WaitGroup
	created := make(chan bool, n)
	for range n {
		wg.Go(func() {
			rec, c, err := svc.Submit(context.Background(), owner, req1)
			if err != nil || rec.Status != payment.StatusProcessed {
				t.Errorf("Submit = %+v, %v", rec, err)
			}
			created <- c
		})
	}
	wg.Wait()
	close(created)
	wins := 0
	for c := range created {
		if c {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d calls created the payment, want 1", wins)
	}
	if puts := st.ReceiptPuts(); puts != 1 {
		t.Errorf("%d receipt writes, want 1 (the creator's)", puts)
	}
}

// TestSubmitWaitsForCreator: a duplicate that finds the record received
// waits for the invocation that created it, bounded by that invocation's
// remaining time, MaxWait and its own budget, and then finishes the payment
// itself if it is still unfinished.
func TestSubmitWaitsForCreator(t *testing.T) {
	const never = time.Duration(0)
	tests := []struct {
		name        string
		age         time.Duration // of the record when the duplicate arrives
		finishAfter time.Duration // the creator finishes after this; never: it gave up
		maxWait     time.Duration
		budget      time.Duration // of the duplicate; 0: none
		minTook     time.Duration
		maxTook     time.Duration
	}{
		{name: "creator finishes during the wait", finishAfter: 60 * time.Millisecond, maxWait: 3 * time.Second,
			minTook: 60 * time.Millisecond, maxTook: time.Second},
		{name: "creator's time is over: finish at once", age: 6 * time.Second, finishAfter: never, maxWait: 3 * time.Second,
			maxTook: 400 * time.Millisecond},
		{name: "creator stuck: wait MaxWait, then finish", finishAfter: never, maxWait: 200 * time.Millisecond,
			minTook: 200 * time.Millisecond, maxTook: time.Second},
		{name: "creator near its end: wait only its remaining time", age: 4800 * time.Millisecond, finishAfter: never, maxWait: 3 * time.Second,
			minTook: 200 * time.Millisecond, maxTook: time.Second},
		{name: "short budget: keep a second to finish", finishAfter: never, maxWait: 3 * time.Second, budget: 1300 * time.Millisecond,
			// The budget's clock starts just before the measurement's: a few ms short of 300.
			minTook: 250 * time.Millisecond, maxTook: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			svc := &payment.Service{Store: st, Region: "us-east-1", Now: func() time.Time { return fixedNow },
				InFlight: 5 * time.Second, MaxWait: tc.maxWait}
			theirs := payment.Record{Key: key1, Owner: owner, PaymentID: "p1", Amount: req1.Amount, Currency: req1.Currency, Reference: req1.Reference,
				Status: payment.StatusReceived, CreatedAt: fixedNow.Add(-tc.age).Format("2006-01-02T15:04:05.000Z"),
				Region: "us-east-1", RequestHash: req1.Hash()}
			st.Put(theirs)
			if tc.finishAfter != never {
				time.AfterFunc(tc.finishAfter, func() {
					ctx := context.Background()
					st.PutReceipt(ctx, payment.ReceiptKey(key1), payment.Receipt(theirs))
					st.MarkProcessed(ctx, theirs, payment.ReceiptKey(key1), "2025-01-02T03:04:06.000Z")
				})
			}
			ctx := context.Background()
			if tc.budget > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.budget)
				defer cancel()
			}
			start := time.Now()
			rec, created, err := svc.Submit(ctx, owner, req1)
			took := time.Since(start)
			if err != nil || created || rec.Status != payment.StatusProcessed || rec.CreatedAt != theirs.CreatedAt {
				t.Fatalf("Submit = %+v, %v, %v; want their payment, processed, not created here", rec, created, err)
			}
			if took < tc.minTook || took > tc.maxTook {
				t.Errorf("took %v, want between %v and %v", took, tc.minTook, tc.maxTook)
			}
			if puts := st.ReceiptPuts(); puts != 1 {
				t.Errorf("%d receipt writes, want 1", puts)
			}
		})
	}
}

// TestSubmitAcrossRegions covers the global table: records replicate within
// about a second, receipts (S3 replication) within ~15 minutes, and the
// last writer wins per item.
func TestSubmitAcrossRegions(t *testing.T) {
	ctx := context.Background()
	east := &payment.Service{Region: "us-east-1", Now: func() time.Time { return fixedNow }}
	west := &payment.Service{Region: "us-east-2", Now: func() time.Time { return fixedNow.Add(time.Second) }}

	t.Run("replay of a payment processed elsewhere rewrites the missing receipt here", func(t *testing.T) {
		st := memstore.New()
		east.Store, west.Store = st, st
		first, _, err := east.Submit(ctx, owner, req1)
		if err != nil {
			t.Fatal(err)
		}
		st.DeleteReceipt(first.ReceiptKey) // not replicated to this region's bucket yet
		rec, created, err := west.Submit(ctx, owner, req1)
		if err != nil || created || rec != first {
			t.Fatalf("replay = %+v, %v, %v; want the stored payment", rec, created, err)
		}
		if got, ok := st.Receipt(first.ReceiptKey); !ok || string(got) != string(payment.Receipt(first)) {
			t.Errorf("receipt here = %q, want the one the other region wrote", got)
		}
	})

	t.Run("same request created in both regions: the surviving record gets its own receipt", func(t *testing.T) {
		st := memstore.New()
		east.Store = st
		// The other region created the same request in the replication
		// window and its copy replaced ours just after our receipt write.
		theirs := payment.Record{Key: key1, Owner: owner, PaymentID: "p1", Amount: req1.Amount, Currency: req1.Currency, Reference: req1.Reference,
			Status: payment.StatusReceived, CreatedAt: "2025-01-02T03:04:05.500Z", Region: "us-east-2", RequestHash: req1.Hash()}
		st.Fail = func(op string) error {
			if op == memstore.OpMarkProcessed {
				st.Put(theirs)
			}
			return nil
		}
		rec, _, err := east.Submit(ctx, owner, req1)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := st.Record(key1)
		if rec != stored || stored.CreatedAt != theirs.CreatedAt || stored.Status != payment.StatusProcessed {
			t.Fatalf("answer %+v, stored %+v; want their record, processed", rec, stored)
		}
		if got, _ := st.Receipt(stored.ReceiptKey); string(got) != string(payment.Receipt(stored)) {
			t.Errorf("receipt %q does not match the surviving record", got)
		}
	})

	t.Run("conflicting request won last-writer-wins: 409, not 500", func(t *testing.T) {
		st := memstore.New()
		east.Store = st
		other := payment.Request{PaymentID: "p1", Amount: 1, Currency: "USD"}
		st.Fail = func(op string) error {
			if op == memstore.OpMarkProcessed {
				st.Put(payment.Record{Key: key1, Owner: owner, PaymentID: "p1", Amount: 1, Currency: "USD", Status: payment.StatusReceived,
					CreatedAt: "x", Region: "us-east-2", RequestHash: other.Hash()})
			}
			return nil
		}
		if _, _, err := east.Submit(ctx, owner, req1); !errors.Is(err, payment.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
}

// vanishing is a store whose conditional put sees a record the read does not.
type vanishing struct{ *memstore.Store }

func (vanishing) Create(context.Context, payment.Record) error { return payment.ErrExists }

func TestSubmitInconsistentReadIsRetryable(t *testing.T) {
	_, _, err := newService(vanishing{memstore.New()}).Submit(context.Background(), owner, req1)
	var de *payment.DependencyError
	if !errors.As(err, &de) || errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("err = %v, want a DependencyError that is not ErrNotFound (a POST must not answer 404)", err)
	}
}

func TestOwnership(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	svc := newService(st)
	otherReq := payment.Request{PaymentID: "p1", Amount: 99, Currency: "EUR"} // same idempotency key, another request

	a, createdA, errA := svc.Submit(ctx, "client-a", req1)
	b, createdB, errB := svc.Submit(ctx, "client-b", otherReq)
	if errA != nil || errB != nil || !createdA || !createdB {
		t.Fatalf("same paymentId from two callers: %v %v, created %v %v; want two new payments", errA, errB, createdA, createdB)
	}
	if st.Len() != 2 || a.Key == b.Key || a.ReceiptKey == b.ReceiptKey || a.Owner != "client-a" || b.Owner != "client-b" {
		t.Fatalf("stored %d records: %+v, %+v; want two, each with its owner, key and receipt", st.Len(), a, b)
	}
	if _, created, err := svc.Submit(ctx, "client-b", otherReq); err != nil || created {
		t.Errorf("replay by the same caller: created %v, %v; want the existing payment", created, err)
	}
	if _, _, err := svc.Submit(ctx, "client-b", req1); !errors.Is(err, payment.ErrConflict) {
		t.Errorf("same caller, same key, other request: %v, want ErrConflict", err)
	}

	tests := []struct {
		name, owner, id string
		want            *payment.Record
		err             error
	}{
		{"own payment", "client-a", "p1", &a, nil},
		{"the other caller's own", "client-b", "p1", &b, nil},
		{"a third caller", "client-c", "p1", nil, payment.ErrNotFound},
		{"missing", "client-a", "p2", nil, payment.ErrNotFound},
		{"no owner", "", "p1", nil, payment.ErrNoOwner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.Get(ctx, tc.owner, tc.id)
			if !errors.Is(err, tc.err) || (tc.want != nil && got != *tc.want) {
				t.Errorf("Get = %+v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}

	// An item whose owner disagrees with its key (written by hand, or by a
	// bug) is nobody's.
	st.Put(payment.Record{Key: payment.Key("client-c", "p9"), Owner: "client-a", PaymentID: "p9"})
	if _, err := svc.Get(ctx, "client-c", "p9"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("mismatched owner: %v, want ErrNotFound", err)
	}

	before := st.Len()
	if _, _, err := svc.Submit(ctx, "", payment.Request{PaymentID: "p3", Amount: 1, Currency: "USD"}); !errors.Is(err, payment.ErrNoOwner) {
		t.Errorf("Submit without owner: %v, want ErrNoOwner", err)
	}
	if st.Len() != before {
		t.Error("Submit without owner stored a record")
	}
}

// peerReader is the other region's replica as a GET on a miss sees it.
type peerReader struct {
	rec payment.Record
	err error
}

func (p peerReader) Get(context.Context, string) (payment.Record, error) { return p.rec, p.err }

// TestGetFallsBackToThePeer: a payment missing here is read from the other
// replica; when that replica cannot be read (a lost region, a partition), the
// answer is a retryable dependency failure, never ErrNotFound: the payment may
// be acknowledged and stranded there, and a 404 would tell its client it does
// not exist (the game day's stale read).
func TestGetFallsBackToThePeer(t *testing.T) {
	stored := payment.Record{Key: key1, PaymentID: "p1", Owner: owner, Amount: 1250, Currency: "USD"}
	tests := []struct {
		name     string
		peer     peerReader
		want     *payment.Record
		notFound bool
		dep      bool
	}{
		{"found in the peer", peerReader{rec: stored}, &stored, false, false},
		{"missing in both", peerReader{err: payment.ErrNotFound}, nil, true, false},
		{"peer unreachable", peerReader{err: errors.New("dial tcp: connection refused")}, nil, false, true},
		{"peer timed out", peerReader{err: context.DeadlineExceeded}, nil, false, true},
		{"peer holds another caller's", peerReader{rec: payment.Record{Key: key1, PaymentID: "p1", Owner: "client-b"}}, nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(memstore.New())
			svc.Peer = tc.peer
			got, err := svc.Get(context.Background(), owner, "p1")
			var de *payment.DependencyError
			if errors.Is(err, payment.ErrNotFound) != tc.notFound || errors.As(err, &de) != tc.dep {
				t.Fatalf("Get = %+v, %v; want not found %v, dependency error %v", got, err, tc.notFound, tc.dep)
			}
			if tc.want != nil && got != *tc.want {
				t.Errorf("Get = %+v, want %+v", got, *tc.want)
			}
		})
	}
}
