package auth_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/testonly/authtest"
)

// clock is the validator's and the refresh schedule's time, moved by hand so
// that no test sleeps through the 10 s refresh interval.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	keysOnce sync.Once
	testKeys authtest.Keys
	keysErr  error
)

// newKeys generates the keys once: 2048-bit RSA generation is the slowest
// part of these tests.
func newKeys(t *testing.T) authtest.Keys {
	t.Helper()
	keysOnce.Do(func() { testKeys, keysErr = authtest.NewKeys() })
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return testKeys
}

func startIdP(t *testing.T, ks ...authtest.Key) *authtest.IdP {
	t.Helper()
	idp, err := authtest.Start(ks...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	return idp
}

func newValidator(t *testing.T, idp *authtest.IdP, clk *clock) *auth.Validator {
	t.Helper()
	cfg := idp.Config()
	cfg.Now = clk.Now
	v, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mint(t *testing.T, k authtest.Key, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := authtest.Mint(k, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// validatorAndCases is a validator of a local identity provider and the
// standard token cases against it (authtest.Cases).
func validatorAndCases(t *testing.T) (*auth.Validator, []authtest.Case) {
	t.Helper()
	k := newKeys(t)
	clk := newClock()
	v := newValidator(t, startIdP(t, k.Published()...), clk)
	cases, err := authtest.Cases(k, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v, cases
}

func TestValidate(t *testing.T) {
	v, cases := validatorAndCases(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := v.Validate(context.Background(), tc.Header)
			if tc.Principal != "" {
				if err != nil || got != tc.Principal {
					t.Fatalf("Validate = %q, %v; want %q", got, err, tc.Principal)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted the token as %q", got)
			}
			if !errors.Is(err, tc.Err) {
				t.Errorf("error %v, want %v", err, tc.Err)
			}
			if tok := strings.TrimPrefix(tc.Header, "Bearer "); len(tok) > 20 && strings.Contains(err.Error(), tok) {
				t.Error("the error repeats the token")
			}
		})
	}
}

func TestRotation(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA)
	v := newValidator(t, idp, clk)
	if idp.Fetches() != 1 {
		t.Fatalf("cold start made %d fetches, want 1", idp.Fetches())
	}
	newTok := "Bearer " + mint(t, k.Other, authtest.Claims("client-a", clk.Now()))

	// The new key is not published yet: one refetch, still unknown.
	clk.Advance(auth.DefaultRefreshInterval)
	if _, err := v.Validate(context.Background(), newTok); !errors.Is(err, jwt.ErrTokenUnverifiable) {
		t.Fatalf("unpublished key: %v, want unverifiable", err)
	}
	if idp.Fetches() != 2 {
		t.Fatalf("fetches = %d after an unknown kid, want 2", idp.Fetches())
	}

	// A flood of made-up key ids within the interval fetches nothing more.
	for i := range 200 {
		tok := mint(t, authtest.Key{KID: fmt.Sprintf("bogus-%d", i), Method: k.Other.Method, Secret: k.Other.Secret},
			authtest.Claims("client-a", clk.Now()))
		if _, err := v.Validate(context.Background(), "Bearer "+tok); err == nil {
			t.Fatal("bogus kid accepted")
		}
		clk.Advance(auth.DefaultRefreshInterval / 400)
	}
	if idp.Fetches() != 2 {
		t.Fatalf("fetches = %d after a flood of unknown kids within %s, want still 2", idp.Fetches(), auth.DefaultRefreshInterval)
	}

	// The provider rotates; the new key is honoured at the next allowed fetch.
	if err := idp.Serve(k.RSA, k.Other); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), newTok); err == nil {
		t.Fatal("accepted before the refresh interval had passed")
	}
	clk.Advance(auth.DefaultRefreshInterval / 2)
	newTok = "Bearer " + mint(t, k.Other, authtest.Claims("client-a", clk.Now()))
	if got, err := v.Validate(context.Background(), newTok); err != nil || got != "client-a" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	if idp.Fetches() != 3 {
		t.Fatalf("fetches = %d, want 3", idp.Fetches())
	}
}

func TestKeysOutliveTheEndpoint(t *testing.T) {
	k := newKeys(t)
	for _, mode := range []struct {
		name  string
		m     authtest.Mode
		serve []authtest.Key
	}{
		{"down", authtest.Down, nil},
		{"garbage", authtest.Garbage, nil},
		{"hanging", authtest.Hang, nil},
		// Were the broken answer taken, only k.Other would be left.
		{"answering over 1 MiB", authtest.Huge, []authtest.Key{k.Other}},
		{"serving an empty set", authtest.Up, []authtest.Key{}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			clk := newClock()
			idp := startIdP(t, k.RSA)
			v := newValidator(t, idp, clk)
			if mode.serve != nil {
				if err := idp.Serve(mode.serve...); err != nil {
					t.Fatal(err)
				}
			}
			idp.SetMode(mode.m)
			// Old enough to be refetched, which fails: the set stays.
			clk.Advance(auth.DefaultMaxKeyAge + time.Second)
			tok := "Bearer " + mint(t, k.RSA, authtest.Claims("client-a", clk.Now()))
			for i := range 2 {
				if got, err := v.Validate(context.Background(), tok); err != nil || got != "client-a" {
					t.Fatalf("call %d with the endpoint %s: %q, %v", i, mode.name, got, err)
				}
			}
			if idp.Fetches() != 2 {
				t.Errorf("fetches = %d, want 2 (cold start, one stale refetch)", idp.Fetches())
			}
		})
	}
}

