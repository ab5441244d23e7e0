// Package function holds the payment function of one region: its deployment package,
// log group, least-privilege role and the Lambda function itself.
package function

import (
	"fmt"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdafunction"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdafunctioneventinvokeconfig"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Runtime settings shared by both regions.
const (
	Runtime      = "provided.al2023"
	Architecture = "arm64"
	Handler      = "bootstrap"
	MemoryMB     = 256
	// TimeoutSeconds stays well under API Gateway's 29 s integration timeout so a slow
	// dependency surfaces as the function's own 503, not a gateway 504.
	TimeoutSeconds = 10
)

// ReceiptsPrefix is where the function writes receipts; its grants name nothing else.
const ReceiptsPrefix = "receipts/"

// Code is the deployment package as the stack holds it.
type Code struct {
	// Path is the asset's path relative to the stack's directory.
	Path *string
}

// NewCode registers the bundle as a file asset of stack, named by its source hash so the
// synthesized path is the same on every machine.
func NewCode(stack constructs.Construct, id string, b Bundle) Code {
	asset := cdktf.NewTerraformAsset(stack, jsii.String(id), &cdktf.TerraformAssetConfig{
		Path:      jsii.String(b.ZipPath),
		Type:      cdktf.AssetType_FILE,
		AssetHash: jsii.String(b.SourceHash),
	})
	return Code{Path: asset.Path()}
}

// Config of one function in one region.
type Config struct {
	Site        site.Site
	Name        string
	Description string
	Code        Code
	// Environment holds only the function's own keys: AWS_REGION and the other runtime
	// keys are reserved, and setting one fails the deploy.
	Environment map[string]*string
	// Policy is what the function may do besides writing its own log group and traces.
	Policy []iam.Statement
	// KMSKeyArn encrypts the log group.
	KMSKeyArn        *string
	LogRetentionDays int
	// LogFormat is "JSON" (default) or "Text"; Text passes lines through unchanged.
	LogFormat string
	// TimeoutSeconds overrides TimeoutSeconds for a function no API waits on.
	TimeoutSeconds int
	// Async, when set, replaces Lambda's defaults for asynchronous invocations of the
	// function (two retries of a failed one, events kept queued up to 6 hours).
	Async *Async
}

// Async is how Lambda handles an asynchronous invocation that fails or waits.
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
type Async struct {
	MaxRetries         int // 0 to 2
	MaxEventAgeSeconds int // 60 to 21600
}

// Function is what the API, event sources and alarms need.
type Function struct {
	Name      *string
	Arn       *string
	InvokeArn *string
	// Ready is the function and its grants: an event source must wait for all of them,
	// or its first poll fails on missing permissions.
	Ready []cdktf.ITerraformDependable
}

// New declares the log group first (Lambda would otherwise create it on first invoke and
// the next apply would fail on "already exists"), then the role and the function.
func New(scope constructs.Construct, id string, cfg Config) Function {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	logGroup := monitoring.NewLogGroup(c, "log-group", monitoring.LogGroupConfig{
		Site: cfg.Site, Name: "/aws/lambda/" + cfg.Name, RetentionDays: cfg.LogRetentionDays, KMSKeyArn: cfg.KMSKeyArn,
	})
	role := iam.NewRole(c, "role", iam.RoleConfig{
		Site:  cfg.Site,
		Name:  cfg.Name,
		Trust: iam.ServiceTrust("lambda.amazonaws.com"),
		Policy: append(slices.Clone(cfg.Policy), iam.Statement{
			Sid: "OwnLogGroup", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []*string{jsii.String(*logGroup.Arn() + ":*")},
		}),
		// X-Ray's write API has no resource-level permissions; AWS's managed policy is
		// the narrowest grant that exists.
		ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"},
	})
	deps := append([]cdktf.ITerraformDependable{logGroup}, role.Grants...)
	logFormat := cfg.LogFormat
	if logFormat == "" {
		logFormat = "JSON"
	}
	timeout := cfg.TimeoutSeconds
	if timeout == 0 {
		timeout = TimeoutSeconds
	}
	fn := lambdafunction.NewLambdaFunction(c, jsii.String("function"), &lambdafunction.LambdaFunctionConfig{
		Provider:       p,
		FunctionName:   jsii.String(cfg.Name),
		Description:    jsii.String(fmt.Sprintf("%s in %s (%s)", cfg.Description, cfg.Site.Region, cfg.Site.Role)),
		Role:           role.Arn,
		Runtime:        jsii.String(Runtime),
		Architectures:  jsii.Strings(Architecture),
		Handler:        jsii.String(Handler),
		Filename:       cfg.Code.Path,
		SourceCodeHash: cdktf.Fn_Filebase64sha256(cfg.Code.Path),
		MemorySize:     jsii.Number(MemoryMB),
		Timeout:        jsii.Number(float64(timeout)),
		Environment:    &lambdafunction.LambdaFunctionEnvironment{Variables: &cfg.Environment},
		TracingConfig:  &lambdafunction.LambdaFunctionTracingConfig{Mode: jsii.String("Active")},
		LoggingConfig:  &lambdafunction.LambdaFunctionLoggingConfig{LogFormat: jsii.String(logFormat), LogGroup: logGroup.Name()},
		DependsOn:      &deps,
	})
	if a := cfg.Async; a != nil {
		// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
		lambdafunctioneventinvokeconfig.NewLambdaFunctionEventInvokeConfig(c, jsii.String("async"), &lambdafunctioneventinvokeconfig.LambdaFunctionEventInvokeConfigConfig{
			Provider:                 p,
			FunctionName:             fn.FunctionName(),
			MaximumRetryAttempts:     jsii.Number(float64(a.MaxRetries)),
			MaximumEventAgeInSeconds: jsii.Number(float64(a.MaxEventAgeSeconds)),
		})
	}
	return Function{Name: fn.FunctionName(), Arn: fn.Arn(), InvokeArn: fn.InvokeArn(), Ready: append([]cdktf.ITerraformDependable{fn}, role.Grants...)}
}
