package jwksstore_test

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/conflict"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/jwksstore"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/authtest"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

const (
	primary   = "us-east-1"
	secondary = "us-east-2"
	jwksURL   = "https://idp.example.com/.well-known/jwks.json"
)

var t0 = time.UnixMilli(1_800_000_000_000)

func newTable(t *testing.T, name string) *dynamodb.Client {
	t.Helper()
	servers := localaws.Shared(t)
	if err := servers.CreateTable(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return servers.DynamoDBClient()
}

func set(doc string, at time.Time) auth.StoredKeySet {
	return auth.StoredKeySet{JWKS: []byte(doc), FetchedAt: at, Issuer: authtest.Issuer, JWKSURL: jwksURL}
}

// The items through the real SDK against the local DynamoDB (one table
// standing for both replicas): each region writes its own item under the
// conditions, and reads both.
func TestSaveAndLoad(t *testing.T) {
	db := newTable(t, "jwks-save-load")
	east1 := jwksstore.Store{DB: db, Table: "jwks-save-load", Region: primary, Peer: secondary}
	east2 := jwksstore.Store{DB: db, Table: "jwks-save-load", Region: secondary, Peer: primary}
	ctx := context.Background()

	if sets, err := east2.Load(ctx); err != nil || len(sets) != 0 {
		t.Fatalf("empty table: Load = %v, %v; want nothing", sets, err)
	}
	steps := []struct {
		name string
		save auth.StoredKeySet
		want auth.StoredKeySet // what us-east-1's item holds afterwards
	}{
		{"first save", set(`{"keys":["a"]}`, t0), set(`{"keys":["a"]}`, t0)},
		{"same set again, within the refresh: no write", set(`{"keys":["a"]}`, t0.Add(10*time.Minute)), set(`{"keys":["a"]}`, t0)},
		{"a rotation", set(`{"keys":["a","b"]}`, t0.Add(20*time.Minute)), set(`{"keys":["a","b"]}`, t0.Add(20*time.Minute))},
		{"an older fetch arriving late: no write", set(`{"keys":["a"]}`, t0.Add(15*time.Minute)), set(`{"keys":["a","b"]}`, t0.Add(20*time.Minute))},
		{"same set once the refresh has passed", set(`{"keys":["a","b"]}`, t0.Add(20*time.Minute+auth.DefaultStoreRefresh)), set(`{"keys":["a","b"]}`, t0.Add(20*time.Minute+auth.DefaultStoreRefresh))},
	}
	for _, st := range steps {
		if err := east1.Save(ctx, st.save); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		sets, err := east2.Load(ctx)
		if err != nil || len(sets) != 1 {
			t.Fatalf("%s: us-east-2 reads %v, %v; want us-east-1's item", st.name, sets, err)
		}
		got := sets[0]
		if got.Source != "control#jwks#us-east-1" || string(got.JWKS) != string(st.want.JWKS) || !got.FetchedAt.Equal(st.want.FetchedAt) ||
			got.Issuer != authtest.Issuer || got.JWKSURL != jwksURL {
			t.Errorf("%s: item holds %s %s fetched %s (%s, %s); want %s fetched %s", st.name, got.Source, got.JWKS, got.FetchedAt, got.Issuer, got.JWKSURL, st.want.JWKS, st.want.FetchedAt)
		}
	}
	// us-east-2 writes its own item and reads both.
	if err := east2.Save(ctx, set(`{"keys":["c"]}`, t0)); err != nil {
		t.Fatal(err)
	}
	sets, err := east2.Load(ctx)
	if err != nil || len(sets) != 2 || sets[0].Source != "control#jwks#us-east-2" || string(sets[0].JWKS) != `{"keys":["c"]}` || sets[1].Source != "control#jwks#us-east-1" {
		t.Fatalf("us-east-2 reads %+v, %v; want its own item and us-east-1's", sets, err)
	}
}

func TestSaveRefusesOversizedSets(t *testing.T) {
	db := newTable(t, "jwks-oversized")
	s := jwksstore.Store{DB: db, Table: "jwks-oversized", Region: primary, Peer: secondary}
	big := set(`{"keys":["`+strings.Repeat("x", jwksstore.MaxJWKSBytes)+`"]}`, t0)
	if err := s.Save(context.Background(), big); err == nil || !strings.Contains(err.Error(), "over") {
		t.Fatalf("Save of %d bytes = %v, want a size error", len(big.JWKS), err)
	}
	if sets, err := s.Load(context.Background()); err != nil || len(sets) != 0 {
		t.Fatalf("after the refused save: %v, %v", sets, err)
	}
}

// A read that fails is reported; the other region's item still comes back.
func TestLoadReturnsWhatItCouldRead(t *testing.T) {
	db := newTable(t, "jwks-partial")
	s := jwksstore.Store{DB: db, Table: "jwks-partial", Region: primary, Peer: secondary}
	peer := jwksstore.Store{DB: db, Table: "jwks-partial", Region: secondary, Peer: primary}
	if err := peer.Save(context.Background(), set(`{"keys":["p"]}`, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("jwks-partial"), Item: map[string]types.AttributeValue{
		"paymentId": &types.AttributeValueMemberS{Value: jwksstore.Key(primary)},
		"fetchedAt": &types.AttributeValueMemberS{Value: "not a number"},
	}}); err != nil {
		t.Fatal(err)
	}
	sets, err := s.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "control#jwks#us-east-1") {
		t.Errorf("Load error = %v, want the unreadable item named", err)
	}
	if len(sets) != 1 || sets[0].Source != "control#jwks#us-east-2" {
		t.Errorf("Load = %+v, want the other region's item", sets)
	}
}

