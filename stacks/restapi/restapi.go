// Package restapi holds one region's REST API in front of the payment function: routes,
// stage, the clients' API keys and the usage plan, access logs, and the regional custom domain that the
// failover records point at.
package restapi

import (
	"encoding/json"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificatevalidation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayapikey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayauthorizer"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaybasepathmapping"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaydeployment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaydomainname"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayintegration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaymethod"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaymethodsettings"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayresource"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayrestapi"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewaystage"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayusageplan"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayusageplankey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdapermission"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	randomid "github.com/cdktf/cdktf-provider-random-go/random/v11/id"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/payments-dr/payments-dr/lambda/auth"
	"github.com/payments-dr/payments-dr/stacks/iam"
	"github.com/payments-dr/payments-dr/stacks/monitoring"
	"github.com/payments-dr/payments-dr/stacks/site"
)

// Stage is the one stage; the health checks request /<Stage>/health.
const Stage = "prod"

// HealthPath is the health route's family: Route 53 probes one resource below it, named by
// an apply-time random value (HealthSecretBytes, random_id), so the path is in neither the
// repository nor the snapshot, only in the encrypted state and the health checks. The
// checkers Route 53 runs for every AWS customer share its published addresses: knowing
// the hostname and this repository, anyone could otherwise point health checks of their
// own at /health and spend its method throttle. The WAF blocks every other path of the
// family, and the secret one for anyone but Route 53's checkers (package waf); API
// Gateway answers a path without a method itself (403), before any method throttle.
const HealthPath = "/health"

// HealthSecretBytes is the random_id's byte_length: 128 bits, as hex in the path.
const HealthSecretBytes = 16

// HealthResourcePath is the health route's resource path for a secret segment.
func HealthResourcePath(secret string) string { return HealthPath + "/" + secret }

// HealthMethodPath is the health GET in aws_api_gateway_method_settings' form: the resource
// path without its leading slash, then the method.
func HealthMethodPath(secret string) string {
	return strings.TrimPrefix(HealthResourcePath(secret), "/") + "/GET"
}

// StatusPath is the open route for everyone else (the peer probes, operators, clients):
// the same function and the same answer as /health, under a throttle of its own, so that
// no caller of it can take anything from Route 53's checks.
const StatusPath = "/status"

// Throttling of the stage, per region: the ceiling of all clients together, per method.
const (
	RateLimit  = 100 // requests per second, steady
	BurstLimit = 200
)

// Each client's throttle in a region: the usage plan's throttle and quota apply to each
// API key separately ("Throttling and quota limits apply to requests for individual API
// keys that are aggregated across all API stages within a usage plan"), so each client
// has its own bucket and keys in one plan do not share it.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
// A client's ceiling is the stage's per-method one, counted over all its methods together;
// the stage throttle stays the region's ceiling for all clients together, per method. So a
// lone client is served as fast as the region allows on any one route, while one client
// flooding several routes is cut at its own key rather than taking every route's capacity,
// and the quota (API_QUOTA_PER_DAY) is what bounds one client's volume against the others.
const (
	ClientRateLimit  = RateLimit
	ClientBurstLimit = BurstLimit
)

// QuotaPeriod is the period of API_QUOTA_PER_DAY (QuotaSettings' period: DAY, WEEK or MONTH).
// https://docs.aws.amazon.com/apigateway/latest/api/API_QuotaSettings.html
const QuotaPeriod = "DAY"

// GET /health has its own method-level throttle, so a burst on the payment routes cannot
// answer Route 53's checkers (run from 16 availability zones, each every 10 s; see
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-latency.html)
// or the peer probes with 429 and
// fail the region over while it is healthy. API Gateway applies per-stage limits "at the
// API method level", and a method's own settings override the stage's for that method.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
// The account-wide regional limit still covers all APIs; that is AWS's, not ours to set.
const (
	HealthRateLimit  = 50 // ~1.6/s from Route 53, with headroom
	HealthBurstLimit = 100
)

