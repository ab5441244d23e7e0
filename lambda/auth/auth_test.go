package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/auth/authtest"
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

type keys struct {
	rsa, ec, other authtest.Key
}

var (
	keysOnce sync.Once
	testKeys keys
	keysErr  error
)

// newKeys generates the RSA keys once: 2048-bit generation is the slowest
// part of these tests.
func newKeys(t *testing.T) keys {
	t.Helper()
	keysOnce.Do(func() {
		var errs [3]error
		testKeys.rsa, errs[0] = authtest.RSAKey("rsa-1")
		testKeys.ec, errs[1] = authtest.ECKey("ec-1")
		testKeys.other, errs[2] = authtest.RSAKey("rsa-2")
		keysErr = errors.Join(errs[:]...)
	})
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

// with returns claims with changes applied; a nil value removes the claim.
func with(c jwt.MapClaims, changes jwt.MapClaims) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	now := clk.Now()

	// Keys that sign but must not be trusted or must not be usable.
	hmacSecret := []byte("a shared secret the JWKS should never have published")
	hmacKey := authtest.Key{KID: "hmac-1", Method: jwt.SigningMethodHS256, Secret: hmacSecret, Public: hmacSecret}
	encKey, err := authtest.ECKey("enc-1")
	if err != nil {
		t.Fatal(err)
	}
	encKey.Use = "enc"
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es384 := authtest.Key{KID: "ec-384", Method: jwt.SigningMethodES384, Secret: p384, Public: &p384.PublicKey}

	idp := startIdP(t, k.rsa, k.ec, hmacKey, encKey, es384)
	v := newValidator(t, idp, clk)

	base := authtest.Claims("client-a", now)
	bearer := func(tok string) string { return "Bearer " + tok }
	signed := func(key authtest.Key, changes jwt.MapClaims) string { return bearer(mint(t, key, with(base, changes))) }
	// as signs with key's material under another algorithm or kid.
	as := func(key authtest.Key, method jwt.SigningMethod, kid string) authtest.Key {
		key.Method, key.KID = method, kid
		return key
	}

	pubDER, err := x509.MarshalPKIXPublicKey(k.rsa.Public)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsWithPublicKey := authtest.Key{KID: k.rsa.KID, Method: jwt.SigningMethodHS256, Secret: pubPEM}
	none := bearer(mint(t, authtest.Key{KID: k.rsa.KID, Method: jwt.SigningMethodNone, Secret: jwt.UnsafeAllowNoneSignatureType}, base))

	valid := mint(t, k.rsa, base)
	// Padded with a claim until the header is just over the limit, and
	// otherwise valid: only the size check can refuse it.
	padded := func(n int) string { return signed(k.rsa, jwt.MapClaims{"pad": strings.Repeat("x", n)}) }
	lo, hi := 0, auth.MaxTokenBytes // padded(hi) is over the limit
	for lo < hi {
		if mid := (lo + hi) / 2; len(padded(mid)) > auth.MaxHeaderBytes {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	oversized := padded(hi)

	tests := []struct {
		name   string
		header string
		want   string // principal; "" means refused
		err    error  // the reason a refusal must carry
	}{
		{name: "valid RS256", header: signed(k.rsa, nil), want: "client-a"},
		{name: "valid ES256", header: signed(k.ec, nil), want: "client-a"},
		{name: "lower-case scheme", header: "bearer " + valid, want: "client-a"},
		{name: "no kid: every key is tried", header: signed(as(k.rsa, jwt.SigningMethodRS256, ""), nil), want: "client-a"},
		{name: "no sub: client_id", header: signed(k.rsa, jwt.MapClaims{"sub": nil, "client_id": "svc-1"}), want: "svc-1"},
		{name: "no sub: azp", header: signed(k.rsa, jwt.MapClaims{"sub": nil, "azp": "svc-2"}), want: "svc-2"},
		{name: "aud list containing ours", header: signed(k.rsa, jwt.MapClaims{"aud": []string{"other", authtest.Audience}}), want: "client-a"},
		{name: "expired within leeway", header: signed(k.rsa, jwt.MapClaims{"exp": now.Add(-30 * time.Second).Unix()}), want: "client-a"},
		{name: "nbf within leeway", header: signed(k.rsa, jwt.MapClaims{"nbf": now.Add(30 * time.Second).Unix()}), want: "client-a"},

		{name: "expired", header: signed(k.rsa, jwt.MapClaims{"exp": now.Add(-90 * time.Second).Unix()}), err: jwt.ErrTokenExpired},
		{name: "not yet valid", header: signed(k.rsa, jwt.MapClaims{"nbf": now.Add(90 * time.Second).Unix()}), err: jwt.ErrTokenNotValidYet},
		{name: "no exp", header: signed(k.rsa, jwt.MapClaims{"exp": nil}), err: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong issuer", header: signed(k.rsa, jwt.MapClaims{"iss": "https://evil.example/"}), err: jwt.ErrTokenInvalidIssuer},
		{name: "no issuer", header: signed(k.rsa, jwt.MapClaims{"iss": nil}), err: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong audience", header: signed(k.rsa, jwt.MapClaims{"aud": "another-api"}), err: jwt.ErrTokenInvalidAudience},
		{name: "no audience", header: signed(k.rsa, jwt.MapClaims{"aud": nil}), err: jwt.ErrTokenRequiredClaimMissing},
		{name: "alg none", header: none, err: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 keyed with the RSA public key", header: signed(hsWithPublicKey, nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "HS256 with an oct key the JWKS publishes", header: signed(hmacKey, nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "RS512 with a trusted key", header: signed(as(k.rsa, jwt.SigningMethodRS512, k.rsa.KID), nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "PS256 with a trusted key", header: signed(as(k.rsa, jwt.SigningMethodPS256, k.rsa.KID), nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "ES384 with a published P-384 key", header: signed(es384, nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "trusted kid, untrusted key", header: signed(as(k.other, jwt.SigningMethodRS256, k.rsa.KID), nil), err: jwt.ErrTokenSignatureInvalid},
		{name: "unknown kid", header: signed(k.other, nil), err: jwt.ErrTokenUnverifiable},
		{name: "key published for encryption", header: signed(encKey, nil), err: jwt.ErrTokenUnverifiable},
		{name: "no principal", header: signed(k.rsa, jwt.MapClaims{"sub": nil}), err: auth.ErrNoPrincipal},
		{name: "principal too long", header: signed(k.rsa, jwt.MapClaims{"sub": strings.Repeat("s", auth.MaxPrincipalBytes+1)}), err: auth.ErrNoPrincipal},
		{name: "tampered claims", header: bearer(tamper(valid)), err: jwt.ErrTokenSignatureInvalid},

		{name: "empty header", header: "", err: auth.ErrMalformedHeader},
		{name: "token without scheme", header: valid, err: auth.ErrMalformedHeader},
		{name: "basic scheme", header: "Basic " + valid, err: auth.ErrMalformedHeader},
		{name: "scheme only", header: "Bearer", err: auth.ErrMalformedHeader},
		{name: "scheme and space only", header: "Bearer ", err: auth.ErrMalformedHeader},
		{name: "two tokens", header: "Bearer " + valid + " " + valid, err: auth.ErrMalformedHeader},
		{name: "not a JWT", header: "Bearer abc.def", err: jwt.ErrTokenMalformed},
		{name: "oversized", header: oversized, err: auth.ErrTokenTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Validate(context.Background(), tc.header)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("Validate = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted the token as %q", got)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error %v, want %v", err, tc.err)
			}
			if tc.header != "" && len(tc.header) > 20 && strings.Contains(err.Error(), strings.TrimPrefix(tc.header, "Bearer ")) {
				t.Error("the error repeats the token")
			}
		})
	}
	if len(oversized) <= auth.MaxHeaderBytes {
		t.Fatalf("oversized header is %d bytes, not over %d", len(oversized), auth.MaxHeaderBytes)
	}
}

// tamper changes the claims segment of a token, keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(c), `"client-a"`, `"client-b"`, 1)))
	return strings.Join(parts, ".")
}

func TestRotation(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.rsa)
	v := newValidator(t, idp, clk)
	if idp.Fetches() != 1 {
		t.Fatalf("cold start made %d fetches, want 1", idp.Fetches())
	}
	newTok := "Bearer " + mint(t, k.other, authtest.Claims("client-a", clk.Now()))

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
		tok := mint(t, authtest.Key{KID: fmt.Sprintf("bogus-%d", i), Method: k.other.Method, Secret: k.other.Secret},
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
	if err := idp.Serve(k.rsa, k.other); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), newTok); err == nil {
		t.Fatal("accepted before the refresh interval had passed")
	}
	clk.Advance(auth.DefaultRefreshInterval / 2)
	newTok = "Bearer " + mint(t, k.other, authtest.Claims("client-a", clk.Now()))
	if got, err := v.Validate(context.Background(), newTok); err != nil || got != "client-a" {
		t.Fatalf("after rotation: %q, %v", got, err)
	}
	if idp.Fetches() != 3 {
		t.Fatalf("fetches = %d, want 3", idp.Fetches())
	}
}

