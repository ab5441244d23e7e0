package main

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/testonly/authtest"
)

const methodARN = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/payments/p-1"

var (
	keysOnce sync.Once
	testKeys authtest.Keys
	keysErr  error
)

// startIdP starts an identity provider publishing the keys pick selects;
// the keys are generated once per test binary (RSA generation is slow).
func startIdP(t *testing.T, pick func(authtest.Keys) []authtest.Key) (authtest.Keys, *authtest.IdP) {
	t.Helper()
	keysOnce.Do(func() { testKeys, keysErr = authtest.NewKeys() })
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	idp, err := authtest.Start(pick(testKeys)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	return testKeys, idp
}

func rsaOnly(k authtest.Keys) []authtest.Key { return []authtest.Key{k.RSA} }

func newTestHandler(t *testing.T, idp *authtest.IdP, now func() time.Time) *handler {
	t.Helper()
	cfg := idp.Config()
	cfg.Now = now
	v, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newHandler(v, slog.New(slog.DiscardHandler))
}

func TestHandle(t *testing.T) {
	k, idp := startIdP(t, authtest.Keys.Published)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	h := newTestHandler(t, idp, func() time.Time { return now })
	cases, err := authtest.Cases(k, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			resp, err := h.handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{
				Type: "TOKEN", AuthorizationToken: tc.Header, MethodArn: methodARN,
			})
			if tc.Principal == "" {
				if err == nil || err.Error() != "Unauthorized" {
					t.Fatalf("error = %v, want exactly Unauthorized (API Gateway's 401)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := events.APIGatewayCustomAuthorizerResponse{
				PrincipalID: tc.Principal,
				PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
					Version: "2012-10-17",
					Statement: []events.IAMPolicyStatement{{
						Action:   []string{"execute-api:Invoke"},
						Effect:   "Allow",
						Resource: []string{"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/*/*"},
					}},
				},
				Context: map[string]any{"principal": tc.Principal},
			}
			if diff := cmp.Diff(want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStageResource(t *testing.T) {
	tests := []struct {
		arn, want string
	}{
		{methodARN, "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/*/*"},
		{"arn:aws:execute-api:us-east-2:123456789012:abc123defg/prod/POST/payments", "arn:aws:execute-api:us-east-2:123456789012:abc123defg/prod/*/*"},
		{"arn:aws-cn:execute-api:cn-north-1:123456789012:api/v1/GET/", "arn:aws-cn:execute-api:cn-north-1:123456789012:api/v1/*/*"},
		{"", ""},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", ""},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123defg", ""},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod", ""},
		{"arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/x", ""},
		{"arn:aws:execute-api:us-east-1::abc/prod/GET/x", ""},
	}
	for _, tc := range tests {
		got, err := stageResource(tc.arn)
		if tc.want == "" {
			if err == nil {
				t.Errorf("stageResource(%q) = %q, want an error", tc.arn, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("stageResource(%q) = %q, %v; want %q", tc.arn, got, err, tc.want)
		}
	}
}

// A methodArn the policy cannot be built from is a 500 (a plain error), not
// a 401: the caller's token was fine.
func TestHandleBadMethodARN(t *testing.T) {
	k, idp := startIdP(t, rsaOnly)
	h := newTestHandler(t, idp, time.Now)
	tok, err := authtest.Mint(k.RSA, authtest.Claims("client-a", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: "garbage"})
	if err == nil || err.Error() == "Unauthorized" {
		t.Fatalf("error = %v, want a configuration error", err)
	}
}

// TestHandleHangingJWKS measures a whole authorizer call, with the production
// timeouts, when the JWKS endpoint accepts the connection and never answers.
func TestHandleHangingJWKS(t *testing.T) {
	const budget = 3 * time.Second
	k, idp := startIdP(t, rsaOnly)
	idp.SetMode(authtest.Hang)
	start := time.Now()
	h := newTestHandler(t, idp, time.Now) // cold start against the hanging endpoint
	coldStart := time.Since(start)
	tok, err := authtest.Mint(k.RSA, authtest.Claims("client-a", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = h.handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: methodARN})
	call := time.Since(start)
	t.Logf("hanging JWKS endpoint: cold start %s, first call %s (budget %s)", coldStart, call, budget)
	if err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("error = %v, want Unauthorized while no keys are loaded", err)
	}
	if coldStart+call > budget {
		t.Errorf("cold start plus first call took %s, over %s", coldStart+call, budget)
	}
}

// TestHandleHangingStore measures whole authorizer calls, with the production
// timeouts, when the table's replica never answers: with the JWKS endpoint
// hanging too (fetch, then the fallback read), and with it serving a
// rotated set (fetch, then the save).
func TestHandleHangingStore(t *testing.T) {
	const budget = 3 * time.Second
	for _, tc := range []struct {
		name string
		mode authtest.Mode
		max  time.Duration // one fetch timeout and/or one store timeout, and slack
	}{
		{"JWKS endpoint hanging: fetch, then the store's read", authtest.Hang, auth.DefaultFetchTimeout + auth.DefaultStoreTimeout + 300*time.Millisecond},
		{"JWKS endpoint serving a rotation: fetch, then the store's write", authtest.Up, auth.DefaultStoreTimeout + 300*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, idp := startIdP(t, rsaOnly)
			var mu sync.Mutex
			now := time.Now()
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			cfg := idp.Config()
			cfg.Now = clock
			store := &authtest.Store{Hang: true}
			cfg.Store = store
			idp.SetMode(tc.mode)
			v, err := auth.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := newHandler(v, slog.New(slog.DiscardHandler))
			// A token of a key the instance does not hold yet: the call
			// must fetch.
			if err := idp.Serve(k.RSA, k.Other); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			now = now.Add(auth.DefaultRefreshInterval)
			mu.Unlock()
			tok, err := authtest.Mint(k.Other, authtest.Claims("client-a", clock()))
			if err != nil {
				t.Fatal(err)
			}
			before := store.Calls()
			start := time.Now()
			_, err = h.handle(context.Background(), events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: "Bearer " + tok, MethodArn: methodARN})
			call := time.Since(start)
			t.Logf("%s: call %s (budget %s)", tc.name, call, budget)
			if store.Calls() != before+1 {
				t.Errorf("the call made %d store calls, want 1", store.Calls()-before)
			}
			if tc.mode == authtest.Up && err != nil {
				t.Errorf("a store that does not answer refused a valid token: %v", err)
			}
			if call > budget || call > tc.max {
				t.Errorf("call took %s, over %s (budget %s)", call, tc.max, budget)
			}
		})
	}
}

// Every setting the authorizer needs is checked at start-up, and each problem
// names its setting.
func TestLoadConfig(t *testing.T) {
	good := map[string]string{
		"AUTH_ISSUER": "https://idp.example.com/", "AUTH_AUDIENCE": "payments-api", "AUTH_JWKS_URL": "https://idp.example.com/jwks",
		"TABLE_NAME": "payments-dev", "AWS_REGION": "us-east-2", "PEER_REGION": "us-east-1",
	}
	tests := []struct {
		name    string
		unset   []string
		wantErr []string
	}{
		{name: "valid"},
		{name: "no store settings", unset: []string{"TABLE_NAME", "PEER_REGION"}, wantErr: []string{"TABLE_NAME", "PEER_REGION"}},
		{name: "nothing of either", unset: []string{"AUTH_ISSUER", "TABLE_NAME"}, wantErr: []string{"AUTH_ISSUER", "TABLE_NAME"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(good)
			for _, k := range tc.unset {
				delete(env, k)
			}
			cfg, err := loadConfig(context.Background(), func(k string) string { return env[k] })
			if len(tc.wantErr) == 0 {
				if err != nil || cfg.Store == nil || cfg.Issuer != good["AUTH_ISSUER"] {
					t.Fatalf("loadConfig = %+v, %v; want the configuration with a store", cfg, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not name %s", err, w)
				}
			}
		})
	}
}
