// Package control holds the data-plane levers of the failover: a drain flag per
// region and the other region's observations of it, kept as reserved items in
// the payments global table.
//
// Route 53's control plane (creating or updating health checks and records) is
// served from us-east-1, the region whose loss this deployment exists for, so
// no lever may depend on it. A region's /health reads these items from its own
// replica; Route 53's health checkers (data plane) act on the answer. Writing
// an item needs only DynamoDB in the surviving region.
//
// Items (key attribute paymentId; payment ids accept only A-Z a-z 0-9 _ -, so
// a key with '#' can never be written or read through the payment API):
//
//	control#drain#<region>  drained, reason, by, at     operators (go run . drain|undrain)
//	control#peer#<region>   observer, state,            the other region's peer probe only
//	                        heartbeatAt, lastDownAt,
//	                        unknownAt
//
// In control#peer#<region>: state and heartbeatAt are the observer's newest
// round that saw the region (up, recovering, drained, down); lastDownAt is the
// newest round that counted it out of service, which closes its failback gate:
// a round that saw it drained, or down with the previous recorded round down
// or drained too (at most MaxRoundGap earlier); unknownAt is the newest round
// whose requests were refused (4xx), which changes nothing else.
//
// Each item has a single writer, because a global table resolves concurrent
// writes to one item from two regions by keeping the last one whole.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KeyAttribute is the table's hash key.
const KeyAttribute = "paymentId"

// KeyPrefix starts every control item's key.
const KeyPrefix = "control#"

// DrainKey is the key of region's drain flag.
func DrainKey(region string) string { return KeyPrefix + "drain#" + region }

// PeerKey is the key of the other region's observations of region.
func PeerKey(region string) string { return KeyPrefix + "peer#" + region }

// IsReserved reports whether key belongs to an item that is not a payment.
func IsReserved(key string) bool { return strings.Contains(key, "#") }

// Names of the /health checks this package backs; they appear in the body's
// "failing" list, which the peer probe reads (Classify).
const (
	CheckDrained      = "drained"
	CheckFailbackGate = "failback-gate"
)

// State is what a peer probe saw of a region in one round.
type State string

const (
	// StateUp: /health answered 200 with "status":"ok".
	StateUp State = "up"
	// StateRecovering: /health answered 503 and the failback gate is the only
	// failing check: the region works and waits for replication to catch up.
	StateRecovering State = "recovering"
	// StateDrained: an operator took the region out of service.
	StateDrained State = "drained"
	// StateDown: the region cannot serve: no answer at all (connection refused
	// or reset, timeout, TLS failure: how the loss of a whole region shows), a
	// 5xx from API Gateway (the function behind /status is the one behind
	// /health, so Route 53 sees the failure too), a failing dependency, or an
	// answer that is not a /health answer (a 2xx/3xx without our body).
	StateDown State = "down"
	// StateUnknown: the front door refused the probe's own request with a
	// 4xx (API Gateway's 429 throttle, a 403 from the WAF or a missing route):
	// it answered, so the region is reachable, but the answer says nothing
	// about whether it serves. Anyone can provoke these by flooding the open
	// route, so they must neither close the region's failback gate (a forced
	// failover on demand) nor open it; the round is recorded as unknownAt only,
	// and its metric is 0, so a probe that keeps getting refused pages.
	StateUnknown State = "unknown"
)

// OutOfService reports whether traffic was (or should be) away from a region
// in this state, so that writes accumulate in the other region.
func (s State) OutOfService() bool { return s == StateDown || s == StateDrained }

// Observed reports whether the round saw the region at all; an unknown round
// is no evidence either way.
func (s State) Observed() bool { return s != StateUnknown && s != "" }

