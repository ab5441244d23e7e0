package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
)

// keySet is the jwkset.Storage keyfunc reads keys from: an in-memory set that
// is refetched, on our schedule, when a key id is missing or the set is old.
type keySet struct {
	*jwkset.MemoryJWKSet

	url      string
	client   *http.Client
	timeout  time.Duration
	interval time.Duration
	maxAge   time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu          sync.Mutex
	lastAttempt time.Time // last fetch started; zero: none yet
	loadedAt    time.Time // last fetch that replaced the set; zero: none yet
}

var _ jwkset.Storage = (*keySet)(nil)

func newKeySet(cfg Config) *keySet {
	return &keySet{
		MemoryJWKSet: jwkset.NewMemoryStorage(),
		url:          cfg.JWKSURL,
		client: &http.Client{
			// Covers connecting (DNS included), the answer's headers and
			// reading its body.
			Timeout:   cfg.FetchTimeout,
			Transport: limitBody{cfg.Transport},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Scheme != "https" {
					return fmt.Errorf("JWKS redirect to %s: only https is followed", req.URL.Redacted())
				}
				if len(via) >= 3 {
					return errors.New("JWKS endpoint redirected more than 3 times")
				}
				return nil
			},
		},
		timeout:  cfg.FetchTimeout,
		interval: cfg.RefreshInterval,
		maxAge:   cfg.MaxKeyAge,
		now:      cfg.Now,
		log:      cfg.Logger,
	}
}

// KeyRead looks a key id up and, when it is unknown, refetches the set once
// (if the rate allows) in case the provider has rotated to a new key.
func (k *keySet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	jwk, err := k.MemoryJWKSet.KeyRead(ctx, kid)
	if errors.Is(err, jwkset.ErrKeyNotFound) && k.refresh(ctx, "unknown key id") {
		return k.MemoryJWKSet.KeyRead(ctx, kid)
	}
	return jwk, err
}

// KeyReadAll serves tokens without a key id. An empty set means no fetch has
// succeeded yet, so it tries one (if the rate allows) rather than wait for a
// token that names a key.
func (k *keySet) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	keys, err := k.MemoryJWKSet.KeyReadAll(ctx)
	if err == nil && len(keys) == 0 && k.refresh(ctx, "no keys loaded") {
		return k.MemoryJWKSet.KeyReadAll(ctx)
	}
	return keys, err
}

// refreshIfStale refetches a set older than maxAge, so that a key the
// provider withdrew stops being trusted. A failure keeps the old set.
func (k *keySet) refreshIfStale(ctx context.Context) {
	k.mu.Lock()
	stale := !k.loadedAt.IsZero() && k.now().Sub(k.loadedAt) >= k.maxAge
	k.mu.Unlock()
	if stale {
		k.refresh(ctx, "key set older than "+k.maxAge.String())
	}
}

// refresh fetches the set unless a fetch started less than interval ago, and
// reports whether the set was replaced. Failed attempts count towards the
// interval too: an identity provider that is struggling is not hammered.
func (k *keySet) refresh(ctx context.Context, why string) bool {
	k.mu.Lock()
	now := k.now()
	if !k.lastAttempt.IsZero() && now.Sub(k.lastAttempt) < k.interval {
		k.mu.Unlock()
		return false
	}
	k.lastAttempt = now
	k.mu.Unlock()

	start := time.Now()
	n, err := k.fetch(ctx)
	if err != nil {
		// Keys already held stay in use.
		k.log.Warn("JWKS fetch failed; keeping the last good key set",
			"reason", why, "url", k.url, "error", err.Error(), "durationMs", time.Since(start).Milliseconds())
		return false
	}
	k.mu.Lock()
	k.loadedAt = k.now()
	k.mu.Unlock()
	k.log.Info("JWKS fetched", "reason", why, "url", k.url, "keys", n, "durationMs", time.Since(start).Milliseconds())
	return true
}

// fetch downloads and parses the set with jwkset into a fresh store and only
// then swaps it in, so a failure at any step leaves the current set alone.
func (k *keySet) fetch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	fresh := jwkset.NewMemoryStorage()
	// With no RefreshInterval, NewStorageFromHTTP makes exactly one request,
	// synchronously, and starts no goroutine.
	if _, err := jwkset.NewStorageFromHTTP(k.url, jwkset.HTTPClientStorageOptions{
		Client:      k.client,
		Ctx:         ctx,
		HTTPTimeout: k.timeout,
		Storage:     fresh,
	}); err != nil {
		return 0, err
	}
	keys, err := fresh.KeyReadAll(ctx)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		// More likely a broken endpoint than a provider that withdrew
		// every key at once; refusing every caller would be the outage.
		return 0, errors.New("JWKS holds no key this package can use")
	}
	return len(keys), k.MemoryJWKSet.KeyReplaceAll(ctx, keys)
}

// limitBody cuts a JWKS answer off at maxJWKSBytes: the decoder then fails
// and the last good set stays.
type limitBody struct{ base http.RoundTripper }

func (l limitBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxJWKSBytes), resp.Body}
	return resp, nil
}
