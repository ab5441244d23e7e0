package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/payments-dr/payments-dr/lambda/auth"
)

// errUnauthorized must read exactly "Unauthorized": API Gateway answers the
// client 401 for that error and 500 for any other
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/call-api-with-api-gateway-lambda-authorization.html).
var errUnauthorized = errors.New("Unauthorized")

// callBudget bounds one authorization. A call makes at most one JWKS fetch,
// itself bounded by auth.DefaultFetchTimeout; this is the backstop that keeps
// a call under 3 s, well inside the function's 5 s timeout.
const callBudget = 2500 * time.Millisecond

// PrincipalContextKey names the caller in the authorizer's context map,
// alongside principalId, for integrations and access logs that read
// $context.authorizer.<key>.
const PrincipalContextKey = "principal"

type handler struct {
	v   *auth.Validator
	log *slog.Logger
}

func newHandler(v *auth.Validator, log *slog.Logger) *handler { return &handler{v: v, log: log} }

// handle answers a TOKEN authorizer request, whose event carries the
// Authorization header value and the ARN of the method called
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html).
// The token itself is never logged.
func (h *handler) handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, callBudget)
	defer cancel()
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("requestId", lc.AwsRequestID)
	}

	principal, err := h.v.Validate(ctx, req.AuthorizationToken)
	if err != nil {
		log.Info("unauthorized", "reason", err.Error(), "durationMs", time.Since(start).Milliseconds())
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	resource, err := stageResource(req.MethodArn)
	if err != nil {
		// Not the caller's fault: a plain error makes API Gateway answer
		// 500, and the request still does not reach the function.
		log.Error("cannot build the policy", "error", err.Error())
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	log.Info("authorized", "principal", principal, "durationMs", time.Since(start).Milliseconds())
	return allow(principal, resource), nil
}

// allow is the authorizer's answer: principalId, an Allow policy and a
// context map
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
// API Gateway hands principalId and the context to the Lambda proxy
// integration as requestContext.authorizer ($context.authorizer.principalId,
// same page), which is where the payment function reads the caller.
func allow(principal, resource string) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   "Allow",
				Resource: []string{resource},
			}},
		},
		Context: map[string]any{PrincipalContextKey: principal},
	}
}

// stageResource turns the called method's ARN,
// arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<verb>/<path>,
// into arn:...:<apiId>/<stage>/*/*. With result caching on, API Gateway
// reuses a token's policy for every method of the API until the TTL runs
// out, so a policy naming only the first method called would deny the
// caller's next, different request (403)
// (https://repost.aws/knowledge-center/api-gateway-lambda-authorization-errors).
func stageResource(methodARN string) (string, error) {
	parts := strings.SplitN(methodARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "execute-api" || parts[3] == "" || parts[4] == "" {
		return "", fmt.Errorf("methodArn %q is not an execute-api ARN", methodARN)
	}
	segs := strings.SplitN(parts[5], "/", 4)
	if len(segs) < 3 || segs[0] == "" || segs[1] == "" || strings.Contains(segs[0]+segs[1], "*") {
		return "", fmt.Errorf("methodArn %q does not name an API, a stage and a method", methodARN)
	}
	return strings.Join(parts[:5], ":") + ":" + segs[0] + "/" + segs[1] + "/*/*", nil
}
