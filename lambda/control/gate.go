package control

// The failback gate (issue 13): evidence about payments, not about probe rounds.
//
// Route 53 answers SECONDARY only while PRIMARY is unhealthy, and PRIMARY again
// whenever both are unhealthy, so a gate on the secondary can only turn a failover
// into an outage: only the primary's /health runs it. The primary may take traffic
// back only when every payment the secondary accepted is readable in the primary's
// replica. DynamoDB global tables replicate each item on its own, with no order
// across items (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html),
// so the evidence is the payments themselves:
//
//   - every payment the secondary creates carries acceptedIn = "<secondary>#<shard>"
//     and acceptedSeq = "<13-digit unix ms>#<table key>", which a sparse global
//     secondary index (AcceptIndex, KEYS_ONLY) lists by shard and time. Items
//     without the attributes (every payment the primary creates, every control
//     item) are not in the index, so it costs nothing while the primary serves
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-indexes-general-sparse-indexes.html);
//   - the primary's gate Queries the secondary's replica of that index (across
//     regions, bounded by RemoteTimeout), for entries after its watermark, and
//     checks that each key is in its own replica (BatchGetItem, consistent read);
//   - the watermark (GateKey, written only by the primary's function) advances
//     over verified entries older than Settle, so a /health reads only what is
//     new; a GSI is eventually consistent with its table
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes),
//     and Settle keeps an entry that reaches the index late from being skipped.
//
// The gate closes on evidence of traffic (the secondary accepted a payment that
// is not here), whatever any probe counted, and fails closed when the secondary
// cannot be read: Route 53 still answers with the primary when both regions are
// unhealthy. An operator override (OverrideKey) opens or closes it for a while,
// written through either region.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The accept index: its name, attributes and shards. Sharding spreads a busy
// secondary's index writes over AcceptShards partition key values (one value
// takes at most 1,000 write units a second:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
const (
	AcceptIndex        = "accepted"
	AcceptInAttribute  = "acceptedIn"
	AcceptSeqAttribute = "acceptedSeq"
	AcceptShards       = 4
)

// Roles of a region in the pair (DR_ROLE).
const (
	RolePrimary   = "primary"
	RoleSecondary = "secondary"
)

// AcceptEntry is what a payment created in region at at carries in the accept
// index: its partition (region and shard) and its sort key, which orders
// entries by time and is unique (it ends with the table key).
func AcceptEntry(region, key string, at time.Time) (in, seq string) {
	h := fnv.New32a()
	h.Write([]byte(key))
	return acceptPartition(region, int(h.Sum32()%AcceptShards)), fmt.Sprintf("%013d#%s", at.UnixMilli(), key)
}

func acceptPartition(region string, shard int) string { return fmt.Sprintf("%s#%d", region, shard) }

// seqFloor sorts before every acceptedSeq: the watermark of a shard never
// verified (a key condition cannot compare with an empty string).
const seqFloor = "0"

func parseSeq(seq string) (ms int64, key string, ok bool) {
	t, k, found := strings.Cut(seq, "#")
	n, err := strconv.ParseInt(t, 10, 64)
	return n, k, found && err == nil && k != ""
}

// GateKey is the primary's own record of how far it has verified the
// secondary's accept index; OverrideKey the operator's override of its gate.
func GateKey(region string) string     { return KeyPrefix + "gate#" + region }
func OverrideKey(region string) string { return KeyPrefix + "override#" + region }

// Override states.
const (
	OverrideOpen   = "open"
	OverrideClosed = "closed"
)

// MaxOverride is the longest an override may last: long enough for an outage
// night, short enough that a forgotten one ends by itself.
const MaxOverride = 24 * time.Hour

// Override is an operator's decision about Region's gate until UntilMs.
type Override struct {
	Region  string `dynamodbav:"-"`
	State   string `dynamodbav:"state"`
	Reason  string `dynamodbav:"reason"`
	By      string `dynamodbav:"by"`
	AtMs    int64  `dynamodbav:"at"`
	UntilMs int64  `dynamodbav:"until"`
}

// Active reports whether the override decides the gate at now.
func (o Override) Active(now time.Time) bool {
	return (o.State == OverrideOpen || o.State == OverrideClosed) && o.AtMs != 0 && now.UnixMilli() < o.UntilMs
}

func (o Override) String() string {
	return fmt.Sprintf("%s by %s until %s (set %s): %q", o.State, o.By, stamp(o.UntilMs), stamp(o.AtMs), o.Reason)
}