// Classify reads a /health (or /status: the same answer) response. A 4xx is
// a refusal of this request, not a statement about the region: unknown,
// whatever its body. Otherwise only the failing list of the function's own
// JSON body is trusted beyond the status code: a 200 without "status":"ok" is
// down, as Route 53's string match would see it, and API Gateway's own
// {"message":...} with a 5xx is down.
func Classify(statusCode int, body []byte) State {
	if statusCode >= 400 && statusCode < 500 {
		return StateUnknown
	}
	var h struct {
		Status  string   `json:"status"`
		Failing []string `json:"failing"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return StateDown
	}
	switch {
	case statusCode == http.StatusOK && h.Status == "ok":
		return StateUp
	case statusCode != http.StatusServiceUnavailable:
		return StateDown
	case slices.Contains(h.Failing, CheckDrained):
		return StateDrained
	case len(h.Failing) == 1 && h.Failing[0] == CheckFailbackGate:
		return StateRecovering
	}
	return StateDown
}

// Drain is a region's drain flag.
type Drain struct {
	Region  string `dynamodbav:"-"`
	Drained bool   `dynamodbav:"drained"`
	Reason  string `dynamodbav:"reason,omitempty"`
	By      string `dynamodbav:"by,omitempty"`
	// AtMs is when the flag was last set, in Unix milliseconds; 0: never.
	AtMs int64 `dynamodbav:"at,omitempty"`
}

// Peer is what the other region's probe last wrote about Region.
type Peer struct {
	Region   string `dynamodbav:"-"`
	Found    bool   `dynamodbav:"-"`
	Observer string `dynamodbav:"observer"`
	State    State  `dynamodbav:"state"`
	// HeartbeatAtMs is the observer's latest round, in Unix milliseconds.
	HeartbeatAtMs int64 `dynamodbav:"heartbeatAt"`
	// LastDownAtMs is the latest round that counted Region out of service
	// (drained, or down twice in a row; RecordObservation); 0: never. State
	// down with HeartbeatAtMs > LastDownAtMs is a first down round, not counted.
	LastDownAtMs int64 `dynamodbav:"lastDownAt,omitempty"`
	// UnknownAtMs is the latest round whose requests were refused (StateUnknown);
	// such rounds leave State, HeartbeatAtMs and LastDownAtMs as they were.
	UnknownAtMs int64 `dynamodbav:"unknownAt,omitempty"`
}

// Gate is the failback gate's verdict with its reason, for /health logs,
// `go run . status` and `go run . failback-check`.
type Gate struct {
	Open   bool
	Reason string
}

// Gate decides whether Region may take traffic, given this copy of the item.
//
// The observer writes lastDownAt = heartbeatAt = now in a round that counts
// Region out of service (drained, or down for the second recorded round in a
// row: RecordObservation), and only heartbeatAt = now otherwise. A copy whose
// heartbeat is newer than its lastDownAt has therefore come through
// replication from the observer after the observer stopped seeing Region out
// of service: what the observer accepted while it served instead of Region
// was written before that heartbeat. DynamoDB does not promise to replicate
// items in write order, so this is evidence, not proof; the conflict watch
// reports a payment that still arrives late and is overwritten.
func (p Peer) Gate() Gate {
	switch {
	case !p.Found || p.LastDownAtMs == 0:
		return Gate{true, "no record that " + p.observerName() + " ever saw " + p.Region + " out of service"}
	case p.HeartbeatAtMs > p.LastDownAtMs:
		return Gate{true, fmt.Sprintf("%s's heartbeat of %s, written after it last saw %s out of service (%s), has replicated here",
			p.Observer, stamp(p.HeartbeatAtMs), p.Region, stamp(p.LastDownAtMs))}
	}
	return Gate{false, fmt.Sprintf("%s saw %s out of service at %s; waiting for a later heartbeat from %s to replicate here (newest here: %s), so that the payments it took meanwhile are here first",
		p.Observer, p.Region, stamp(p.LastDownAtMs), p.Observer, stamp(p.HeartbeatAtMs))}
}

// CatchUp says how close to the observer a recovering region's replica must
// be before it takes traffic back.
type CatchUp struct {
	// Tolerance: the copy's heartbeat may be at most this much older than the
	// observer's newest one. Two probe rounds: what the observer accepted in
	// that time replicates while Route 53 counts the region's healthy checks.
	Tolerance time.Duration
	// Window: the tolerance applies while the observer's latest
	// out-of-service observation is at most this old (by its own clock), so
	// that replication lag long after an outage does not fail a healthy region.
	Window time.Duration
}

// DefaultCatchUp fits the deployed probe (rounds 10 s apart) and Route 53's
// default 3 × 10 s to mark a region healthy again.
var DefaultCatchUp = CatchUp{Tolerance: 20 * time.Second, Window: 10 * time.Minute}

// GateAgainst decides with the observer's own copy of the item as well, read
// from the observer's replica. Gate alone cannot see an observation that never
// replicated here: a region that returns while replication into it is still
// stalled holds its copy from before the outage, which reads open (the local
// game day's "replication last" scenario). And a heartbeat written just after
// the observation proves only what was written before it: while the outage is
// recent, the copy must also be within c.Tolerance of the observer's newest
// heartbeat, i.e. the backlog of the outage has been worked through.
func (p Peer) GateAgainst(observed Peer, c CatchUp) Gate {
	if !observed.Found || observed.LastDownAtMs == 0 {
		return p.Gate()
	}
	where := fmt.Sprintf("read in %s's replica", observed.Observer)
	if p.HeartbeatAtMs <= observed.LastDownAtMs {
		return Gate{false, fmt.Sprintf("%s saw %s out of service at %s (%s); no heartbeat it wrote after that has replicated here yet (newest here: %s), so the payments it took meanwhile may be missing",
			observed.Observer, p.Region, stamp(observed.LastDownAtMs), where, stamp(p.HeartbeatAtMs))}
	}
	behind := time.Duration(observed.HeartbeatAtMs-p.HeartbeatAtMs) * time.Millisecond
	recent := time.Duration(observed.HeartbeatAtMs-observed.LastDownAtMs)*time.Millisecond <= c.Window
	if recent && behind > c.Tolerance {
		return Gate{false, fmt.Sprintf("%s saw %s out of service at %s (%s); replication from it is still %s behind here (more than %s): waiting for the outage's backlog",
			observed.Observer, p.Region, stamp(observed.LastDownAtMs), where, behind.Round(time.Millisecond), c.Tolerance)}
	}
	return Gate{true, fmt.Sprintf("%s's heartbeat of %s, written after it last saw %s out of service (%s, %s), has replicated here (%s behind its newest)",
		observed.Observer, stamp(p.HeartbeatAtMs), p.Region, stamp(observed.LastDownAtMs), where, behind.Round(time.Millisecond))}
}

func (p Peer) observerName() string {
	if p.Observer == "" {
		return "the other region"
	}
	return p.Observer
}

func stamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// DynamoDB is the part of the DynamoDB client this package uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Table reads and writes control items in one region's replica.
type Table struct {
	DB   DynamoDB
	Name string
	// CatchUp of the failback gate against the observer's replica; zero:
	// DefaultCatchUp.
	CatchUp CatchUp
	// Attempts bounds the SDK's attempts per call; 0 keeps the client's own.
	// /health uses 1: Route 53 waits about 2 s, and its next check is the retry.
	Attempts int
}

func (t Table) opts() []func(*dynamodb.Options) {
	if t.Attempts <= 0 {
		return nil
	}
	return []func(*dynamodb.Options){func(o *dynamodb.Options) { o.RetryMaxAttempts = t.Attempts }}
}

func key(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: k}}
}

func (t Table) get(ctx context.Context, k string, v any) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.Name, Key: key(k)}, t.opts()...)
	if err != nil {
		return false, fmt.Errorf("dynamodb GetItem %s: %w", k, err)
	}
	if len(out.Item) == 0 {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return false, fmt.Errorf("item %s: %w", k, err)
	}
	return true, nil
}

// Drain reads region's drain flag; a missing item is not drained.
func (t Table) Drain(ctx context.Context, region string) (Drain, error) {
	var d Drain
	_, err := t.get(ctx, DrainKey(region), &d)
	d.Region = region
	return d, err
}

// SetDrain writes d as region d.Region's drain flag, stamped with now.
func (t Table) SetDrain(ctx context.Context, d Drain, now time.Time) error {
	if d.Region == "" {
		return errors.New("drain: no region")
	}
	d.AtMs = now.UnixMilli()
	item, err := attributevalue.MarshalMap(d)
	if err != nil {
		return err
	}
	item[KeyAttribute] = &types.AttributeValueMemberS{Value: DrainKey(d.Region)}
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.Name, Item: item}, t.opts()...); err != nil {
		return fmt.Errorf("dynamodb PutItem %s: %w", DrainKey(d.Region), err)
	}
	return nil
}

// Peer reads the other region's observations of region.
func (t Table) Peer(ctx context.Context, region string) (Peer, error) {
	var p Peer
	found, err := t.get(ctx, PeerKey(region), &p)
	p.Region, p.Found = region, found
	return p, err
}

// MaxRoundGap is the longest time between two rounds that still count as
// consecutive for the failback gate. The deployed probe's rounds are at most
// about 25 s apart (10 s within an invocation, 20 s across invocations, plus
// a round's own duration); the sparsest schedule peerwatch accepts (one round
// a minute) stays within it with a minute to spare. A down round after a
// longer silence (the observer's own outage, invocations that failed) starts
// a new count, so an observer returning from its own outage cannot count a
// round from before it.
const MaxRoundGap = 2 * time.Minute

// RecordObservation writes what observer's probe saw of region at now. Every
// write is conditional on being newer than what the item holds, so an
// overlapping or delayed round can never move a heartbeat back in time.
//
// lastDownAt (which closes region's failback gate) is written by a round that
// sees region drained (a drain is deliberate: one round is enough), and by a
// round that sees it down only when the item's previous recorded round saw it
// down or drained too, at most MaxRoundGap earlier. A single down round (a
// slow answer under load, a returning observer's first rounds) is recorded
// (state down, heartbeat) without lastDownAt: one failed round is not
// evidence that traffic left region (Route 53 itself needs 3 failed checks in
// a row). The test and the write are one conditional UpdateItem; when its
// condition fails, the round is recorded without lastDownAt under the plain
// freshness condition. Only overlapping invocations write rounds out of
// order; then a count can be lost (the next down round makes it up), or a
// down round can count on an earlier down round because the up round between
// them was written after it (and dropped as stale): the gate then closes on
// what was in fact one down round, as it did for every down round before
// this rule.
//
// A round that could not tell (StateUnknown) writes only unknownAt: the
// heartbeat would open a closed gate (it says the observer no longer sees the
// region out of service) and lastDownAt would close an open one, and a refused
// request is evidence of neither. It leaves the count as it was.
func (t Table) RecordObservation(ctx context.Context, region, observer string, s State, now time.Time) error {
	fresh := "attribute_not_exists(heartbeatAt) OR heartbeatAt < :t"
	set := "SET observer = :o, #s = :s, heartbeatAt = :t"
	names := map[string]string{"#s": "state"} // "state" is a DynamoDB reserved word
	values := map[string]types.AttributeValue{
		":o": &types.AttributeValueMemberS{Value: observer},
		":s": &types.AttributeValueMemberS{Value: string(s)},
		":t": &types.AttributeValueMemberN{Value: fmt.Sprint(now.UnixMilli())},
	}
	var err error
	switch s {
	case StateUnknown, "":
		delete(values, ":s")
		err = t.update(ctx, region, "SET observer = :o, unknownAt = :t", "attribute_not_exists(unknownAt) OR unknownAt < :t", nil, values)
	case StateDrained:
		err = t.update(ctx, region, set+", lastDownAt = :t", fresh, names, values)
	case StateDown:
		second := maps.Clone(values)
		second[":down"] = &types.AttributeValueMemberS{Value: string(StateDown)}
		second[":drained"] = &types.AttributeValueMemberS{Value: string(StateDrained)}
		second[":since"] = &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(-MaxRoundGap).UnixMilli())}
		// heartbeatAt and state are always written together, so an item
		// without a heartbeat fails the state test: a first-ever round counts one.
		err = t.update(ctx, region, set+", lastDownAt = :t",
			"heartbeatAt < :t AND heartbeatAt >= :since AND #s IN (:down, :drained)", names, second)
		if errors.Is(err, errStale) { // the first down round in a row, or stale
			err = t.update(ctx, region, set, fresh, names, values)
		}
	default:
		err = t.update(ctx, region, set, fresh, names, values)
	}
	if errors.Is(err, errStale) {
		return nil // a newer round already wrote; nothing to add
	}
	return err
}

// errStale: the write's condition did not hold.
var errStale = errors.New("condition not met")

func (t Table) update(ctx context.Context, region, set, cond string, names map[string]string, values map[string]types.AttributeValue) error {
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.Name,
		Key:                       key(PeerKey(region)),
		UpdateExpression:          aws.String(set),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}, t.opts()...)
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return errStale
	case err != nil:
		return fmt.Errorf("dynamodb UpdateItem %s: %w", PeerKey(region), err)
	}
	return nil
}

// ErrDrained and ErrGateClosed are what the health checks fail with.
var (
	ErrDrained    = errors.New("drained by an operator")
	ErrGateClosed = errors.New("failback gate closed")
)

// CheckNotDrained is region's /health check on its drain flag.
func (t Table) CheckNotDrained(region string) func(context.Context) error {
	return func(ctx context.Context) error {
		d, err := t.Drain(ctx, region)
		if err != nil {
			return err
		}
		if d.Drained {
			return fmt.Errorf("%w (%s, by %s at %s)", ErrDrained, d.Reason, d.By, stamp(d.AtMs))
		}
		return nil
	}
}

// ObserverReadTimeout bounds the read of the observer's replica inside /health,
// which must answer Route 53 within about 2 s whatever the other region does.
const ObserverReadTimeout = 500 * time.Millisecond

// CheckGateOpen is region's /health check on its failback gate, read in this
// replica. observer, when not nil, is the other region's replica: its copy of
// the item is compared too (Peer.GateAgainst), within ObserverReadTimeout. An
// observer that does not answer in time (it may be the region that failed)
// leaves the decision to this replica's copy alone.
func (t Table) CheckGateOpen(region string, observer *Table) func(context.Context) error {
	return func(ctx context.Context) error {
		type read struct {
			p   Peer
			err error
		}
		theirs := make(chan read, 1) // buffered: a late answer never blocks
		if observer != nil {
			go func() {
				octx, cancel := context.WithTimeout(ctx, ObserverReadTimeout)
				defer cancel()
				p, err := observer.Peer(octx, region)
				theirs <- read{p, err}
			}()
		}
		mine, err := t.Peer(ctx, region)
		if err != nil {
			return err
		}
		g := mine.Gate()
		if observer != nil {
			select {
			case r := <-theirs:
				if r.err == nil {
					c := t.CatchUp
					if c == (CatchUp{}) {
						c = DefaultCatchUp
					}
					g = mine.GateAgainst(r.p, c)
				}
			case <-time.After(ObserverReadTimeout):
			case <-ctx.Done():
			}
		}
		if !g.Open {
			return fmt.Errorf("%w: %s", ErrGateClosed, g.Reason)
		}
		return nil
	}
}
