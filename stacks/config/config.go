// Package config holds the one typed configuration of payments-dr: read from the
// environment, defaulted so that synth needs no AWS credentials, and validated as a
// whole before any construct is built.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Config is everything that varies between deployments of payments-dr.
type Config struct {
	EnvironmentSuffix string // ENVIRONMENT_SUFFIX: the {environment} part of every name
	PrimaryRegion     string // PRIMARY_REGION
	SecondaryRegion   string // SECONDARY_REGION
	DomainName        string // API_DOMAIN_NAME: the failover name clients call
	HostedZoneID      string // HOSTED_ZONE_ID: empty means a zone for DomainName's parent is created
	StateBucket       string // STATE_BUCKET
	StateKey          string // STATE_KEY
	StateRegion       string // STATE_REGION: must not be the primary region
	AlertEmail        string // ALERT_EMAIL: optional
	// HealthCheckInterval is Route 53's request interval in seconds (10 or 30).
	HealthCheckInterval int // HEALTH_CHECK_INTERVAL
	// HealthCheckFailureThreshold is how many failed checks in a row mark a region unhealthy.
	HealthCheckFailureThreshold int // HEALTH_CHECK_FAILURE_THRESHOLD
	LogRetentionDays            int // LOG_RETENTION_DAYS
	// FailoverControl is the operator's lever for drills, manual failover and failback:
	// ControlFlag (the drain flag in the global table) or ControlARC (Route 53 ARC
	// routing controls). Both are data-plane operations that work with us-east-1 down.
	FailoverControl string // FAILOVER_CONTROL
	// FailoverRecord is the type of the two failover records: RecordCNAME (a CNAME to each
	// region's API Gateway regional domain, with DNSTTL) or RecordAlias (alias A records,
	// which Route 53 answers with the 60 s TTL it gives API Gateway targets).
	FailoverRecord string // FAILOVER_RECORD
	// DNSTTL is the CNAME records' TTL in seconds; unused (0) with alias records.
	DNSTTL             int  // DNS_TTL
	DeletionProtection bool // DELETION_PROTECTION
	// DRExternalID is an optional sts:ExternalId the DR operations role also requires;
	// empty by default, so no external id is ever committed to the repository.
	DRExternalID string // DR_EXTERNAL_ID
	// DROperatorARNs are the IAM roles and users that may assume the DR operations role,
	// comma-separated as read (a string keeps Config comparable); OperatorARNs splits it.
	// Empty: the role is not created and the recovery report lists the gap.
	DROperatorARNs string // DR_OPERATOR_ARNS
	// WAFRateLimit is the requests per client IP address in any 5 minutes above which each
	// region's WAF blocks that address.
	WAFRateLimit int // WAF_RATE_LIMIT
	// The identity provider whose JWT bearer tokens the payment routes accept.
	AuthIssuer   string // AUTH_ISSUER
	AuthAudience string // AUTH_AUDIENCE
	AuthJWKSURL  string // AUTH_JWKS_URL
	// APIClientList names the API clients, one API key (and so one throttle bucket and
	// quota of the usage plan) each, comma-separated as read (a string keeps Config
	// comparable); APIClients splits it.
	APIClientList string // API_CLIENTS
	// APIQuotaPerDay is each client's request quota per day; 0: no quota.
	APIQuotaPerDay int // API_QUOTA_PER_DAY
}

// Setting describes one environment variable: its name, what it does, what it accepts
// (also the text of its error) and its default. The README's table is rendered from these.
type Setting struct {
	Env      string
	Meaning  string
	Accepted string
	Default  string
}

