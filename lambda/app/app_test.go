package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
	"github.com/payments-dr/payments-dr/lambda/testonly/settingstest"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

func TestLoadSettings(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "payments", "RECEIPTS_BUCKET": "receipts"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for bk, bv := range base {
			m[bk] = bv
		}
		m[k] = v
		return m
	}
	with2 := func(m map[string]string, k, v string) map[string]string { m[k] = v; return m }
	tests := []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr []string // substrings of the error
	}{
		{"defaults", base, Settings{Table: "payments", Bucket: "receipts", MaxAmount: payment.DefaultMaxAmount, Role: control.RoleSecondary}, nil},
		{"all set", with("MAX_AMOUNT_MINOR", "5000"), Settings{Table: "payments", Bucket: "receipts", MaxAmount: 5000, Role: control.RoleSecondary}, nil},
		{"path style", with("S3_FORCE_PATH_STYLE", "true"), Settings{Table: "payments", Bucket: "receipts", MaxAmount: payment.DefaultMaxAmount, ForcePathStyle: true, Role: control.RoleSecondary}, nil},
		{"primary", with2(with("DR_ROLE", "primary"), "PEER_REGION", "us-east-2"), Settings{Table: "payments", Bucket: "receipts", MaxAmount: payment.DefaultMaxAmount, Role: control.RolePrimary, PeerRegion: "us-east-2"}, nil},
		{"primary without its peer", with("DR_ROLE", "primary"), Settings{}, []string{"DR_ROLE=primary needs PEER_REGION"}},
		{"role misspelt", with("DR_ROLE", "Primary"), Settings{}, []string{`DR_ROLE="Primary": want primary or secondary`}},
		{"nothing set", nil, Settings{}, []string{"TABLE_NAME", "RECEIPTS_BUCKET"}},
		{"max not a number", with("MAX_AMOUNT_MINOR", "12.5"), Settings{}, []string{"MAX_AMOUNT_MINOR"}},
		{"max zero", with("MAX_AMOUNT_MINOR", "0"), Settings{}, []string{"MAX_AMOUNT_MINOR"}},
		{"path style not a bool", with("S3_FORCE_PATH_STYLE", "yes please"), Settings{}, []string{"S3_FORCE_PATH_STYLE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settingstest.Check(t, LoadSettings, tc.env, tc.want, tc.wantErr)
		})
	}
}

// TestSetupFromEnvironment wires the function exactly as Lambda would, from
// environment variables only, and points it at the local servers through the
// SDK's standard endpoint variables.
func TestSetupFromEnvironment(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	if err := servers.Provision(ctx, "payments-env", "receipts-env"); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_REGION":                  localaws.Region,
		"AWS_ACCESS_KEY_ID":           localaws.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       localaws.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL_DYNAMODB":   servers.DynamoDB.URL,
		"AWS_ENDPOINT_URL_S3":         servers.S3.URL,
		"S3_FORCE_PATH_STYLE":         "true",
		"TABLE_NAME":                  "payments-env",
		"RECEIPTS_BUCKET":             "receipts-env",
	} {
		t.Setenv(k, v)
	}
	h, err := Setup(ctx, os.Getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	health, _ := h.Handle(ctx, events.APIGatewayProxyRequest{Path: "/health", HTTPMethod: http.MethodGet})
	if health.StatusCode != 200 || health.Body != `{"status":"ok","region":"us-east-1"}` {
		t.Errorf("health = %d %s", health.StatusCode, health.Body)
	}
	created, _ := h.Handle(ctx, events.APIGatewayProxyRequest{
		Path: "/payments", HTTPMethod: http.MethodPost,
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    `{"paymentId":"env-1","amount":1250,"currency":"USD"}`,
		// The caller, as API Gateway passes on the authorizer's principalId.
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{"principalId": "client-a"}},
	})
	if created.StatusCode != 201 {
		t.Errorf("create = %d %s", created.StatusCode, created.Body)
	}

	// The drain flag reaches /health through the wiring: written in the table
	// as an operator would, it turns /health 503 and is named. Without DR_ROLE
	// the region is a secondary: no failback gate, whatever the table holds.
	levers := control.Table{DB: servers.DynamoDBClient(), Name: "payments-env"}
	now := time.Now()
	if err := levers.SetDrain(ctx, control.Drain{Region: localaws.Region, Drained: true, Reason: "drill", By: "test"}, now); err != nil {
		t.Fatal(err)
	}
	got, _ := h.Handle(ctx, events.APIGatewayProxyRequest{Path: "/health", HTTPMethod: http.MethodGet})
	if want := `{"status":"unavailable","region":"us-east-1","failing":["drained"]}`; got.StatusCode != 503 || got.Body != want {
		t.Errorf("drained: health = %d %s, want 503 %s", got.StatusCode, got.Body, want)
	}
}

func TestSetupFailsWithoutRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	_, err := Setup(context.Background(), settingstest.Env(map[string]string{"TABLE_NAME": "t", "RECEIPTS_BUCKET": "b"}), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("setup without a region: %v", err)
	}
}

// TestConfigWithEndpoints wires the function the way the game day does: two
// regions in one process, each pointed at its own stand-ins through Settings
// rather than the process-wide AWS_ENDPOINT_URL_* variables.
func TestConfigWithEndpoints(t *testing.T) {
	servers := localaws.Shared(t)
	ctx := context.Background()
	if err := servers.Provision(ctx, "payments-endpoints", "receipts-endpoints"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1") // must be overridden
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
	cfg, err := LoadAWSConfig(ctx,
		config.WithRegion("us-east-2"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localaws.AccessKey, localaws.SecretKey, "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(Config(cfg, Settings{
		Table: "payments-endpoints", Bucket: "receipts-endpoints", ForcePathStyle: true,
		DynamoDBEndpoint: servers.DynamoDB.URL, S3Endpoint: servers.S3.URL,
	}, slog.New(slog.DiscardHandler)))
	got, _ := h.Handle(ctx, events.APIGatewayProxyRequest{Path: "/health", HTTPMethod: http.MethodGet})
	if got.StatusCode != 200 || got.Body != `{"status":"ok","region":"us-east-2"}` {
		t.Errorf("health = %d %s", got.StatusCode, got.Body)
	}
}
