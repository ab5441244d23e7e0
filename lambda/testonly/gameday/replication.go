package gameday

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/control"
)

// The replication between the two table endpoints behaves like a DynamoDB
// global table (multi-region eventual consistency):
//   - every successful write in one region is replicated to the other, after
//     a lag; each item's writes in write order, items in any order (link);
//   - concurrent writes to one item resolve by last writer wins, on the time
//     of the original write, so both replicas converge on the same item;
//   - a replicated write is not replicated again.
// Each region's function, probe and operator tools reach their table through
// a proxy (replica.ServeHTTP) that forwards to dynalite and, for each
// successful PutItem/UpdateItem/DeleteItem, captures the item as it now is
// and queues it on the link to the other region. The links copy captured
// items straight into the other dynalite, bypassing its proxy.

// writeOps are the DynamoDB actions (X-Amz-Target suffix) that change one
// item and must replicate. The function and the levers use only these.
var writeOps = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true}

// clock hands out strictly increasing write times, so last-writer-wins never
// sees a tie between two writes of this process.
type clock struct {
	mu   sync.Mutex
	last int64
}

func (c *clock) next() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UnixNano()
	if now <= c.last {
		now = c.last + 1
	}
	c.last = now
	return now
}

// replica is one region's table: its dynalite, the proxy in front of it and
// the write time of the version of each item it holds.
type replica struct {
	region string
	table  string
	target string           // dynalite's URL
	direct *dynamodb.Client // to dynalite, bypassing the proxy
	clock  *clock
	log    *slog.Logger
	proxy  *server
	fwd    *http.Client
	out    *link // to the other region

	locks    [64]sync.Mutex // by key: a write and a replicated copy of one item never interleave
	mu       sync.Mutex
	versions map[string]int64
}

func (r *replica) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &r.locks[h.Sum32()%uint32(len(r.locks))]
	m.Lock()
	return m.Unlock
}

func (r *replica) version(key string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.versions[key]
}

func (r *replica) setVersion(key string, v int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.versions[key] = v
}

// writtenKey finds the key of the item a write names: Key for UpdateItem and
// DeleteItem, the key attribute of Item for PutItem.
func writtenKey(body []byte) (string, error) {
	var in struct {
		TableName string
		Key       map[string]map[string]any
		Item      map[string]map[string]any
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return "", err
	}
	attrs := in.Key
	if attrs == nil {
		attrs = in.Item
	}
	if s, ok := attrs[control.KeyAttribute]["S"].(string); ok && s != "" {
		return s, nil
	}
	return "", fmt.Errorf("no %s in the request", control.KeyAttribute)
}