func TestKeysOutliveTheEndpoint(t *testing.T) {
	for _, mode := range []struct {
		name string
		m    authtest.Mode
	}{{"down", authtest.Down}, {"garbage", authtest.Garbage}, {"hanging", authtest.Hang}} {
		t.Run(mode.name, func(t *testing.T) {
			k := newKeys(t)
			clk := newClock()
			idp := startIdP(t, k.rsa)
			v := newValidator(t, idp, clk)
			idp.SetMode(mode.m)
			// Old enough to be refetched, which fails: the set stays.
			clk.Advance(auth.DefaultMaxKeyAge + time.Second)
			tok := "Bearer " + mint(t, k.rsa, authtest.Claims("client-a", clk.Now()))
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
	idp := startIdP(t, k.rsa, k.ec)
	v := newValidator(t, idp, clk)
	if err := idp.Serve(k.ec); err != nil { // rsa-1 withdrawn
		t.Fatal(err)
	}
	clk.Advance(auth.DefaultMaxKeyAge - time.Second)
	tok := func() string { return "Bearer " + mint(t, k.rsa, authtest.Claims("client-a", clk.Now())) }
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
	idp := startIdP(t, k.rsa)
	idp.SetMode(authtest.Down)
	v := newValidator(t, idp, clk) // must not fail
	tok := func() string { return "Bearer " + mint(t, k.rsa, authtest.Claims("client-a", clk.Now())) }
	if _, err := v.Validate(context.Background(), tok()); err == nil {
		t.Fatal("accepted with no keys loaded")
	}
	idp.SetMode(authtest.Up)
	if _, err := v.Validate(context.Background(), tok()); err == nil {
		t.Fatal("fetched again within the refresh interval")
	}
	clk.Advance(auth.DefaultRefreshInterval)
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
	idp := startIdP(t, k.rsa)
	idp.SetMode(authtest.Hang)

	start := time.Now()
	v := newValidator(t, idp, clk)
	if took := time.Since(start); took > 2*auth.DefaultFetchTimeout {
		t.Fatalf("cold start took %s against a hanging endpoint", took)
	}
	clk.Advance(auth.DefaultRefreshInterval)
	start = time.Now()
	_, err := v.Validate(context.Background(), "Bearer "+mint(t, k.rsa, authtest.Claims("client-a", clk.Now())))
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

func TestNewRefusesLongLeeway(t *testing.T) {
	cfg := auth.Config{Issuer: authtest.Issuer, Audience: authtest.Audience, JWKSURL: "https://127.0.0.1:1/jwks",
		Leeway: auth.MaxLeeway + time.Second}
	if _, err := auth.New(context.Background(), cfg); err == nil {
		t.Fatalf("leeway %s accepted", cfg.Leeway)
	}
}
