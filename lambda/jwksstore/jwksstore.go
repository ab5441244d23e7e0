// Package jwksstore keeps the authorizers' copy of the identity provider's
// last good key set in the payments global table (an auth.KeyStore).
//
// In steady state the secondary region serves no client, so none of its
// authorizer execution environments is warm: at failover every one starts
// cold and must fetch the JWKS. If the identity provider is impaired by the
// same event, the copy that the primary's authorizers saved minutes earlier,
// replicated by the global table, is what lets them validate tokens.
//
// Items (lambda/control's reserved keys, which the payment API can never
// address and the conflict watch skips):
//
//	control#jwks#<region>  jwks, jwksHash, fetchedAt,  the authorizers of <region> only
//	                       issuer, jwksUrl
//
// Each region's authorizers write their own region's item in their own
// replica (single writer per item: a global table keeps the last write of an
// item written in two regions whole) and read both items from that replica
// only: the other region may be the one that is gone.
package jwksstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/lambda/control"
)

// Key is the item of the key set that region's authorizers saved last.
func Key(region string) string { return control.KeyPrefix + "jwks#" + region }

// MaxJWKSBytes bounds a stored set: a DynamoDB item holds at most 400 KB,
// attribute names included
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items).
// Real key sets are a few KiB.
const MaxJWKSBytes = 300 << 10

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Store is the copy in one region's replica.
type Store struct {
	DB    DynamoDB
	Table string
	// Region is where this authorizer runs: it writes Key(Region) and reads
	// Key(Region) and Key(Peer), all in this region's replica.
	Region, Peer string
	// Refresh: an identical set already stored is overwritten only when it
	// is this old, so that the other execution environments of the region,
	// each saving once at its cold start, do not rewrite (and replicate) the
	// item; 0: auth.DefaultStoreRefresh.
	Refresh time.Duration
}

var _ auth.KeyStore = Store{}

// item is a stored set.
type item struct {
	JWKS      string `dynamodbav:"jwks"`
	Hash      string `dynamodbav:"jwksHash"`
	FetchedAt int64  `dynamodbav:"fetchedAt"` // Unix milliseconds
	Issuer    string `dynamodbav:"issuer"`
	JWKSURL   string `dynamodbav:"jwksUrl"`
}

// Load reads both regions' items from this region's replica, concurrently.
// It returns the items it could read, and the errors of the others.
func (s Store) Load(ctx context.Context) ([]auth.StoredKeySet, error) {
	regions := []string{s.Region, s.Peer}
	sets := make([]*auth.StoredKeySet, len(regions))
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sets[i], errs[i] = s.get(ctx, Key(r))
		}()
	}
	wg.Wait()
	var out []auth.StoredKeySet
	for _, set := range sets {
		if set != nil {
			out = append(out, *set)
		}
	}
	return out, errors.Join(errs...)
}

func (s Store) get(ctx context.Context, key string) (*auth.StoredKeySet, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table,
		Key:       map[string]types.AttributeValue{control.KeyAttribute: &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		return nil, fmt.Errorf("dynamodb GetItem %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	var it item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("item %s: %w", key, err)
	}
	return &auth.StoredKeySet{
		JWKS: []byte(it.JWKS), FetchedAt: time.UnixMilli(it.FetchedAt), Issuer: it.Issuer, JWKSURL: it.JWKSURL, Source: key,
	}, nil
}

// Save writes set as this region's item, on condition that it was fetched
// after what the item holds (a slow write from one execution environment
// never replaces a newer set from another) and that it differs from it or
// the stored one is Refresh old. A write the condition refuses is not an
// error: the item already says what this one would.
func (s Store) Save(ctx context.Context, set auth.StoredKeySet) error {
	key := Key(s.Region)
	if len(set.JWKS) > MaxJWKSBytes {
		return fmt.Errorf("%s: key set of %d bytes is over %d, more than a DynamoDB item holds with room to spare", key, len(set.JWKS), MaxJWKSBytes)
	}
	refresh := s.Refresh
	if refresh <= 0 {
		refresh = auth.DefaultStoreRefresh
	}
	it, err := attributevalue.MarshalMap(item{
		JWKS: string(set.JWKS), Hash: set.Hash(), FetchedAt: set.FetchedAt.UnixMilli(), Issuer: set.Issuer, JWKSURL: set.JWKSURL,
	})
	if err != nil {
		return err
	}
	it[control.KeyAttribute] = &types.AttributeValueMemberS{Value: key}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.Table,
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(fetchedAt) OR (fetchedAt < :at AND (jwksHash <> :h OR fetchedAt <= :due))"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at":  &types.AttributeValueMemberN{Value: strconv.FormatInt(set.FetchedAt.UnixMilli(), 10)},
			":due": &types.AttributeValueMemberN{Value: strconv.FormatInt(set.FetchedAt.Add(-refresh).UnixMilli(), 10)},
			":h":   &types.AttributeValueMemberS{Value: set.Hash()},
		},
	})
	var refused *types.ConditionalCheckFailedException
	if errors.As(err, &refused) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb PutItem %s: %w", key, err)
	}
	return nil
}

// regionPattern is the shape of an AWS region name, e.g. us-east-2.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// FromEnv reads TABLE_NAME, AWS_REGION and PEER_REGION, reporting every
// problem at once. Lambda sets AWS_REGION to the function's region
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime);
// the stacks set the other two.
func FromEnv(getenv func(string) string, db DynamoDB) (Store, error) {
	s := Store{DB: db, Table: getenv("TABLE_NAME"), Region: getenv("AWS_REGION"), Peer: getenv("PEER_REGION")}
	var errs []error
	if strings.TrimSpace(s.Table) == "" {
		errs = append(errs, errors.New("TABLE_NAME is not set: it must name the payments global table, whose replica in this region keeps the authorizers' copy of the key set"))
	}
	if !regionPattern.MatchString(s.Region) {
		errs = append(errs, fmt.Errorf("AWS_REGION=%q: want the region this function runs in, e.g. us-east-1 (Lambda sets it)", s.Region))
	}
	switch {
	case !regionPattern.MatchString(s.Peer):
		errs = append(errs, fmt.Errorf("PEER_REGION=%q: want the other region of the deployment, e.g. us-east-2", s.Peer))
	case s.Peer == s.Region:
		errs = append(errs, fmt.Errorf("PEER_REGION=%q is this function's own region: want the other region of the deployment", s.Peer))
	}
	return s, errors.Join(errs...)
}