// ServeHTTP forwards one DynamoDB call and replicates what it wrote.
func (r *replica) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	var key string
	if writeOps[op] {
		if key, err = writtenKey(body); err != nil {
			http.Error(w, "gameday proxy: "+err.Error(), http.StatusBadRequest)
			return
		}
		// Held until the new version is captured and queued, so a
		// replicated copy cannot slip in between.
		defer r.lock(key)()
	}
	// Not the caller's context: a write that reached the table is applied
	// and replicated even if its caller hangs up (a killed region's
	// invocation, a client timeout). Bound to the caller's context, a kill
	// in the middle of a write left it applied here and never captured, so
	// it never replicated: the game day's occasional lost payment.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), 10*time.Second)
	defer cancel()
	out, err := http.NewRequestWithContext(fctx, req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = req.Header.Clone()
	resp, err := r.fwd.Do(out)
	if err != nil {
		http.Error(w, "gameday proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, "gameday proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if key != "" && resp.StatusCode == http.StatusOK {
		r.captured(key)
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

// captured records a local write of key (the caller holds its lock): it
// reads the item as the write left it and queues that image for the other
// region, stamped with this write's time.
func (r *replica) captured(key string) {
	v := r.clock.next()
	r.setVersion(key, v)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	item, err := r.get(ctx, key)
	if err != nil {
		// Never silently drop a write: a replica that misses one would be
		// counted as data loss by the game day, not by luck as a pass.
		r.log.Error("replication: cannot capture a write; it will not replicate", "region", r.region, "key", key, "error", err.Error())
		return
	}
	r.out.enqueue(entry{key: key, item: item, version: v, at: time.Now()})
}

func (r *replica) get(ctx context.Context, key string) (map[string]types.AttributeValue, error) {
	out, err := r.direct.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &r.table,
		Key:            map[string]types.AttributeValue{control.KeyAttribute: &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// apply writes a replicated image unless this replica holds a newer write of
// the item (last writer wins).
func (r *replica) apply(ctx context.Context, e entry) error {
	defer r.lock(e.key)()
	if r.version(e.key) >= e.version {
		return nil
	}
	var err error
	if e.item == nil {
		_, err = r.direct.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &r.table,
			Key: map[string]types.AttributeValue{control.KeyAttribute: &types.AttributeValueMemberS{Value: e.key}}})
	} else {
		_, err = r.direct.PutItem(ctx, &dynamodb.PutItemInput{TableName: &r.table, Item: e.item})
	}
	if err != nil {
		return err
	}
	r.setVersion(e.key, e.version)
	return nil
}

// entry is one replicated write.
type entry struct {
	key     string
	item    map[string]types.AttributeValue // nil: deleted
	version int64
	at      time.Time // when it was written
	due     time.Time // when the link delivers it
	seq     int64     // enqueue order: breaks ties between equal dues
	backlog bool      // part of a catch-up after a pause
}

// link replicates one direction as a global table does: each item's writes
// arrive in the order they were written, but items overtake each other. A
// write is due its lag after it was written, plus a random delay drawn per
// write (jitter, seeded) and, for payment items, an extra delay
// (paymentLag), but never before the previous write of the same item. The
// link delivers the earliest due write first. Paused (a partition of the
// replication path, or a region that is gone), it queues and catches up
// when resumed.
//
// DynamoDB documents no order across items
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html);
// within one item, last writer wins, which apply enforces on the write time.
type link struct {
	name string
	to   *replica
	log  *slog.Logger

	mu         sync.Mutex
	wake       chan struct{} // signalled on enqueue, resume and close
	queue      []entry
	lag        time.Duration
	jitter     time.Duration // random extra per write: items arrive out of order
	paymentLag time.Duration // extra for payment items (control items stay current)
	reorder    bool          // a catch-up delivers its backlog in random order across items
	rng        *rand.Rand
	lastDue    map[string]time.Time // per item: its latest queued write's due
	seq        int64
	paused     bool
	closed     bool
	backlog    int       // backlog payment writes not yet applied
	caught     time.Time // when the backlog's last missing payment became readable (see run)
	lastNew    time.Time // start of the latest backlog apply that created a payment here

	applied atomic.Int64
}

func newLink(name string, to *replica, lag time.Duration, log *slog.Logger) *link {
	return &link{name: name, to: to, lag: lag, log: log, wake: make(chan struct{}, 1),
		rng: rand.New(rand.NewPCG(1, 0)), lastDue: map[string]time.Time{}}
}

// shape sets the random per-write delay, the payments' extra delay and
// whether a catch-up reorders its backlog; seed fixes the random draws.
func (l *link) shape(jitter, paymentLag time.Duration, reorder bool) {
	l.mu.Lock()
	l.jitter, l.paymentLag, l.reorder = jitter, paymentLag, reorder
	l.mu.Unlock()
}

// seed fixes the link's random draws.
func (l *link) seed(s uint64) {
	l.mu.Lock()
	l.rng = rand.New(rand.NewPCG(s, uint64(len(l.name))))
	l.mu.Unlock()
}

func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// draw returns a random duration in [0, d); the caller holds mu.
func (l *link) draw(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(l.rng.Int64N(int64(d)))
}

// orderDue keeps each item's writes in order: e is due no earlier than the
// item's previous write. The caller holds mu.
func (l *link) orderDue(e *entry) {
	if prev, ok := l.lastDue[e.key]; ok && e.due.Before(prev) {
		e.due = prev
	}
	l.lastDue[e.key] = e.due
}

func (l *link) enqueue(e entry) {
	l.mu.Lock()
	e.due = e.at.Add(l.lag + l.draw(l.jitter))
	if !control.IsReserved(e.key) {
		e.due = e.due.Add(l.paymentLag)
	}
	l.seq++
	e.seq = l.seq
	l.orderDue(&e)
	l.queue = append(l.queue, e)
	l.mu.Unlock()
	l.signal()
}

// pause stops delivery; writes keep queueing.
func (l *link) pause() {
	l.mu.Lock()
	l.paused = true
	l.mu.Unlock()
}

// resume delivers again; what is overdue goes first.
func (l *link) resume() {
	l.mu.Lock()
	l.paused = false
	l.mu.Unlock()
	l.signal()
}

// resumeCatchingUp delivers the writes queued so far over spread, as a
// replica that was cut off works through its backlog, and then the rest as
// usual. In write order, the backlog is spread evenly; with reorder, control
// items arrive at once and payment items at random times within spread
// (each item's writes still in order).
func (l *link) resumeCatchingUp(spread time.Duration) {
	l.mu.Lock()
	l.paused = false
	start := time.Now()
	n := len(l.queue)
	clear(l.lastDue)
	l.backlog = 0
	for i := range l.queue {
		e := &l.queue[i]
		e.backlog = !control.IsReserved(e.key)
		if e.backlog {
			l.backlog++
		}
		switch {
		case !l.reorder:
			e.due = start.Add(spread * time.Duration(i+1) / time.Duration(n))
		case !e.backlog:
			e.due = start
		default:
			e.due = start.Add(l.draw(spread))
		}
		l.orderDue(e)
	}
	l.caught, l.lastNew = time.Time{}, time.Time{}
	if l.backlog == 0 {
		l.caught = start
	}
	l.mu.Unlock()
	l.signal()
}

// caughtUp reports when the backlog's last missing payment became readable
// (zero: not yet); control items do not count: they are not what a client
// reads back.
func (l *link) caughtUp() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.caught
}

func (l *link) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// pendingPayments counts the payment writes still queued.
func (l *link) pendingPayments() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.queue {
		if !control.IsReserved(e.key) {
			n++
		}
	}
	return n
}

func (l *link) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.signal()
}