// GET /status likewise: the peer probes send 0.2/s per region, people a few; a flood of it
// gets 429 here and from the WAF's rate rule, which the probes read as "could not tell"
// (lambda/control.StateUnknown), never as the region being down.
const (
	StatusRateLimit  = 20
	StatusBurstLimit = 40
)

// HealthFamilies are the prefixes under which a health path is requested, as the request
// arrives: through the execute-api host (Route 53's checks) with the stage in front, and
// through the custom domain, whose base path mapping hides the stage. Route 53 checks only
// the first, but both reach the same method and its one throttle.
var HealthFamilies = []string{"/" + Stage + HealthPath, HealthPath}

// HealthRequestPaths are the secret health paths under each of HealthFamilies.
func HealthRequestPaths(secret string) []string {
	out := make([]string, len(HealthFamilies))
	for i, f := range HealthFamilies {
		out[i] = f + "/" + secret
	}
	return out
}

// StatusMethodPath is GET /status in aws_api_gateway_method_settings' form.
var StatusMethodPath = strings.TrimPrefix(StatusPath, "/") + "/GET"

// Route is one method on one path of the API.
type Route struct {
	Method string
	Path   string // e.g. "/payments/{paymentId}"
	// KeyRequired: payment routes need a client's API key, which selects that client's
	// throttle and quota in the usage plan; /health stays open for Route 53, /status for
	// the probes.
	KeyRequired bool
	// Authorized: the caller must present a bearer token the region's authorizer
	// accepts. API keys are not credentials: "Don't use API keys for authentication or
	// authorization to control access to your APIs."
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
	Authorized bool
	// Secret: the method is on a resource one segment below Path, named by the API's
	// apply-time health secret (HealthPath).
	Secret bool
}

// Routes the function serves; the stage is redeployed whenever a route changes (deployment.go).
var Routes = []Route{
	{Method: "POST", Path: "/payments", KeyRequired: true, Authorized: true},
	{Method: "GET", Path: "/payments/{paymentId}", KeyRequired: true, Authorized: true},
	{Method: "GET", Path: HealthPath, KeyRequired: false, Authorized: false, Secret: true},
	{Method: "GET", Path: StatusPath, KeyRequired: false, Authorized: false},
}

// Authorizer settings. A TOKEN authorizer receives the Authorization header's value
// (Bearer <jwt>); API Gateway caches its policy per token for the TTL and reuses it for
// every method of the API, so the authorizer allows the whole stage.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
const (
	AuthorizerType           = "TOKEN"
	AuthorizerIdentitySource = "method.request.header.Authorization"
	AuthorizerTTLSeconds     = 300
)

// Authorizer is the Lambda function behind the region's authorizer.
type Authorizer struct {
	FunctionName, InvokeArn *string
}

// accessLogFormat is one JSON object per request, with the fields an on-call engineer
// filters by during a failover.
var accessLogFormat = mustJSON(map[string]string{
	"requestId":          "$context.requestId",
	"ip":                 "$context.identity.sourceIp",
	"requestTime":        "$context.requestTime",
	"httpMethod":         "$context.httpMethod",
	"resourcePath":       "$context.resourcePath",
	"status":             "$context.status",
	"responseLength":     "$context.responseLength",
	"integrationLatency": "$context.integrationLatency",
	"integrationStatus":  "$context.integration.status",
	"apiKeyId":           "$context.identity.apiKeyId",
	"principal":          "$context.authorizer.principalId",
	"authorizerError":    "$context.authorizer.error",
	"domainName":         "$context.domainName",
})