// SetOverride writes o for region o.Region, from now for d. Only the DR role
// may write it (IAM); last writer wins between the two regions' copies, and
// the gate reads both.
func (t Table) SetOverride(ctx context.Context, o Override, now time.Time, d time.Duration) error {
	if err := t.ValidateOverride(o, d); err != nil {
		return err
	}
	o.AtMs, o.UntilMs = now.UnixMilli(), now.Add(d).UnixMilli()
	return t.put(ctx, OverrideKey(o.Region), o)
}

// ValidateOverride reports every problem with o and d at once.
func (Table) ValidateOverride(o Override, d time.Duration) error {
	var errs []error
	if o.Region == "" {
		errs = append(errs, errors.New("override: no region"))
	}
	if o.State != OverrideOpen && o.State != OverrideClosed {
		errs = append(errs, fmt.Errorf("override: state %q: want %s or %s", o.State, OverrideOpen, OverrideClosed))
	}
	if d <= 0 || d > MaxOverride {
		errs = append(errs, fmt.Errorf("override: duration %v: want more than 0 and at most %v", d, MaxOverride))
	}
	if strings.TrimSpace(o.Reason) == "" {
		errs = append(errs, errors.New("override: a reason is required: it is shown in /status and logged"))
	}
	return errors.Join(errs...)
}

// Override reads region's gate override in this replica (zero when none).
func (t Table) Override(ctx context.Context, region string) (Override, error) {
	var o Override
	_, err := t.get(ctx, OverrideKey(region), &o)
	o.Region = region
	return o, err
}

func (t Table) put(ctx context.Context, k string, v any) error {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return err
	}
	item[KeyAttribute] = &types.AttributeValueMemberS{Value: k}
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.Name, Item: item}, t.opts()...); err != nil {
		return fmt.Errorf("dynamodb PutItem %s: %w", k, err)
	}
	return nil
}

// Verdict is the kind of a gate decision.
type Verdict string

const (
	// VerdictOpen: every payment the secondary accepted (but its live tail)
	// is in this replica.
	VerdictOpen Verdict = "open"
	// VerdictBehind: the secondary accepted payments that are not here yet.
	VerdictBehind Verdict = "behind"
	// VerdictUnknown: the secondary's replica could not be read in time.
	VerdictUnknown Verdict = "unknown"
	// VerdictOverrideOpen, VerdictOverrideClosed: an operator decided.
	VerdictOverrideOpen   Verdict = "override-open"
	VerdictOverrideClosed Verdict = "override-closed"
)

// Decision is one evaluation of the gate.
type Decision struct {
	Verdict Verdict
	Reason  string
	// RefuseWrites: the primary must not accept payment writes now. Set when
	// it is behind (known missing payments: a replay would create a second
	// payment here) or closed by an operator; not when it merely cannot read
	// the secondary, which is also how a dead secondary looks, and then Route
	// 53 sends all traffic here.
	RefuseWrites bool
	Override     *Override
	Checked      int // index entries compared with this replica
	Missing      int // of those, not here and not excused
	Excused      int // missing, but in the secondary's live tail
	Calls        int // DynamoDB calls made
	At           time.Time
}

// Open reports whether the region may take traffic.
func (d Decision) Open() bool { return d.Verdict == VerdictOpen || d.Verdict == VerdictOverrideOpen }

// GateRules bound the evaluation and say how much of the secondary's newest
// work may still be replicating when the primary takes traffic back.
type GateRules struct {
	// Tolerance: entries at most this much older than the secondary's newest
	// one, while that one is recent, are its live tail: the secondary still
	// serves, and they replicate at the normal lag (typically within a
	// second: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_HowItWorks.html).
	// They do not hold the gate; GETs fall back to the secondary's replica for them.
	Tolerance time.Duration
	// MaxSkew is allowed between the two regions' clocks when judging whether
	// the secondary's newest entry is recent.
	MaxSkew time.Duration
	// Settle: the watermark stays this far behind now (index propagation).
	Settle time.Duration
	// RemoteTimeout bounds every read of the secondary's replica together.
	RemoteTimeout time.Duration
	// PageSize and MaxPages bound one evaluation's index reads per shard; a
	// larger backlog is verified over several evaluations (the watermark keeps
	// the progress).
	PageSize int32
	MaxPages int
}

// DefaultGateRules fit /health's 1.2 s budget and Route 53's 2 s.
var DefaultGateRules = GateRules{
	Tolerance: 5 * time.Second, MaxSkew: 2 * time.Second, Settle: 30 * time.Second,
	RemoteTimeout: 500 * time.Millisecond, PageSize: 500, MaxPages: 4,
}

