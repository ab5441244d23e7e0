package cli

// find-payment against two pairs of local DynamoDB and S3 servers standing for
// the two regions. Payments are written by the payment function's own flow
// (payment.Service over store.Store), so a lookup that finds them proves that
// the command keys them as the function does. Nothing replicates between the
// pairs: a test copies what it wants the other region to hold.

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

func TestFindPayment(t *testing.T) {
	isolateAWS(t)
	servers := map[string]*localaws.Servers{east1: localaws.Dedicated(t), east2: localaws.Dedicated(t)}
	hang, refused := hangingEndpoint(t), refusedEndpoint(t)
	ctx := context.Background()
	const owner = "drill-client@clients"
	req := payment.Request{PaymentID: "drill-1", Amount: 1250, Currency: "USD", Reference: "game day"}

	// world is one case's table and buckets in both regions.
	type world struct {
		table   string
		buckets map[string]string
	}
	storeIn := func(w world, region string) *store.Store {
		s := servers[region]
		return store.New(s.DynamoDBClient(), s.S3Client(), w.table, w.buckets[region])
	}
	// submit creates the payment as region's function does.
	submit := func(t *testing.T, w world, region, owner string) {
		t.Helper()
		svc := &payment.Service{Store: storeIn(w, region), Region: region, IndexAccepted: region == east2}
		if _, created, err := svc.Submit(ctx, owner, req); err != nil || !created {
			t.Fatalf("submit in %s: created %v, %v", region, created, err)
		}
	}
	// replicateItem copies the payment's item (not its receipt) to the other region.
	replicateItem := func(t *testing.T, w world, from, owner string) {
		t.Helper()
		rec, err := storeIn(w, from).Get(ctx, payment.Key(owner, req.PaymentID))
		if err != nil {
			t.Fatal(err)
		}
		if err := storeIn(w, otherOf(from)).Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	// received is a payment whose create flow stopped after the item was written.
	received := func(t *testing.T, w world, region string) {
		t.Helper()
		rec := payment.Record{Key: payment.Key(owner, req.PaymentID), Owner: owner, PaymentID: req.PaymentID, Amount: req.Amount,
			Currency: req.Currency, Status: payment.StatusReceived, CreatedAt: "2026-12-07T00:00:00.000Z", Region: region, RequestHash: req.Hash()}
		if err := storeIn(w, region).Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}

	// The bound with a region that hangs: its attempts run out, and the other
	// region, read meanwhile, has answered by then.
	hangBound := leverAttempts*leverAttemptTimeout + leverMaxBackoff + 2*time.Second

	tests := []struct {
		name string
		seed func(*testing.T, world)
		// down: region → endpoint standing for both its DynamoDB and S3 when unreachable.
		down  map[string]string
		env   map[string]string // more environment
		args  []string
		code  int
		out   []string
		notIn []string // substrings that must not appear
		bound time.Duration
	}{
		{
			name: "found in the primary",
			seed: func(t *testing.T, w world) { submit(t, w, east1, owner) },
			args: []string{"--owner", owner, "--id", "drill-1"},
			out: []string{
				"payment drill-1 of owner \"drill-client@clients\": item " + payment.Key(owner, "drill-1"),
				"receipt receipts/" + payment.Key(owner, "drill-1") + ".json",
				"us-east-1 (primary): answered in", "found",
				"amount 12.50 USD (1250 minor units)", "reference \"game day\"", "status processed at", "in us-east-1",
				"ok: processed, and its receipt is in payment-docs-us-east-1-case", "(us-east-1)",
			},
			notIn: []string{"us-east-2 (secondary):"},
		},
		{
			name:  "the primary hangs: the secondary answers within the bound",
			seed:  func(t *testing.T, w world) { submit(t, w, east2, owner) },
			down:  map[string]string{east1: hang},
			args:  []string{"--owner", owner, "--id", "drill-1"},
			bound: hangBound,
			out: []string{
				"us-east-1 (primary): NO ANSWER: us-east-1: DynamoDB did not answer at " + hang + " within 2 attempts of 3s: every attempt timed out",
				"us-east-2 (secondary): answered in", "found", "created", "in us-east-2",
				"accepted us-east-2#", "the primary's failback gate waits for this payment",
				"ok: processed, and its receipt is in payment-docs-us-east-2-case",
			},
			notIn: []string{"--region us-east-2"}, // the default falls through by itself
		},
		{
			name: "the primary refuses connections",
			seed: func(t *testing.T, w world) { submit(t, w, east2, owner) },
			down: map[string]string{east1: refused},
			args: []string{"--owner", owner, "--id", "drill-1"},
			out:  []string{"us-east-1 (primary): NO ANSWER", "connection refused", "us-east-2 (secondary): answered in", "ok: processed"},
		},
		{
			name: "not yet replicated to the primary: found in the secondary",
			seed: func(t *testing.T, w world) { submit(t, w, east2, owner) },
			args: []string{"--owner", owner, "--id", "drill-1"},
			out: []string{
				"us-east-1 (primary): answered in", "not in its replica; receipt: MISSING in payment-docs-us-east-1-case",
				"us-east-2 (secondary): answered in", "ok: processed",
			},
		},
		{
			name: "not found in either region",
			args: []string{"--owner", owner, "--id", "drill-1"},
			code: exitFailed,
			out:  []string{"not found in us-east-1 and us-east-2's replica: no payment drill-1 of owner \"drill-client@clients\" there", "every byte of --owner"},
		},
		{
			name: "another owner's payment of the same id is not this one",
			seed: func(t *testing.T, w world) { submit(t, w, east1, "someone-else") },
			args: []string{"--owner", owner, "--id", "drill-1"},
			code: exitFailed,
			out:  []string{"not found in us-east-1 and us-east-2's replica"},
		},
		{
			name: "neither region answers",
			down: map[string]string{east1: refused, east2: refused},
			args: []string{"--owner", owner, "--id", "drill-1"},
			code: exitFailed,
			out:  []string{"us-east-1 (primary): NO ANSWER", "us-east-2 (secondary): NO ANSWER", "unknown: no region could be read (us-east-1, us-east-2)"},
		},
		{
			name:  "--region reads that region only",
			seed:  func(t *testing.T, w world) { submit(t, w, east1, owner) },
			args:  []string{"--owner", owner, "--id", "drill-1", "--region", east2},
			code:  exitFailed,
			out:   []string{"us-east-2 (secondary): answered in", "not found in us-east-2's replica"},
			notIn: []string{"us-east-1 (primary)"},
		},
		{
			name:  "--region that hangs names the other region",
			down:  map[string]string{east1: hang},
			args:  []string{"--owner", owner, "--id", "drill-1", "--region", east1},
			code:  exitFailed,
			bound: hangBound,
			out:   []string{"us-east-1 (primary): NO ANSWER", "if us-east-1 is impaired, use --region us-east-2", "unknown: no region could be read (us-east-1)"},
		},
		{
			name: "the item replicated, its receipt not yet",
			seed: func(t *testing.T, w world) { submit(t, w, east2, owner); replicateItem(t, w, east2, owner) },
			args: []string{"--owner", owner, "--id", "drill-1", "--region", east1},
			code: exitFailed,
			out: []string{
				"receipt MISSING in payment-docs-us-east-1-case",
				"incomplete in us-east-1: processed in us-east-2, whose bucket got the receipt; it reaches payment-docs-us-east-1-case by replication",
				"(--region us-east-2)",
			},
		},
		{
			name: "received, never processed",
			seed: func(t *testing.T, w world) { received(t, w, east1) },
			args: []string{"--owner", owner, "--id", "drill-1"},
			code: exitFailed,
			out:  []string{"status received", "incomplete: received, not processed", "a retry of the same request completes it"},
		},
		{
			name: "a bucket that does not exist is not a missing receipt",
			seed: func(t *testing.T, w world) { submit(t, w, east1, owner) },
			args: []string{"--owner", owner, "--id", "drill-1", "--bucket", east1 + "=payment-docs-us-east-1-nope"},
			code: exitFailed,
			out:  []string{"receipt UNKNOWN: us-east-1: bucket payment-docs-us-east-1-nope does not exist", "--bucket us-east-1=NAME", "unknown: the item is in us-east-1's replica"},
		},
		{
			name: "a table that does not exist",
			args: []string{"--owner", owner, "--id", "drill-1", "--table", "payments-global-nope", "--region", east1},
			code: exitFailed,
			out:  []string{"us-east-1: DynamoDB refused: ResourceNotFoundException", "is payments-global-nope the table"},
		},
		{
			name: "without --owner and --id: both named",
			args: []string{},
			code: exitProblem,
			out:  []string{"find-payment: --owner is required: the principal that created the payment", "find-payment: --id is required"},
		},
		{
			name: "an id outside the paymentId alphabet",
			args: []string{"--owner", owner, "--id", "drill/1"},
			code: exitProblem,
			out:  []string{`find-payment: --id "drill/1": paymentId may contain only A-Z, a-z, 0-9, '_' and '-'`},
		},
		{
			name: "an owner longer than any principal",
			args: []string{"--owner", strings.Repeat("o", 256), "--id", "drill-1"},
			code: exitProblem,
			out:  []string{"--owner is 256 bytes: the authorizer accepts principals of 1 to 255 bytes"},
		},
		{
			name: "a region not in the configuration",
			args: []string{"--owner", owner, "--id", "drill-1", "--region", "eu-west-1"},
			code: exitProblem,
			out:  []string{`--region: "eu-west-1" is not a region of this deployment; accepted: us-east-1 (PRIMARY_REGION) or us-east-2 (SECONDARY_REGION)`},
		},
		{
			name: "a bucket without its region",
			args: []string{"--owner", owner, "--id", "drill-1", "--bucket", "payment-docs-us-east-1-dev"},
			code: exitProblem,
			out:  []string{"want REGION=NAME"},
		},
		{
			name: "an S3 endpoint for a foreign region",
			args: []string{"--owner", owner, "--id", "drill-1", "--s3-endpoint", "eu-west-1=http://127.0.0.1:1"},
			code: exitProblem,
			out:  []string{`--s3-endpoint eu-west-1=…: "eu-west-1" is not a region of this deployment`},
		},
		{
			name: "a stray argument",
			args: []string{"--owner", owner, "--id", "drill-1", "now"},
			code: exitProblem,
			out:  []string{`find-payment: unexpected argument "now"`},
		},
		{
			name: "without credentials",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			args: []string{"--owner", owner, "--id", "drill-1"},
			code: exitProblem,
			out:  []string{"find-payment: no AWS credentials:", "assume the DR operations role first"},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := world{table: "payments-find-" + strconv.Itoa(i), buckets: map[string]string{}}
			// The case's own flags come last and win (a later --table or --bucket replaces these).
			args := []string{"find-payment", "--table", w.table}
			for _, region := range []string{east1, east2} {
				s := servers[region]
				w.buckets[region] = "payment-docs-" + region + "-case" + strconv.Itoa(i)
				if err := s.Provision(ctx, w.table, w.buckets[region]); err != nil {
					t.Fatal(err)
				}
				db, objects := s.DynamoDB.URL, s.S3.URL
				if u, ok := tc.down[region]; ok {
					db, objects = u, u
				}
				args = append(args, "--endpoint", region+"="+db, "--s3-endpoint", region+"="+objects, "--bucket", region+"="+w.buckets[region])
			}
			args = append(args, tc.args...)
			if tc.seed != nil {
				tc.seed(t, w)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}

			want := leverRun{code: tc.code, notIn: tc.notIn, bound: tc.bound}
			for _, o := range tc.out {
				want.out = append(want.out, strings.ReplaceAll(o, "-case", "-case"+strconv.Itoa(i)))
			}
			runLever(t, args, want)
		})
	}
}

