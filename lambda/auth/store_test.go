package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/testonly/authtest"
)

func jwks(t *testing.T, keys ...authtest.Key) []byte {
	t.Helper()
	b, err := authtest.JWKS(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStoreValidator(t *testing.T, idp *authtest.IdP, clk *clock, store auth.KeyStore) *auth.Validator {
	t.Helper()
	cfg := idp.Config()
	cfg.Now = clk.Now
	cfg.Store = store
	v, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// An execution environment that starts while the identity provider is down
// takes the newest usable copy from the store, and only a usable one.
func TestColdStartFromStore(t *testing.T) {
	k := newKeys(t)
	idp := startIdP(t, k.RSA)
	idp.SetMode(authtest.Down)
	now := newClock().Now()
	copyOf := func(source string, age time.Duration, keys ...authtest.Key) auth.StoredKeySet {
		return auth.StoredKeySet{JWKS: jwks(t, keys...), FetchedAt: now.Add(-age), Issuer: authtest.Issuer, JWKSURL: idp.JWKSURL(), Source: source}
	}
	tests := []struct {
		name    string
		sets    []auth.StoredKeySet
		loadErr error
		key     authtest.Key // signs the token
		accept  bool
	}{
		{name: "own region's copy", sets: []auth.StoredKeySet{copyOf("own", time.Hour, k.RSA)}, key: k.RSA, accept: true},
		{name: "no copy", key: k.RSA},
		{name: "copy just within the age limit", sets: []auth.StoredKeySet{copyOf("own", auth.DefaultMaxStoredKeyAge, k.RSA)}, key: k.RSA, accept: true},
		{name: "copy too old", sets: []auth.StoredKeySet{copyOf("own", auth.DefaultMaxStoredKeyAge+time.Second, k.RSA)}, key: k.RSA},
		{name: "copy of another issuer", sets: []auth.StoredKeySet{func() auth.StoredKeySet {
			s := copyOf("own", time.Minute, k.RSA)
			s.Issuer = "https://other-idp.example/"
			return s
		}()}, key: k.RSA},
		{name: "copy of another JWKS URL", sets: []auth.StoredKeySet{func() auth.StoredKeySet {
			s := copyOf("own", time.Minute, k.RSA)
			s.JWKSURL = "https://other-idp.example/jwks"
			return s
		}()}, key: k.RSA},
		// The other region's authorizers saw the rotation to k.Other last.
		{name: "the newest copy wins", sets: []auth.StoredKeySet{copyOf("own", 2*time.Hour, k.RSA), copyOf("peer", time.Hour, k.Other)}, key: k.Other, accept: true},
		{name: "an older copy loses", sets: []auth.StoredKeySet{copyOf("own", 2*time.Hour, k.RSA), copyOf("peer", time.Hour, k.Other)}, key: k.RSA},
		{name: "a corrupt newest copy is passed over", sets: []auth.StoredKeySet{copyOf("own", 2*time.Hour, k.RSA), func() auth.StoredKeySet {
			s := copyOf("peer", time.Hour, k.Other)
			s.JWKS = s.JWKS[:len(s.JWKS)/2]
			return s
		}()}, key: k.RSA, accept: true},
		{name: "one replica read failed, the other answered", sets: []auth.StoredKeySet{copyOf("peer", time.Hour, k.RSA)},
			loadErr: errors.New("own: throttled"), key: k.RSA, accept: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			store := &authtest.Store{Sets: tc.sets, LoadErr: tc.loadErr}
			v := newStoreValidator(t, idp, clk, store)
			got, err := v.Validate(context.Background(), "Bearer "+mint(t, tc.key, authtest.Claims("client-a", clk.Now())))
			if tc.accept && (err != nil || got != "client-a") {
				t.Fatalf("Validate = %q, %v; want client-a from the stored copy", got, err)
			}
			if !tc.accept && err == nil {
				t.Fatalf("Validate accepted a token with no usable stored copy")
			}
			if _, saves := store.Counts(); saves != 0 {
				t.Errorf("%d saves: a copy read from the store, or nothing, was saved", saves)
			}
		})
	}
}

// A stored copy behaves as the live set it was saved from: every standard
// case gets the same answer from a validator that only has the copy.
func TestStoredCopyValidatesAsTheLiveSet(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.Published()...)
	store := &authtest.Store{}
	newStoreValidator(t, idp, clk, store)
	saved := store.Saved()
	if len(saved) != 1 {
		t.Fatalf("%d saves at a cold start with the provider up, want 1", len(saved))
	}
	store.Set(func(s *authtest.Store) { s.Sets = saved })
	idp.SetMode(authtest.Down)
	v := newStoreValidator(t, idp, clk, store)
	cases, err := authtest.Cases(k, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		got, err := v.Validate(context.Background(), tc.Header)
		if tc.Principal != "" && (err != nil || got != tc.Principal) {
			t.Errorf("%s: %q, %v from the stored copy; want %q", tc.Name, got, err, tc.Principal)
		}
		if tc.Principal == "" && !errors.Is(err, tc.Err) {
			t.Errorf("%s: %q, %v from the stored copy; want %v", tc.Name, got, err, tc.Err)
		}
	}
}

// The set is saved once per content: again only after a rotation or, when
// unchanged, once StoreRefresh has passed; a failed save is retried at the
// next fetch. A live set is never replaced by an older copy.
func TestSaves(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA)
	store := &authtest.Store{
		// Newer than nothing, older than any live fetch.
		Sets: []auth.StoredKeySet{{JWKS: jwks(t, k.Other), FetchedAt: clk.Now().Add(-time.Minute), Issuer: authtest.Issuer, JWKSURL: idp.JWKSURL(), Source: "own"}},
	}
	v := newStoreValidator(t, idp, clk, store)
	tok := func(key authtest.Key) string {
		return "Bearer " + mint(t, key, authtest.Claims("client-a", clk.Now()))
	}
	steps := []struct {
		name         string
		do           func()
		key          authtest.Key
		accept       bool
		wantSaves    int
		wantSavedKID string
		wantLoads    int
	}{
		{name: "cold start, provider up: live keys, saved once", do: func() {}, key: k.RSA, accept: true, wantSaves: 1, wantSavedKID: k.RSA.KID},
		{name: "the stored copy's key is not trusted while the provider answers", do: func() {}, key: k.Other, wantSaves: 1},
		{name: "stale refetch of an unchanged set: no write", do: func() { clk.Advance(auth.DefaultMaxKeyAge) }, key: k.RSA, accept: true, wantSaves: 1},
		{name: "unchanged for StoreRefresh: written again", do: func() { clk.Advance(auth.DefaultStoreRefresh) }, key: k.RSA, accept: true, wantSaves: 2, wantSavedKID: k.RSA.KID},
		{name: "save failing", do: func() {
			store.Set(func(s *authtest.Store) { s.SaveErr = errors.New("throttled") })
			if err := idp.Serve(k.RSA, k.EC); err != nil {
				t.Fatal(err)
			}
			clk.Advance(auth.DefaultMaxKeyAge)
		}, key: k.EC, accept: true, wantSaves: 2},
		{name: "retried at the next fetch", do: func() {
			store.Set(func(s *authtest.Store) { s.SaveErr = nil })
			clk.Advance(auth.DefaultMaxKeyAge)
		}, key: k.EC, accept: true, wantSaves: 3, wantSavedKID: k.EC.KID},
		{name: "provider down with a fresher live set: the older copy is not taken", do: func() {
			idp.SetMode(authtest.Down)
			clk.Advance(auth.DefaultMaxKeyAge)
		}, key: k.EC, accept: true, wantSaves: 3, wantLoads: 1},
	}
	for _, st := range steps {
		st.do()
		got, err := v.Validate(context.Background(), tok(st.key))
		if st.accept != (err == nil && got == "client-a") {
			t.Errorf("%s: Validate = %q, %v; accept = %v", st.name, got, err, st.accept)
		}
		loads, saves := store.Counts()
		if saves != st.wantSaves || loads != st.wantLoads {
			t.Fatalf("%s: %d saves, %d loads; want %d, %d", st.name, saves, loads, st.wantSaves, st.wantLoads)
		}
		if st.wantSavedKID != "" {
			last := store.Saved()[saves-1]
			if last.Issuer != authtest.Issuer || last.JWKSURL != idp.JWKSURL() || !last.FetchedAt.Equal(clk.Now()) ||
				!containsKID(t, last.JWKS, st.wantSavedKID) {
				t.Errorf("%s: saved %s of %s at %s; want %s's set of %s at %s", st.name, last.JWKS, last.Issuer, last.FetchedAt, st.wantSavedKID, authtest.Issuer, clk.Now())
			}
		}
	}
}

