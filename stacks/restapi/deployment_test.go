package restapi

import (
	"encoding/json"
	"testing"
)

// Every argument the package sets on a method, an integration or the authorizer is in the
// deployment's trigger, so changing any of them in place makes Terraform create a new
// deployment, and the stage serves the change.
func TestDeploymentTriggerCoversInPlaceChanges(t *testing.T) {
	str := func(s string) *string { return &s }
	const (
		fnURI   = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:pay/invocations"
		authURI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:auth/invocations"
	)
	base := func() (authorizerSpec, []routeSpec, []any) {
		a := authorizerSpec{Name: "api-bearer", Type: AuthorizerType, IdentitySource: AuthorizerIdentitySource, ValidationExpression: "^Bearer [^ ]+$", URI: str(authURI), TTLSeconds: AuthorizerTTLSeconds}
		var routes []routeSpec
		for _, r := range Routes {
			routes = append(routes, newRouteSpec(r, str("authorizer-id"), str(fnURI)))
		}
		return a, routes, []any{"authorizer-id", "resource-id", "method-id", "integration-id"}
	}
	trigger := func(a authorizerSpec, r []routeSpec, ids []any) string {
		b, err := json.Marshal(deploymentInputs(a, r, ids))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The first route needing a key, and the first with a path parameter.
	keyed, param := -1, -1
	_, r0, _ := base()
	for i, r := range r0 {
		if r.Route.KeyRequired && keyed < 0 {
			keyed = i
		}
		if r.RequestParameters != nil && param < 0 {
			param = i
		}
	}
	if keyed < 0 || param < 0 {
		t.Fatalf("Routes have no keyed route or no path parameter: %+v", Routes)
	}
	cases := []struct {
		name   string
		change func(a *authorizerSpec, r []routeSpec, ids []any)
	}{
		{"integration uri", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[0].URI = str(fnURI + "x") }},
		{"integration type", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[0].IntegrationType = "AWS" }},
		{"integration http method", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[0].IntegrationHTTPMethod = "GET" }},
		{"authorizer TTL", func(a *authorizerSpec, _ []routeSpec, _ []any) { a.TTLSeconds = 60 }},
		{"authorizer pattern", func(a *authorizerSpec, _ []routeSpec, _ []any) { a.ValidationExpression = "^Bearer .+$" }},
		{"authorizer uri", func(a *authorizerSpec, _ []routeSpec, _ []any) { a.URI = str(authURI + "x") }},
		{"authorizer identity source", func(a *authorizerSpec, _ []routeSpec, _ []any) {
			a.IdentitySource = "method.request.header.X-Token"
		}},
		{"api_key_required", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[keyed].Route.KeyRequired = false }},
		{"method authorization", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[keyed].Authorization = "NONE" }},
		{"method's authorizer", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[keyed].AuthorizerID = str("other-authorizer") }},
		{"request parameters", func(_ *authorizerSpec, r []routeSpec, _ []any) {
			r[param].RequestParameters = &map[string]any{"method.request.path.paymentId": false}
		}},
		{"route path", func(_ *authorizerSpec, r []routeSpec, _ []any) { r[0].Route.Path += "2" }},
		{"a replaced resource", func(_ *authorizerSpec, _ []routeSpec, ids []any) { ids[2] = "method-id-2" }},
	}
	a, r, ids := base()
	before := trigger(a, r, ids)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, r, ids := base()
			tc.change(&a, r, ids)
			if after := trigger(a, r, ids); after == before {
				t.Errorf("changing the %s leaves the deployment trigger as it was: the stage would keep serving the old snapshot", tc.name)
			}
		})
	}
	if a, r, ids := base(); trigger(a, r, ids) != before {
		t.Error("the trigger is not stable for the same configuration: every plan would redeploy")
	}
}