// Settings lists every variable FromEnv reads, in the order the README documents them.
var Settings = []Setting{
	{"ENVIRONMENT_SUFFIX", "the {environment} part of every name", "3-20 characters of a-z, 0-9 and '-', starting with a letter, not ending with '-', no '--'", "dev"},
	{"PRIMARY_REGION", "region that serves while healthy", "an AWS commercial region code, e.g. us-east-1", "us-east-1"},
	{"SECONDARY_REGION", "region DNS fails over to", "an AWS commercial region code other than PRIMARY_REGION; one of the two must be us-east-1 (Route 53 health-check metrics exist only there), e.g. us-east-2", "us-east-2"},
	{"API_DOMAIN_NAME", "the failover name clients call", "a lower-case DNS name with at least three labels, e.g. api.payments.example.com", "api.payment-<suffix>.example.com"},
	{"HOSTED_ZONE_ID", "existing Route 53 zone holding API_DOMAIN_NAME", "empty (a zone for the parent of API_DOMAIN_NAME is created) or a Route 53 zone id such as Z0123456789ABCDEFGHIJ", "empty"},
	{"STATE_BUCKET", "bucket the bootstrap stack creates for the DR stack's state", "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", "payments-dr-tfstate-<suffix>"},
	{"STATE_KEY", "object key of the DR stack's state", "an object key ending in .tfstate, no leading '/'", "payments-dr/<suffix>/terraform.tfstate"},
	{"STATE_REGION", "region of the state bucket", "an AWS commercial region code other than PRIMARY_REGION", "us-west-2"},
	{"ALERT_EMAIL", "subscribed to both regions' alert topics", "empty or one e-mail address", "empty"},
	{"HEALTH_CHECK_INTERVAL", "seconds between Route 53 checks", "10 or 30", "10"},
	{"HEALTH_CHECK_FAILURE_THRESHOLD", "failed checks in a row that mark a region unhealthy", "an integer from 1 to 10", "3"},
	{"LOG_RETENTION_DAYS", "retention of every log group", "a CloudWatch Logs retention: " + joinInts(logRetentionDays), "30"},
	{"FAILOVER_CONTROL", "the data-plane lever for drills, manual failover and failback (RUNBOOK.md): `flag` is each region's drain flag in the global table, read by its /health (no extra cost); `arc` adds Route 53 Application Recovery Controller routing controls (an ARC cluster is billed per hour)", "flag or arc", "flag"},
	{"FAILOVER_RECORD", "type of the failover records: `cname` points the name at each region's API Gateway regional domain with the TTL DNS_TTL (Route 53 bills these queries); `alias` uses alias A records, whose queries are free but which Route 53 answers with a 60 s TTL, so the RTO bound is 96 s instead of 56 s", "cname or alias", "cname"},
	{"DNS_TTL", "seconds resolvers may keep the failover CNAME, a term of the RTO bound (lower: faster failover, more billed queries)", "an integer from 5 to 300, only with FAILOVER_RECORD=cname", "20"},
	{"DELETION_PROTECTION", "table deletion protection, prevent_destroy on the table, its replica, the receipts buckets, both regions' KMS keys and the zone (the state bucket and its key are always protected); `false` shows as the report's `destroyable-data` warning ([docs/deploying.md, \"Tearing down a test environment\"](docs/deploying.md#tearing-down-a-test-environment))", "true or false", "true"},
	{"DR_EXTERNAL_ID", "sts:ExternalId additionally required to assume the DR operations role (optional: the operators are named in DR_OPERATOR_ARNS)", "empty or 2-1224 characters of A-Z a-z 0-9 and +=,.@:/-", "empty"},
	{"DR_OPERATOR_ARNS", "the only principals that may assume the DR operations role; empty: no role is created and the recovery report lists the gap", "empty or comma-separated IAM role or user ARNs of the aws partition, e.g. arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DROperator_0123456789abcdef", "empty"},
	{"WAF_RATE_LIMIT", "requests per client IP address in any 5 minutes above which each region's WAF blocks that address", fmt.Sprintf("an integer from %d (Route 53's checkers and the peer probes must never reach it) to %d", MinWAFRateLimit, maxWAFRateLimit), strconv.Itoa(DefaultWAFRateLimit)},
	{"AUTH_ISSUER", "issuer (`iss`) of the JWT bearer tokens the payment routes accept", "an https URL without query or fragment", ExampleAuthIssuer},
	{"AUTH_AUDIENCE", "audience (`aud`) the tokens must carry", "1-256 printable characters without spaces", DefaultAuthAudience},
	{"AUTH_JWKS_URL", "the issuer's JSON Web Key Set, fetched by each region's authorizer", "an https URL without fragment", ExampleAuthIssuer + ".well-known/jwks.json"},
	{"API_CLIENTS", "the API's clients: each gets its own API key (the same value in both regions), so its own throttle and quota in each region's usage plan", fmt.Sprintf("comma-separated, unique client names of 1-%d characters of a-z, 0-9 and '-', starting and ending with a letter or digit; at most %d", maxClientNameLength, MaxAPIClients), DefaultAPIClient},
	{"API_QUOTA_PER_DAY", "requests each client may make per day in each region (its usage plan's quota); empty: no quota, only the throttle", fmt.Sprintf("empty or an integer from 1 to %d", maxAPIQuotaPerDay), "empty"},
}