func containsKID(t *testing.T, doc []byte, kid string) bool {
	t.Helper()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.KID == kid {
			return true
		}
	}
	return false
}

// An environment that runs on a stored copy takes a newer one that the other
// region saved (it reached the provider after a rotation), and returns to
// live keys as soon as the provider answers.
func TestRunningOnACopy(t *testing.T) {
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA, k.Other)
	idp.SetMode(authtest.Down)
	stored := func(age time.Duration, keys ...authtest.Key) auth.StoredKeySet {
		return auth.StoredKeySet{JWKS: jwks(t, keys...), FetchedAt: clk.Now().Add(-age), Issuer: authtest.Issuer, JWKSURL: idp.JWKSURL(), Source: "peer"}
	}
	store := &authtest.Store{Sets: []auth.StoredKeySet{stored(time.Hour, k.RSA)}}
	v := newStoreValidator(t, idp, clk, store)
	tok := func(key authtest.Key) string { return "Bearer " + mint(t, key, authtest.Claims("client-a", clk.Now())) }
	if _, err := v.Validate(context.Background(), tok(k.RSA)); err != nil {
		t.Fatalf("from the copy: %v", err)
	}
	if _, err := v.Validate(context.Background(), tok(k.EC)); err == nil {
		t.Fatal("a key in neither copy nor provider accepted")
	}
	store.Set(func(s *authtest.Store) { s.Sets = append(s.Sets, stored(0, k.EC)) })
	clk.Advance(auth.DefaultRefreshInterval)
	if _, err := v.Validate(context.Background(), tok(k.EC)); err != nil {
		t.Fatalf("newer copy from the other region: %v", err)
	}
	idp.SetMode(authtest.Up)
	clk.Advance(auth.DefaultMaxKeyAge)
	if _, err := v.Validate(context.Background(), tok(k.Other)); err != nil {
		t.Fatalf("provider back: %v", err)
	}
	if _, err := v.Validate(context.Background(), tok(k.EC)); err == nil {
		t.Fatal("the copy's key is still trusted once the provider answers without it")
	}
}