// next returns the earliest due entry, or ok=false when there is nothing to
// deliver now.
func (l *link) next() (e entry, ok, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return entry{}, false, true
	}
	if l.paused || len(l.queue) == 0 {
		return entry{}, false, false
	}
	return l.queue[l.earliestLocked()], true, false
}

// earliestLocked is the index of the queued entry delivered first (earliest
// due, then enqueue order); the queue is not empty and l.mu is held.
func (l *link) earliestLocked() int {
	best := 0
	for j := 1; j < len(l.queue); j++ {
		q, b := &l.queue[j], &l.queue[best]
		if q.due.Before(b.due) || (q.due.Equal(b.due) && q.seq < b.seq) {
			best = j
		}
	}
	return best
}

func (l *link) run() {
	for {
		e, ok, closed := l.next()
		if closed {
			return
		}
		if !ok {
			<-l.wake
			continue
		}
		if d := time.Until(e.due); d > 0 {
			// Woken early by an enqueue, a pause or close: look again.
			select {
			case <-time.After(d):
			case <-l.wake:
			}
			continue
		}
		// "Behind" means an acknowledged payment is not readable here, which is what
		// the failback gate promises about (not that every later status update has
		// arrived). So the backlog counts as caught up from the start of the last apply
		// that created a payment this replica lacked: the replica can hold it from
		// then, and a /health that reads it before the apply returns is no violation.
		// (Counting from the last write of any kind, or from when the apply returned,
		// flagged a correct gate under load.)
		created := e.backlog && e.item != nil && l.to.version(e.key) == 0
		started := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.to.apply(ctx, e)
		cancel()
		if err != nil {
			// Retried in place: skipping would reorder or lose a write.
			l.log.Warn("replication: apply failed; retrying", "link", l.name, "key", e.key, "error", err.Error())
			time.Sleep(50 * time.Millisecond)
			continue
		}
		l.applied.Add(1)
		l.mu.Lock()
		// Only this goroutine removes entries, and enqueue only appends:
		// find it by seq.
		for j := range l.queue {
			if l.queue[j].seq == e.seq {
				l.queue = slices.Delete(l.queue, j, j+1)
				break
			}
		}
		if l.lastDue[e.key].Equal(e.due) && !slices.ContainsFunc(l.queue, func(q entry) bool { return q.key == e.key }) {
			delete(l.lastDue, e.key)
		}
		if e.backlog {
			if created {
				l.lastNew = started
			}
			if l.backlog--; l.backlog == 0 {
				l.caught = l.lastNew
				if l.caught.IsZero() {
					l.caught = started
				}
			}
		}
		l.mu.Unlock()
	}
}

// describe says what the link still holds, for a drain that does not finish.
func (l *link) describe() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("%s: %d pending, paused %v", l.name, len(l.queue), l.paused)
	if len(l.queue) > 0 {
		e := l.queue[l.earliestLocked()]
		s += fmt.Sprintf(", next %s due in %v", e.key, time.Until(e.due).Round(time.Millisecond))
	}
	return s
}
