package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/payments-dr/payments-dr/lambda/api"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }

// stack is the function wired to a fresh table and bucket on local servers,
// through the real SDK clients and the real store.
type stack struct {
	servers *localaws.Servers
	handler *api.Handler
	db      *dynamodb.Client
	s3      *s3.Client
	table   string
	bucket  string
}

var stackSeq atomic.Int64

func newStack(t testing.TB, servers *localaws.Servers) *stack {
	t.Helper()
	n := stackSeq.Add(1)
	s := &stack{
		servers: servers,
		db:      servers.DynamoDBClient(),
		s3:      servers.S3Client(),
		table:   fmt.Sprintf("payments-%d", n),
		bucket:  fmt.Sprintf("receipts-%d", n),
	}
	if err := servers.Provision(context.Background(), s.table, s.bucket); err != nil {
		t.Fatal(err)
	}
	st := store.New(s.db, s.s3, s.table, s.bucket)
	s.handler = api.New(api.Config{
		Payments: &payment.Service{Store: st, Region: localaws.Region},
		Checks:   []api.Check{{Name: store.DynamoDBName, Run: st.CheckTable}, {Name: store.S3Name, Run: st.CheckBucket}},
		Region:   localaws.Region,
	})
	return s
}

func (s *stack) do(t testing.TB, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := s.handler.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return resp
}

// records reads the whole table behind the function's back.
func (s *stack) records(t *testing.T) []payment.Record {
	t.Helper()
	out, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.table})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	var recs []payment.Record
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// receipts reads every object in the bucket.
func (s *stack) receipts(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	out, err := s.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	objs := map[string]string{}
	for _, o := range out.Contents {
		obj, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: o.Key})
		if err != nil {
			t.Fatalf("get %s: %v", *o.Key, err)
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		objs[*o.Key] = string(b)
	}
	return objs
}

// requireCompleted checks the invariant behind every 2xx: exactly one
// record, the caller's, processed, with exactly one receipt rendered from
// that record.
func (s *stack) requireCompleted(t *testing.T, id string) payment.Record {
	t.Helper()
	recs := s.records(t)
	key := payment.Key(caller, id)
	if len(recs) != 1 || recs[0].PaymentID != id || recs[0].Owner != caller || recs[0].Key != key || recs[0].Status != payment.StatusProcessed {
		t.Fatalf("records = %+v, want one processed %s of %s", recs, id, caller)
	}
	objs := s.receipts(t)
	want := string(payment.Receipt(recs[0]))
	if len(objs) != 1 || objs[payment.ReceiptKey(key)] != want {
		t.Fatalf("receipts = %v, want only %s = %s", objs, payment.ReceiptKey(key), want)
	}
	return recs[0]
}

