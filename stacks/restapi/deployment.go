package restapi

import (
	"crypto/sha256"
	"encoding/hex"
)

// A deployment is a snapshot of the API's methods, integrations and authorizers: API
// Gateway serves a stage from its deployment, so a method, integration or authorizer
// updated in place goes live only with a new deployment
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html).
// Terraform replaces aws_api_gateway_deployment only when its triggers change
// (https://registry.terraform.io/providers/hashicorp/aws/5.88.0/docs/resources/api_gateway_deployment),
// so the trigger digests every argument this package sets on them, from the same values
// the resources are declared with: ids alone miss every in-place change (an integration's
// uri, the authorizer's TTL, pattern or URI, api_key_required, request parameters).

// authorizerSpec is the authorizer's configuration.
type authorizerSpec struct {
	Name, Type, IdentitySource, ValidationExpression string
	URI                                              *string
	TTLSeconds                                       int
}

func (a authorizerSpec) digest() map[string]any {
	return map[string]any{
		"settings": literalDigest(map[string]any{
			"name":                             a.Name,
			"type":                             a.Type,
			"identity_source":                  a.IdentitySource,
			"identity_validation_expression":   a.ValidationExpression,
			"authorizer_result_ttl_in_seconds": a.TTLSeconds,
		}),
		"authorizer_uri": a.URI,
	}
}

// literalDigest digests the settings known at synth time, so that only a digest and
// the references (URIs, ids) go into the trigger's expression. cdktf writes a Go string
// inside `${jsonencode(...)}` as an HCL string literal without escaping its
// backslashes, and the authorizer's pattern (`...+\.[A-Za-z0-9_-]+...`) then makes the
// whole stack unparsable: "Invalid escape sequence" (seen with trivy's Terraform parser,
// which is HashiCorp's HCL; terraform itself would refuse the same).
func literalDigest(m map[string]any) string {
	sum := sha256.Sum256([]byte(mustJSON(m))) // map keys sorted: the same settings, the same digest
	return hex.EncodeToString(sum[:])
}

// routeSpec is one route's method and integration configuration.
type routeSpec struct {
	Route         Route
	Authorization string
	// AuthorizerID is nil for routes without the authorizer.
	AuthorizerID *string
	// RequestParameters is nil when the path has no {name} segments.
	RequestParameters     *map[string]any
	IntegrationType       string
	IntegrationHTTPMethod string
	URI                   *string
}

// newRouteSpec derives a route's method and integration settings.
func newRouteSpec(route Route, authorizerID, functionURI *string) routeSpec {
	s := routeSpec{
		Route:                 route,
		Authorization:         "NONE",
		RequestParameters:     pathParameters(route.Path),
		IntegrationType:       "AWS_PROXY",
		IntegrationHTTPMethod: "POST", // Lambda is always invoked with POST
		URI:                   functionURI,
	}
	if route.Authorized {
		s.Authorization, s.AuthorizerID = "CUSTOM", authorizerID
	}
	return s
}

func (r routeSpec) digest() map[string]any {
	settings := map[string]any{
		"http_method":             r.Route.Method,
		"path":                    r.Route.Path,
		"secret_segment":          r.Route.Secret,
		"authorization":           r.Authorization,
		"api_key_required":        r.Route.KeyRequired,
		"integration_type":        r.IntegrationType,
		"integration_http_method": r.IntegrationHTTPMethod,
	}
	if r.RequestParameters != nil {
		settings["request_parameters"] = *r.RequestParameters
	}
	m := map[string]any{"settings": literalDigest(settings), "uri": r.URI}
	if r.AuthorizerID != nil {
		m["authorizer_id"] = r.AuthorizerID
	}
	return m
}

// deploymentInputs is what the deployment's trigger hashes: the authorizer's and every
// route's settings, and the ids of the resources declared from them (a replaced resource
// has a new id even when its settings read the same).
func deploymentInputs(auth authorizerSpec, routes []routeSpec, ids []any) []any {
	inputs := []any{auth.digest()}
	for _, r := range routes {
		inputs = append(inputs, r.digest())
	}
	return append(inputs, ids...)
}