// A replica that accepts the request and never answers costs a cold start
// one fetch timeout plus one store timeout, and the copy is used once the
// replica answers again.
func TestAuthorizerAgainstDynamoDB(t *testing.T) {
	keys, err := authtest.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	idp, err := authtest.Start(keys.RSA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	servers := localaws.Dedicated(t)
	const table = "payments"
	if err := servers.CreateTable(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	db := servers.DynamoDBClient()
	validator := func(region, peer string) (*auth.Validator, time.Duration) {
		cfg := idp.Config()
		cfg.Store = jwksstore.Store{DB: db, Table: table, Region: region, Peer: peer}
		start := time.Now()
		v, err := auth.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return v, time.Since(start)
	}
	token := func() string {
		tok, err := authtest.Mint(keys.RSA, authtest.Claims("client-a", time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}

	// The primary's authorizer fetches the keys and saves them.
	validator(primary, secondary)
	idp.SetMode(authtest.Hang)
	steps := []struct {
		name   string
		before func() error
		accept bool
		max    time.Duration
	}{
		{"secondary cold start, identity provider hanging, replica paused", servers.DynamoDB.Pause, false, auth.DefaultFetchTimeout + auth.DefaultStoreTimeout + 300*time.Millisecond},
		{"secondary cold start, identity provider hanging, replica answering", servers.DynamoDB.Resume, true, auth.DefaultFetchTimeout + auth.DefaultStoreTimeout + 300*time.Millisecond},
	}
	for _, st := range steps {
		if err := st.before(); err != nil {
			t.Fatal(err)
		}
		v, took := validator(secondary, primary)
		t.Logf("%s: cold start %s", st.name, took)
		if took > st.max {
			t.Errorf("%s: cold start took %s, over %s", st.name, took, st.max)
		}
		got, err := v.Validate(context.Background(), token())
		if st.accept && (err != nil || got != "client-a") {
			t.Errorf("%s: Validate = %q, %v; want client-a through the primary's copy", st.name, got, err)
		}
		if !st.accept && err == nil {
			t.Errorf("%s: accepted with neither provider nor store answering", st.name)
		}
	}
}

// The control item is invisible to the payment API (no payment id can name
// it) and to the conflict watch (rewriting it is no overwritten payment).
func TestNotAPayment(t *testing.T) {
	for _, region := range []string{primary, secondary} {
		key := jwksstore.Key(region)
		if !control.IsReserved(key) {
			t.Errorf("%s is not a reserved control key", key)
		}
		if err := payment.ValidateID(key); err == nil {
			t.Errorf("%s is a valid payment id: the payment API could read or overwrite it", key)
		}
		image := func(doc string) map[string]events.DynamoDBAttributeValue {
			return map[string]events.DynamoDBAttributeValue{
				"paymentId": events.NewStringAttribute(key),
				"jwks":      events.NewStringAttribute(doc),
				"jwksHash":  events.NewStringAttribute(doc),
			}
		}
		rec := events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
			Keys:     map[string]events.DynamoDBAttributeValue{"paymentId": events.NewStringAttribute(key)},
			OldImage: image("old"), NewImage: image("new"), StreamViewType: "NEW_AND_OLD_IMAGES",
		}}
		removed := rec
		removed.EventName, removed.Change.NewImage = "REMOVE", nil
		if res := conflict.Analyze([]events.DynamoDBEventRecord{rec, removed}); len(res.Findings) != 0 || len(res.Recreated) != 0 {
			t.Errorf("%s: conflict watch findings %+v", key, res)
		}
	}
}

func TestFromEnv(t *testing.T) {
	good := map[string]string{"TABLE_NAME": "payments-dev", "AWS_REGION": "us-east-2", "PEER_REGION": "us-east-1"}
	tests := []struct {
		name    string
		changes map[string]string
		wantErr []string
	}{
		{name: "valid"},
		{name: "nothing set", changes: map[string]string{"TABLE_NAME": "", "AWS_REGION": "", "PEER_REGION": ""}, wantErr: []string{"TABLE_NAME", "AWS_REGION", "PEER_REGION"}},
		{name: "peer is this region", changes: map[string]string{"PEER_REGION": "us-east-2"}, wantErr: []string{"PEER_REGION", "own region"}},
		{name: "peer not a region", changes: map[string]string{"PEER_REGION": "ohio"}, wantErr: []string{"PEER_REGION", "e.g. us-east-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(good)
			maps.Copy(env, tc.changes)
			s, err := jwksstore.FromEnv(func(k string) string { return env[k] }, nil)
			if len(tc.wantErr) == 0 {
				if err != nil || s.Table != "payments-dev" || s.Region != "us-east-2" || s.Peer != "us-east-1" {
					t.Fatalf("FromEnv = %+v, %v", s, err)
				}
				return
			}
			if err == nil {
				t.Fatal("FromEnv accepted it")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
