// Package auth validates the JWT bearer tokens that callers of the payment
// API present, for the API Gateway TOKEN authorizer (lambda/cmd/authorizer). It
// has no AWS dependency: the authorizer maps its answer onto API Gateway's
// event types.
//
// A token is accepted only if all of these hold:
//
//   - the Authorization value is "Bearer <token>" (scheme case-insensitive,
//     RFC 6750 section 2.1) and at most MaxHeaderBytes long, checked before
//     anything is decoded;
//   - it is signed with RS256 or ES256 (no other algorithm, so neither "none"
//     nor an HMAC keyed with public key material) by a key of the issuer's JWKS
//     (AUTH_JWKS_URL) whose "use", if given, is "sig";
//   - iss equals AUTH_ISSUER and aud contains AUTH_AUDIENCE;
//   - exp is present and not past, nbf (when present; common identity
//     providers leave it out of access tokens) is not in the future, both
//     with the configured leeway (default 1 minute, at most 2);
//   - it names a principal: sub, else client_id, else azp.
//
// The key set is fetched once at cold start and then only when needed: when a
// token names a key id the set does not hold (a rotation) and when the set is
// older than MaxKeyAge (a revocation). Fetches are at least RefreshInterval
// (10 s) apart whatever the cause, so a flood of tokens with made-up key ids
// costs the identity provider one request per 10 s per execution environment;
// each fetch is bounded by FetchTimeout (1 s), and a failed fetch keeps the
// last good set. A call makes at most one fetch, so it returns within about
// FetchTimeout even when the JWKS endpoint hangs.
//
// With a KeyStore (Config.Store), a live set is also saved outside the
// process, when it differs from the last one saved or that one is
// StoreRefresh (1 h) old, within StoreTimeout (500 ms). After a failed
// fetch, the store's newest copy of the same issuer and JWKS URL, at most
// MaxStoredKeyAge (24 h) old, is used if no keys are held or it was fetched
// after the held ones; the next successful fetch replaces it, and the usual
// rules (RefreshInterval, MaxKeyAge) keep trying the provider meanwhile. So
// an execution environment that starts while the identity provider is
// unreachable validates with the keys another one fetched; a call that falls
// back on the store takes about FetchTimeout plus StoreTimeout. Without a
// usable copy, every token is refused until a fetch succeeds; the function
// itself starts normally.
//
// Signature and claim checks are golang-jwt/jwt/v5's; key parsing and lookup
// are MicahParks/jwkset and keyfunc/v3's. Only the refresh schedule is ours:
// the library's own HTTP storage waits for its unknown-kid rate limiter
// instead of refusing at once, refreshes from a background goroutine (which
// does not run while Lambda freezes the environment between invocations) and
// gives an unknown-kid refresh the caller's deadline rather than its fetch
// timeout.
//
// # How a client calls the API
//
// The client obtains an access token from the deployment's identity provider
// with the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4), asking
// for the audience AUTH_AUDIENCE, and sends it on every payment request:
//
//	Authorization: Bearer <access token>
//	x-api-key: <the client's API key, for its usage plan>
//
// The token's sub (or client id) is the caller: payments belong to it.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

const (
	// MaxTokenBytes bounds the token itself. Access tokens from common
	// identity providers are 1 to 2 KiB; 8 KiB leaves room for large
	// claim sets while keeping what an anonymous caller can make us decode
	// small.
	MaxTokenBytes = 8 << 10
	// MaxHeaderBytes is the longest Authorization value looked at at all.
	MaxHeaderBytes = len(bearerScheme) + 1 + MaxTokenBytes
	// MaxPrincipalBytes bounds the principal: it is stored with every
	// payment and logged. OpenID Connect caps sub at 255 ASCII characters.
	MaxPrincipalBytes = 255

	DefaultLeeway          = time.Minute
	MaxLeeway              = 2 * time.Minute
	DefaultFetchTimeout    = time.Second
	DefaultRefreshInterval = 10 * time.Second
	DefaultMaxKeyAge       = 15 * time.Minute

	// maxJWKSBytes bounds a JWKS answer; real ones are a few KiB.
	maxJWKSBytes = 1 << 20
)

const bearerScheme = "Bearer"

// HeaderPattern is the shape of every Authorization value Validate can accept:
// the Bearer scheme in any case, one space, and a JWS compact serialization
// (three base64url segments, unpadded). The stacks hand it to API Gateway as
// the TOKEN authorizer's identity validation expression, so a value of any
// other shape is answered 401 without invoking the authorizer ("When matched
// the authorizer lambda is invoked, otherwise a 401 Unauthorized is returned
// to the client",
// https://docs.aws.amazon.com/cdk/api/latest/dotnet/api/Amazon.CDK.AWS.APIGateway.ITokenAuthorizerProps.html;
// https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer):
// garbage costs no invocation. It uses only constructs that Java's regular
// expressions (API Gateway's) and Go's (the tests) read alike, and it must
// never be stricter than Validate: TestHeaderPatternMatchesWhatValidates.
const HeaderPattern = `^[Bb][Ee][Aa][Rr][Ee][Rr] [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`

// Algorithms are the only signature algorithms accepted.
var Algorithms = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}

// Reasons a token is refused besides those of jwt (jwt.ErrTokenExpired, ...).
var (
	ErrMalformedHeader = errors.New(`authorization is not "Bearer <token>"`)
	ErrTokenTooLarge   = fmt.Errorf("authorization is longer than %d bytes", MaxHeaderBytes)
	ErrNoPrincipal     = fmt.Errorf("token names no principal (sub, client_id or azp of 1 to %d bytes)", MaxPrincipalBytes)
)

