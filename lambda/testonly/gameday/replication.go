package gameday

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
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
//     a lag, item by item in write order;
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
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target+req.URL.RequestURI(), bytes.NewReader(body))
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
}

// link replicates one direction, strictly in write order, each write no
// earlier than its lag after it was written. Paused, it queues: a region
// that is gone neither sends nor receives, and catches up when it is back.
type link struct {
	name string
	to   *replica
	log  *slog.Logger

	mu      sync.Mutex
	wake    chan struct{} // signalled on enqueue, resume and close
	queue   []entry
	lag     time.Duration
	paused  bool
	closed  bool
	backlog int           // the first backlog entries are a catch-up after a pause
	spread  time.Duration // over which the backlog is delivered
	start   time.Time     // when the catch-up began
	total   int           // backlog size at start
	caught  time.Time     // when the last backlog entry was applied

	applied atomic.Int64
}

func newLink(name string, to *replica, lag time.Duration, log *slog.Logger) *link {
	return &link{name: name, to: to, lag: lag, log: log, wake: make(chan struct{}, 1)}
}

func (l *link) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *link) enqueue(e entry) {
	l.mu.Lock()
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

// resume delivers again, with the normal lag.
func (l *link) resume() {
	l.mu.Lock()
	l.paused = false
	l.mu.Unlock()
	l.signal()
}

// resumeCatchingUp delivers the writes queued so far evenly over spread, as
// a replica that was cut off works through its backlog, and then the rest
// with the normal lag. Later writes wait behind the backlog (write order).
func (l *link) resumeCatchingUp(spread time.Duration) {
	l.mu.Lock()
	l.paused = false
	l.backlog, l.total = len(l.queue), len(l.queue)
	l.spread, l.start, l.caught = spread, time.Now(), time.Time{}
	if l.backlog == 0 {
		l.caught = l.start
	}
	l.mu.Unlock()
	l.signal()
}

// caughtUp reports when the last backlog entry was applied (zero: not yet).
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

func (l *link) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.signal()
}

// next returns the head entry and when it is due, or ok=false when there is
// nothing to deliver now.
func (l *link) next() (e entry, due time.Time, ok, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return entry{}, time.Time{}, false, true
	}
	if l.paused || len(l.queue) == 0 {
		return entry{}, time.Time{}, false, false
	}
	e = l.queue[0]
	due = e.at.Add(l.lag)
	if l.backlog > 0 {
		done := l.total - l.backlog + 1
		due = l.start.Add(l.spread * time.Duration(done) / time.Duration(l.total))
	}
	return e, due, true, false
}

func (l *link) run() {
	for {
		e, due, ok, closed := l.next()
		if closed {
			return
		}
		if !ok {
			<-l.wake
			continue
		}
		if d := time.Until(due); d > 0 {
			// Woken early by a pause or close: look again.
			select {
			case <-time.After(d):
			case <-l.wake:
			}
			continue
		}
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
		l.queue = l.queue[1:]
		if l.backlog > 0 {
			if l.backlog--; l.backlog == 0 {
				l.caught = time.Now()
			}
		}
		l.mu.Unlock()
	}
}
