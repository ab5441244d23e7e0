// Package authtest is a local identity provider for the auth and authorizer
// tests and the game day: keys generated in the process, a JWKS endpoint over
// TLS (auth accepts https only) whose answer and availability a test
// controls, and tokens minted with those keys.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/payments-dr/payments-dr/lambda/auth"
)

// Issuer and Audience are what the IdP's tokens carry by default.
const (
	Issuer   = "https://idp.authtest.invalid/"
	Audience = "payments-api"
)

// Key is a signing key and how it is published.
type Key struct {
	KID    string
	Method jwt.SigningMethod
	Secret any    // what signs: a private key, or []byte for HMAC
	Public any    // what the JWKS publishes: a public key, or []byte for an "oct" key
	Use    string // the JWK's "use"; "" leaves it out
}

// RSAKey returns a new 2048-bit RS256 key.
func RSAKey(kid string) (Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Key{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return Key{KID: kid, Method: jwt.SigningMethodRS256, Secret: k, Public: &k.PublicKey}, nil
}

// ECKey returns a new P-256 ES256 key.
func ECKey(kid string) (Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("generate EC key: %w", err)
	}
	return Key{KID: kid, Method: jwt.SigningMethodES256, Secret: k, Public: &k.PublicKey}, nil
}

// Mode is how the JWKS endpoint behaves.
type Mode int

const (
	Up      Mode = iota // serves the current set
	Down                // answers 503
	Hang                // never answers (until the client gives up or the IdP closes)
	Garbage             // answers 200 with a body that is not a JWKS
	Huge                // answers 200 with the current set padded past 1 MiB
)

// IdP is a running identity provider.
type IdP struct {
	srv     *httptest.Server
	closed  chan struct{}
	fetches atomic.Int64

	mu   sync.Mutex
	body []byte
	mode Mode
}

// Start serves keys at a new JWKS endpoint.
func Start(keys ...Key) (*IdP, error) {
	p := &IdP{closed: make(chan struct{})}
	if err := p.Serve(keys...); err != nil {
		return nil, err
	}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.handle))
	return p, nil
}

