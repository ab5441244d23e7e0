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
//	control#drain#<region>     drained, reason, by, at     operators (go run ./ops/cmd/dr drain|undrain)
//	control#peer#<region>      observer, state,            the other region's peer probe only
//	                           heartbeatAt, lastDownAt,
//	                           unknownAt
//	control#gate#<primary>     wm0..wm3                    the primary's payment function (gate.go)
//	control#override#<primary> state, reason, by, at,     operators (go run ./ops/cmd/dr gate open|close)
//	                           until
//
// In control#peer#<region>: state and heartbeatAt are the observer's newest
// round that saw the region (up, recovering, drained, down); lastDownAt is the
// newest round that counted it out of service: a round that saw it drained, or
// down with the previous recorded round down or drained too (at most
// MaxRoundGap earlier); unknownAt is the newest round whose requests were
// refused (4xx) or whose own path was cut. They page and inform `go run .
// status`; the failback gate does not read them (gate.go: evidence about
// payments, not about probe rounds).
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
	//
	// A round whose own path is cut (no answer from the peer, and none from
	// the probe's own region's /status either: probe.Config.SelfHealthURL) is
	// unknown too: a probe that cannot reach anything cannot tell a dead peer.
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

func stamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// DynamoDB is the part of the DynamoDB client this package uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Table reads and writes control items in one region's replica.
type Table struct {
	DB   DynamoDB
	Name string
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

// ErrDrained is what the drain check fails with.
var ErrDrained = errors.New("drained by an operator")

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