// DROperationsRolePrefix begins the DR operations role's name, dr-operations-role-<suffix>;
// the recovery report looks for it.
const DROperationsRolePrefix = "dr-operations-role-"

// ExampleAuthIssuer is the default issuer: under example.com, reserved for documentation
// (RFC 2606), so no real token is ever signed by it and the default configuration
// synthesizes without credentials yet rejects every caller. The recovery report lists a
// deployment that still uses it as a gap.
const ExampleAuthIssuer = "https://auth.example.com/"

// DefaultAuthAudience is the audience the payment routes expect unless told otherwise.
const DefaultAuthAudience = "payments-api"

// WAF rate limits. AWS WAF's rate-based rules accept limits from 10 to 2,000,000,000
// requests per evaluation window (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
// The floor keeps the health traffic of a single address far below the limit: a Route 53
// checker at the 10 s interval sends 30 requests to /health in 5 minutes, and even all 16
// checker locations behind one address (480) plus both peer probes on /status (2 URLs x 5
// rounds a minute, 50) stay under half of it.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
//
// The default is the stage's own throttle (100 requests/s, restapi.RateLimit) over the
// 5 minutes: a server-side client behind one NAT address may use the whole usage plan
// and gets API Gateway's retryable 429 there, not minutes of WAF 403s. Lower it when
// callers are many small clients.
const (
	MinWAFRateLimit     = 1000
	DefaultWAFRateLimit = 30000
	maxWAFRateLimit     = 2000000000
)

// API clients. Each client is one API key per region; API Gateway allows 10,000 keys per
// account and region (not adjustable) and creates them at 5 per second per account, so the
// cap keeps a deployment far inside both while leaving room for other APIs' keys.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (CreateApiKey)
// The quota's limit is an Integer (32-bit) in API Gateway's QuotaSettings.
// https://docs.aws.amazon.com/apigateway/latest/api/API_QuotaSettings.html
const (
	// DefaultAPIClient is the one client of the default configuration.
	DefaultAPIClient    = "default"
	MaxAPIClients       = 50
	maxClientNameLength = 32
	maxAPIQuotaPerDay   = 2147483647
)

// Table renders Settings as the README's Markdown table.
func Table() string {
	var b strings.Builder
	b.WriteString("| variable | what it sets | accepted | default |\n|---|---|---|---|\n")
	for _, s := range Settings {
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` |\n", s.Env, s.Meaning, s.Accepted, s.Default)
	}
	return b.String()
}

// The accepted values of FAILOVER_CONTROL.
const (
	// ControlFlag: drain flags in the global table (DynamoDB data plane); the default.
	ControlFlag = "flag"
	// ControlARC: Route 53 ARC routing controls (ARC cluster data plane), in addition to the flags.
	ControlARC = "arc"
)

// The accepted values of FAILOVER_RECORD.
const (
	// RecordCNAME: CNAME failover records with DNS_TTL; the default, for an RTO bound
	// under a minute.
	RecordCNAME = "cname"
	// RecordAlias: alias A failover records, answered with Route 53's 60 s TTL.
	RecordAlias = "alias"
)

// DefaultDNSTTL keeps the default RTO bound at 56 s: 10 s × 3 checks + 6 s check
// timeout + 20 s TTL (ops/recovery computes it from the synthesized records).
const DefaultDNSTTL = 20

// ARC reports whether Route 53 ARC routing controls are deployed.
func (c Config) ARC() bool { return c.FailoverControl == ControlARC }

// MetricsRegion is where Route 53 publishes health-check metrics, so where their alarms live.
const MetricsRegion = "us-east-1"

// Regions are the AWS commercial regions this project accepts.
var Regions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2",
	"eu-north-1", "eu-south-1", "eu-south-2",
	"ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ap-east-1", "me-south-1", "me-central-1", "il-central-1", "af-south-1",
}

var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	suffixPattern     = regexp.MustCompile(`^[a-z][a-z0-9-]{1,18}[a-z0-9]$`)
	dnsLabelPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	zoneIDPattern     = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	bucketPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	stateKeyPattern   = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]+\.tfstate$`)
	externalIDPattern = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/-]+$`)
	// An IAM role or user ARN: optional path (printable ASCII between slashes, as IAM
	// allows; the SSO roles live under aws-reserved/sso.amazonaws.com/), then the name.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
	principalARNPattern = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:(role|user)/([!-)+-.0-~]+/)*[A-Za-z0-9+=,.@_-]{1,64}$`)
	// The audience is compared as a string; no spaces keeps it one value in logs.
	audiencePattern = regexp.MustCompile(`^[!-~]{1,256}$`)
	// A client name goes into API key names and Terraform output keys: plain and short.
	clientNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
)