// Config of one region's API.
type Config struct {
	Site site.Site
	Name string // API, log group and usage plan name
	// Authorizer guards the routes marked Authorized.
	Authorizer        *Authorizer
	FunctionName      *string
	FunctionInvokeArn *string
	KMSKeyArn         *string
	LogRetentionDays  int
	// Clients name the API's clients, one API key each (config API_CLIENTS).
	Clients []string
	// APIKeyValues is nil in the region that generates the keys and, elsewhere, the
	// values generated there by client, so each client's key keeps working in this
	// region after a failover.
	APIKeyValues map[string]*string
	// QuotaPerDay is each client's quota of requests per day; 0: no quota.
	QuotaPerDay int
	DomainName  string
	ZoneID      *string
}

// API is what the failover records, health checks and alarms need.
type API struct {
	ID       *string
	Name     *string
	Host     *string // <id>.execute-api.<region>.amazonaws.com, the health-check target
	Endpoint *string // https://<host>/prod
	StageArn *string // what a WAF web ACL is associated with
	// APIKeyIDs and APIKeys (sensitive: the values) by client.
	APIKeyIDs map[string]*string
	APIKeys   map[string]*string
	AliasName *string // the regional domain name: the alias target, or the CNAME value
	AliasZone *string
	// HealthSecret is the apply-time segment of the health route, and HealthCheckPath the
	// path Route 53 requests on Host: /<stage>/health/<secret>.
	HealthSecret, HealthCheckPath *string
	// ServingHealth are what must be applied before a health check moves to
	// HealthCheckPath: the stage serving it (and, added by the region, the WAF rules
	// admitting it). A check that moved first would fail until they catch up.
	ServingHealth []cdktf.ITerraformDependable
}

