// Package iam builds IAM policy documents and roles from typed statements, so that every
// policy in the synthesized JSON is an aws_iam_policy_document a reviewer can read (and
// the invariant tests can check) instead of an escaped JSON string.
package iam

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsiampolicydocument"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Statement is one policy statement; it allows unless Deny is set.
type Statement struct {
	Sid        string
	Deny       bool
	Actions    []string
	Resources  []*string
	Principals map[string][]*string // type ("AWS", "Service") → identifiers
	Conditions []Condition
}

// Condition is one condition block of a statement.
type Condition struct {
	Test     string
	Variable string
	Values   []*string
}

// Document declares the policy document and returns its JSON.
func Document(scope constructs.Construct, id string, s site.Site, statements ...Statement) *string {
	out := make([]*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatement, 0, len(statements))
	for _, st := range statements {
		effect := "Allow"
		if st.Deny {
			effect = "Deny"
		}
		d := &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatement{
			Effect:  jsii.String(effect),
			Actions: jsii.Strings(st.Actions...),
		}
		if st.Sid != "" {
			d.Sid = jsii.String(st.Sid)
		}
		if len(st.Resources) > 0 {
			r := st.Resources
			d.Resources = &r
		}
		var principals []*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementPrincipals
		for _, typ := range []string{"AWS", "Service"} { // fixed order keeps the JSON stable
			if ids, ok := st.Principals[typ]; ok {
				ids := ids
				principals = append(principals, &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementPrincipals{
					Type: jsii.String(typ), Identifiers: &ids,
				})
			}
		}
		if len(principals) > 0 {
			d.Principals = &principals
		}
		var conditions []*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementCondition
		for _, c := range st.Conditions {
			values := c.Values
			conditions = append(conditions, &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementCondition{
				Test: jsii.String(c.Test), Variable: jsii.String(c.Variable), Values: &values,
			})
		}
		if len(conditions) > 0 {
			d.Condition = &conditions
		}
		out = append(out, d)
	}
	doc := dataawsiampolicydocument.NewDataAwsIamPolicyDocument(scope, jsii.String(id), &dataawsiampolicydocument.DataAwsIamPolicyDocumentConfig{
		Provider:  s.Provider,
		Statement: &out,
	})
	return doc.Json()
}

// RoleConfig describes a role and what it may do.
type RoleConfig struct {
	Site site.Site
	Name string
	// Trust says who may assume the role; its Actions default to sts:AssumeRole.
	Trust  Statement
	Policy []Statement // inline; may be empty
	// ManagedPolicyArns are attached for grants that cannot be scoped to resources.
	ManagedPolicyArns []string
}

// Role is what callers need of a role: its ARN and name, and the resources that grant
// its permissions, for a depends_on where the role must be able to act at once.
type Role struct {
	Arn, Name *string
	Grants    []cdktf.ITerraformDependable
}

// ServiceTrust lets one AWS service (e.g. "lambda.amazonaws.com") assume a role.
// Conditions such as SourceAccount stop the service acting for another account.
func ServiceTrust(service string, conditions ...Condition) Statement {
	return Statement{Principals: map[string][]*string{"Service": {jsii.String(service)}}, Conditions: conditions}
}

// NewRole declares the role, its inline policy and its managed policy attachments.
func NewRole(scope constructs.Construct, id string, cfg RoleConfig) Role {
	c := constructs.NewConstruct(scope, jsii.String(id))
	trust := cfg.Trust
	if len(trust.Actions) == 0 {
		trust.Actions = []string{"sts:AssumeRole"}
	}
	role := iamrole.NewIamRole(c, jsii.String("role"), &iamrole.IamRoleConfig{
		Provider:           cfg.Site.Provider,
		Name:               jsii.String(cfg.Name),
		AssumeRolePolicy:   Document(c, "trust", cfg.Site, trust),
		MaxSessionDuration: jsii.Number(3600),
	})
	out := Role{Arn: role.Arn(), Name: role.Name()}
	if len(cfg.Policy) > 0 {
		out.Grants = append(out.Grants, iamrolepolicy.NewIamRolePolicy(c, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{
			Provider: cfg.Site.Provider,
			Name:     jsii.String(cfg.Name),
			Role:     role.Id(),
			Policy:   Document(c, "permissions", cfg.Site, cfg.Policy...),
		}))
	}
	for i, arn := range cfg.ManagedPolicyArns {
		out.Grants = append(out.Grants, iamrolepolicyattachment.NewIamRolePolicyAttachment(c, jsii.String(fmt.Sprintf("managed-%d", i)), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Provider:  cfg.Site.Provider,
			Role:      role.Name(),
			PolicyArn: jsii.String(arn),
		}))
	}
	return out
}

// SourceAccount is the trust condition that limits a service principal to this account.
func SourceAccount(accountID *string) Condition {
	return Condition{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []*string{accountID}}
}
