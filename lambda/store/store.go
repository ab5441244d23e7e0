// Package store keeps payments in this region's DynamoDB table (a replica of
// the global table) and their receipts in this region's S3 bucket.
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/payments-dr/payments-dr/lambda/payment"
)

// DynamoDB is the part of the DynamoDB client the store uses; tests and
// callers can substitute anything with these methods.
type DynamoDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// S3 is the part of the S3 client the store uses.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// Dependency names, as reported in health answers and logs.
const (
	DynamoDBName = "dynamodb"
	S3Name       = "s3"
)

// Store implements payment.Store.
type Store struct {
	db     DynamoDB
	s3     S3
	table  string
	bucket string
}

var _ payment.Store = (*Store)(nil)

// New returns a Store over the given table and bucket.
func New(db DynamoDB, s3c S3, table, bucket string) *Store {
	return &Store{db: db, s3: s3c, table: table, bucket: bucket}
}

func dynamoErr(op string, err error) error {
	return &payment.DependencyError{Dependency: DynamoDBName, Op: op, Err: err}
}

func s3Err(op string, err error) error {
	return &payment.DependencyError{Dependency: S3Name, Op: op, Err: err}
}

// idKey is the item key of a payment (payment.Key) or a probe item.
func idKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"paymentId": &types.AttributeValueMemberS{Value: key}}
}

// Create is conditional on this region's replica only. The table is a global
// table (multi-region eventual consistency, last writer wins per item), so
// two regions can both create the same paymentId inside the replication lag
// (about a second normally, unbounded while a region is impaired, which is
// exactly when clients fail over). Both answer 201, and one record then
// silently replaces the other: for the same request that is the same payment
// (finish and replays reconcile the receipt), but for two different requests
// the losing one was acknowledged and is lost. Conditional writes cannot be
// made cross-region on an MREC global table; closing this needs a
// multi-region strongly consistent (MRSC) table or routing all writes for an
// id to one home region, a deployment decision outside this function.
func (s *Store) Create(ctx context.Context, rec payment.Record) error {
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return fmt.Errorf("marshal payment %s: %w", rec.Key, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(paymentId)"),
	})
	var cond *types.ConditionalCheckFailedException
	if errors.As(err, &cond) {
		return payment.ErrExists
	}
	if err != nil {
		return dynamoErr("PutItem", err)
	}
	return nil
}

func (s *Store) Get(ctx context.Context, key string) (payment.Record, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table,
		Key:       idKey(key),
		// A replay right after a lost conditional put must see the winner.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return payment.Record{}, dynamoErr("GetItem", err)
	}
	if len(out.Item) == 0 {
		return payment.Record{}, payment.ErrNotFound
	}
	return unmarshal(out.Item)
}

func unmarshal(item map[string]types.AttributeValue) (payment.Record, error) {
	var rec payment.Record
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return payment.Record{}, fmt.Errorf("unmarshal payment: %w", err)
	}
	return rec, nil
}

func (s *Store) MarkProcessed(ctx context.Context, rec payment.Record, receiptKey, processedAt string) (payment.Record, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              idKey(rec.Key),
		UpdateExpression: aws.String("SET #status = :processed, receiptKey = :key, processedAt = :at"),
		// Not just "still received": on the global table the item may have
		// been replaced (last writer wins) by the other region's create of
		// the same request, whose createdAt/region, and so receipt, differ
		// from the receipt this call just wrote.
		ConditionExpression: aws.String("#status = :received AND requestHash = :hash AND createdAt = :created AND #region = :region"),
		// status and region are DynamoDB reserved words.
		ExpressionAttributeNames: map[string]string{"#status": "status", "#region": "region"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":processed": &types.AttributeValueMemberS{Value: string(payment.StatusProcessed)},
			":received":  &types.AttributeValueMemberS{Value: string(payment.StatusReceived)},
			":key":       &types.AttributeValueMemberS{Value: receiptKey},
			":at":        &types.AttributeValueMemberS{Value: processedAt},
			":hash":      &types.AttributeValueMemberS{Value: rec.RequestHash},
			":created":   &types.AttributeValueMemberS{Value: rec.CreatedAt},
			":region":    &types.AttributeValueMemberS{Value: rec.Region},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var cond *types.ConditionalCheckFailedException
	if errors.As(err, &cond) {
		return payment.Record{}, payment.ErrStateChanged
	}
	if err != nil {
		return payment.Record{}, dynamoErr("UpdateItem", err)
	}
	return unmarshal(out.Attributes)
}

// ReceiptMatches reads the receipt back and compares bytes. Receipts are
// under 1 KiB and only replays read them; an ETag cannot stand in for the
// bytes because SSE-KMS ETags are not content hashes.
func (s *Store) ReceiptMatches(ctx context.Context, key string, body []byte) (bool, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		// 404 needs s3:ListBucket on the bucket (without it S3 answers
		// 403 and we report the dependency as failing rather than guess).
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return false, nil
		}
		return false, s3Err("GetObject", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(io.LimitReader(out.Body, int64(len(body))+1))
	if err != nil {
		return false, s3Err("GetObject", err)
	}
	return bytes.Equal(got, body), nil
}

func (s *Store) PutReceipt(ctx context.Context, key string, body []byte) error {
	_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
	})
	if err != nil {
		return s3Err("PutObject", err)
	}
	return nil
}

// healthKey cannot collide with a payment: '#' is not allowed in paymentIds.
const healthKey = "health#probe"

// CheckTable makes one cheap read against the table. It does not retry: a
// health check must answer within Route 53's deadline, and the next check
// is the retry.
func (s *Store) CheckTable(ctx context.Context) error {
	_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            &s.table,
		Key:                  idKey(healthKey),
		ProjectionExpression: aws.String("paymentId"),
	}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return dynamoErr("GetItem", err)
	}
	return nil
}

// CheckBucket confirms the bucket is reachable and ours to use, without retries.
func (s *Store) CheckBucket(ctx context.Context) error {
	_, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket},
		func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return s3Err("HeadBucket", err)
	}
	return nil
}
