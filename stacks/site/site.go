// Package site describes one region of the DR pair: its role, its region code and the
// aliased AWS provider every resource in it must name.
package site

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/payments-dr/payments-dr/stacks/config"
)

// Roles of the two sites; also the provider aliases and the DR-Role tag values.
const (
	Primary   = "primary"
	Secondary = "secondary"
)

// Site is one region of the pair.
type Site struct {
	Role     string // Primary or Secondary
	Region   string
	Provider provider.AwsProvider
}

// New declares the aliased provider for one site, with the default tags every resource
// inherits so that cost and incident tooling can tell the regions apart.
func New(scope constructs.Construct, role, region string, cfg config.Config) Site {
	p := provider.NewAwsProvider(scope, jsii.String("aws-"+role), &provider.AwsProviderConfig{
		Alias:  jsii.String(role),
		Region: jsii.String(region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{
			Tags: &map[string]*string{
				"Environment": jsii.String(cfg.EnvironmentSuffix),
				"Region":      jsii.String(region),
				"DR-Role":     jsii.String(role),
				"Project":     jsii.String("payments-dr"),
			},
		}},
	})
	return Site{Role: role, Region: region, Provider: p}
}

// Pair returns the two sites of the configuration, primary first.
func Pair(scope constructs.Construct, cfg config.Config) (primary, secondary Site) {
	return New(scope, Primary, cfg.PrimaryRegion, cfg), New(scope, Secondary, cfg.SecondaryRegion, cfg)
}