// New declares the API and everything that serves it.
func New(scope constructs.Construct, id string, cfg Config) API {
	c := constructs.NewConstruct(scope, jsii.String(id))
	p := cfg.Site.Provider
	api := apigatewayrestapi.NewApiGatewayRestApi(c, jsii.String("api"), &apigatewayrestapi.ApiGatewayRestApiConfig{
		Provider:    p,
		Name:        jsii.String(cfg.Name),
		Description: jsii.String("payments API, " + cfg.Site.Role + " region " + cfg.Site.Region),
		EndpointConfiguration: &apigatewayrestapi.ApiGatewayRestApiEndpointConfiguration{
			Types: jsii.Strings("REGIONAL"),
		},
	})

	// Kept in the (encrypted) state; never rotated by a plan. Rotating it on purpose is a
	// replace of this resource (RUNBOOK): the health checks follow in the same apply.
	secret := randomid.NewId(c, jsii.String("health-secret"), &randomid.IdConfig{
		ByteLength: jsii.Number(HealthSecretBytes),
	}).Hex()

	// One API Gateway resource per path segment, shared by the routes below it.
	resources := map[string]*string{"": api.RootResourceId()}
	var resourceFor func(path string) *string
	resourceFor = func(path string) *string {
		if id, ok := resources[path]; ok {
			return id
		}
		parent, part := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
		r := apigatewayresource.NewApiGatewayResource(c, jsii.String("resource"+logicalName(path)), &apigatewayresource.ApiGatewayResourceConfig{
			Provider:  p,
			RestApiId: api.Id(),
			ParentId:  resourceFor(parent),
			PathPart:  jsii.String(part),
		})
		resources[path] = r.Id()
		return r.Id()
	}
	authSpec := authorizerSpec{
		Name:           cfg.Name + "-bearer",
		Type:           AuthorizerType,
		IdentitySource: AuthorizerIdentitySource,
		// Headers of any other shape get 401 from API Gateway itself, without an
		// invocation (the pattern's comment cites the behaviour).
		ValidationExpression: auth.HeaderPattern,
		URI:                  cfg.Authorizer.InvokeArn,
		TTLSeconds:           AuthorizerTTLSeconds,
	}
	authorizer := apigatewayauthorizer.NewApiGatewayAuthorizer(c, jsii.String("authorizer"), &apigatewayauthorizer.ApiGatewayAuthorizerConfig{
		Provider:                     p,
		Name:                         jsii.String(authSpec.Name),
		RestApiId:                    api.Id(),
		Type:                         jsii.String(authSpec.Type),
		IdentitySource:               jsii.String(authSpec.IdentitySource),
		IdentityValidationExpression: jsii.String(authSpec.ValidationExpression),
		AuthorizerUri:                authSpec.URI,
		AuthorizerResultTtlInSeconds: jsii.Number(authSpec.TTLSeconds),
	})
	// API Gateway invokes the authorizer under the function's resource policy (no invoke
	// role: "Keep Lambda invoke role blank to let [API Gateway] set a resource-based
	// policy"), here from this API's authorizer only: its source ARN is
	// <execution ARN>/authorizers/<authorizer id>.
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
	lambdapermission.NewLambdaPermission(c, jsii.String("authorizer-permission"), &lambdapermission.LambdaPermissionConfig{
		Provider:     p,
		StatementId:  jsii.String("AllowInvokeFromApiAuthorizer"),
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: cfg.Authorizer.FunctionName,
		Principal:    jsii.String("apigateway.amazonaws.com"),
		SourceArn:    jsii.String(*api.ExecutionArn() + "/authorizers/" + *authorizer.Id()),
	})
	// The authorizer's id too: a replaced authorizer must go live with the methods.
	ids := []any{authorizer.Id()}
	var specs []routeSpec
	for _, route := range Routes {
		spec := newRouteSpec(route, authorizer.Id(), cfg.FunctionInvokeArn)
		specs = append(specs, spec)
		name := strings.ToLower(route.Method) + logicalName(route.Path)
		resourceID := resourceFor(route.Path)
		if route.Secret {
			// No method on Path itself: API Gateway answers it without one.
			resourceID = apigatewayresource.NewApiGatewayResource(c, jsii.String("resource"+logicalName(route.Path)+"-secret"), &apigatewayresource.ApiGatewayResourceConfig{
				Provider:  p,
				RestApiId: api.Id(),
				ParentId:  resourceID,
				PathPart:  secret,
			}).Id()
		}
		method := apigatewaymethod.NewApiGatewayMethod(c, jsii.String("method-"+name), &apigatewaymethod.ApiGatewayMethodConfig{
			Provider:          p,
			RestApiId:         api.Id(),
			ResourceId:        resourceID,
			HttpMethod:        jsii.String(route.Method),
			Authorization:     jsii.String(spec.Authorization),
			AuthorizerId:      spec.AuthorizerID,
			ApiKeyRequired:    jsii.Bool(route.KeyRequired),
			RequestParameters: spec.RequestParameters,
		})
		integration := apigatewayintegration.NewApiGatewayIntegration(c, jsii.String("integration-"+name), &apigatewayintegration.ApiGatewayIntegrationConfig{
			Provider:              p,
			RestApiId:             api.Id(),
			ResourceId:            resourceID,
			HttpMethod:            method.HttpMethod(),
			Type:                  jsii.String(spec.IntegrationType),
			IntegrationHttpMethod: jsii.String(spec.IntegrationHTTPMethod),
			Uri:                   spec.URI,
		})
		ids = append(ids, resourceID, method.Id(), integration.Id())
	}
	lambdapermission.NewLambdaPermission(c, jsii.String("invoke-permission"), &lambdapermission.LambdaPermissionConfig{
		Provider:     p,
		StatementId:  jsii.String("AllowInvokeFromApiStage"),
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: cfg.FunctionName,
		Principal:    jsii.String("apigateway.amazonaws.com"),
		SourceArn:    jsii.String(*api.ExecutionArn() + "/" + Stage + "/*/*"),
	})

	deployment := apigatewaydeployment.NewApiGatewayDeployment(c, jsii.String("deployment"), &apigatewaydeployment.ApiGatewayDeploymentConfig{
		Provider:    p,
		RestApiId:   api.Id(),
		Description: jsii.String("payments API routes"),
		// A deployment is a snapshot: without a new one, route changes never go live.
		Triggers: &map[string]*string{
			"redeployment": cdktf.Fn_Sha1(cdktf.Fn_Jsonencode(deploymentInputs(authSpec, specs, ids))),
		},
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})

	account := cloudWatchLogging(c, cfg.Site, cfg.Name)
	accessLogs := monitoring.NewLogGroup(c, "access-logs", monitoring.LogGroupConfig{
		Site: cfg.Site, Name: "/aws/apigateway/" + cfg.Name, RetentionDays: cfg.LogRetentionDays, KMSKeyArn: cfg.KMSKeyArn,
	})
	// API Gateway writes execution logs to this group; declared here so it is encrypted
	// and expires like the others instead of being created on first use.
	executionLogs := monitoring.NewLogGroup(c, "execution-logs", monitoring.LogGroupConfig{
		Site: cfg.Site, Name: "API-Gateway-Execution-Logs_" + *api.Id() + "/" + Stage, RetentionDays: cfg.LogRetentionDays, KMSKeyArn: cfg.KMSKeyArn,
	})
	stage := apigatewaystage.NewApiGatewayStage(c, jsii.String("stage"), &apigatewaystage.ApiGatewayStageConfig{
		Provider:           p,
		RestApiId:          api.Id(),
		DeploymentId:       deployment.Id(),
		StageName:          jsii.String(Stage),
		XrayTracingEnabled: jsii.Bool(true),
		AccessLogSettings: &apigatewaystage.ApiGatewayStageAccessLogSettings{
			DestinationArn: accessLogs.Arn(),
			Format:         jsii.String(accessLogFormat),
		},
		DependsOn: &[]cdktf.ITerraformDependable{account, executionLogs},
	})
	settings := func(rate, burst float64) *apigatewaymethodsettings.ApiGatewayMethodSettingsSettings {
		return &apigatewaymethodsettings.ApiGatewayMethodSettingsSettings{
			MetricsEnabled:       jsii.Bool(true),
			LoggingLevel:         jsii.String("ERROR"),
			DataTraceEnabled:     jsii.Bool(false), // full request logging would write card data to logs
			ThrottlingRateLimit:  jsii.Number(rate),
			ThrottlingBurstLimit: jsii.Number(burst),
		}
	}
	stageSettings := apigatewaymethodsettings.NewApiGatewayMethodSettings(c, jsii.String("method-settings"), &apigatewaymethodsettings.ApiGatewayMethodSettingsConfig{
		Provider:   p,
		RestApiId:  api.Id(),
		StageName:  stage.StageName(),
		MethodPath: jsii.String("*/*"),
		Settings:   settings(RateLimit, BurstLimit),
	})
	// The override repeats the stage's logging and metrics, so /health keeps them
	// whatever the method override inherits.
	healthSettings := apigatewaymethodsettings.NewApiGatewayMethodSettings(c, jsii.String("health-method-settings"), &apigatewaymethodsettings.ApiGatewayMethodSettingsConfig{
		Provider:   p,
		RestApiId:  api.Id(),
		StageName:  stage.StageName(),
		MethodPath: jsii.String(HealthMethodPath(*secret)),
		Settings:   settings(HealthRateLimit, HealthBurstLimit),
		// All patch the same stage; one at a time avoids a conflicting concurrent update.
		DependsOn: &[]cdktf.ITerraformDependable{stageSettings},
	})
	apigatewaymethodsettings.NewApiGatewayMethodSettings(c, jsii.String("status-method-settings"), &apigatewaymethodsettings.ApiGatewayMethodSettingsConfig{
		Provider:   p,
		RestApiId:  api.Id(),
		StageName:  stage.StageName(),
		MethodPath: jsii.String(StatusMethodPath),
		Settings:   settings(StatusRateLimit, StatusBurstLimit),
		DependsOn:  &[]cdktf.ITerraformDependable{healthSettings},
	})

	keyIDs, keyValues := clientKeys(c, cfg, api.Id(), stage.StageName())

	domain := customDomain(c, cfg, api.Id(), stage.StageName())
	host := jsii.String(*api.Id() + ".execute-api." + cfg.Site.Region + ".amazonaws.com")
	return API{
		ID:        api.Id(),
		Name:      api.Name(),
		Host:      host,
		Endpoint:  jsii.String("https://" + *host + "/" + Stage),
		StageArn:  stage.Arn(),
		APIKeyIDs: keyIDs,
		APIKeys:   keyValues,
		AliasName: domain.RegionalDomainName(),
		AliasZone: domain.RegionalZoneId(),

		HealthSecret:    secret,
		HealthCheckPath: jsii.String("/" + Stage + HealthResourcePath(*secret)),
		ServingHealth:   []cdktf.ITerraformDependable{stage, healthSettings},
	}
}

