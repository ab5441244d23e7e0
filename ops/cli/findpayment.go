package cli

// find-payment: a payment's item and receipt, looked up by the key the payment
// function writes them under. The table's hash key is not the client's paymentId
// but payment.Key(owner, paymentId), "<owner hash>.<paymentId>", and the receipt
// is payment.ReceiptKey of that; both come from lambda/payment itself, so this
// command and the function cannot disagree on them.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/payment"
	"github.com/payments-dr/payments-dr/lambda/store"
)

// bucketFlag collects --bucket REGION=NAME.
type bucketFlag map[string]string

func (b bucketFlag) String() string { return endpointFlag(b).String() }

func (b bucketFlag) Set(v string) error {
	region, name, ok := strings.Cut(v, "=")
	if !ok || region == "" || name == "" || strings.ContainsAny(name, "/ ") {
		return fmt.Errorf("want REGION=NAME, e.g. us-east-2=payment-docs-us-east-2-prod")
	}
	b[region] = name
	return nil
}

// finder is what find-payment reads through: the lever's table endpoints plus
// each region's receipts bucket and its S3 endpoint.
type finder struct {
	*lever
	buckets     bucketFlag
	s3Endpoints endpointFlag
}

// bucket is region's receipts bucket, named as stacks/region names it unless
// --bucket says otherwise (TestFindPaymentDefaultNames holds the two together).
func (f *finder) bucket(region string) string {
	if b, ok := f.buckets[region]; ok {
		return b
	}
	return f.cfg.Name("payment-docs", region)
}

func (f *finder) s3Client(region string) *s3.Client {
	return s3.NewFromConfig(f.aws, func(o *s3.Options) {
		o.Region = region
		if u, ok := f.s3Endpoints[region]; ok {
			o.BaseEndpoint = aws.String(u)
			// Virtual-hosted addressing puts the bucket in the host name, which is
			// what an S3 interface endpoint (https://bucket.vpce-….s3.<region>.vpce.amazonaws.com)
			// expects, but a bare IP or localhost cannot have a bucket label in front.
			// https://docs.aws.amazon.com/AmazonS3/latest/userguide/privatelink-interface-endpoints.html
			o.UsePathStyle = literalHost(u)
		}
	})
}

// literalHost: the URL's host is an IP address or localhost.
func literalHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || net.ParseIP(h) != nil
}

func (f *finder) s3EndpointName(region string) string { return f.s3Endpoints.name("s3", region) }

// explainS3 is explain for region's S3 endpoint.
func (f *finder) explainS3(region string, err error) error {
	return f.explainCall(region, "S3", f.s3EndpointName(region), err, func(smithy.APIError) string {
		// HeadObject answers without a body, so the status is all S3 says.
		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
		if status(err) == http.StatusForbidden {
			return fmt.Sprintf("check the credentials: reading a receipt needs s3:GetObject on it and s3:ListBucket on %s (without that, S3 answers 403 for a missing object too); the DR operations role has both", f.bucket(region))
		}
		return "check the credentials (the DR operations role) and --bucket"
	})
}

// status is the HTTP status of a failed AWS call, 0 when there was no answer.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// receiptState is what region's bucket says of a receipt.
type receiptState struct {
	exists      bool
	modified    time.Time
	replication s3types.ReplicationStatus
	err         error // S3 did not answer or refused: existence unknown
}

// found is what one region holds of a payment.
type found struct {
	region  string
	took    time.Duration
	rec     payment.Record
	ok      bool  // the item is in this replica
	err     error // the table did not answer or refused: nothing is known of the item
	receipt receiptState
}

// lookup reads the item from region's replica (a strongly consistent read, as
// the function's Get) and heads its receipt in region's bucket, at the same time.
func (f *finder) lookup(ctx context.Context, region, key string) found {
	start := time.Now()
	res := found{region: region}
	s3c := f.s3Client(region)
	done := make(chan struct{})
	go func() {
		defer close(done)
		res.receipt = f.headReceipt(ctx, s3c, region, payment.ReceiptKey(key))
	}()
	// The function's own read: same key, same item shape, same unmarshalling.
	rec, err := store.New(f.replica(region).DB, s3c, f.table, f.bucket(region)).Get(ctx, key)
	switch {
	case errors.Is(err, payment.ErrNotFound):
	case err != nil:
		res.err = f.explain(region, err)
	default:
		res.rec, res.ok = rec, true
	}
	<-done
	res.took = time.Since(start)
	return res
}