// FromEnv reads the configuration through getenv (os.Getenv in production), applies the
// defaults and validates the result. On error nothing should be built: the error lists
// every bad setting by its variable name and accepted form.
func FromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	// Settings that did not parse keep their default in c; validation skips them so
	// each bad setting is reported once, beside every other problem.
	skip := map[string]bool{}
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	integer := func(name string, def int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, invalid(name, v))
			skip[name] = true
			return def
		}
		return n
	}
	boolean := func(name string, def bool) bool {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			errs = append(errs, invalid(name, v))
			skip[name] = true
			return def
		}
		return b
	}

	suffix := str("ENVIRONMENT_SUFFIX", "dev")
	c := Config{
		EnvironmentSuffix:           suffix,
		PrimaryRegion:               str("PRIMARY_REGION", "us-east-1"),
		SecondaryRegion:             str("SECONDARY_REGION", "us-east-2"),
		DomainName:                  strings.TrimSuffix(str("API_DOMAIN_NAME", "api.payment-"+suffix+".example.com"), "."),
		HostedZoneID:                str("HOSTED_ZONE_ID", ""),
		StateBucket:                 str("STATE_BUCKET", "payments-dr-tfstate-"+suffix),
		StateKey:                    str("STATE_KEY", "payments-dr/"+suffix+"/terraform.tfstate"),
		StateRegion:                 str("STATE_REGION", "us-west-2"),
		AlertEmail:                  str("ALERT_EMAIL", ""),
		HealthCheckInterval:         integer("HEALTH_CHECK_INTERVAL", 10),
		HealthCheckFailureThreshold: integer("HEALTH_CHECK_FAILURE_THRESHOLD", 3),
		LogRetentionDays:            integer("LOG_RETENTION_DAYS", 30),
		FailoverControl:             str("FAILOVER_CONTROL", ControlFlag),
		FailoverRecord:              str("FAILOVER_RECORD", RecordCNAME),
		DeletionProtection:          boolean("DELETION_PROTECTION", true),
		DRExternalID:                str("DR_EXTERNAL_ID", ""),
		DROperatorARNs:              str("DR_OPERATOR_ARNS", ""),
		WAFRateLimit:                integer("WAF_RATE_LIMIT", DefaultWAFRateLimit),
		AuthIssuer:                  str("AUTH_ISSUER", ExampleAuthIssuer),
		AuthAudience:                str("AUTH_AUDIENCE", DefaultAuthAudience),
		AuthJWKSURL:                 str("AUTH_JWKS_URL", ExampleAuthIssuer+".well-known/jwks.json"),
		APIClientList:               str("API_CLIENTS", DefaultAPIClient),
		APIQuotaPerDay:              integer("API_QUOTA_PER_DAY", 0),
	}
	if v := strings.TrimSpace(getenv("API_QUOTA_PER_DAY")); v == "0" {
		// 0 is how Config says "no quota"; set explicitly it reads as "no requests".
		errs = append(errs, invalid("API_QUOTA_PER_DAY", v))
		skip["API_QUOTA_PER_DAY"] = true
	}
	if c.FailoverRecord == RecordCNAME {
		c.DNSTTL = integer("DNS_TTL", DefaultDNSTTL)
	} else if v := strings.TrimSpace(getenv("DNS_TTL")); v != "" && c.FailoverRecord == RecordAlias {
		// Route 53 sets the TTL of an alias to an AWS resource itself: a DNS_TTL here would
		// be silently ignored, and the operator would believe in a bound that does not hold.
		errs = append(errs, fmt.Errorf("DNS_TTL=%q: only FAILOVER_RECORD=cname has a TTL of its own; alias records are answered with the 60 s Route 53 gives API Gateway targets. Unset DNS_TTL or set FAILOVER_RECORD=cname", v))
	}
	if !validSuffix(suffix) {
		// The defaults built from a bad suffix are bad too; report only what was set.
		for _, name := range []string{"API_DOMAIN_NAME", "STATE_BUCKET", "STATE_KEY"} {
			if strings.TrimSpace(getenv(name)) == "" {
				skip[name] = true
			}
		}
	}
	// Every problem at once: an operator fixing settings one run at a time during an
	// outage would otherwise need a synth per mistake.
	return c, joinErrors(append(errs, c.problems(skip)...))
}