func TestLocalAWSFlow(t *testing.T) {
	s := newStack(t, localaws.Shared(t))

	created := s.do(t, postReq(validBody))
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", created.StatusCode, created.Body)
	}
	rec := s.requireCompleted(t, "p1")

	replay := postReq(`{"currency":"USD", "reference":"inv 1", "amount":1250, "paymentId":"p1"}`)
	replay.Headers = map[string]string{"Content-Type": "application/json; charset=utf-8"}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		body   string // exact body, when it is known
	}{
		{"replay", replay, http.StatusOK, created.Body},
		{"conflict", postReq(`{"paymentId":"p1","amount":1251,"currency":"USD","reference":"inv 1"}`), http.StatusConflict, ""},
		{"read", getReq("p1"), http.StatusOK, created.Body},
		{"read missing", getReq("p2"), http.StatusNotFound, ""},
		{"health", healthReq(), http.StatusOK, `{"status":"ok","region":"us-east-1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(t, tc.req)
			if resp.StatusCode != tc.status || (tc.body != "" && resp.Body != tc.body) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tc.status, tc.body)
			}
		})
	}
	if after := s.requireCompleted(t, "p1"); after != rec {
		t.Errorf("record changed by replays: %+v -> %+v", rec, after)
	}
}

// TestLocalAWSOwnership runs the ownership rules through the real store:
// keys per caller, the owner on the item and its receipt, nothing written
// for a request without a caller.
func TestLocalAWSOwnership(t *testing.T) {
	s := newStack(t, localaws.Shared(t))
	noCaller := postReq(validBody)
	noCaller.RequestContext.Authorizer = nil
	if resp := s.do(t, noCaller); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST without a caller: %d %s, want 401", resp.StatusCode, resp.Body)
	}
	if recs, objs := s.records(t), s.receipts(t); len(recs) != 0 || len(objs) != 0 {
		t.Fatalf("a request without a caller stored %v and %v", recs, objs)
	}

	a := s.do(t, postReq(validBody))
	b := s.do(t, as("client-b", postReq(`{"paymentId":"p1","amount":5,"currency":"JPY"}`)))
	if a.StatusCode != 201 || b.StatusCode != 201 {
		t.Fatalf("same paymentId from two callers: %d %s / %d %s", a.StatusCode, a.Body, b.StatusCode, b.Body)
	}
	recs, objs := s.records(t), s.receipts(t)
	if len(recs) != 2 || len(objs) != 2 {
		t.Fatalf("records %+v, receipts %v; want two of each", recs, objs)
	}
	for _, rec := range recs {
		if rec.Key != payment.Key(rec.Owner, "p1") || objs[payment.ReceiptKey(rec.Key)] != string(payment.Receipt(rec)) ||
			!strings.Contains(objs[payment.ReceiptKey(rec.Key)], `"owner":"`+rec.Owner+`"`) {
			t.Errorf("record %+v does not match its key or receipt", rec)
		}
	}
	if got := s.do(t, as("client-b", getReq("p1"))); got.StatusCode != 200 || got.Body != b.Body {
		t.Errorf("b reads %d %s, want its own %s", got.StatusCode, got.Body, b.Body)
	}
	others, missing := s.do(t, as("client-c", getReq("p1"))), s.do(t, as("client-c", getReq("p2")))
	if others.StatusCode != 404 || others.Body != missing.Body {
		t.Errorf("another caller's payment: %d %s; missing: %d %s", others.StatusCode, others.Body, missing.StatusCode, missing.Body)
	}
}

func TestLocalAWSS3Outage(t *testing.T) {
	servers := localaws.Dedicated(t)
	s := newStack(t, servers)

	servers.S3.Stop()
	resp := s.do(t, postReq(validBody))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Fatalf("POST with S3 down: %d %v %s, want 503 with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
	}
	if recs := s.records(t); len(recs) != 1 || recs[0].Status != payment.StatusReceived {
		t.Fatalf("records = %+v, want one still received (no receipt, so not processed)", recs)
	}
	if h := s.do(t, healthReq()); h.StatusCode != 503 || !strings.Contains(h.Body, `"failing":["s3"]`) {
		t.Errorf("health with S3 down: %d %s", h.StatusCode, h.Body)
	}

	if err := servers.S3.Start(); err != nil {
		t.Fatal(err)
	}
	if resp := s.do(t, postReq(validBody)); resp.StatusCode != http.StatusOK {
		t.Fatalf("retry after S3 is back: %d %s, want 200", resp.StatusCode, resp.Body)
	}
	s.requireCompleted(t, "p1")
}

func TestLocalAWSDynamoDBOutage(t *testing.T) {
	servers := localaws.Dedicated(t)
	s := newStack(t, servers)

	servers.DynamoDB.Stop()
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		body   string
	}{
		{"create", postReq(validBody), http.StatusServiceUnavailable, ""},
		{"read", getReq("p1"), http.StatusServiceUnavailable, ""},
		{"health", healthReq(), http.StatusServiceUnavailable, `{"status":"unavailable","region":"us-east-1","failing":["dynamodb"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			resp := s.do(t, tc.req)
			if resp.StatusCode != tc.status || (tc.body != "" && resp.Body != tc.body) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tc.status, tc.body)
			}
			if resp.Headers["Retry-After"] == "" {
				t.Error("503 without Retry-After")
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("took %v with the table down", d)
			}
		})
	}
	if objs := s.receipts(t); len(objs) != 0 {
		t.Errorf("receipts written without a record: %v", objs)
	}
}

// post fires n POSTs at once and returns the answers.
func (s *stack) postConcurrently(t *testing.T, n int, body func(i int) string) []events.APIGatewayProxyResponse {
	t.Helper()
	resps := make([]events.APIGatewayProxyResponse, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resps[i] = s.do(t, postReq(body(i)))
		})
	}
	close(start)
	wg.Wait()
	return resps
}

func statuses(resps []events.APIGatewayProxyResponse) map[int]int {
	count := map[int]int{}
	for _, r := range resps {
		count[r.StatusCode]++
	}
	return count
}

func TestLocalAWSConcurrentIdentical(t *testing.T) {
	s := newStack(t, localaws.Shared(t))
	resps := s.postConcurrently(t, 50, func(int) string { return validBody })
	if got := statuses(resps); got[201] != 1 || got[200] != 49 {
		t.Errorf("statuses %v, want one 201 and 49 200", got)
	}
	for _, r := range resps {
		if r.Body != resps[0].Body {
			t.Fatalf("answers differ:\n%s\n%s", r.Body, resps[0].Body)
		}
	}
	s.requireCompleted(t, "p1")
}