// Gate evaluates Region's (the primary's) failback gate against Secondary.
type Gate struct {
	Region, Secondary string
	Local, Remote     Table // this region's replica, the secondary's
	Rules             GateRules
	Now               func() time.Time // nil: time.Now
	// ReadOnly: never move the watermark (operator tools: only the primary's
	// function writes GateKey).
	ReadOnly bool

	mu     sync.Mutex
	cached Decision // the last decision, for Writes
}

// ErrGateClosed is what the /health check fails with.
var ErrGateClosed = errors.New("failback gate closed")

// Check is the /health check of the gate.
func (g *Gate) Check(ctx context.Context) error {
	d := g.Evaluate(ctx)
	if !d.Open() {
		return fmt.Errorf("%w (%s): %s", ErrGateClosed, d.Verdict, d.Reason)
	}
	return nil
}

// Writes returns a decision at most maxAge old, evaluating again when the
// cached one is older: what a payment write consults.
func (g *Gate) Writes(ctx context.Context, maxAge time.Duration) Decision {
	g.mu.Lock()
	d := g.cached
	g.mu.Unlock()
	if !d.At.IsZero() && g.now().Sub(d.At) < maxAge {
		return d
	}
	return g.Evaluate(ctx)
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gate) rules() GateRules {
	r := g.Rules
	if r == (GateRules{}) {
		r = DefaultGateRules
	}
	return r
}

func watermarkAttr(shard int) string { return fmt.Sprintf("wm%d", shard) }

// Evaluate decides the gate now and remembers the decision for Writes.
func (g *Gate) Evaluate(ctx context.Context) Decision {
	d := g.evaluate(ctx)
	g.mu.Lock()
	g.cached = d
	g.mu.Unlock()
	return d
}

func (g *Gate) evaluate(ctx context.Context) Decision {
	r := g.rules()
	now := g.now()
	d := Decision{At: now}
	rctx, cancel := context.WithTimeout(ctx, r.RemoteTimeout)
	defer cancel()

	// The remote override copy is read beside the local items: an override
	// written through the secondary while replication is down is still seen.
	var remoteOverride Override
	var remoteOverrideErr error
	var wg sync.WaitGroup
	wg.Go(func() { remoteOverride, remoteOverrideErr = g.Remote.Override(rctx, g.Region) })

	local, err := g.localItems(ctx)
	d.Calls++
	wg.Wait()
	d.Calls++
	if err != nil {
		d.Verdict, d.Reason = VerdictUnknown, fmt.Sprintf("cannot read this replica's gate items: %v", err)
		return d
	}
	if o, ok := newestOverride(now, local.override, remoteOverride, remoteOverrideErr); ok {
		d.Override = &o
		if o.State == OverrideOpen {
			d.Verdict, d.Reason = VerdictOverrideOpen, "operator override: "+o.String()
		} else {
			d.Verdict, d.Reason, d.RefuseWrites = VerdictOverrideClosed, "operator override: "+o.String(), true
		}
		return d
	}

	entries, calls, complete, err := g.readIndex(rctx, local.watermarks, r)
	d.Calls += calls
	if err != nil {
		d.Verdict = VerdictUnknown
		d.Reason = fmt.Sprintf("cannot read %s's accept index within %v (%v): failing closed; Route 53 still answers with %s while %s is unhealthy too",
			g.Secondary, r.RemoteTimeout, err, g.Region, g.Secondary)
		return d
	}
	present, calls, err := g.presentHere(ctx, entries)
	d.Calls += calls
	if err != nil {
		d.Verdict, d.Reason = VerdictUnknown, fmt.Sprintf("cannot check this replica for %s's payments: %v", g.Secondary, err)
		return d
	}

	var newest int64
	for _, e := range entries {
		newest = max(newest, e.ms)
	}
	live := newest > now.Add(-r.Tolerance-r.MaxSkew).UnixMilli()
	advance := map[int]string{}
	blocked := map[int]bool{}
	var firstMissing *acceptEntry
	for i := range entries {
		e := &entries[i]
		d.Checked++
		if present[e.key] {
			if !blocked[e.shard] && e.ms <= now.Add(-r.Settle).UnixMilli() {
				advance[e.shard] = e.seq
			}
			continue
		}
		blocked[e.shard] = true
		if live && e.ms > newest-r.Tolerance.Milliseconds() {
			d.Excused++
			continue
		}
		d.Missing++
		if firstMissing == nil || e.ms < firstMissing.ms {
			firstMissing = e
		}
	}
	if !g.ReadOnly {
		d.Calls += g.saveWatermarks(ctx, local.watermarks, advance)
	}

	switch {
	case d.Missing > 0:
		d.Verdict, d.RefuseWrites = VerdictBehind, true
		d.Reason = fmt.Sprintf("%d payment(s) %s accepted are not in this replica yet (oldest accepted %s: %s); %d checked",
			d.Missing, g.Secondary, stamp(firstMissing.ms), firstMissing.key, d.Checked)
	case !complete:
		d.Verdict, d.RefuseWrites = VerdictBehind, true
		d.Reason = fmt.Sprintf("%s accepted more payments than one evaluation reads; %d verified here so far, the rest on the next checks", g.Secondary, d.Checked)
	default:
		d.Verdict = VerdictOpen
		d.Reason = fmt.Sprintf("every payment %s accepted after the watermark is here (%d checked", g.Secondary, d.Checked)
		if d.Excused > 0 {
			d.Reason += fmt.Sprintf("; %d of its last %v still replicating", d.Excused, r.Tolerance)
		}
		d.Reason += ")"
	}
	return d
}