// Default is the configuration used when no variable is set.
func Default() Config {
	c, err := FromEnv(func(string) string { return "" })
	if err != nil {
		panic("config: the defaults do not validate: " + err.Error())
	}
	return c
}

// Validate checks every setting and returns all problems at once.
func (c Config) Validate() error { return joinErrors(c.problems(nil)) }

// problems checks every setting but those in skip.
func (c Config) problems(skip map[string]bool) []error {
	var errs []error
	check := func(ok bool, name, value string) {
		if !ok && !skip[name] {
			errs = append(errs, invalid(name, value))
		}
	}
	check(validSuffix(c.EnvironmentSuffix), "ENVIRONMENT_SUFFIX", c.EnvironmentSuffix)
	check(slices.Contains(Regions, c.PrimaryRegion), "PRIMARY_REGION", c.PrimaryRegion)
	check(slices.Contains(Regions, c.SecondaryRegion), "SECONDARY_REGION", c.SecondaryRegion)
	if c.PrimaryRegion == c.SecondaryRegion {
		errs = append(errs, fmt.Errorf("SECONDARY_REGION=%q: must differ from PRIMARY_REGION; a DR pair needs two regions, e.g. PRIMARY_REGION=us-east-1 SECONDARY_REGION=us-east-2", c.SecondaryRegion))
	} else if c.PrimaryRegion != MetricsRegion && c.SecondaryRegion != MetricsRegion {
		errs = append(errs, fmt.Errorf("PRIMARY_REGION=%q, SECONDARY_REGION=%q: one of them must be %s, the only region where Route 53 publishes the health-check metrics the failover alarms watch", c.PrimaryRegion, c.SecondaryRegion, MetricsRegion))
	}
	check(validDomain(c.DomainName), "API_DOMAIN_NAME", c.DomainName)
	check(c.HostedZoneID == "" || zoneIDPattern.MatchString(c.HostedZoneID), "HOSTED_ZONE_ID", c.HostedZoneID)
	check(validBucketName(c.StateBucket), "STATE_BUCKET", c.StateBucket)
	check(len(c.StateKey) <= 1024 && stateKeyPattern.MatchString(c.StateKey) && !strings.HasPrefix(c.StateKey, "/") && !strings.Contains(c.StateKey, "//"), "STATE_KEY", c.StateKey)
	check(slices.Contains(Regions, c.StateRegion), "STATE_REGION", c.StateRegion)
	if c.StateRegion == c.PrimaryRegion {
		errs = append(errs, fmt.Errorf("STATE_REGION=%q: must not be PRIMARY_REGION; the state has to survive the outage it is used to repair", c.StateRegion))
	}
	check(c.AlertEmail == "" || validEmail(c.AlertEmail), "ALERT_EMAIL", c.AlertEmail)
	check(c.HealthCheckInterval == 10 || c.HealthCheckInterval == 30, "HEALTH_CHECK_INTERVAL", strconv.Itoa(c.HealthCheckInterval))
	check(c.HealthCheckFailureThreshold >= 1 && c.HealthCheckFailureThreshold <= 10, "HEALTH_CHECK_FAILURE_THRESHOLD", strconv.Itoa(c.HealthCheckFailureThreshold))
	check(slices.Contains(logRetentionDays, c.LogRetentionDays), "LOG_RETENTION_DAYS", strconv.Itoa(c.LogRetentionDays))
	check(c.FailoverControl == ControlFlag || c.FailoverControl == ControlARC, "FAILOVER_CONTROL", c.FailoverControl)
	check(c.FailoverRecord == RecordCNAME || c.FailoverRecord == RecordAlias, "FAILOVER_RECORD", c.FailoverRecord)
	check(c.FailoverRecord != RecordCNAME || (c.DNSTTL >= 5 && c.DNSTTL <= 300), "DNS_TTL", strconv.Itoa(c.DNSTTL))
	check(c.DRExternalID == "" || (len(c.DRExternalID) >= 2 && len(c.DRExternalID) <= 1224 && externalIDPattern.MatchString(c.DRExternalID)), "DR_EXTERNAL_ID", c.DRExternalID)
	check(validPrincipalARNs(c.DROperatorARNs), "DR_OPERATOR_ARNS", c.DROperatorARNs)
	check(c.WAFRateLimit >= MinWAFRateLimit && c.WAFRateLimit <= maxWAFRateLimit, "WAF_RATE_LIMIT", strconv.Itoa(c.WAFRateLimit))
	check(validHTTPSURL(c.AuthIssuer, false), "AUTH_ISSUER", c.AuthIssuer)
	check(audiencePattern.MatchString(c.AuthAudience), "AUTH_AUDIENCE", c.AuthAudience)
	check(validHTTPSURL(c.AuthJWKSURL, true), "AUTH_JWKS_URL", c.AuthJWKSURL)
	check(validClientList(c.APIClientList), "API_CLIENTS", c.APIClientList)
	check(c.APIQuotaPerDay >= 0 && c.APIQuotaPerDay <= maxAPIQuotaPerDay, "API_QUOTA_PER_DAY", strconv.Itoa(c.APIQuotaPerDay))
	return errs
}