func TestLocalAWSConcurrentConflicting(t *testing.T) {
	s := newStack(t, localaws.Shared(t))
	resps := s.postConcurrently(t, 20, func(i int) string {
		return fmt.Sprintf(`{"paymentId":"p1","amount":%d,"currency":"USD"}`, 100+i)
	})
	if got := statuses(resps); got[201] != 1 || got[409] != 19 {
		t.Errorf("statuses %v, want one 201 and 19 409", got)
	}
	var winner payment.Record
	for _, r := range resps {
		if r.StatusCode == 201 {
			json.Unmarshal([]byte(r.Body), &winner)
		}
	}
	if rec := s.requireCompleted(t, "p1"); rec.Amount != winner.Amount {
		t.Errorf("stored amount %d, winner answered %d", rec.Amount, winner.Amount)
	}
}

// BenchmarkPostPayment measures a full create (conditional put, receipt
// write, conditional update) against the local servers and reports the
// median and p99 latency of one POST.
func BenchmarkPostPayment(b *testing.B) {
	s := newStack(b, localaws.Shared(b))
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		resp := s.do(b, postReq(fmt.Sprintf(`{"paymentId":"bench-%d","amount":1250,"currency":"USD"}`, i)))
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("POST: %d %s", resp.StatusCode, resp.Body)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// TestLocalAWSFailoverReplay: the payment was processed in the other region
// and the table replicated, but its receipt has not reached this region's
// bucket yet (S3 replication takes up to ~15 min). A replay here must not
// answer 200 while this region has no receipt: it writes the identical one.
func TestLocalAWSFailoverReplay(t *testing.T) {
	servers := localaws.Shared(t)
	primary := newStack(t, servers)
	// The secondary sees the same (replicated) table through its own bucket.
	secondaryBucket := primary.bucket + "-secondary"
	if err := servers.CreateBucket(context.Background(), secondaryBucket); err != nil {
		t.Fatal(err)
	}
	st := store.New(primary.db, primary.s3, primary.table, secondaryBucket)
	secondary := &stack{servers: servers, db: primary.db, s3: primary.s3, table: primary.table, bucket: secondaryBucket,
		handler: api.New(api.Config{Payments: &payment.Service{Store: st, Region: "us-east-2"}, Region: "us-east-2"})}

	created := primary.do(t, postReq(validBody))
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", created.StatusCode, created.Body)
	}
	if objs := secondary.receipts(t); len(objs) != 0 {
		t.Fatalf("secondary bucket already has %v", objs)
	}
	if replay := secondary.do(t, postReq(validBody)); replay.StatusCode != http.StatusOK || replay.Body != created.Body {
		t.Fatalf("replay in the secondary: %d %s, want 200 %s", replay.StatusCode, replay.Body, created.Body)
	}
	rec := primary.requireCompleted(t, "p1")
	secondary.requireCompleted(t, "p1")
	if a, b := primary.receipts(t), secondary.receipts(t); a[rec.ReceiptKey] != b[rec.ReceiptKey] {
		t.Errorf("receipts differ between regions:\n%s\n%s", a, b)
	}
}

// TestLocalAWSCrashAfterReceipt: an invocation wrote the record and the
// receipt and died before marking it processed. The replay finishes it
// without rewriting the receipt.
func TestLocalAWSCrashAfterReceipt(t *testing.T) {
	s := newStack(t, localaws.Shared(t))
	ctx := context.Background()
	req, err := payment.Parse([]byte(validBody), payment.DefaultMaxAmount)
	if err != nil {
		t.Fatal(err)
	}
	rec := payment.Record{Key: payment.Key(caller, req.PaymentID), Owner: caller, PaymentID: req.PaymentID, Amount: req.Amount, Currency: req.Currency, Reference: req.Reference,
		Status: payment.StatusReceived, CreatedAt: "2025-01-02T03:04:05.006Z", Region: localaws.Region, RequestHash: req.Hash()}
	st := store.New(s.db, s.s3, s.table, s.bucket)
	if err := st.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := st.PutReceipt(ctx, payment.ReceiptKey(rec.Key), payment.Receipt(rec)); err != nil {
		t.Fatal(err)
	}
	resp := s.do(t, postReq(validBody))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"status":"processed"`) {
		t.Fatalf("replay: %d %s, want 200 processed", resp.StatusCode, resp.Body)
	}
	if got := s.requireCompleted(t, "p1"); got.CreatedAt != rec.CreatedAt {
		t.Errorf("replay replaced the record: %+v", got)
	}
}