// The defaults name the table and the buckets the synth declares, so that on the
// day nobody has to look them up.
func TestFindPaymentDefaultNames(t *testing.T) {
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource struct {
			Buckets map[string]struct{ Bucket string } `json:"aws_s3_bucket"`
			Tables  map[string]struct{ Name string }   `json:"aws_dynamodb_table"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	synthesized := map[string]bool{}
	for _, r := range doc.Resource.Buckets {
		synthesized["bucket "+r.Bucket] = true
	}
	for _, r := range doc.Resource.Tables {
		synthesized["table "+r.Name] = true
	}
	// The fixture is the default configuration.
	for _, k := range []string{"ENVIRONMENT_SUFFIX", "PRIMARY_REGION", "SECONDARY_REGION"} {
		t.Setenv(k, "")
	}
	l, err := newLever(&leverFlags{table: new(string), endpoints: endpointFlag{}}, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	f := &finder{lever: l, buckets: bucketFlag{}}
	for _, want := range []string{"table " + l.table, "bucket " + f.bucket(l.cfg.PrimaryRegion), "bucket " + f.bucket(l.cfg.SecondaryRegion)} {
		if !synthesized[want] {
			t.Errorf("find-payment's default %s is not in %s (it declares %v)", want, fixturePath, synthesized)
		}
	}
}