func (f *finder) headReceipt(ctx context.Context, c *s3.Client, region, key string) receiptState {
	bucket := f.bucket(region)
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err == nil {
		st := receiptState{exists: true, replication: out.ReplicationStatus}
		if out.LastModified != nil {
			st.modified = *out.LastModified
		}
		return st
	}
	if status(err) != http.StatusNotFound {
		return receiptState{err: f.explainS3(region, err)}
	}
	// A HEAD answers 404 for a missing bucket as for a missing object: tell them apart,
	// or a wrong bucket name reads as a lost receipt.
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		if status(err) == http.StatusNotFound {
			return receiptState{err: fmt.Errorf("%s: bucket %s does not exist: is it %s's receipts bucket (ENVIRONMENT_SUFFIX=%s, or --bucket %s=NAME)?",
				region, bucket, region, f.cfg.EnvironmentSuffix, region)}
		}
		return receiptState{err: f.explainS3(region, err)}
	}
	return receiptState{}
}

// find looks in regions in order and stops at the first that holds the item. The
// regions are read at the same time, so a region that hangs costs its own timeout
// once, not added to the next one's.
func (f *finder) find(ctx context.Context, regions []string, key string) []found {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make([]chan found, len(regions))
	for i, r := range regions {
		answers[i] = make(chan found, 1)
		go func() { answers[i] <- f.lookup(ctx, r, key) }()
	}
	var out []found
	for _, a := range answers {
		res := <-a
		out = append(out, res)
		if res.ok {
			break
		}
	}
	return out
}

// checkPaymentFlags reports every problem with --owner and --id at once.
func checkPaymentFlags(owner, id string) error {
	var errs []error
	switch {
	case owner == "":
		errs = append(errs, errors.New("--owner is required: the principal that created the payment, as the authorizer names it (the token's sub claim, else client_id, else azp)"))
	case len(owner) > auth.MaxPrincipalBytes:
		errs = append(errs, fmt.Errorf("--owner is %d bytes: the authorizer accepts principals of 1 to %d bytes, so no payment has this owner", len(owner), auth.MaxPrincipalBytes))
	}
	if id == "" {
		errs = append(errs, errors.New("--id is required: the paymentId the client sent"))
	} else if err := payment.ValidateID(id); err != nil {
		msg := err.Error()
		var ve *payment.ValidationError
		if errors.As(err, &ve) {
			msg = ve.Message
		}
		errs = append(errs, fmt.Errorf("--id %q: %s", id, msg))
	}
	return errors.Join(errs...)
}

// cmdFindPayment is `find-payment --owner PRINCIPAL --id PAYMENT_ID [--region R]`.
// Exit 0: found, processed, and its receipt is in the bucket of the region that
// answered; 1: not found, not complete, or no region answered; 2: bad input or no
// credentials.
func cmdFindPayment(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("find-payment", stderr)
	lf := addLeverFlags(fs)
	owner := fs.String("owner", "", "the principal that created the payment, exactly as the authorizer names it: the token's sub claim, else client_id, else azp (required)")
	id := fs.String("id", "", "the paymentId the client sent (required)")
	only := fs.String("region", "", "read only this region (default: PRIMARY_REGION, then SECONDARY_REGION when the primary does not answer or lacks the payment)")
	f := &finder{buckets: bucketFlag{}, s3Endpoints: endpointFlag{}}
	fs.Var(f.buckets, "bucket", "`REGION=NAME`: REGION's receipts bucket (default payment-docs-<REGION>-<ENVIRONMENT_SUFFIX>, as synthesized); repeatable")
	fs.Var(f.s3Endpoints, "s3-endpoint", "`REGION=URL`: S3 endpoint of REGION's bucket (VPC endpoint, local stand-in); repeatable")
	if _, ok := parseCommand(fs, args, ""); !ok {
		return exitProblem
	}
	// Checked before connecting: bad input reads nothing.
	if err := checkPaymentFlags(*owner, *id); err != nil {
		fmt.Fprintf(stderr, "find-payment: %v\n", strings.ReplaceAll(err.Error(), "\n", "\nfind-payment: "))
		return exitProblem
	}
	named := map[string]string{}
	if *only != "" {
		named["--region"] = *only
	}
	for r := range f.buckets {
		named["--bucket "+r+"=…"] = r
	}
	for r := range f.s3Endpoints {
		named["--s3-endpoint "+r+"=…"] = r
	}
	l, err := newLever(lf, named)
	if err != nil {
		fmt.Fprintf(stderr, "find-payment: %v\n", err)
		return exitProblem
	}
	f.lever = l
	regions := l.regions()
	if *only != "" {
		regions = []string{*only}
		l.avoidFlag = "--region"
	}
	ctx, cancel := context.WithTimeout(context.Background(), leverBudget)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return connectFailed(stderr, "find-payment", err)
	}

	key := payment.Key(*owner, *id)
	fmt.Fprintf(stdout, "payment %s of owner %q: item %s in table %s, receipt %s\n", *id, *owner, key, l.table, payment.ReceiptKey(key))
	results := f.find(ctx, regions, key)
	var answered []string
	for _, res := range results {
		label := res.region + " (" + l.role(res.region) + ")"
		switch {
		case res.err != nil:
			fmt.Fprintf(stdout, "%s: NO ANSWER: %v\n", label, res.err)
			continue
		case !res.ok:
			answered = append(answered, res.region)
			fmt.Fprintf(stdout, "%s: answered in %s: not in its replica; receipt: %s\n", label, res.took.Round(time.Millisecond), describeReceipt(res.receipt, f.bucket(res.region)))
			continue
		}
		fmt.Fprintf(stdout, "%s: answered in %s: found\n", label, res.took.Round(time.Millisecond))
		printPayment(stdout, res.rec, res.receipt, f.bucket(res.region))
		ok, verdict := f.verdict(res)
		fmt.Fprintln(stdout, verdict)
		if !ok {
			return exitFailed
		}
		return exitOK
	}
	if len(answered) == 0 {
		fmt.Fprintf(stdout, "unknown: no region could be read (%s); nothing is known of the payment\n", strings.Join(regions, ", "))
		return exitFailed
	}
	fmt.Fprintf(stdout, "not found in %s's replica: no payment %s of owner %q there. The key depends on every byte of --owner: "+
		"it must be the principal exactly as the authorizer logged it (\"principal\" in its \"authorized\" lines)\n", strings.Join(answered, " and "), *id, *owner)
	return exitFailed
}