// clientKeys declares the region's usage plan and one API key per client in it, and
// returns the keys' ids and values by client.
func clientKeys(c constructs.Construct, cfg Config, apiID, stage *string) (ids, values map[string]*string) {
	p := cfg.Site.Provider
	planCfg := &apigatewayusageplan.ApiGatewayUsagePlanConfig{
		Provider:         p,
		Name:             jsii.String(cfg.Name),
		Description:      jsii.String("payments clients: each API key has its own throttle and quota"),
		ApiStages:        &[]*apigatewayusageplan.ApiGatewayUsagePlanApiStages{{ApiId: apiID, Stage: stage}},
		ThrottleSettings: &apigatewayusageplan.ApiGatewayUsagePlanThrottleSettings{RateLimit: jsii.Number(ClientRateLimit), BurstLimit: jsii.Number(ClientBurstLimit)},
	}
	if cfg.QuotaPerDay > 0 {
		planCfg.QuotaSettings = &apigatewayusageplan.ApiGatewayUsagePlanQuotaSettings{Limit: jsii.Number(cfg.QuotaPerDay), Period: jsii.String(QuotaPeriod)}
	}
	plan := apigatewayusageplan.NewApiGatewayUsagePlan(c, jsii.String("usage-plan"), planCfg)
	ids, values = map[string]*string{}, map[string]*string{}
	for _, client := range cfg.Clients {
		var value *string
		if cfg.APIKeyValues != nil {
			// A client without its generated value would get a new key here, one that
			// fails over to 403 for that client: a wiring error, not a configuration.
			if value = cfg.APIKeyValues[client]; value == nil {
				panic("restapi: no API key value for client " + client + " from the generating region")
			}
		}
		key := apigatewayapikey.NewApiGatewayApiKey(c, jsii.String("api-key-"+client), &apigatewayapikey.ApiGatewayApiKeyConfig{
			Provider:    p,
			Name:        jsii.String(cfg.Name + "-" + client),
			Description: jsii.String("payments client " + client + "; the same value is accepted in both regions"),
			Enabled:     jsii.Bool(true),
			Value:       value,
		})
		apigatewayusageplankey.NewApiGatewayUsagePlanKey(c, jsii.String("usage-plan-key-"+client), &apigatewayusageplankey.ApiGatewayUsagePlanKeyConfig{
			Provider:    p,
			KeyId:       key.Id(),
			KeyType:     jsii.String("API_KEY"),
			UsagePlanId: plan.Id(),
		})
		ids[client], values[client] = key.Id(), key.Value()
	}
	return ids, values
}

