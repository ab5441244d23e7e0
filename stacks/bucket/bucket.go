// Package bucket holds the hardened S3 bucket both stacks use: versioned, encrypted,
// closed to the public and to plain HTTP.
package bucket

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Config of one bucket.
type Config struct {
	Site site.Site
	Name string
	// KMSKeyArn encrypts objects with a customer-managed key; nil uses the account's
	// AWS-managed aws/s3 key.
	KMSKeyArn *string
	// PreventDestroy makes terraform refuse a plan that deletes the bucket.
	PreventDestroy bool
	// OnlyKey, when set, are the forms (key ARN, key id, alias name, alias ARN) of
	// KMSKeyArn: writes that ask for any other encryption are denied. A write that asks
	// for none gets the bucket's default, KMSKeyArn.
	OnlyKey []*string
	// Noncurrent, when set, bounds the versions the bucket keeps of overwritten and
	// deleted objects; nil keeps every version for ever.
	Noncurrent *Noncurrent
}

// Noncurrent is how long a version that is no longer current is kept: S3 expires it once
// it has been noncurrent for Days and Keep newer noncurrent versions of its object exist,
// so the Keep latest are kept however old. The same rule removes delete markers that no
// version is left behind and aborts multipart uploads not completed in a week.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html
type Noncurrent struct {
	Days, Keep int
}

// AbortIncompleteUploadDays is when an unfinished multipart upload's parts are deleted.
const AbortIncompleteUploadDays = 7

// Bucket is what callers need: names for policies and replication, and the versioning
// resource that replication must wait for.
type Bucket struct {
	Name       *string
	Arn        *string
	Versioning s3bucketversioning.S3BucketVersioningA
	Site       site.Site
	KMSKeyArn  *string
}

// New declares the bucket with versioning, SSE-KMS with a bucket key, a full public
// access block, bucket-owner-enforced ownership and a policy denying non-TLS requests.
func New(scope constructs.Construct, id string, cfg Config) Bucket {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	b := s3bucket.NewS3Bucket(c, jsii.String("bucket"), &s3bucket.S3BucketConfig{
		Provider: p,
		Bucket:   jsii.String(cfg.Name),
	})
	if cfg.PreventDestroy {
		b.SetLifecycle(&cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)})
	}
	versioning := s3bucketversioning.NewS3BucketVersioningA(c, jsii.String("versioning"), &s3bucketversioning.S3BucketVersioningAConfig{
		Provider:                p,
		Bucket:                  b.Id(),
		VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: jsii.String("Enabled")},
	})
	if n := cfg.Noncurrent; n != nil {
		s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(c, jsii.String("lifecycle"), &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
			Provider: p,
			Bucket:   b.Id(),
			Rule: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{{
				Id:     jsii.String("expire-noncurrent-versions"),
				Status: jsii.String("Enabled"),
				// Every object of the bucket.
				Filter: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{{Prefix: jsii.String("")}},
				NoncurrentVersionExpiration: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration{{
					NoncurrentDays:          jsii.Number(float64(n.Days)),
					NewerNoncurrentVersions: jsii.Number(float64(n.Keep)),
				}},
				Expiration: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleExpiration{{
					ExpiredObjectDeleteMarker: jsii.Bool(true),
				}},
				AbortIncompleteMultipartUpload: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{{
					DaysAfterInitiation: jsii.Number(AbortIncompleteUploadDays),
				}},
			}},
			// A lifecycle rule on versions needs versioning in place first.
			DependsOn: &[]cdktf.ITerraformDependable{versioning},
		})
	}
	sse := &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
		SseAlgorithm: jsii.String("aws:kms"),
	}
	if cfg.KMSKeyArn != nil {
		sse.KmsMasterKeyId = cfg.KMSKeyArn
	}
	s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(c, jsii.String("encryption"), &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
		Provider: p,
		Bucket:   b.Id(),
		Rule: &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
			ApplyServerSideEncryptionByDefault: sse,
			BucketKeyEnabled:                   jsii.Bool(true),
		}},
	})
	publicBlock := s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(c, jsii.String("public-access-block"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Provider:              p,
		Bucket:                b.Id(),
		BlockPublicAcls:       jsii.Bool(true),
		BlockPublicPolicy:     jsii.Bool(true),
		IgnorePublicAcls:      jsii.Bool(true),
		RestrictPublicBuckets: jsii.Bool(true),
	})
	s3bucketownershipcontrols.NewS3BucketOwnershipControls(c, jsii.String("ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Provider: p,
		Bucket:   b.Id(),
		Rule:     &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: jsii.String("BucketOwnerEnforced")},
	})
	anyone := map[string][]*string{"AWS": {jsii.String("*")}}
	objects := []*string{jsii.String(*b.Arn() + "/*")}
	statements := []iam.Statement{{
		Sid:        "DenyInsecureTransport",
		Deny:       true,
		Actions:    []string{"s3:*"},
		Resources:  []*string{b.Arn(), objects[0]},
		Principals: anyone,
		Conditions: []iam.Condition{{Test: "Bool", Variable: "aws:SecureTransport", Values: []*string{jsii.String("false")}}},
	}}
	if len(cfg.OnlyKey) > 0 {
		// IfExists: a request without the header is encrypted with the default key, and
		// the parts of a multipart upload carry no encryption headers at all; an explicit
		// SSE-S3, DSSE, SSE-C or other-key request is what these refuse.
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
		statements = append(statements,
			iam.Statement{Sid: "DenyWritesNotSSEKMS", Deny: true, Actions: []string{"s3:PutObject"}, Resources: objects, Principals: anyone,
				Conditions: []iam.Condition{{Test: "StringNotEqualsIfExists", Variable: "s3:x-amz-server-side-encryption", Values: []*string{jsii.String("aws:kms")}}}},
			iam.Statement{Sid: "DenyWritesWithAnotherKey", Deny: true, Actions: []string{"s3:PutObject"}, Resources: objects, Principals: anyone,
				Conditions: []iam.Condition{{Test: "StringNotEqualsIfExists", Variable: "s3:x-amz-server-side-encryption-aws-kms-key-id", Values: cfg.OnlyKey}}},
			iam.Statement{Sid: "DenyWritesWithCustomerKeys", Deny: true, Actions: []string{"s3:PutObject"}, Resources: objects, Principals: anyone,
				Conditions: []iam.Condition{{Test: "Null", Variable: "s3:x-amz-server-side-encryption-customer-algorithm", Values: []*string{jsii.String("false")}}}},
		)
	}
	tlsOnly := iam.Document(c, "tls-only", cfg.Site, statements...)
	s3bucketpolicy.NewS3BucketPolicy(c, jsii.String("policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Provider: p,
		Bucket:   b.Id(),
		Policy:   tlsOnly,
		// The public access block must exist first or S3 may judge the policy public.
		DependsOn: &[]cdktf.ITerraformDependable{publicBlock},
	})
	return Bucket{Name: b.Bucket(), Arn: b.Arn(), Versioning: versioning, Site: cfg.Site, KMSKeyArn: cfg.KMSKeyArn}
}
