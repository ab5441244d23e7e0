package monitoring

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// LogGroupConfig of a log group that a service would otherwise create on first use,
// unencrypted and kept forever.
type LogGroupConfig struct {
	Site          site.Site
	Name          string
	RetentionDays int
	KMSKeyArn     *string
}

// NewLogGroup declares the log group, encrypted with the region's key.
func NewLogGroup(scope constructs.Construct, id string, cfg LogGroupConfig) cloudwatchloggroup.CloudwatchLogGroup {
	return cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String(id), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Provider:        cfg.Site.Provider,
		Name:            jsii.String(cfg.Name),
		RetentionInDays: jsii.Number(float64(cfg.RetentionDays)),
		KmsKeyId:        cfg.KMSKeyArn,
	})
}