// Config configures a Validator. Issuer, Audience and JWKSURL come from the
// environment (LoadConfig); the rest have defaults and exist for tests.
type Config struct {
	Issuer   string
	Audience string
	JWKSURL  string

	Leeway          time.Duration // 0: DefaultLeeway; more than MaxLeeway is refused
	FetchTimeout    time.Duration // 0: DefaultFetchTimeout
	RefreshInterval time.Duration // least time between two JWKS fetches; 0: DefaultRefreshInterval
	MaxKeyAge       time.Duration // refetch a set older than this; 0: DefaultMaxKeyAge

	// Store keeps a copy of the last good set for execution environments
	// that start while the provider is unreachable; nil: none.
	Store           KeyStore
	StoreTimeout    time.Duration // bounds one Load or Save; 0: DefaultStoreTimeout
	MaxStoredKeyAge time.Duration // oldest copy used; 0: DefaultMaxStoredKeyAge
	StoreRefresh    time.Duration // save an unchanged set again after this; 0: DefaultStoreRefresh

	Now       func() time.Time  // nil: time.Now
	Transport http.RoundTripper // nil: http.DefaultTransport
	Logger    *slog.Logger      // nil: discarded
}

// LoadConfig reads AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL, reporting
// every problem at once.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Issuer:   getenv("AUTH_ISSUER"),
		Audience: getenv("AUTH_AUDIENCE"),
		JWKSURL:  getenv("AUTH_JWKS_URL"),
	}
	var errs []error
	if err := checkHTTPS(c.Issuer); err != nil {
		errs = append(errs, fmt.Errorf("AUTH_ISSUER=%q: %w; it must equal the iss claim of the identity provider's tokens, e.g. https://idp.example.com/", c.Issuer, err))
	}
	if strings.TrimSpace(c.Audience) == "" {
		errs = append(errs, errors.New(`AUTH_AUDIENCE is not set: it must be the audience (aud claim) the identity provider puts in tokens for this API, e.g. "payments-api"`))
	}
	if err := checkHTTPS(c.JWKSURL); err != nil {
		errs = append(errs, fmt.Errorf("AUTH_JWKS_URL=%q: %w; it must be the identity provider's JWKS endpoint, e.g. https://idp.example.com/.well-known/jwks.json", c.JWKSURL, err))
	}
	return c, errors.Join(errs...)
}

// checkHTTPS accepts an absolute https URL with a host: keys fetched over
// plain HTTP could be swapped by anyone on the path.
func checkHTTPS(raw string) error {
	if raw == "" {
		return errors.New("not set")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return errors.New("not an https URL")
	}
	return nil
}

// Validator checks bearer tokens. It is safe for concurrent use.
type Validator struct {
	cfg     Config
	keys    *keySet
	keyfunc keyfunc.Keyfunc
	parser  *jwt.Parser
}

// New returns a Validator and makes the first JWKS fetch, bounded by
// FetchTimeout. A failed fetch is logged, not returned: tokens are refused
// until a later fetch succeeds. The error is for a Config that cannot work.
func New(ctx context.Context, cfg Config) (*Validator, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.JWKSURL == "" {
		return nil, errors.New("auth: Issuer, Audience and JWKSURL are required")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 || cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("auth: leeway %s: want 0 to %s", cfg.Leeway, MaxLeeway)
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&cfg.FetchTimeout, DefaultFetchTimeout}, {&cfg.RefreshInterval, DefaultRefreshInterval},
		{&cfg.MaxKeyAge, DefaultMaxKeyAge}, {&cfg.StoreTimeout, DefaultStoreTimeout},
		{&cfg.MaxStoredKeyAge, DefaultMaxStoredKeyAge}, {&cfg.StoreRefresh, DefaultStoreRefresh},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.StoreRefresh >= cfg.MaxStoredKeyAge {
		return nil, fmt.Errorf("auth: store refresh %s must be shorter than the stored key age limit %s, or copies of an unchanged set age out", cfg.StoreRefresh, cfg.MaxStoredKeyAge)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ks := newKeySet(cfg)
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:     ctx,
		Storage: ks,
		// A key published for encryption must not verify signatures; most
		// providers omit "use", which RFC 7517 section 4.2 allows.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	v := &Validator{
		cfg:     cfg,
		keys:    ks,
		keyfunc: kf,
		parser: jwt.NewParser(
			jwt.WithValidMethods(Algorithms),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
	ks.refresh(ctx, "cold start")
	return v, nil
}

// claims are the registered claims plus the client id claims of the
// client-credentials flow: client_id (RFC 9068 section 2.2) and azp (OpenID
// Connect), one of which names the caller when sub is absent.
type claims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id,omitempty"`
	AZP      string `json:"azp,omitempty"`
}

// Validate checks an Authorization header value and returns the caller. Any
// error means the caller is not authenticated; it says why, for logs, and
// never contains the token.
func (v *Validator) Validate(ctx context.Context, authorization string) (string, error) {
	token, err := bearer(authorization)
	if err != nil {
		return "", err
	}
	v.keys.refreshIfStale(ctx)
	var c claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyfunc.KeyfuncCtx(ctx)); err != nil {
		return "", err
	}
	principal := c.Subject
	if principal == "" {
		principal = c.ClientID
	}
	if principal == "" {
		principal = c.AZP
	}
	if principal == "" || len(principal) > MaxPrincipalBytes {
		return "", ErrNoPrincipal
	}
	return principal, nil
}

// bearer extracts the token of "Bearer <token>", refusing oversized values
// before looking further.
func bearer(h string) (string, error) {
	if len(h) > MaxHeaderBytes {
		return "", ErrTokenTooLarge
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, bearerScheme) || token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", ErrMalformedHeader
	}
	return token, nil
}
