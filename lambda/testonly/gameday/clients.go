package gameday

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// ack is a payment a client was told is stored (2xx).
type ack struct {
	Owner     string // the principal the client authenticated as
	ID        string
	Region    int // the region whose API answered
	Status    int // 201 created, 200 replay
	CreatedAt string
	RecRegion string // the record's region: where it was created
	At        time.Time
}

// clients post payments continuously, each through its own resolver cache,
// and retry each payment with the same idempotency key until it is
// acknowledged. They authenticate as two principals, alternately, and the two
// clients of a pair use the same paymentIds for different payments: each
// caller's idempotency keys are its own, so both must be created.
type clients struct {
	n        int
	callers  [2]caller
	pace     time.Duration // between one client's payments
	ttl      time.Duration // how long a DNS answer is cached
	timeout  time.Duration // per request
	router   *router
	urls     [2]string
	runID    string
	seed     uint64
	tl       *timeline
	stopping chan struct{}
	wg       sync.WaitGroup

	mu       sync.Mutex
	acks     []ack
	rejected []string // 4xx other than 429: a client can do nothing but give up
	attempts int
	retries  int
	reads    int         // read-backs answered (2xx or 404)
	stale    []staleRead // acknowledged payments answered 404
}

// staleRead is an acknowledged payment answered 404 through the failover name.
type staleRead struct {
	Owner, ID string
	Region    int       // the region that answered 404
	Acked     int       // the region that had acknowledged it
	At        time.Time // when
}

// start runs the clients until stop; ctx bounds everything, including the
// retries of a payment in flight when stop is called.
func (c *clients) start(ctx context.Context) {
	c.stopping = make(chan struct{})
	for i := range c.n {
		c.wg.Go(func() { c.run(ctx, i) })
	}
}

// stop lets each client finish (acknowledge) the payment it is on, then
// waits for them.
func (c *clients) stop() {
	close(c.stopping)
	c.wg.Wait()
}

func (c *clients) run(ctx context.Context, i int) {
	hc := &http.Client{
		Timeout: c.timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: c.timeout}).DialContext,
			MaxIdleConnsPerHost: 2,
		},
	}
	defer hc.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(c.seed, uint64(i)))
	var mine []ack
	cached, expires := 0, time.Time{}
	resolve := func() int {
		if now := time.Now(); now.After(expires) {
			cached, expires = c.router.resolve(), now.Add(c.ttl)
		}
		return cached
	}
	for n := 0; ; n++ {
		select {
		case <-c.stopping:
			return
		case <-ctx.Done():
			return
		case <-time.After(c.pace):
		}
		who := c.callers[i%2]
		id := fmt.Sprintf("gd-%s-c%d-%06d", c.runID, i/2, n)
		body, _ := json.Marshal(map[string]any{"paymentId": id, "amount": 100 + n + 1000*(i%2), "currency": "USD"})
		backoff := 10 * time.Millisecond
		for {
			region := resolve()
			a, retry, err := c.post(ctx, hc, region, who, id, body)
			c.mu.Lock()
			c.attempts++
			switch {
			case err == nil:
				c.acks = append(c.acks, a)
				mine = append(mine, a)
			case retry:
				c.retries++
			default:
				c.rejected = append(c.rejected, fmt.Sprintf("%s/%s: %v", who.principal, id, err))
			}
			c.mu.Unlock()
			if !retry {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 200*time.Millisecond)
		}
		// Read back, through the failover name, the payment just
		// acknowledged and one acknowledged earlier (every other time the
		// one before: the likeliest to be stranded in a region that just
		// died): a client that was told 201 must never be told 404.
		if len(mine) > 0 && mine[len(mine)-1].ID == id {
			c.readBack(ctx, hc, resolve(), who, mine[len(mine)-1])
			earlier := mine[rng.IntN(len(mine))]
			if n%2 == 0 && len(mine) > 1 {
				earlier = mine[len(mine)-2]
			}
			c.readBack(ctx, hc, resolve(), who, earlier)
		}
	}
}

// readBack GETs an acknowledged payment from region and counts a 404 as a
// stale read. Anything else but a 2xx (a 503, no answer) is a region that
// cannot say, which the client retries later; it is not counted.
func (c *clients) readBack(ctx context.Context, hc *http.Client, region int, who caller, a ack) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.urls[region]+"/payments/"+a.ID, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+who.token)
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		c.reads++
		c.stale = append(c.stale, staleRead{Owner: a.Owner, ID: a.ID, Region: region, Acked: a.Region, At: time.Now()})
		c.tl.log("STALE READ: %s/%s (acknowledged by %s) answered 404 by %s", a.Owner, a.ID, c.router.names[a.Region], c.router.names[region])
	case resp.StatusCode/100 == 2:
		c.reads++
	}
}

// staleReads returns the stale reads so far and how many reads were answered.
func (c *clients) staleReads() ([]staleRead, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]staleRead(nil), c.stale...), c.reads
}

// post sends one attempt; retry says whether the same request should be sent again.
func (c *clients) post(ctx context.Context, hc *http.Client, region int, who caller, id string, body []byte) (ack, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.urls[region]+"/payments", bytes.NewReader(body))
	if err != nil {
		return ack{}, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+who.token)
	resp, err := hc.Do(req)
	if err != nil {
		return ack{}, true, err // refused, reset, timed out: maybe stored, so send the same request again
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return ack{}, true, err
	}
	switch {
	case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
		var rec struct {
			PaymentID string `json:"paymentId"`
			CreatedAt string `json:"createdAt"`
			Region    string `json:"region"`
		}
		if err := json.Unmarshal(out, &rec); err != nil || rec.PaymentID != id {
			return ack{}, false, fmt.Errorf("%d with an unreadable record: %s", resp.StatusCode, out)
		}
		return ack{Owner: who.principal, ID: id, Region: region, Status: resp.StatusCode, CreatedAt: rec.CreatedAt, RecRegion: rec.Region, At: time.Now()}, false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return ack{}, true, fmt.Errorf("%d", resp.StatusCode)
	}
	return ack{}, false, fmt.Errorf("%d: %s", resp.StatusCode, out)
}

// caller is a principal and the bearer token its clients present.
type caller struct {
	principal string
	token     string
}

// snapshot returns the acknowledgements so far.
func (c *clients) snapshot() []ack {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]ack(nil), c.acks...)
}

// firstAckBy waits until a payment acknowledged by region at or after since
// appears, and returns its time; ok is false at the deadline.
func (c *clients) firstAckBy(ctx context.Context, region int, since time.Time, within time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(within)
	for {
		c.mu.Lock()
		for _, a := range c.acks {
			if a.Region == region && !a.At.Before(since) {
				c.mu.Unlock()
				return a.At, true
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
