package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// functionTimeout is the deployed function's timeout (stacks/function
// TimeoutSeconds): the invocation context of every request carries it.
const functionTimeout = 10 * time.Second

// Bounds a client must see while a store hangs.
const (
	maxHungPayment = 5 * time.Second
	maxHungHealth  = 2 * time.Second
)

// handlerOn wires the function exactly as in Lambda (LoadAWSConfig's HTTP
// client and retryer, Config's clients, store and checks) against servers.
func handlerOn(t *testing.T, servers *localaws.Servers, table, bucket string, logger *slog.Logger) *api.Handler {
	t.Helper()
	cfg, err := LoadAWSConfig(context.Background(),
		config.WithRegion(localaws.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localaws.AccessKey, localaws.SecretKey, "")),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}),
		// s3rver stores no checksums, and the S3 client notes each
		// unvalidated GetObject on stdout: thousands of lines in a race.
		config.WithLogger(logging.Nop{}))
	if err != nil {
		t.Fatal(err)
	}
	return api.New(Config(cfg, Settings{
		Table: table, Bucket: bucket, ForcePathStyle: true, MaxAmount: payment.DefaultMaxAmount,
		DynamoDBEndpoint: servers.DynamoDB.URL, S3Endpoint: servers.S3.URL,
	}, logger))
}

// invoke calls the handler under the invocation deadline Lambda gives it.
func invoke(h *api.Handler, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), functionTimeout)
	defer cancel()
	start := time.Now()
	resp, _ := h.Handle(ctx, req)
	return resp, time.Since(start)
}

// caller is the principal API Gateway's authorizer passes on payment routes
// (issue 8); every request of these tests comes from the same caller.
var caller = map[string]any{"principalId": "brownout-client"}

func postPayment(body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Path: "/payments", HTTPMethod: http.MethodPost,
		Headers:        map[string]string{"Content-Type": "application/json"},
		Body:           body,
		RequestContext: events.APIGatewayProxyRequestContext{Authorizer: caller},
	}
}

