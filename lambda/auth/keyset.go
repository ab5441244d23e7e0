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

	cfg      Config
	url      string
	client   *http.Client
	timeout  time.Duration
	interval time.Duration
	maxAge   time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu          sync.Mutex
	lastAttempt time.Time // last fetch started; zero: none yet
	loadedAt    time.Time // when the keys held were fetched (live or by whoever stored them); zero: none held
	savedHash   string    // StoredKeySet.Hash of the last set this process saved
	savedAt     time.Time // and when it was fetched
}

var _ jwkset.Storage = (*keySet)(nil)

func newKeySet(cfg Config) *keySet {
	return &keySet{
		MemoryJWKSet: jwkset.NewMemoryStorage(),
		cfg:          cfg,
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
// A fetched set is saved to the store; after a failed fetch the store's
// newest usable copy replaces the keys held if it is newer (loadStored).
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
	keys, err := k.fetch(ctx)
	if err == nil {
		// Only a complete, parsed set replaces the current one.
		err = k.MemoryJWKSet.KeyReplaceAll(ctx, keys)
	}
	if err != nil {
		// Keys already held stay in use.
		k.log.Warn("JWKS fetch failed; keeping the last good key set",
			"reason", why, "url", k.url, "error", err.Error(), "durationMs", time.Since(start).Milliseconds())
		return k.loadStored(ctx)
	}
	k.mu.Lock()
	k.loadedAt = k.now()
	fetchedAt := k.loadedAt
	k.mu.Unlock()
	k.log.Info("JWKS fetched", "reason", why, "url", k.url, "keys", len(keys), "durationMs", time.Since(start).Milliseconds())
	k.save(ctx, keys, fetchedAt)
	return true
}

// fetch downloads and parses the set with jwkset into a fresh store, so a
// failure at any step leaves the current set alone.
func (k *keySet) fetch(ctx context.Context) ([]jwkset.JWK, error) {
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
		return nil, err
	}
	keys, err := fresh.KeyReadAll(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		// More likely a broken endpoint than a provider that withdrew
		// every key at once; refusing every caller would be the outage.
		return nil, errors.New("JWKS holds no key this package can use")
	}
	return keys, nil
}

// save writes a set fetched at fetchedAt to the store when it differs from
// the last one this process saved, or that one was saved StoreRefresh ago:
// at most one write per fetch, within StoreTimeout. A failure is logged and
// retried at the next fetch; it never refuses a caller.
func (k *keySet) save(ctx context.Context, keys []jwkset.JWK, fetchedAt time.Time) {
	if k.cfg.Store == nil {
		return
	}
	data, err := encodeJWKS(keys)
	if err != nil {
		k.log.Warn("cannot encode the key set for the store", "error", err.Error())
		return
	}
	s := StoredKeySet{JWKS: data, FetchedAt: fetchedAt, Issuer: k.cfg.Issuer, JWKSURL: k.url}
	hash := s.Hash()
	k.mu.Lock()
	due := hash != k.savedHash || fetchedAt.Sub(k.savedAt) >= k.cfg.StoreRefresh
	k.mu.Unlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.StoreTimeout)
	defer cancel()
	start := time.Now()
	if err := k.cfg.Store.Save(ctx, s); err != nil {
		k.log.Warn("saving the key set to the store failed; the next fetch tries again",
			"error", err.Error(), "durationMs", time.Since(start).Milliseconds())
		return
	}
	k.mu.Lock()
	k.savedHash, k.savedAt = hash, fetchedAt
	k.mu.Unlock()
	k.log.Info("key set saved to the store", "hash", hash, "keys", len(keys), "durationMs", time.Since(start).Milliseconds())
}

// loadStored runs after a failed fetch: the store's newest copy for this
// issuer and URL, at most MaxStoredKeyAge old, replaces the keys held when
// none are held or they were fetched before it (another execution
// environment, or the other region, reached the provider later). It reads
// within StoreTimeout and reports whether the set was replaced.
func (k *keySet) loadStored(ctx context.Context) bool {
	if k.cfg.Store == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.StoreTimeout)
	defer cancel()
	start := time.Now()
	sets, err := k.cfg.Store.Load(ctx)
	if err != nil {
		// What could be read is still used.
		k.log.Warn("reading the stored key sets failed", "error", err.Error(), "durationMs", time.Since(start).Milliseconds())
	}
	now := k.now()
	s, keys, err := pick(sets, k.cfg, now)
	if err != nil {
		k.log.Warn("no stored key set to fall back on", "error", err.Error())
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.loadedAt.IsZero() && !s.FetchedAt.After(k.loadedAt) {
		return false
	}
	if err := k.MemoryJWKSet.KeyReplaceAll(ctx, keys); err != nil {
		return false
	}
	// Its age is the copy's, so MaxKeyAge keeps trying the provider; a
	// clock ahead of ours must not make it look fresher than now.
	k.loadedAt = s.FetchedAt
	if k.loadedAt.After(now) {
		k.loadedAt = now
	}
	k.log.Warn("using a stored key set until the JWKS endpoint answers",
		"source", s.Source, "fetchedAt", s.FetchedAt.UTC().Format(time.RFC3339), "keys", len(keys),
		"durationMs", time.Since(start).Milliseconds())
	return true
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
