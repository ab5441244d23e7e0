package gameday

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// server is an HTTP server on a fixed loopback port that can be stopped and
// started again: a region's API and its table endpoint. Stopping closes the
// listener and every open connection, so clients see what they see when a
// region is gone: connections refused or reset, never a polite answer.
type server struct {
	name    string
	addr    string
	handler http.Handler

	mu  sync.Mutex
	srv *http.Server
}

// newServer listens on a free loopback port and serves h.
func newServer(name string, h http.Handler) (*server, error) {
	s := &server{name: name, addr: "127.0.0.1:0", handler: h}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the server's base URL; it stays the same across restarts.
func (s *server) URL() string { return "http://" + s.addr }

// start serves again on the same port. The port was free a moment ago and
// Go listeners set SO_REUSEADDR, so a rebind only waits for another process
// that grabbed the port meanwhile, which a deadline bounds.
func (s *server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	var (
		l   net.Listener
		err error
	)
	for deadline := time.Now().Add(5 * time.Second); ; {
		l, err = net.Listen("tcp", s.addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", s.name, s.addr, err)
	}
	s.addr = l.Addr().String()
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	s.srv = srv
	go srv.Serve(l)
	return nil
}

// stop closes the listener and all connections at once. Handlers already
// running finish in the background, as an invocation in a failing region
// might: what they write is stranded there until the region comes back.
func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}
