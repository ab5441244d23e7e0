package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
	"github.com/payments-dr/payments-dr/lambda/testonly/settingstest"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

var baseEnv = map[string]string{
	"TABLE_NAME":          "payments",
	"PEER_REGION":         "us-east-1",
	"PEER_HEALTH_URL":     "https://abc123.execute-api.us-east-1.amazonaws.com/prod/status",
	"FAILOVER_HEALTH_URL": "https://api.payments.example.com/status",
	"SELF_STATUS_URL":     "https://def456.execute-api.us-east-2.amazonaws.com/prod/status",
}

func withEnv(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range baseEnv {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestLoadSettings(t *testing.T) {
	defaults := settings{
		table: "payments", peerRegion: "us-east-1",
		peerURL:     baseEnv["PEER_HEALTH_URL"],
		failoverURL: baseEnv["FAILOVER_HEALTH_URL"],
		selfURL:     baseEnv["SELF_STATUS_URL"],
		rounds:      5, interval: 10 * time.Second,
	}
	tuned := defaults
	tuned.rounds, tuned.interval = 10, 1500*time.Millisecond
	tests := []struct {
		name    string
		env     map[string]string
		want    settings
		wantErr []string // each must be named in the error
	}{
		{"defaults", withEnv(), defaults, nil},
		{"rounds and interval set", withEnv("PROBE_ROUNDS", "10", "PROBE_INTERVAL", "1.5s"), tuned, nil},
		{"nothing set", nil, settings{}, []string{"TABLE_NAME", "PEER_REGION", "PEER_HEALTH_URL", "FAILOVER_HEALTH_URL", "SELF_STATUS_URL"}},
		{"self URL is the peer's", withEnv("SELF_STATUS_URL", baseEnv["PEER_HEALTH_URL"]), settings{}, []string{"SELF_STATUS_URL=", "is PEER_HEALTH_URL"}},
		{"self URL plain http", withEnv("SELF_STATUS_URL", "http://def456.execute-api.us-east-2.amazonaws.com/prod/status"), settings{}, []string{"SELF_STATUS_URL="}},
		{"peer region malformed", withEnv("PEER_REGION", "US-East-1"), settings{}, []string{`PEER_REGION="US-East-1"`, "us-east-1"}},
		{"peer URL plain http", withEnv("PEER_HEALTH_URL", "http://abc.execute-api.us-east-1.amazonaws.com/prod/status"), settings{}, []string{"PEER_HEALTH_URL=", "https://"}},
		{"peer URL not /status", withEnv("PEER_HEALTH_URL", "https://abc.execute-api.us-east-1.amazonaws.com/prod/payments"), settings{}, []string{"PEER_HEALTH_URL="}},
		// /health answers only Route 53's health checkers: the probe would be refused
		// in every round and page for ever.
		{"peer URL still /health", withEnv("PEER_HEALTH_URL", "https://abc.execute-api.us-east-1.amazonaws.com/prod/health"), settings{}, []string{"PEER_HEALTH_URL=", "/status"}},
		{"failover URL still /health", withEnv("FAILOVER_HEALTH_URL", "https://api.payments.example.com/health"), settings{}, []string{"FAILOVER_HEALTH_URL=", "/status"}},
		{"failover URL without host", withEnv("FAILOVER_HEALTH_URL", "https:///status"), settings{}, []string{"FAILOVER_HEALTH_URL=", "API_DOMAIN_NAME"}},
		{"rounds zero", withEnv("PROBE_ROUNDS", "0"), settings{}, []string{`PROBE_ROUNDS="0"`, "1 to 10"}},
		{"rounds too many", withEnv("PROBE_ROUNDS", "11"), settings{}, []string{`PROBE_ROUNDS="11"`}},
		{"rounds not a number", withEnv("PROBE_ROUNDS", "five"), settings{}, []string{`PROBE_ROUNDS="five"`}},
		{"interval without unit", withEnv("PROBE_INTERVAL", "10"), settings{}, []string{`PROBE_INTERVAL="10"`, "Go duration"}},
		{"interval too short", withEnv("PROBE_INTERVAL", "500ms"), settings{}, []string{`PROBE_INTERVAL="500ms"`, "1s to 30s"}},
		{"interval too long", withEnv("PROBE_INTERVAL", "31s"), settings{}, []string{`PROBE_INTERVAL="31s"`}},
		{"everything wrong at once", map[string]string{
			"PEER_REGION": "east", "PEER_HEALTH_URL": "ftp://x/status", "FAILOVER_HEALTH_URL": "api.example.com/status",
			"PROBE_ROUNDS": "-1", "PROBE_INTERVAL": "1h",
		}, settings{}, []string{"TABLE_NAME", "PEER_REGION", "PEER_HEALTH_URL", "FAILOVER_HEALTH_URL", "PROBE_ROUNDS", "PROBE_INTERVAL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settingstest.Check(t, loadSettings, tc.env, tc.want, tc.wantErr)
		})
	}
}

// setAWSEnv points the SDK at dynalite through its standard variables, as a
// local run of the function would be.
func setAWSEnv(t *testing.T, region, dynamoURL string) {
	for k, v := range map[string]string{
		"AWS_REGION":                  region,
		"AWS_DEFAULT_REGION":          "",
		"AWS_ACCESS_KEY_ID":           localaws.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       localaws.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL_DYNAMODB":   dynamoURL,
	} {
		t.Setenv(k, v)
	}
}

// TestInvocation wires the function from its environment as Lambda would and
// runs one scheduled invocation against local HTTPS servers and dynalite.
func TestInvocation(t *testing.T) {
	servers := localaws.Shared(t)
	tests := []struct {
		name       string
		code       int
		body       string
		payload    string // what the schedule sends; ignored
		wantState  control.State
		wantMetric float64
	}{
		{"peer healthy", 200, `{"status":"ok","region":"us-east-1"}`, `{}`, control.StateUp, 1},
		{"peer failing: data, not an invocation error", 503, `{"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`, ``, control.StateDown, 0},
		// A flood of /status: pages (metric 0) but is no observation, so no state,
		// heartbeat or lastDownAt is written, only unknownAt.
		{"probe throttled: could not tell", 429, `{"message":"Too Many Requests"}`, `{}`, "", 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			table := fmt.Sprintf("peerwatch-%d", i)
			if err := servers.CreateTable(ctx, table); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.code)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			setAWSEnv(t, "us-east-2", servers.DynamoDB.URL)
			env := withEnv("TABLE_NAME", table, "PEER_HEALTH_URL", srv.URL+"/prod/status",
				"FAILOVER_HEALTH_URL", srv.URL+"/status", "SELF_STATUS_URL", srv.URL+"/self/status", "PROBE_ROUNDS", "2", "PROBE_INTERVAL", "1s")

			// One stream for logs and metrics, as stdout is in Lambda.
			var stdout bytes.Buffer
			h, err := setup(ctx, settingstest.Env(env), slog.New(slog.NewJSONHandler(&stdout, nil)), &stdout, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			// Through the runtime's own adapter, so the handler's signature and
			// the schedule's payload are exercised as Lambda would.
			if out, err := lambda.NewHandler(h.handle).Invoke(ictx, []byte(tc.payload)); err != nil {
				t.Fatalf("invoke = %s, %v; want no error", out, err)
			}

			var emf []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not a JSON line: %v\n%s", err, line)
				}
				if m["_aws"] != nil {
					emf = append(emf, m)
				}
			}
			if len(emf) != 2 {
				t.Fatalf("%d EMF lines, want one per round (2):\n%s", len(emf), stdout.String())
			}
			for _, m := range emf {
				if m["TableName"] != table || m["PeerRegion"] != "us-east-1" || m["Region"] != "us-east-2" ||
					m["PeerHealthy"] != tc.wantMetric || m["FailoverNameHealthy"] != tc.wantMetric || m["DomainName"] != "127.0.0.1" {
					t.Errorf("EMF line %v", m)
				}
			}
			p, err := control.Table{DB: servers.DynamoDBClient(), Name: table}.Peer(ctx, "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			if !p.Found || p.Observer != "us-east-2" || p.State != tc.wantState {
				t.Errorf("%s = %+v, want state %q observed by us-east-2", control.PeerKey("us-east-1"), p, tc.wantState)
			}
			if unknown := tc.wantState == ""; unknown != (p.UnknownAtMs != 0) || unknown && (p.HeartbeatAtMs != 0 || p.LastDownAtMs != 0) {
				t.Errorf("%s = %+v: a round that could not tell writes unknownAt and nothing else", control.PeerKey("us-east-1"), p)
			}
		})
	}
}

func TestSetupRejects(t *testing.T) {
	tests := []struct {
		name   string
		region string
		env    map[string]string
		want   []string
	}{
		{"watching its own region", "us-east-1", withEnv(), []string{`PEER_REGION="us-east-1"`, "AWS_REGION"}},
		{"no region", "", withEnv(), []string{"AWS_REGION"}},
		{"no region and bad settings, all reported", "", withEnv("TABLE_NAME", "", "PROBE_ROUNDS", "99"), []string{"AWS_REGION", "TABLE_NAME", "PROBE_ROUNDS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setAWSEnv(t, tc.region, "http://127.0.0.1:1")
			_, err := setup(context.Background(), settingstest.Env(tc.env), slog.New(slog.DiscardHandler), &bytes.Buffer{}, nil)
			if err == nil {
				t.Fatal("setup accepted the configuration")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
		})
	}
}