// customDomain serves the API under the failover name in this region. API Gateway
// answers 403 to a Host it does not know, so each region needs its own domain name
// with a certificate in that region; a CNAME to the execute-api host cannot work.
func customDomain(c constructs.Construct, cfg Config, apiID, stage *string) apigatewaydomainname.ApiGatewayDomainName {
	p := cfg.Site.Provider
	cert := acmcertificate.NewAcmCertificate(c, jsii.String("certificate"), &acmcertificate.AcmCertificateConfig{
		Provider:         p,
		DomainName:       jsii.String(cfg.DomainName),
		ValidationMethod: jsii.String("DNS"),
		Lifecycle:        &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})
	// Each region validates its certificate from its own domain_validation_options, never
	// another region's: ACM gives the same CNAME for the same name across the regions of an
	// account today, but this certificate's validation must not rest on that (nor wait on
	// the other region's apply). The two regions then declare the same record, so both may
	// overwrite it (allow_overwrite: UPSERT instead of failing on "already exists");
	// destroying one region's copy deletes the record, and the next apply of the other
	// region puts it back.
	// https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
	// https://registry.terraform.io/providers/hashicorp/aws/5.88.0/docs/resources/route53_record (allow_overwrite)
	option := cert.DomainValidationOptions().Get(jsii.Number(0))
	fqdn := route53record.NewRoute53Record(c, jsii.String("certificate-validation-record"), &route53record.Route53RecordConfig{
		Provider:       p,
		ZoneId:         cfg.ZoneID,
		Name:           option.ResourceRecordName(),
		Type:           option.ResourceRecordType(),
		Records:        &[]*string{option.ResourceRecordValue()},
		Ttl:            jsii.Number(300),
		AllowOverwrite: jsii.Bool(true),
	}).Fqdn()
	validation := acmcertificatevalidation.NewAcmCertificateValidation(c, jsii.String("certificate-validation"), &acmcertificatevalidation.AcmCertificateValidationConfig{
		Provider:              p,
		CertificateArn:        cert.Arn(),
		ValidationRecordFqdns: &[]*string{fqdn},
	})
	domain := apigatewaydomainname.NewApiGatewayDomainName(c, jsii.String("domain"), &apigatewaydomainname.ApiGatewayDomainNameConfig{
		Provider:               p,
		DomainName:             jsii.String(cfg.DomainName),
		RegionalCertificateArn: validation.CertificateArn(),
		SecurityPolicy:         jsii.String("TLS_1_2"),
		EndpointConfiguration:  &apigatewaydomainname.ApiGatewayDomainNameEndpointConfiguration{Types: jsii.Strings("REGIONAL")},
	})
	apigatewaybasepathmapping.NewApiGatewayBasePathMapping(c, jsii.String("base-path-mapping"), &apigatewaybasepathmapping.ApiGatewayBasePathMappingConfig{
		Provider:   p,
		ApiId:      apiID,
		StageName:  stage,
		DomainName: domain.DomainName(),
	})
	return domain
}