func (p *IdP) handle(w http.ResponseWriter, r *http.Request) {
	p.fetches.Add(1)
	p.mu.Lock()
	mode, body := p.mode, p.body
	p.mu.Unlock()
	switch mode {
	case Down:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.closed:
		}
	case Garbage:
		w.Write([]byte(`<html>maintenance</html>`))
	case Huge:
		w.Header().Set("Content-Type", "application/json")
		w.Write(body[:len(body)-1]) // the set without its closing brace
		w.Write([]byte(`,"pad":"` + strings.Repeat("x", 2<<20) + `"}`))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

// Serve replaces the published set (a rotation).
func (p *IdP) Serve(keys ...Key) error {
	body, err := JWKS(keys...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.body = body
	p.mu.Unlock()
	return nil
}

// JWKS is the JWKS document that publishes keys, as the IdP serves it.
func JWKS(keys ...Key) ([]byte, error) {
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.Public, jwkset.JWKOptions{
			Marshal:  jwkset.JWKMarshalOptions{Private: true}, // an "oct" key's k is its only member
			Metadata: jwkset.JWKMetadataOptions{KID: k.KID, USE: jwkset.USE(k.Use)},
		})
		if err != nil {
			return nil, fmt.Errorf("publish key %s: %w", k.KID, err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	return json.Marshal(set)
}

// SetMode changes how the endpoint behaves from the next request on.
func (p *IdP) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// Fetches counts the requests the JWKS endpoint has received.
func (p *IdP) Fetches() int { return int(p.fetches.Load()) }

// JWKSURL is the endpoint's address.
func (p *IdP) JWKSURL() string { return p.srv.URL + "/.well-known/jwks.json" }

// Config is an auth.Config that trusts this IdP (its TLS certificate
// included).
func (p *IdP) Config() auth.Config {
	return auth.Config{Issuer: Issuer, Audience: Audience, JWKSURL: p.JWKSURL(), Transport: p.srv.Client().Transport}
}

// Close stops the endpoint, releasing hanging requests first.
func (p *IdP) Close() {
	close(p.closed)
	p.srv.Close()
}

// Claims are valid claims for sub at now, good for five minutes.
func Claims(sub string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": Issuer,
		"aud": Audience,
		"sub": sub,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
}

// Mint signs claims with k, naming k.KID in the header (no kid when empty).
func Mint(k Key, claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(k.Method, claims)
	if k.KID != "" {
		t.Header["kid"] = k.KID
	}
	return t.SignedString(k.Secret)
}

// Keys are the keys of the standard cases: the IdP publishes all but Other.
type Keys struct {
	RSA, EC Key // trusted signing keys
	Other   Key // a key the IdP has not published (yet)
	HMAC    Key // an "oct" key the JWKS should never have held
	Enc     Key // a P-256 key published with use "enc"
	ES384   Key // a P-384 key, published, for an algorithm not accepted
}

// NewKeys generates Keys.
func NewKeys() (Keys, error) {
	var k Keys
	var errs [5]error
	k.RSA, errs[0] = RSAKey("rsa-1")
	k.EC, errs[1] = ECKey("ec-1")
	k.Other, errs[2] = RSAKey("rsa-2")
	k.Enc, errs[3] = ECKey("enc-1")
	k.Enc.Use = "enc"
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	errs[4] = err
	if err := errors.Join(errs[:]...); err != nil {
		return Keys{}, err
	}
	k.ES384 = Key{KID: "ec-384", Method: jwt.SigningMethodES384, Secret: p384, Public: &p384.PublicKey}
	secret := []byte("a shared secret the JWKS should never have published")
	k.HMAC = Key{KID: "hmac-1", Method: jwt.SigningMethodHS256, Secret: secret, Public: secret}
	return k, nil
}

// Published is what the IdP of the standard cases serves.
func (k Keys) Published() []Key { return []Key{k.RSA, k.EC, k.HMAC, k.Enc, k.ES384} }

// Case is an Authorization header value and what a validator at the case's
// time, trusting an IdP that publishes Keys.Published, must make of it.
type Case struct {
	Name      string
	Header    string
	Principal string // "" for a refusal
	Err       error  // the reason a refusal carries
}

// Cases are the standard accepted and refused headers at now, with the
// default leeway (auth.DefaultLeeway, one minute).
func Cases(k Keys, now time.Time) ([]Case, error) {
	var firstErr error
	base := Claims("client-a", now)
	sign := func(key Key, changes jwt.MapClaims) string {
		c := jwt.MapClaims{}
		maps.Copy(c, base)
		for name, v := range changes {
			if v == nil {
				delete(c, name)
			} else {
				c[name] = v
			}
		}
		tok, err := Mint(key, c)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return "Bearer " + tok
	}
	// as signs with key's material under another algorithm or key id.
	as := func(key Key, method jwt.SigningMethod, kid string) Key {
		key.Method, key.KID = method, kid
		return key
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.RSA.Public)
	if err != nil {
		return nil, err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := strings.TrimPrefix(sign(k.RSA, nil), "Bearer ")

	// Padded with a claim until the header is just over the limit, and
	// otherwise valid: only the size check can refuse it.
	padded := func(n int) string { return sign(k.RSA, jwt.MapClaims{"pad": strings.Repeat("x", n)}) }
	lo, hi := 0, auth.MaxTokenBytes // padded(hi) is over the limit
	for lo < hi {
		if mid := (lo + hi) / 2; len(padded(mid)) > auth.MaxHeaderBytes {
			hi = mid
		} else {
			lo = mid + 1
		}
	}

	cases := []Case{
		{Name: "valid RS256", Header: sign(k.RSA, nil), Principal: "client-a"},
		{Name: "valid ES256", Header: sign(k.EC, nil), Principal: "client-a"},
		{Name: "lower-case scheme", Header: "bearer " + valid, Principal: "client-a"},
		{Name: "no kid: every key is tried", Header: sign(as(k.RSA, jwt.SigningMethodRS256, ""), nil), Principal: "client-a"},
		{Name: "no sub: client_id", Header: sign(k.RSA, jwt.MapClaims{"sub": nil, "client_id": "svc-1"}), Principal: "svc-1"},
		{Name: "no sub: azp", Header: sign(k.RSA, jwt.MapClaims{"sub": nil, "azp": "svc-2"}), Principal: "svc-2"},
		{Name: "aud list containing ours", Header: sign(k.RSA, jwt.MapClaims{"aud": []string{"other", Audience}}), Principal: "client-a"},
		{Name: "expired within leeway", Header: sign(k.RSA, jwt.MapClaims{"exp": now.Add(-30 * time.Second).Unix()}), Principal: "client-a"},
		{Name: "nbf within leeway", Header: sign(k.RSA, jwt.MapClaims{"nbf": now.Add(30 * time.Second).Unix()}), Principal: "client-a"},

		{Name: "expired", Header: sign(k.RSA, jwt.MapClaims{"exp": now.Add(-90 * time.Second).Unix()}), Err: jwt.ErrTokenExpired},
		{Name: "not yet valid", Header: sign(k.RSA, jwt.MapClaims{"nbf": now.Add(90 * time.Second).Unix()}), Err: jwt.ErrTokenNotValidYet},
		{Name: "no exp", Header: sign(k.RSA, jwt.MapClaims{"exp": nil}), Err: jwt.ErrTokenRequiredClaimMissing},
		{Name: "wrong issuer", Header: sign(k.RSA, jwt.MapClaims{"iss": "https://evil.example/"}), Err: jwt.ErrTokenInvalidIssuer},
		{Name: "no issuer", Header: sign(k.RSA, jwt.MapClaims{"iss": nil}), Err: jwt.ErrTokenRequiredClaimMissing},
		{Name: "wrong audience", Header: sign(k.RSA, jwt.MapClaims{"aud": "another-api"}), Err: jwt.ErrTokenInvalidAudience},
		{Name: "no audience", Header: sign(k.RSA, jwt.MapClaims{"aud": nil}), Err: jwt.ErrTokenRequiredClaimMissing},
		{Name: "alg none", Header: sign(Key{KID: k.RSA.KID, Method: jwt.SigningMethodNone, Secret: jwt.UnsafeAllowNoneSignatureType}, nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "HS256 keyed with the RSA public key", Header: sign(Key{KID: k.RSA.KID, Method: jwt.SigningMethodHS256, Secret: pubPEM}, nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "HS256 with an oct key the JWKS publishes", Header: sign(k.HMAC, nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "RS512 with a trusted key", Header: sign(as(k.RSA, jwt.SigningMethodRS512, k.RSA.KID), nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "PS256 with a trusted key", Header: sign(as(k.RSA, jwt.SigningMethodPS256, k.RSA.KID), nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "ES384 with a published P-384 key", Header: sign(k.ES384, nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "trusted kid, untrusted key", Header: sign(as(k.Other, jwt.SigningMethodRS256, k.RSA.KID), nil), Err: jwt.ErrTokenSignatureInvalid},
		{Name: "unknown kid", Header: sign(k.Other, nil), Err: jwt.ErrTokenUnverifiable},
		{Name: "key published for encryption", Header: sign(k.Enc, nil), Err: jwt.ErrTokenUnverifiable},
		{Name: "no principal", Header: sign(k.RSA, jwt.MapClaims{"sub": nil}), Err: auth.ErrNoPrincipal},
		{Name: "principal too long", Header: sign(k.RSA, jwt.MapClaims{"sub": strings.Repeat("s", auth.MaxPrincipalBytes+1)}), Err: auth.ErrNoPrincipal},
		{Name: "tampered claims", Header: "Bearer " + tamper(valid), Err: jwt.ErrTokenSignatureInvalid},

		{Name: "empty header", Header: "", Err: auth.ErrMalformedHeader},
		{Name: "token without scheme", Header: valid, Err: auth.ErrMalformedHeader},
		{Name: "basic scheme", Header: "Basic " + valid, Err: auth.ErrMalformedHeader},
		{Name: "scheme only", Header: "Bearer", Err: auth.ErrMalformedHeader},
		{Name: "scheme and space only", Header: "Bearer ", Err: auth.ErrMalformedHeader},
		{Name: "two tokens", Header: "Bearer " + valid + " " + valid, Err: auth.ErrMalformedHeader},
		{Name: "not a JWT", Header: "Bearer abc.def", Err: jwt.ErrTokenMalformed},
		{Name: "oversized", Header: padded(hi), Err: auth.ErrTokenTooLarge},
	}
	if len(padded(hi)) <= auth.MaxHeaderBytes {
		return nil, fmt.Errorf("oversized header is %d bytes, not over %d", len(padded(hi)), auth.MaxHeaderBytes)
	}
	return cases, firstErr
}

// tamper changes the claims segment of a token, keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(c), `"client-a"`, `"client-b"`, 1)))
	return strings.Join(parts, ".")
}

// Store is an auth.KeyStore in memory that counts its calls. With Hang set,
// each call blocks until its context ends (or, so that a missing bound fails
// a test instead of hanging it, for 10 s).
type Store struct {
	mu      sync.Mutex
	Sets    []auth.StoredKeySet // what Load returns
	LoadErr error               // and with it
	SaveErr error               // what Save fails with
	Hang    bool
	calls   int
	loads   int
	saved   []auth.StoredKeySet
}

var _ auth.KeyStore = (*Store)(nil)

func (m *Store) wait(ctx context.Context) error {
	m.mu.Lock()
	m.calls++
	hang := m.Hang
	m.mu.Unlock()
	if !hang {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return errors.New("authtest.Store: the call had no deadline")
	}
}

// Load returns Sets and LoadErr.
func (m *Store) Load(ctx context.Context) ([]auth.StoredKeySet, error) {
	err := m.wait(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if err != nil {
		return nil, err
	}
	return append([]auth.StoredKeySet(nil), m.Sets...), m.LoadErr
}

// Save records s unless SaveErr is set.
func (m *Store) Save(ctx context.Context, s auth.StoredKeySet) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.SaveErr != nil {
		return m.SaveErr
	}
	m.saved = append(m.saved, s)
	return nil
}

// Set changes the store's content or behaviour under its lock.
func (m *Store) Set(change func(*Store)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change(m)
}

// Calls counts Load and Save calls, successful or not.
func (m *Store) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Counts are the Load calls and the successful saves.
func (m *Store) Counts() (loads, saves int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads, len(m.saved)
}

// Saved are the sets saved, oldest first.
func (m *Store) Saved() []auth.StoredKeySet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]auth.StoredKeySet(nil), m.saved...)
}