func TestWithdrawnKeyStopsWorking(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA, k.EC)
	v := newValidator(t, idp, clk)
	if err := idp.Serve(k.EC); err != nil { // rsa-1 withdrawn
		t.Fatal(err)
	}
	clk.Advance(auth.DefaultMaxKeyAge - time.Second)
	tok := func() string { return "Bearer " + mint(t, k.RSA, authtest.Claims("client-a", clk.Now())) }
	if _, err := v.Validate(context.Background(), tok()); err != nil {
		t.Fatalf("before the set is stale: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := v.Validate(context.Background(), tok()); err == nil {
		t.Fatal("a withdrawn key still verifies after the set went stale")
	}
}

func TestColdStartWithTheProviderDown(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA)
	idp.SetMode(authtest.Down)
	v := newValidator(t, idp, clk) // must not fail
	tok := func() string { return "Bearer " + mint(t, k.RSA, authtest.Claims("client-a", clk.Now())) }
	if _, err := v.Validate(context.Background(), tok()); err == nil {
		t.Fatal("accepted with no keys loaded")
	}
	idp.SetMode(authtest.Up)
	if _, err := v.Validate(context.Background(), tok()); err == nil {
		t.Fatal("fetched again within the refresh interval")
	}
	clk.Advance(auth.DefaultRefreshInterval)
	// A token without a key id also loads the keys when none are held.
	noKID := k.RSA
	noKID.KID = ""
	if got, err := v.Validate(context.Background(), "Bearer "+mint(t, noKID, authtest.Claims("client-a", clk.Now()))); err != nil || got != "client-a" {
		t.Fatalf("once the provider is back, token without kid: %q, %v", got, err)
	}
	if got, err := v.Validate(context.Background(), tok()); err != nil || got != "client-a" {
		t.Fatalf("once the provider is back: %q, %v", got, err)
	}
	if idp.Fetches() != 2 {
		t.Errorf("fetches = %d, want 2", idp.Fetches())
	}
}

// TestHangingEndpoint uses the production timeouts: the cold start and a
// call that must refetch each give up after FetchTimeout.
func TestHangingEndpoint(t *testing.T) {
	const budget = 3 * time.Second
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA)
	idp.SetMode(authtest.Hang)

	start := time.Now()
	v := newValidator(t, idp, clk)
	if took := time.Since(start); took > 2*auth.DefaultFetchTimeout {
		t.Fatalf("cold start took %s against a hanging endpoint", took)
	}
	clk.Advance(auth.DefaultRefreshInterval)
	start = time.Now()
	_, err := v.Validate(context.Background(), "Bearer "+mint(t, k.RSA, authtest.Claims("client-a", clk.Now())))
	took := time.Since(start)
	t.Logf("call against a hanging JWKS endpoint took %s (fetch timeout %s, budget %s)", took, auth.DefaultFetchTimeout, budget)
	if err == nil {
		t.Fatal("accepted with no keys loaded")
	}
	if took > budget {
		t.Errorf("call took %s, over the %s budget", took, budget)
	}
	if idp.Fetches() != 2 {
		t.Errorf("fetches = %d, want 2: the call must have tried the endpoint", idp.Fetches())
	}
}