// TestHangingStore uses the production timeouts: with the provider and the
// store both hanging, the cold start and a call that must refetch each take
// one fetch timeout plus one store timeout, within the authorizer's budget.
func TestHangingStore(t *testing.T) {
	const budget = 3 * time.Second
	k := newKeys(t)
	clk := newClock()
	idp := startIdP(t, k.RSA)
	idp.SetMode(authtest.Hang)
	store := &authtest.Store{Hang: true}
	start := time.Now()
	v := newStoreValidator(t, idp, clk, store)
	coldStart := time.Since(start)
	clk.Advance(auth.DefaultRefreshInterval)
	start = time.Now()
	_, err := v.Validate(context.Background(), "Bearer "+mint(t, k.RSA, authtest.Claims("client-a", clk.Now())))
	call := time.Since(start)
	t.Logf("provider and store hanging: cold start %s, call %s (fetch %s + store %s; budget %s)",
		coldStart, call, auth.DefaultFetchTimeout, auth.DefaultStoreTimeout, budget)
	if err == nil {
		t.Fatal("accepted with no keys")
	}
	if loads, _ := store.Counts(); loads != 2 {
		t.Errorf("%d loads, want 2: the cold start and the call must each have tried the store", loads)
	}
	for what, took := range map[string]time.Duration{"cold start": coldStart, "call": call} {
		if took > auth.DefaultFetchTimeout+auth.DefaultStoreTimeout+250*time.Millisecond || took > budget {
			t.Errorf("%s took %s, want about %s", what, took, auth.DefaultFetchTimeout+auth.DefaultStoreTimeout)
		}
	}
}
