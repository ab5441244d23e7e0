// Package authtest is a local identity provider for the auth and authorizer
// tests and the game day: keys generated in the process, a JWKS endpoint over
// TLS (auth accepts https only) whose answer and availability a test
// controls, and tokens minted with those keys.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

// Serve replaces the published set (a rotation).
func (p *IdP) Serve(keys ...Key) error {
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.Public, jwkset.JWKOptions{
			Marshal:  jwkset.JWKMarshalOptions{Private: true}, // an "oct" key's k is its only member
			Metadata: jwkset.JWKMetadataOptions{KID: k.KID, USE: jwkset.USE(k.Use)},
		})
		if err != nil {
			return fmt.Errorf("publish key %s: %w", k.KID, err)
		}
		set.Keys = append(set.Keys, jwk.Marshal())
	}
	body, err := json.Marshal(set)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.body = body
	p.mu.Unlock()
	return nil
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