func TestLoadConfig(t *testing.T) {
	good := map[string]string{
		"AUTH_ISSUER":   "https://idp.example.com/",
		"AUTH_AUDIENCE": "payments-api",
		"AUTH_JWKS_URL": "https://idp.example.com/.well-known/jwks.json",
	}
	tests := []struct {
		name    string
		changes map[string]string
		wantErr []string // each must appear in the error
	}{
		{name: "valid"},
		{name: "nothing set", changes: map[string]string{"AUTH_ISSUER": "", "AUTH_AUDIENCE": "", "AUTH_JWKS_URL": ""},
			wantErr: []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "https"}},
		{name: "http JWKS URL", changes: map[string]string{"AUTH_JWKS_URL": "http://idp.example.com/jwks"}, wantErr: []string{"AUTH_JWKS_URL", "https URL"}},
		{name: "issuer without scheme", changes: map[string]string{"AUTH_ISSUER": "idp.example.com"}, wantErr: []string{"AUTH_ISSUER", "https URL"}},
		{name: "URL with credentials", changes: map[string]string{"AUTH_JWKS_URL": "https://u:p@idp.example.com/jwks"}, wantErr: []string{"AUTH_JWKS_URL"}},
		{name: "blank audience", changes: map[string]string{"AUTH_AUDIENCE": "  "}, wantErr: []string{"AUTH_AUDIENCE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			for k, v := range tc.changes {
				env[k] = v
			}
			cfg, err := auth.LoadConfig(func(k string) string { return env[k] })
			if len(tc.wantErr) == 0 {
				if err != nil || cfg.Issuer != env["AUTH_ISSUER"] || cfg.Audience != env["AUTH_AUDIENCE"] || cfg.JWKSURL != env["AUTH_JWKS_URL"] {
					t.Fatalf("LoadConfig = %+v, %v", cfg, err)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadConfig accepted it")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewRefusesBadDurations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*auth.Config)
	}{
		{"leeway over the maximum", func(c *auth.Config) { c.Leeway = auth.MaxLeeway + time.Second }},
		// An unchanged set would be saved again only after the copies aged out.
		{"store refresh as long as the stored key age limit", func(c *auth.Config) { c.StoreRefresh, c.MaxStoredKeyAge = time.Hour, time.Hour }},
		{"store refresh over the default age limit", func(c *auth.Config) { c.StoreRefresh = auth.DefaultMaxStoredKeyAge + time.Hour }},
	} {
		cfg := auth.Config{Issuer: authtest.Issuer, Audience: authtest.Audience, JWKSURL: "https://127.0.0.1:1/jwks"}
		tc.change(&cfg)
		if _, err := auth.New(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	cfg := auth.Config{Issuer: authtest.Issuer, Audience: authtest.Audience, JWKSURL: "https://127.0.0.1:1/jwks",
		StoreRefresh: time.Hour, MaxStoredKeyAge: time.Hour + time.Second}
	if _, err := auth.New(context.Background(), cfg); err != nil {
		t.Errorf("a store refresh just under the age limit: %v", err)
	}
}

// API Gateway refuses, without invoking the authorizer, every header that
// HeaderPattern does not match: the pattern must match each header Validate
// accepts, and refuse the malformed ones Validate refuses for their shape.
func TestHeaderPatternMatchesWhatValidates(t *testing.T) {
	v, cases := validatorAndCases(t)
	pattern := regexp.MustCompile(auth.HeaderPattern)
	accepted := 0
	for _, tc := range cases {
		_, err := v.Validate(context.Background(), tc.Header)
		matched := pattern.MatchString(tc.Header)
		switch {
		case err == nil && !matched:
			t.Errorf("%s: Validate accepts the header but API Gateway would refuse it", tc.Name)
		case errors.Is(err, auth.ErrMalformedHeader) && matched:
			t.Errorf("%s: a malformed header matches the pattern, so it would reach the authorizer", tc.Name)
		}
		if err == nil {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("no case is accepted: nothing shows the pattern lets valid tokens through")
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b", "Bearer a.b.c d", "Bearer  a.b.c", "Bearer a.b.c=", "Bearer a.b.c\n"} {
		if pattern.MatchString(h) {
			t.Errorf("%q matches the pattern", h)
		}
	}
}
