package gameday

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// router stands in for the Route 53 failover records and their health
// checks: one check per region's /health on an interval, healthy or
// unhealthy after `threshold` consecutive results the other way (Route 53's
// failure threshold applies both ways), and the DNS answer:
//   - PRIMARY while the primary's check is healthy;
//   - SECONDARY when the primary is unhealthy and the secondary healthy;
//   - PRIMARY when both are unhealthy (Route 53 then answers as if both
//     were healthy).
//
// The check is an HTTPS_STR_MATCH like the deployed one: a 2xx or 3xx whose
// body holds searchString.
// searchString is stacks/searchString (not imported: that
// package pulls the cdktf runtime into the function's module graph).
const searchString = `"status":"ok"`

type router struct {
	names     [2]string // primary, secondary
	urls      [2]string // base URLs
	interval  time.Duration
	timeout   time.Duration
	threshold int
	client    *http.Client
	tl        *timeline

	mu      sync.Mutex
	healthy [2]bool
	streak  [2]int
	answers []answer // every change of the DNS answer
}

// answer is the DNS answer from At on.
type answer struct {
	At     time.Time
	Region int // 0 primary, 1 secondary
}

func newRouter(names, urls [2]string, interval, timeout time.Duration, threshold int, tl *timeline) *router {
	return &router{
		names: names, urls: urls, interval: interval, timeout: timeout, threshold: threshold, tl: tl,
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}},
		// Checks start healthy, so the records answer PRIMARY from the start.
		healthy: [2]bool{true, true},
		answers: []answer{{At: time.Now(), Region: 0}},
	}
}

func (r *router) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range r.urls {
		wg.Go(func() {
			t := time.NewTicker(r.interval)
			defer t.Stop()
			for {
				r.record(i, r.check(ctx, r.urls[i]+"/health"))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

func (r *router) check(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 5120)) // Route 53 searches the first 5,120 bytes
	return err == nil && resp.StatusCode >= 200 && resp.StatusCode < 400 &&
		bytes.Contains(body, []byte(searchString))
}

func (r *router) record(i int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok == r.healthy[i] {
		r.streak[i] = 0
		return
	}
	if r.streak[i]++; r.streak[i] < r.threshold {
		return
	}
	r.healthy[i], r.streak[i] = ok, 0
	state := "unhealthy"
	if ok {
		state = "healthy"
	}
	r.tl.log("router: health check of %s now %s", r.names[i], state)
	if a := r.answerLocked(); a != r.answers[len(r.answers)-1].Region {
		r.answers = append(r.answers, answer{At: time.Now(), Region: a})
		r.tl.log("router: DNS now answers %s", r.names[a])
	}
}

func (r *router) answerLocked() int {
	if r.healthy[0] || !r.healthy[1] {
		return 0
	}
	return 1
}

// resolve is a DNS query: the region answered now.
func (r *router) resolve() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answerLocked()
}

// history returns the answer changes so far.
func (r *router) history() []answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]answer(nil), r.answers...)
}

// answeredDuring reports whether the router answered region at any time in
// [from, to].
func answeredDuring(h []answer, region int, from, to time.Time) (time.Time, bool) {
	for i, a := range h {
		end := to
		if i+1 < len(h) {
			end = h[i+1].At
		}
		if a.Region == region && a.At.Before(to) && end.After(from) {
			return later(a.At, from), true
		}
	}
	return time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// isHealthy reports region i's health-check status now.
func (r *router) isHealthy(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy[i]
}

// healthyBoth reports both regions' health-check status now.
func (r *router) healthyBoth() [2]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy
}
