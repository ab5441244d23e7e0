package control_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

const primary, secondary = "us-east-1", "us-east-2"

var rules = control.GateRules{Tolerance: 5 * time.Second, MaxSkew: 2 * time.Second, Settle: 30 * time.Second,
	RemoteTimeout: 500 * time.Millisecond, PageSize: 100, MaxPages: 2}

// replicas are the primary's and the secondary's copies of the table, as two
// tables of the local DynamoDB; the tests replicate items between them by
// hand, in whatever order they need.
type replicas struct {
	t          *testing.T
	mine, peer control.Table
	now        time.Time
}

var tableSeq int

func newReplicas(t *testing.T) *replicas {
	t.Helper()
	servers := localaws.Shared(t)
	ctx := context.Background()
	tableSeq++
	r := &replicas{t: t, now: time.UnixMilli(1_800_000_000_000)}
	for i, tbl := range []*control.Table{&r.mine, &r.peer} {
		name := fmt.Sprintf("gate-%d-%d", tableSeq, i)
		if err := servers.CreateTable(ctx, name); err != nil {
			t.Fatal(err)
		}
		*tbl = control.Table{DB: servers.DynamoDBClient(), Name: name, Attempts: 1}
	}
	return r
}

func (r *replicas) gate() *control.Gate {
	return &control.Gate{Region: primary, Secondary: secondary, Local: r.mine, Remote: r.peer, Rules: rules,
		Now: func() time.Time { return r.now }}
}

// accept writes a payment as the secondary's function creates it: in its
// replica, with its accept-index entry stamped by the secondary's clock.
func (r *replicas) accept(key string, at time.Time) map[string]types.AttributeValue {
	r.t.Helper()
	in, seq := control.AcceptEntry(secondary, key, at)
	item := map[string]types.AttributeValue{
		control.KeyAttribute:       &types.AttributeValueMemberS{Value: key},
		control.AcceptInAttribute:  &types.AttributeValueMemberS{Value: in},
		control.AcceptSeqAttribute: &types.AttributeValueMemberS{Value: seq},
		"status":                   &types.AttributeValueMemberS{Value: "processed"},
	}
	if _, err := r.peer.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &r.peer.Name, Item: item}); err != nil {
		r.t.Fatal(err)
	}
	return item
}

// replicate delivers one item into the primary's replica.
func (r *replicas) replicate(item map[string]types.AttributeValue) {
	r.t.Helper()
	if _, err := r.mine.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &r.mine.Name, Item: item}); err != nil {
		r.t.Fatal(err)
	}
}

// TestGateWaitsForEveryPaymentWhateverTheOrder (issue 13, problem 2): items
// replicate each on its own. The secondary's probe heartbeats, its drain flags
// and every other control item may be current in the primary's replica while
// payments still lag; the gate reads the payments themselves, so it stays
// closed until the last one arrives, in any order of arrival.
func TestGateWaitsForEveryPaymentWhateverTheOrder(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			r := newReplicas(t)
			ctx := context.Background()
			// The outage: the secondary accepted 40 payments over 40 s.
			var items []map[string]types.AttributeValue
			for i := range 40 {
				items = append(items, r.accept(fmt.Sprintf("owner%02d.pay-%d", i%7, i), r.now.Add(time.Duration(i)*time.Second)))
			}
			// The control items are current: the probe's newest heartbeat is here.
			for _, tbl := range []control.Table{r.mine, r.peer} {
				if err := tbl.RecordObservation(ctx, primary, secondary, control.StateRecovering, r.now.Add(41*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			// A minute on: the secondary has stopped accepting (traffic moved
			// away from it, or the primary is being checked before taking it).
			r.now = r.now.Add(2 * time.Minute)
			g := r.gate()
			rng := rand.New(rand.NewPCG(seed, 13))
			rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
			for n, item := range items {
				if d := g.Evaluate(ctx); d.Verdict != control.VerdictBehind || !d.RefuseWrites || d.Missing != len(items)-n {
					t.Fatalf("%d of %d delivered: %s (%d missing, refuse writes %v): %s", n, len(items), d.Verdict, d.Missing, d.RefuseWrites, d.Reason)
				}
				r.replicate(item)
			}
			d := g.Evaluate(ctx)
			if d.Verdict != control.VerdictOpen || d.RefuseWrites {
				t.Fatalf("all delivered: %s: %s", d.Verdict, d.Reason)
			}
			// The watermark moved over what was verified: the next evaluation
			// reads nothing old again.
			if d = g.Evaluate(ctx); d.Checked != 0 || !d.Open() {
				t.Errorf("after the catch-up the gate still reads %d entries (%s)", d.Checked, d.Reason)
			}
		})
	}
}