// OperatorARNs are the principals of DR_OPERATOR_ARNS, in the order given.
func (c Config) OperatorARNs() []string { return splitList(c.DROperatorARNs) }

// APIClients are the client names of API_CLIENTS, in the order given.
func (c Config) APIClients() []string { return splitList(c.APIClientList) }

// splitList is the entries of a comma-separated setting, trimmed, without empty ones.
func splitList(list string) []string {
	var entries []string
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// validList: at most max comma-separated entries, each matching entry (so none empty)
// and none repeated.
func validList(list string, entry *regexp.Regexp, max int) bool {
	entries := strings.Split(list, ",")
	if len(entries) > max {
		return false
	}
	seen := map[string]bool{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if !entry.MatchString(e) || seen[e] {
			return false
		}
		seen[e] = true
	}
	return true
}

// validClientList: 1 to MaxAPIClients client names.
func validClientList(list string) bool {
	return validList(list, clientNamePattern, MaxAPIClients)
}

// validPrincipalARNs: empty, or role and user ARNs, as many as given.
func validPrincipalARNs(list string) bool {
	return list == "" || validList(list, principalARNPattern, math.MaxInt)
}

// validHTTPSURL: an absolute https URL with a host, no user info, no fragment, and a
// query only where allowed (a JWKS endpoint may need one; an issuer is compared
// byte for byte with the token's iss and never has one).
func validHTTPSURL(raw string, queryAllowed bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return false
	}
	return queryAllowed || (u.RawQuery == "" && !strings.Contains(raw, "?"))
}

// Name builds the {service}-{region}-{environment} names of the original design.
func (c Config) Name(service, region string) string {
	return service + "-" + region + "-" + c.EnvironmentSuffix
}

// ZoneName is the hosted zone created when HOSTED_ZONE_ID is empty: the domain's parent.
func (c Config) ZoneName() string {
	_, parent, _ := strings.Cut(c.DomainName, ".")
	return parent
}

func invalid(name, value string) error {
	for _, s := range Settings {
		if s.Env == name {
			return fmt.Errorf("%s=%q: invalid; accepted: %s", name, value, s.Accepted)
		}
	}
	return fmt.Errorf("%s=%q: invalid", name, value)
}

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	// Indent every problem, not only the first, under the heading.
	return fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(errors.Join(errs...).Error(), "\n", "\n  "))
}

func validSuffix(s string) bool {
	return suffixPattern.MatchString(s) && !strings.Contains(s, "--")
}

func validDomain(name string) bool {
	if len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	if len(labels) < 3 {
		return false
	}
	for _, l := range labels {
		if !dnsLabelPattern.MatchString(l) {
			return false
		}
	}
	// The top-level label is never all digits; this also rejects bare IP addresses.
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

func validBucketName(name string) bool {
	return bucketPattern.MatchString(name) && !strings.Contains(name, "..") &&
		!strings.Contains(name, ".-") && !strings.Contains(name, "-.") &&
		!strings.HasPrefix(name, "xn--") && !strings.HasSuffix(name, "-s3alias")
}

func validEmail(addr string) bool {
	a, err := mail.ParseAddress(addr)
	return err == nil && a.Address == addr && a.Name == ""
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