func printPayment(w io.Writer, rec payment.Record, r receiptState, bucket string) {
	fmt.Fprintf(w, "  paymentId   %s (owner %q)\n", rec.PaymentID, rec.Owner)
	fmt.Fprintf(w, "  amount      %s (%d minor units)\n", payment.FormatAmount(rec.Amount, rec.Currency), rec.Amount)
	if rec.Reference != "" {
		fmt.Fprintf(w, "  reference   %q\n", rec.Reference)
	}
	st := string(rec.Status)
	if rec.ProcessedAt != "" {
		st += " at " + rec.ProcessedAt
	}
	fmt.Fprintf(w, "  status      %s\n", st)
	fmt.Fprintf(w, "  created     %s in %s\n", rec.CreatedAt, rec.Region)
	if rec.AcceptedIn != "" {
		fmt.Fprintf(w, "  accepted    %s (in the secondary's accept index: the primary's failback gate waits for this payment)\n", rec.AcceptedIn)
	}
	fmt.Fprintf(w, "  receipt     %s\n", describeReceipt(r, bucket))
}

// describeReceipt says what a bucket holds; the replication status is S3's
// x-amz-replication-status of that copy.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html
func describeReceipt(r receiptState, bucket string) string {
	switch {
	case r.err != nil:
		return "UNKNOWN: " + r.err.Error()
	case !r.exists:
		return "MISSING in " + bucket
	}
	s := "in " + bucket
	if !r.modified.IsZero() {
		s += ", written " + r.modified.UTC().Format(time.RFC3339)
	}
	switch r.replication {
	case s3types.ReplicationStatusReplica:
		return s + ", a replica of the other region's copy"
	case s3types.ReplicationStatusPending:
		return s + ", written here, not yet copied to the other region (PENDING)"
	case s3types.ReplicationStatusFailed:
		return s + ", written here, copying it to the other region FAILED (RUNBOOK.md, section 4)"
	case "":
		return s + ", no replication status"
	}
	return s + ", written here and copied to the other region (" + string(r.replication) + ")"
}

// verdict: is the payment whole in the region that answered, and if not, why.
func (f *finder) verdict(res found) (bool, string) {
	rec := res.rec
	if rec.Status != payment.StatusProcessed {
		return false, fmt.Sprintf("incomplete: %s, not %s: the function had not acknowledged it (201) when this was written, or is still finishing it; "+
			"a retry of the same request completes it", rec.Status, payment.StatusProcessed)
	}
	switch {
	case res.receipt.err != nil:
		return false, fmt.Sprintf("unknown: the item is in %s's replica, but whether its receipt is in %s is not known (above)", res.region, f.bucket(res.region))
	case !res.receipt.exists && rec.Region != res.region:
		return false, fmt.Sprintf("incomplete in %s: processed in %s, whose bucket got the receipt; it reaches %s by replication "+
			"(RTC: 99.99 %% within 15 min). Still missing after that: look in %s's bucket (--region %s) and RUNBOOK.md, section 4",
			res.region, rec.Region, f.bucket(res.region), rec.Region, rec.Region)
	case !res.receipt.exists:
		return false, fmt.Sprintf("incomplete: processed in %s but its receipt is not in %s, although the function stores the receipt before it marks the payment processed: "+
			"open a payments incident (a replay of the same request rewrites the receipt)", res.region, f.bucket(res.region))
	}
	return true, fmt.Sprintf("ok: processed, and its receipt is in %s (%s)", f.bucket(res.region), res.region)
}