// TestBrownout freezes one stand-in (SIGSTOP: connects succeed, nothing
// answers) under a warm function, as a browned-out DynamoDB or S3 looks from
// Lambda. A POST must give up with a retryable 503 well before the function
// timeout, /health must answer within Route 53's wait, and once the store
// answers again the client's retry of the same POST must leave exactly one
// payment and one receipt, whatever the hung calls did when they resumed.
func TestBrownout(t *testing.T) {
	tests := []struct {
		name    string
		hang    func(*localaws.Servers) *localaws.Server
		failing string // named by /health
	}{
		{"dynamodb hung", func(s *localaws.Servers) *localaws.Server { return s.DynamoDB }, `"dynamodb"`},
		{"s3 hung", func(s *localaws.Servers) *localaws.Server { return s.S3 }, `"s3"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servers := localaws.Dedicated(t)
			ctx := context.Background()
			if err := servers.Provision(ctx, "payments-brownout", "receipts-brownout"); err != nil {
				t.Fatal(err)
			}
			h := handlerOn(t, servers, "payments-brownout", "receipts-brownout", slog.New(slog.DiscardHandler))
			// Warm: pooled connections exist, as in a function that has served traffic.
			if resp, _ := invoke(h, postPayment(`{"paymentId":"warm","amount":1,"currency":"USD"}`)); resp.StatusCode != http.StatusCreated {
				t.Fatalf("warm-up POST: %d %s", resp.StatusCode, resp.Body)
			}

			hung := tc.hang(servers)
			if err := hung.Pause(); err != nil {
				t.Fatal(err)
			}
			resumed := false
			defer func() {
				if !resumed {
					hung.Resume()
				}
			}()

			const body = `{"paymentId":"brownout-1","amount":4200,"currency":"EUR","reference":"order 7"}`
			resp, took := invoke(h, postPayment(body))
			t.Logf("POST with %s: %d in %v", tc.name, resp.StatusCode, took.Round(time.Millisecond))
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" ||
				!strings.Contains(resp.Body, `"error":"dependency_unavailable"`) {
				t.Errorf("POST: %d %v %s, want 503 JSON with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
			}
			if took > maxHungPayment {
				t.Errorf("POST took %v, want at most %v", took, maxHungPayment)
			}
			// One hung call must end at the SDK's bounds (CallTimeout), not
			// only when the request budget behind them runs out.
			if took >= api.DefaultRequestTimeout {
				t.Errorf("POST took %v: the request budget (%v) ended it, not the SDK's per-call bounds", took, api.DefaultRequestTimeout)
			}

			get, took := invoke(h, events.APIGatewayProxyRequest{Path: "/payments/warm", HTTPMethod: http.MethodGet,
				RequestContext: events.APIGatewayProxyRequestContext{Authorizer: caller}})
			t.Logf("GET with %s: %d in %v", tc.name, get.StatusCode, took.Round(time.Millisecond))
			if tc.name == "dynamodb hung" && (get.StatusCode != http.StatusServiceUnavailable || get.Headers["Retry-After"] == "") {
				t.Errorf("GET: %d %v %s, want 503 with Retry-After", get.StatusCode, get.Headers, get.Body)
			}
			if took > maxHungPayment {
				t.Errorf("GET took %v, want at most %v", took, maxHungPayment)
			}

			health, took := invoke(h, events.APIGatewayProxyRequest{Path: "/health", HTTPMethod: http.MethodGet})
			t.Logf("/health with %s: %d in %v %s", tc.name, health.StatusCode, took.Round(time.Millisecond), health.Body)
			if health.StatusCode != http.StatusServiceUnavailable || !strings.Contains(health.Body, tc.failing) {
				t.Errorf("/health: %d %s, want 503 naming %s", health.StatusCode, health.Body, tc.failing)
			}
			if took > maxHungHealth {
				t.Errorf("/health took %v, want at most %v", took, maxHungHealth)
			}

			if err := hung.Resume(); err != nil {
				t.Fatal(err)
			}
			resumed = true
			retry, took := invoke(h, postPayment(body))
			t.Logf("retried POST after recovery: %d in %v", retry.StatusCode, took.Round(time.Millisecond))
			if retry.StatusCode != http.StatusCreated && retry.StatusCode != http.StatusOK {
				t.Fatalf("retried POST: %d %s, want 201 or 200", retry.StatusCode, retry.Body)
			}
			requireOnePayment(t, servers, "payments-brownout", "receipts-brownout", "brownout-1")
		})
	}
}

// requireOnePayment checks, behind the function's back, that the table holds
// exactly one record for id, processed, and the bucket exactly one receipt
// for it, rendered from that record.
func requireOnePayment(t *testing.T, servers *localaws.Servers, table, bucket, id string) {
	t.Helper()
	ctx := context.Background()
	out, err := servers.DynamoDBClient().Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	var recs []payment.Record
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &recs); err != nil {
		t.Fatal(err)
	}
	var mine []payment.Record
	for _, r := range recs {
		if r.PaymentID == id {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 || mine[0].Status != payment.StatusProcessed {
		t.Fatalf("records for %s: %+v, want one processed", id, mine)
	}
	s3c := servers.S3Client()
	prefix := payment.ReceiptKey(mine[0].Key)
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 {
		t.Fatalf("receipts for %s: %d objects, want 1", id, len(list.Contents))
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	got, _ := io.ReadAll(obj.Body)
	if want := payment.Receipt(mine[0]); string(got) != string(want) {
		t.Fatalf("receipt %s:\n%s\nwant\n%s", prefix, got, want)
	}
}

// TestBudgetsNest keeps every timeout inside the one around it, so that the
// innermost bound is what fires and each layer still has time to answer.
func TestBudgetsNest(t *testing.T) {
	tests := []struct {
		inner, outer       string
		innerDur, outerDur time.Duration
	}{
		{"DialTimeout", "AttemptTimeout", DialTimeout, AttemptTimeout},
		{"AttemptTimeout", "CallTimeout", AttemptTimeout, CallTimeout},
		{"CallTimeout", "api.DefaultRequestTimeout", CallTimeout, api.DefaultRequestTimeout},
		{"api.DefaultRequestTimeout", "the 5 s a POST may take in a brownout", api.DefaultRequestTimeout, maxHungPayment},
		{"the 5 s a POST may take in a brownout", "the function timeout", maxHungPayment, functionTimeout},
		{"payment.DefaultMaxWait + 1 s to finish", "api.DefaultRequestTimeout", payment.DefaultMaxWait + time.Second, api.DefaultRequestTimeout},
		{"AttemptTimeout", "api.DefaultHealthTimeout", AttemptTimeout, api.DefaultHealthTimeout},
		{"the gate's reads of the secondary", "api.DefaultHealthTimeout", control.DefaultGateRules.RemoteTimeout, api.DefaultHealthTimeout},
		{"payment.DefaultPeerTimeout", "api.DefaultRequestTimeout", payment.DefaultPeerTimeout, api.DefaultRequestTimeout},
		{"the gate's reads of the secondary", "WriteGateTimeout", control.DefaultGateRules.RemoteTimeout, WriteGateTimeout},
		{"WriteGateTimeout + CallTimeout", "api.DefaultRequestTimeout", WriteGateTimeout + CallTimeout, api.DefaultRequestTimeout},
		{"api.DefaultHealthTimeout", "Route 53's 2 s", api.DefaultHealthTimeout, maxHungHealth},
		// A payment's accept entry is stamped when its request starts and may
		// land a request budget later; the gate's watermark must not pass it first.
		{"api.DefaultRequestTimeout + ClockSkew", "the gate's Settle", api.DefaultRequestTimeout + ClockSkew, control.DefaultGateRules.Settle},
	}
	for _, tc := range tests {
		t.Run(tc.inner+" < "+tc.outer, func(t *testing.T) {
			if tc.innerDur >= tc.outerDur {
				t.Errorf("%s (%v) must be shorter than %s (%v)", tc.inner, tc.innerDur, tc.outer, tc.outerDur)
			}
		})
	}
}

// TestSDKCallBounds pins down which bound ends a call to a store that
// accepts requests and never answers: each attempt ends at AttemptTimeout
// and is retried on a fresh request, and the operation as a whole ends at
// CallTimeout. Without the per-attempt bound the first attempt would run
// until the call budget, one attempt in all; without the call budget the
// attempts would run to MaxAttempts × AttemptTimeout.
func TestSDKCallBounds(t *testing.T) {
	var attempts atomic.Int32
	done := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		// Read the request, so the server notices the client hanging up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the client gave up on this attempt
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); hang.Close() })
	cfg, err := LoadAWSConfig(context.Background(),
		config.WithRegion(localaws.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localaws.AccessKey, localaws.SecretKey, "")),
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	db := DynamoDB(cfg, Settings{DynamoDBEndpoint: hang.URL})
	table := "payments"
	start := time.Now()
	_, err = db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &table})
	took := time.Since(start)
	t.Logf("hung DescribeTable: %v after %v and %d attempts", err, took.Round(time.Millisecond), attempts.Load())
	if err == nil {
		t.Fatal("a store that never answers returned no error")
	}
	if took < CallTimeout-100*time.Millisecond || took > CallTimeout+300*time.Millisecond {
		t.Errorf("the call ended after %v, want at its budget %v", took, CallTimeout)
	}
	if n := attempts.Load(); n < 2 || n > MaxAttempts {
		t.Errorf("%d attempts within the call budget, want 2..%d: each attempt must end at %v and be retried", n, MaxAttempts, AttemptTimeout)
	}
}