// cloudWatchLogging sets the region's API Gateway account role, without which stages
// cannot write access or execution logs. It is one setting per account and region.
func cloudWatchLogging(c constructs.Construct, s site.Site, name string) apigatewayaccount.ApiGatewayAccount {
	role := iam.NewRole(c, "cloudwatch-role", iam.RoleConfig{
		Site:              s,
		Name:              strings.Replace(name, "payment-api-", "apigateway-logs-", 1),
		Trust:             iam.ServiceTrust("apigateway.amazonaws.com"),
		ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
	})
	deps := role.Grants
	return apigatewayaccount.NewApiGatewayAccount(c, jsii.String("account"), &apigatewayaccount.ApiGatewayAccountConfig{
		Provider:          s.Provider,
		CloudwatchRoleArn: role.Arn,
		// Clear the setting on destroy rather than leave it naming a deleted role.
		ResetOnDelete: jsii.Bool(true),
		DependsOn:     &deps,
	})
}

// pathParameters declares the {name} segments of path as required request parameters.
func pathParameters(path string) *map[string]any {
	params := map[string]any{}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params["method.request.path."+strings.Trim(seg, "{}")] = true
		}
	}
	if len(params) == 0 {
		return nil
	}
	return &params
}

// logicalName turns "/payments/{paymentId}" into "-payments-paymentid" for construct ids.
func logicalName(path string) string {
	return strings.ToLower(strings.NewReplacer("{", "", "}", "", "/", "-").Replace(path))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
