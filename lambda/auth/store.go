package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MicahParks/jwkset"
)

// Defaults of the stored copy of the key set (Config.Store).
const (
	// DefaultStoreTimeout bounds one Load or Save. A call that has to fall
	// back on the store makes one failed fetch (FetchTimeout) and one Load,
	// 1.5 s together, inside the authorizer's 2.5 s budget.
	DefaultStoreTimeout = 500 * time.Millisecond
	// DefaultMaxStoredKeyAge is the oldest copy a validator starts from. A
	// key the provider withdrew (rotated out after a leak, say) stays in a
	// copy taken before; a day bounds how long such a key can come back
	// through the store, and is longer than any identity-provider outage the
	// copy exists to ride out.
	DefaultMaxStoredKeyAge = 24 * time.Hour
	// DefaultStoreRefresh is how often an unchanged set is saved again, so
	// that the copy's fetchedAt shows that the provider still publishes it
	// and the copy stays well within MaxStoredKeyAge.
	DefaultStoreRefresh = time.Hour
)

// StoredKeySet is a key set as a KeyStore keeps it: the keys that a live
// fetch of JWKSURL returned and this package could use, as a JWKS document,
// with when they were fetched and for which configuration.
type StoredKeySet struct {
	JWKS      []byte
	FetchedAt time.Time
	Issuer    string
	JWKSURL   string
	// Source says where Load found it, for logs.
	Source string
}

// Hash identifies the set's content: an unchanged set is not saved again
// before StoreRefresh.
func (s StoredKeySet) Hash() string {
	h := sha256.Sum256(s.JWKS)
	return hex.EncodeToString(h[:])
}

// KeyStore keeps a copy of the last good key set outside the process, so
// that an execution environment that starts while the identity provider is
// unreachable still has keys: the authorizer's is the payments table
// (lambda/jwksstore), where each region writes its own copy and reads both.
type KeyStore interface {
	// Load returns the copies the store holds. With an error it may still
	// return those it could read.
	Load(ctx context.Context) ([]StoredKeySet, error)
	// Save stores a set fetched live. It may decline to overwrite a newer
	// or identical recent copy; that is not an error.
	Save(ctx context.Context, s StoredKeySet) error
}

// ErrNoStoredKeys: the store holds no copy that this configuration may use.
var ErrNoStoredKeys = errors.New("no stored key set of this issuer and JWKS URL, recent enough")

// pick returns the newest copy of the configured issuer and JWKS URL that is
// at most maxAge old at now and parses, with its keys.
func pick(sets []StoredKeySet, cfg Config, now time.Time) (StoredKeySet, []jwkset.JWK, error) {
	reasons := []error{ErrNoStoredKeys}
	var usable []StoredKeySet
	for _, s := range sets {
		switch age := now.Sub(s.FetchedAt); {
		case s.Issuer != cfg.Issuer || s.JWKSURL != cfg.JWKSURL:
			reasons = append(reasons, fmt.Errorf("%s is for issuer %q and JWKS URL %q", s.Source, s.Issuer, s.JWKSURL))
		case s.FetchedAt.IsZero() || age > cfg.MaxStoredKeyAge:
			reasons = append(reasons, fmt.Errorf("%s was fetched %s ago, over %s", s.Source, age.Round(time.Second), cfg.MaxStoredKeyAge))
		default:
			usable = append(usable, s)
		}
	}
	slices.SortStableFunc(usable, func(a, b StoredKeySet) int { return b.FetchedAt.Compare(a.FetchedAt) })
	for _, s := range usable {
		keys, err := parseJWKS(s.JWKS)
		if err == nil {
			return s, keys, nil
		}
		reasons = append(reasons, fmt.Errorf("%s: %w", s.Source, err))
	}
	return StoredKeySet{}, nil, errors.Join(reasons...)
}

// encodeJWKS is the document a set is stored as: the keys as jwkset parsed
// them from the provider's answer, without the keys it skipped.
func encodeJWKS(keys []jwkset.JWK) ([]byte, error) {
	set := jwkset.JWKSMarshal{Keys: make([]jwkset.JWKMarshal, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Marshal())
	}
	return json.Marshal(set)
}

// parseJWKS reads a stored document as a live fetch reads the provider's
// answer (jwkset.NewStorageFromHTTP: private members accepted, default
// validation), except that every key must parse: the document holds only
// keys that parsed when it was saved, so one that does not is corrupt.
func parseJWKS(data []byte) ([]jwkset.JWK, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("stored JWKS: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, m := range set.Keys {
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		if err != nil {
			return nil, fmt.Errorf("stored JWKS key %q: %w", m.KID, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("stored JWKS holds no key")
	}
	return keys, nil
}