// TestGateClosesOnTrafficNotOnProbeRounds (issue 13, problem 3): a brownout
// that the probe never counted (alternating rounds, a probe that is late,
// throttled or silent) leaves no observation at all; the secondary took
// payments all the same, and the gate closes on them.
func TestGateClosesOnTrafficNotOnProbeRounds(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	item := r.accept("owner.brownout-1", r.now)
	r.now = r.now.Add(time.Minute)
	if p, err := r.mine.Peer(ctx, primary); err != nil || p.Found {
		t.Fatalf("peer item %+v, %v: the test wants no probe observation at all", p, err)
	}
	if d := r.gate().Evaluate(ctx); d.Verdict != control.VerdictBehind {
		t.Fatalf("a payment the secondary accepted is missing, no probe round counted: %s: %s", d.Verdict, d.Reason)
	}
	r.replicate(item)
	if d := r.gate().Evaluate(ctx); !d.Open() {
		t.Fatalf("replicated: %s: %s", d.Verdict, d.Reason)
	}
}

// TestGateLiveTail: while the secondary still serves (its newest entry is
// recent), entries within Tolerance of its newest are replicating at the
// normal lag and do not hold the gate; everything older does. A secondary
// whose clock runs ahead cannot stretch the excuse over its backlog: the tail
// is measured from its own newest entry.
func TestGateLiveTail(t *testing.T) {
	for _, tc := range []struct {
		name      string
		skew      time.Duration // the secondary's clock minus the primary's
		since     time.Duration // the secondary's newest entry, this long before now
		olderLost bool          // an entry 30 s before the newest is missing too
		want      control.Verdict
	}{
		{"serving, only the tail missing", 0, 100 * time.Millisecond, false, control.VerdictOpen},
		{"serving, backlog missing too", 0, 100 * time.Millisecond, true, control.VerdictBehind},
		{"stopped serving a minute ago: nothing excused", 0, time.Minute, false, control.VerdictBehind},
		{"secondary's clock 10 min ahead, backlog missing", 10 * time.Minute, 0, true, control.VerdictBehind},
		{"secondary's clock 10 min ahead, only the tail missing", 10 * time.Minute, 0, false, control.VerdictOpen},
		{"secondary's clock 10 min behind: its tail looks old, nothing excused", -10 * time.Minute, 0, false, control.VerdictBehind},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplicas(t)
			ctx := context.Background()
			newest := r.now.Add(tc.skew - tc.since)
			r.replicate(r.accept("o.old-here", newest.Add(-40*time.Second)))
			older := r.accept("o.older", newest.Add(-30*time.Second))
			if !tc.olderLost {
				r.replicate(older)
			}
			r.accept("o.tail-1", newest.Add(-2*time.Second)) // not replicated yet
			r.accept("o.tail-2", newest)
			d := r.gate().Evaluate(ctx)
			if d.Verdict != tc.want {
				t.Errorf("%s (missing %d, excused %d): %s", d.Verdict, d.Missing, d.Excused, d.Reason)
			}
		})
	}
}

// TestGateWatermarkStaysBehindTheIndex: entries reach a GSI after their item
// (index propagation), so the watermark never passes now - Settle; an entry
// that shows up late with an earlier timestamp is still checked.
func TestGateWatermarkStaysBehindTheIndex(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	r.replicate(r.accept("o.recent", r.now.Add(-time.Second)))
	r.now = r.now.Add(rules.Tolerance + rules.MaxSkew + time.Second) // past the live tail
	if d := r.gate().Evaluate(ctx); !d.Open() || d.Checked != 1 {
		t.Fatalf("%s, %d checked: %s", d.Verdict, d.Checked, d.Reason)
	}
	// Late in the index, earlier on the secondary's clock, and not replicated.
	r.accept("o.late-in-the-index", r.now.Add(-20*time.Second))
	if d := r.gate().Evaluate(ctx); d.Verdict != control.VerdictBehind || d.Checked != 2 {
		t.Fatalf("a late index entry older than a verified one: %s, %d checked: %s", d.Verdict, d.Checked, d.Reason)
	}
}

// TestGateBacklogOverSeveralEvaluations: a backlog bigger than one
// evaluation reads (PageSize x MaxPages per shard) keeps the gate closed while
// the watermark works through it, then opens.
func TestGateBacklogOverSeveralEvaluations(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	for i := range 60 {
		r.replicate(r.accept(fmt.Sprintf("o.b%03d", i), r.now.Add(time.Duration(i)*time.Millisecond)))
	}
	r.now = r.now.Add(time.Hour)
	g := r.gate()
	g.Rules.PageSize, g.Rules.MaxPages = 3, 1
	evaluations, checked := 0, 0
	for {
		d := g.Evaluate(ctx)
		evaluations++
		checked += d.Checked
		if d.Open() {
			break
		}
		if d.Verdict != control.VerdictBehind || !d.RefuseWrites || d.Missing != 0 {
			t.Fatalf("evaluation %d: %s (%d missing): %s", evaluations, d.Verdict, d.Missing, d.Reason)
		}
		if evaluations > 60 {
			t.Fatal("the watermark does not advance")
		}
	}
	if evaluations < 60/(control.AcceptShards*3) || checked < 60 {
		t.Errorf("opened after %d evaluations and %d entries checked: every one of the 60 must be checked", evaluations, checked)
	}
	t.Logf("60 entries verified in %d evaluations (%d entry reads)", evaluations, checked)
}

