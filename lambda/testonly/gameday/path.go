package gameday

import (
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// path is one cross-region network path, from one region's functions to
// something of the other region: its API (the probe's /status requests) or
// its table endpoint (the failback gate's reads of the accept index, a GET's
// read of the other replica). It forwards every request, and can be cut (a
// partition: requests hang until the caller's own timeout gives up, as a
// black-holed route does), made to refuse (connections reset at once, as a
// dead region answers), or delayed (a congested path or a slow peer).
// Replication is not a path: it runs between the tables (link).
type path struct {
	name  string
	proxy *httputil.ReverseProxy
	srv   *server

	mu      sync.Mutex
	cut     int           // partitions in force (they overlap in chaos)
	refuse  int           // refusals in force
	delay   time.Duration // added before forwarding
	blocked chan struct{} // closed when the last partition heals
}

func newPath(name, target string) (*path, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &path{name: name, blocked: make(chan struct{})}
	close(p.blocked)
	p.proxy = httputil.NewSingleHostReverseProxy(u)
	p.proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Second}
	p.proxy.ErrorLog = nil
	p.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// The far end is gone (a region killed): the caller sees its
		// connection dropped, not an answer.
		hijackAndClose(w)
	}
	if p.srv, err = newServer(name, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *path) URL() string { return p.srv.URL() }

func (p *path) stop() { p.srv.stop() }

// partition cuts the path until the returned function is called.
func (p *path) partition() (heal func()) {
	p.mu.Lock()
	if p.cut++; p.cut == 1 {
		p.blocked = make(chan struct{})
	}
	p.mu.Unlock()
	return sync.OnceFunc(func() {
		p.mu.Lock()
		if p.cut--; p.cut == 0 {
			close(p.blocked)
		}
		p.mu.Unlock()
	})
}

// refusing resets every connection until the returned function is called.
func (p *path) refusing() (heal func()) {
	p.mu.Lock()
	p.refuse++
	p.mu.Unlock()
	return sync.OnceFunc(func() {
		p.mu.Lock()
		p.refuse--
		p.mu.Unlock()
	})
}

// slow adds d to every request until the returned function is called.
func (p *path) slow(d time.Duration) (heal func()) {
	p.mu.Lock()
	p.delay += d
	p.mu.Unlock()
	return sync.OnceFunc(func() {
		p.mu.Lock()
		p.delay -= d
		p.mu.Unlock()
	})
}

func (p *path) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	blocked, refuse, delay := p.blocked, p.refuse > 0, p.delay
	p.mu.Unlock()
	if refuse {
		hijackAndClose(w)
		return
	}
	select {
	case <-blocked:
	case <-r.Context().Done():
		// Nothing ever came back: the caller's timeout ended it.
		io.Copy(io.Discard, r.Body)
		hijackAndClose(w)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			hijackAndClose(w)
			return
		}
	}
	p.proxy.ServeHTTP(w, r)
}

// hijackAndClose drops the connection without an HTTP answer.
func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	w.WriteHeader(http.StatusBadGateway)
}