func newestOverride(now time.Time, local, remote Override, remoteErr error) (Override, bool) {
	var best Override
	for _, o := range []Override{local, remote} {
		if o.Active(now) && o.AtMs > best.AtMs {
			best = o
		}
	}
	if remoteErr != nil && !local.Active(now) {
		return Override{}, false
	}
	return best, best.AtMs != 0
}

type localGate struct {
	watermarks [AcceptShards]string
	override   Override
}

// localItems reads the watermark and the override in this replica, in one call.
func (g *Gate) localItems(ctx context.Context) (localGate, error) {
	var out localGate
	keys := []map[string]types.AttributeValue{key(GateKey(g.Region)), key(OverrideKey(g.Region))}
	got, err := g.Local.batchGet(ctx, keys, "")
	if err != nil {
		return out, err
	}
	if item, ok := got[GateKey(g.Region)]; ok {
		for s := range AcceptShards {
			if v, ok := item[watermarkAttr(s)].(*types.AttributeValueMemberS); ok {
				out.watermarks[s] = v.Value
			}
		}
	}
	if item, ok := got[OverrideKey(g.Region)]; ok {
		if err := attributevalue.UnmarshalMap(item, &out.override); err != nil {
			return out, fmt.Errorf("item %s: %w", OverrideKey(g.Region), err)
		}
		out.override.Region = g.Region
	}
	return out, nil
}

type acceptEntry struct {
	shard int
	seq   string
	ms    int64
	key   string
}