// TestGateFailsClosedWhenTheSecondaryCannotBeRead (issue 13, problems 1 and
// 4): a secondary replica that is missing, or accepts connections and never
// answers (a region going away, a partition), closes the gate within
// RemoteTimeout; the primary's own replica's copies are not evidence. It does
// not refuse writes: a dead secondary looks the same, and then Route 53
// sends everything to the primary.
func TestGateFailsClosedWhenTheSecondaryCannotBeRead(t *testing.T) {
	servers := localaws.Shared(t)
	hung := control.Table{DB: dynamodb.NewFromConfig(servers.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(localaws.Hanging(t))
	}), Name: "payments", Attempts: 1}
	for _, tc := range []struct {
		name   string
		remote func(r *replicas) control.Table
	}{
		{"table missing", func(r *replicas) control.Table {
			return control.Table{DB: r.peer.DB, Name: "no-such-table", Attempts: 1}
		}},
		{"endpoint hangs", func(*replicas) control.Table { return hung }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplicas(t)
			g := r.gate()
			g.Remote = tc.remote(r)
			start := time.Now()
			d := g.Evaluate(context.Background())
			if took := time.Since(start); took > rules.RemoteTimeout+300*time.Millisecond {
				t.Errorf("took %v, want at most RemoteTimeout %v", took, rules.RemoteTimeout)
			}
			if d.Verdict != control.VerdictUnknown || d.Open() || d.RefuseWrites {
				t.Errorf("%s open=%v refuse writes=%v: %s", d.Verdict, d.Open(), d.RefuseWrites, d.Reason)
			}
		})
	}
}

// TestOverrideValidation: every problem at once, nothing written.
func TestOverrideValidation(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	err := r.mine.SetOverride(ctx, control.Override{Region: primary, State: "ajar"}, r.now, 48*time.Hour)
	for _, want := range []string{`state "ajar": want open or closed`, "duration 48h0m0s: want more than 0 and at most 24h0m0s", "a reason is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("SetOverride error %v does not say %q", err, want)
		}
	}
	if o, err := r.mine.Override(ctx, primary); err != nil || o.AtMs != 0 {
		t.Errorf("after a refused override the item holds %+v, %v", o, err)
	}
}

// BenchmarkGateEvaluate measures what one /health costs the primary when the
// secondary accepted nothing new (steady state) and while it verifies a
// backlog of 100 replicated payments each time (the watermark cannot move:
// they are newer than Settle), against the local DynamoDB: DynamoDB calls and
// latency per evaluation. In AWS the secondary's calls cross regions
// (us-east-1 to us-east-2, tens of milliseconds); the shards are read in
// parallel.
func BenchmarkGateEvaluate(b *testing.B) {
	for _, bc := range []struct {
		name    string
		backlog int
	}{{"steady", 0}, {"verifying 100", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			servers := localaws.Shared(b)
			ctx := context.Background()
			tableSeq++
			mine := control.Table{DB: servers.DynamoDBClient(), Name: fmt.Sprintf("bench-%d-0", tableSeq), Attempts: 1}
			peer := control.Table{DB: servers.DynamoDBClient(), Name: fmt.Sprintf("bench-%d-1", tableSeq), Attempts: 1}
			for _, tbl := range []control.Table{mine, peer} {
				if err := servers.CreateTable(ctx, tbl.Name); err != nil {
					b.Fatal(err)
				}
			}
			now := time.Now()
			for i := range bc.backlog {
				key := fmt.Sprintf("owner.bench-%d", i)
				in, seq := control.AcceptEntry(secondary, key, now.Add(-20*time.Second))
				item := map[string]types.AttributeValue{
					control.KeyAttribute:       &types.AttributeValueMemberS{Value: key},
					control.AcceptInAttribute:  &types.AttributeValueMemberS{Value: in},
					control.AcceptSeqAttribute: &types.AttributeValueMemberS{Value: seq},
				}
				for _, tbl := range []control.Table{mine, peer} {
					if _, err := tbl.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tbl.Name, Item: item}); err != nil {
						b.Fatal(err)
					}
				}
			}
			g := &control.Gate{Region: primary, Secondary: secondary, Local: mine, Remote: peer, Rules: rules}
			calls := 0
			b.ResetTimer()
			for b.Loop() {
				d := g.Evaluate(ctx)
				if !d.Open() {
					b.Fatalf("%s: %s", d.Verdict, d.Reason)
				}
				calls += d.Calls
			}
			b.ReportMetric(float64(calls)/float64(b.N), "dynamodb-calls/op")
		})
	}
}