// readIndex reads the secondary's accept index after each shard's watermark,
// the shards concurrently. complete is false when a shard had more than
// MaxPages pages.
func (g *Gate) readIndex(ctx context.Context, wm [AcceptShards]string, r GateRules) ([]acceptEntry, int, bool, error) {
	type shardRead struct {
		entries  []acceptEntry
		calls    int
		complete bool
		err      error
	}
	reads := make([]shardRead, AcceptShards)
	var wg sync.WaitGroup
	for s := range AcceptShards {
		wg.Go(func() {
			in := acceptPartition(g.Secondary, s)
			after := wm[s]
			if after == "" {
				after = seqFloor
			}
			var start map[string]types.AttributeValue
			for page := 0; page < r.MaxPages; page++ {
				out, err := g.Remote.DB.Query(ctx, &dynamodb.QueryInput{
					TableName:              &g.Remote.Name,
					IndexName:              aws.String(AcceptIndex),
					KeyConditionExpression: aws.String("#in = :in AND #seq > :wm"),
					ExpressionAttributeNames: map[string]string{
						"#in": AcceptInAttribute, "#seq": AcceptSeqAttribute,
					},
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":in": &types.AttributeValueMemberS{Value: in},
						":wm": &types.AttributeValueMemberS{Value: after},
					},
					Limit:             aws.Int32(r.PageSize),
					ExclusiveStartKey: start,
				}, g.Remote.opts()...)
				reads[s].calls++
				if err != nil {
					reads[s].err = fmt.Errorf("dynamodb Query %s: %w", in, err)
					return
				}
				for _, item := range out.Items {
					v, ok := item[AcceptSeqAttribute].(*types.AttributeValueMemberS)
					if !ok {
						continue
					}
					ms, k, ok := parseSeq(v.Value)
					if !ok {
						continue
					}
					reads[s].entries = append(reads[s].entries, acceptEntry{shard: s, seq: v.Value, ms: ms, key: k})
				}
				if len(out.LastEvaluatedKey) == 0 {
					reads[s].complete = true
					return
				}
				start = out.LastEvaluatedKey
			}
		})
	}
	wg.Wait()
	var all []acceptEntry
	calls, complete := 0, true
	var errs []error
	for _, rd := range reads {
		all = append(all, rd.entries...)
		calls += rd.calls
		complete = complete && rd.complete
		if rd.err != nil {
			errs = append(errs, rd.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, calls, false, err
	}
	// In order within each shard (the index's order), shards one after another.
	slices.SortStableFunc(all, func(a, b acceptEntry) int {
		if a.shard != b.shard {
			return a.shard - b.shard
		}
		return strings.Compare(a.seq, b.seq)
	})
	return all, calls, complete, nil
}

// batchKeys is BatchGetItem's limit per request.
const batchKeys = 100

// presentHere reports which entries' payments are in this replica.
func (g *Gate) presentHere(ctx context.Context, entries []acceptEntry) (map[string]bool, int, error) {
	present := map[string]bool{}
	calls := 0
	for i := 0; i < len(entries); i += batchKeys {
		var keys []map[string]types.AttributeValue
		for _, e := range entries[i:min(i+batchKeys, len(entries))] {
			keys = append(keys, key(e.key))
		}
		got, err := g.Local.batchGet(ctx, keys, KeyAttribute)
		calls++
		if err != nil {
			return nil, calls, err
		}
		for k := range got {
			present[k] = true
		}
	}
	return present, calls, nil
}

// batchGet reads keys with consistent reads; unprocessed keys are retried
// while ctx lasts (a key never read counts as absent only if ctx ends, which
// is an error).
func (t Table) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string) (map[string]map[string]types.AttributeValue, error) {
	out := map[string]map[string]types.AttributeValue{}
	ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}
	if projection != "" {
		ka.ProjectionExpression = aws.String(projection)
	}
	req := map[string]types.KeysAndAttributes{t.Name: ka}
	for len(req) > 0 {
		resp, err := t.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req}, t.opts()...)
		if err != nil {
			return nil, fmt.Errorf("dynamodb BatchGetItem: %w", err)
		}
		for _, item := range resp.Responses[t.Name] {
			if v, ok := item[KeyAttribute].(*types.AttributeValueMemberS); ok {
				out[v.Value] = item
			}
		}
		req = resp.UnprocessedKeys
		if len(req) > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("dynamodb BatchGetItem: keys left unprocessed: %w", ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return out, nil
}

// saveWatermarks moves each shard's watermark forward (never back: the write
// is conditional, and instances evaluate concurrently). A failed write only
// costs rereading entries next time.
func (g *Gate) saveWatermarks(ctx context.Context, old [AcceptShards]string, advance map[int]string) int {
	calls := 0
	for s, seq := range advance {
		if seq <= old[s] {
			continue
		}
		a := watermarkAttr(s)
		_, _ = g.Local.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &g.Local.Name,
			Key:                       key(GateKey(g.Region)),
			UpdateExpression:          aws.String("SET #w = :w"),
			ConditionExpression:       aws.String("attribute_not_exists(#w) OR #w < :w"),
			ExpressionAttributeNames:  map[string]string{"#w": a},
			ExpressionAttributeValues: map[string]types.AttributeValue{":w": &types.AttributeValueMemberS{Value: seq}},
		}, g.Local.opts()...)
		calls++
	}
	return calls
}

// GateStatus is what /status shows of the gate: no payment keys (the route is
// open to anyone), only the verdict and an override in force.
type GateStatus struct {
	Verdict  Verdict `json:"verdict"`
	Override string  `json:"override,omitempty"`
	Until    string  `json:"until,omitempty"`
	By       string  `json:"by,omitempty"`
	Reason   string  `json:"reason,omitempty"`
}

// Status is the last decision as /status shows it; nil before the first.
func (g *Gate) Status() any {
	g.mu.Lock()
	d := g.cached
	g.mu.Unlock()
	if d.At.IsZero() {
		return nil
	}
	s := GateStatus{Verdict: d.Verdict}
	if o := d.Override; o != nil {
		s.Override, s.Until, s.By, s.Reason = o.State, stamp(o.UntilMs), o.By, o.Reason
	}
	return s
}
