package config

import (
	"strconv"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := Config{
		EnvironmentSuffix: "dev", PrimaryRegion: "us-east-1", SecondaryRegion: "us-east-2",
		DomainName: "api.payment-dev.example.com", StateBucket: "payments-dr-tfstate-dev",
		StateKey: "payments-dr/dev/terraform.tfstate", StateRegion: "us-west-2",
		HealthCheckInterval: 10, HealthCheckFailureThreshold: 3, LogRetentionDays: 30,
		FailoverControl: "flag", FailoverRecord: "cname", DNSTTL: 20,
		DeletionProtection: true, WAFRateLimit: 30000,
		AuthIssuer: "https://auth.example.com/", AuthAudience: "payments-api", AuthJWKSURL: "https://auth.example.com/.well-known/jwks.json",
		APIClientList: "default",
	}
	if c != want {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
	if got := c.ZoneName(); got != "payment-dev.example.com" {
		t.Errorf("ZoneName() = %q", got)
	}
	if got := c.Name("payment-docs", "us-east-2"); got != "payment-docs-us-east-2-dev" {
		t.Errorf("Name() = %q", got)
	}
}

func TestSuffixFlowsIntoDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"ENVIRONMENT_SUFFIX": "pr-42"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DomainName != "api.payment-pr-42.example.com" || c.StateBucket != "payments-dr-tfstate-pr-42" {
		t.Errorf("suffix not applied to defaults: %+v", c)
	}
}

func TestValidSettings(t *testing.T) {
	cases := map[string]map[string]string{
		"secondary in us-east-1":   {"PRIMARY_REGION": "us-west-2", "SECONDARY_REGION": "us-east-1", "STATE_REGION": "us-east-2"},
		"30 s interval":            {"HEALTH_CHECK_INTERVAL": "30"},
		"threshold bounds":         {"HEALTH_CHECK_FAILURE_THRESHOLD": "10"},
		"existing zone and e-mail": {"HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ", "ALERT_EMAIL": "oncall@example.com"},
		"arc and no protection":    {"FAILOVER_CONTROL": "arc", "DELETION_PROTECTION": "false"},
		"flag spelled out":         {"FAILOVER_CONTROL": "flag"},
		"trailing dot on domain":   {"API_DOMAIN_NAME": "payments.api.example.org."},
		"alias records":            {"FAILOVER_RECORD": "alias"},
		"cname with TTL bounds":    {"FAILOVER_RECORD": "cname", "DNS_TTL": "5"},
		"cname with the top TTL":   {"DNS_TTL": "300"},
		"external id set":          {"DR_EXTERNAL_ID": "ops-7f3a"},
		"sso role and a user":      {"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_DROperator_0123456789abcdef, arn:aws:iam::123456789012:user/oncall.alice"},
		"waf limit at the floor":   {"WAF_RATE_LIMIT": "1000"},
		"own identity provider": {"AUTH_ISSUER": "https://login.payments.example.net/realms/clients", "AUTH_AUDIENCE": "api://payments",
			"AUTH_JWKS_URL": "https://login.payments.example.net/realms/clients/protocol/openid-connect/certs?v=2"},
		"two clients with a quota":       {"API_CLIENTS": "acme, globex-2", "API_QUOTA_PER_DAY": "10000"},
		"longest client name":            {"API_CLIENTS": strings.Repeat("a", 32)},
		"one-character client name":      {"API_CLIENTS": "a"},
		"most clients":                   {"API_CLIENTS": clientList(50)},
		"quota at API Gateway's maximum": {"API_QUOTA_PER_DAY": "2147483647"},
		"quota of one request":           {"API_QUOTA_PER_DAY": "1"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := FromEnv(env(vars)); err != nil {
				t.Errorf("rejected: %v", err)
			}
		})
	}
}

func TestInvalidSettings(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		// want are substrings of the error: the variable and the accepted form.
		want []string
	}{
		{"suffix with upper case", map[string]string{"ENVIRONMENT_SUFFIX": "Prod"}, []string{`ENVIRONMENT_SUFFIX="Prod"`, "a-z, 0-9"}},
		{"suffix with underscore", map[string]string{"ENVIRONMENT_SUFFIX": "my_env"}, []string{`ENVIRONMENT_SUFFIX="my_env"`, "3-20 characters"}},
		{"suffix too long", map[string]string{"ENVIRONMENT_SUFFIX": strings.Repeat("a", 21)}, []string{"ENVIRONMENT_SUFFIX", "3-20 characters"}},
		{"suffix ending in hyphen", map[string]string{"ENVIRONMENT_SUFFIX": "dev-"}, []string{`ENVIRONMENT_SUFFIX="dev-"`}},
		{"suffix with a dot", map[string]string{"ENVIRONMENT_SUFFIX": "v1.2"}, []string{`ENVIRONMENT_SUFFIX="v1.2"`}},
		{"unknown record type", map[string]string{"FAILOVER_RECORD": "A"}, []string{`FAILOVER_RECORD="A"`, "cname or alias"}},
		{"TTL below 5", map[string]string{"DNS_TTL": "1"}, []string{`DNS_TTL="1"`, "from 5 to 300"}},
		{"TTL above 300", map[string]string{"DNS_TTL": "3600"}, []string{`DNS_TTL="3600"`, "from 5 to 300"}},
		{"TTL not a number", map[string]string{"DNS_TTL": "20s"}, []string{`DNS_TTL="20s"`, "from 5 to 300"}},
		{"TTL with alias records", map[string]string{"FAILOVER_RECORD": "alias", "DNS_TTL": "20"}, []string{`DNS_TTL="20"`, "only FAILOVER_RECORD=cname", "60 s"}},
		{"equal regions", map[string]string{"SECONDARY_REGION": "us-east-1"}, []string{`SECONDARY_REGION="us-east-1"`, "must differ from PRIMARY_REGION"}},
		{"unknown primary region", map[string]string{"PRIMARY_REGION": "us-east-9"}, []string{`PRIMARY_REGION="us-east-9"`, "AWS commercial region"}},
		{"unknown secondary region", map[string]string{"SECONDARY_REGION": "mars-1"}, []string{`SECONDARY_REGION="mars-1"`, "AWS commercial region"}},
		{"neither region is us-east-1", map[string]string{"PRIMARY_REGION": "eu-west-1", "SECONDARY_REGION": "eu-central-1"}, []string{"one of them must be us-east-1", "Route 53"}},
		{"malformed domain", map[string]string{"API_DOMAIN_NAME": "not a domain"}, []string{`API_DOMAIN_NAME="not a domain"`, "DNS name"}},
		{"domain with two labels", map[string]string{"API_DOMAIN_NAME": "example.com"}, []string{`API_DOMAIN_NAME="example.com"`, "at least three labels"}},
		{"domain with upper case", map[string]string{"API_DOMAIN_NAME": "API.Example.com"}, []string{"API_DOMAIN_NAME", "lower-case"}},
		{"domain label too long", map[string]string{"API_DOMAIN_NAME": strings.Repeat("a", 64) + ".example.com"}, []string{"API_DOMAIN_NAME"}},
		{"IP address as domain", map[string]string{"API_DOMAIN_NAME": "10.0.0.1"}, []string{"API_DOMAIN_NAME"}},
		{"malformed zone id", map[string]string{"HOSTED_ZONE_ID": "zone-1"}, []string{`HOSTED_ZONE_ID="zone-1"`, "Route 53 zone id"}},
		{"malformed state bucket", map[string]string{"STATE_BUCKET": "State_Bucket"}, []string{`STATE_BUCKET="State_Bucket"`, "S3 bucket name"}},
		{"state key without .tfstate", map[string]string{"STATE_KEY": "state.json"}, []string{`STATE_KEY="state.json"`, ".tfstate"}},
		{"state key with leading slash", map[string]string{"STATE_KEY": "/dr.tfstate"}, []string{"STATE_KEY", "no leading '/'"}},
		{"state in the primary region", map[string]string{"STATE_REGION": "us-east-1"}, []string{`STATE_REGION="us-east-1"`, "must not be PRIMARY_REGION"}},
		{"unknown state region", map[string]string{"STATE_REGION": "moon-1"}, []string{`STATE_REGION="moon-1"`}},
		{"malformed e-mail", map[string]string{"ALERT_EMAIL": "oncall"}, []string{`ALERT_EMAIL="oncall"`, "e-mail address"}},
		{"e-mail with a display name", map[string]string{"ALERT_EMAIL": "On Call <oncall@example.com>"}, []string{"ALERT_EMAIL", "one e-mail address"}},
		{"interval 20", map[string]string{"HEALTH_CHECK_INTERVAL": "20"}, []string{`HEALTH_CHECK_INTERVAL="20"`, "10 or 30"}},
		{"interval not a number", map[string]string{"HEALTH_CHECK_INTERVAL": "ten"}, []string{`HEALTH_CHECK_INTERVAL="ten"`, "10 or 30"}},
		{"threshold 0", map[string]string{"HEALTH_CHECK_FAILURE_THRESHOLD": "0"}, []string{`HEALTH_CHECK_FAILURE_THRESHOLD="0"`, "1 to 10"}},
		{"threshold 11", map[string]string{"HEALTH_CHECK_FAILURE_THRESHOLD": "11"}, []string{`HEALTH_CHECK_FAILURE_THRESHOLD="11"`, "1 to 10"}},
		{"retention not allowed by CloudWatch", map[string]string{"LOG_RETENTION_DAYS": "31"}, []string{`LOG_RETENTION_DAYS="31"`, "1, 3, 5, 7"}},
		{"control mode upper case", map[string]string{"FAILOVER_CONTROL": "ARC"}, []string{`FAILOVER_CONTROL="ARC"`, "flag or arc"}},
		{"control mode unknown", map[string]string{"FAILOVER_CONTROL": "dns"}, []string{`FAILOVER_CONTROL="dns"`, "flag or arc"}},
		{"deletion protection 1", map[string]string{"DELETION_PROTECTION": "1"}, []string{`DELETION_PROTECTION="1"`, "true or false"}},
		{"external id with spaces", map[string]string{"DR_EXTERNAL_ID": "my id"}, []string{`DR_EXTERNAL_ID="my id"`}},
		{"operator is the account root", map[string]string{"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:root"}, []string{"DR_OPERATOR_ARNS", "IAM role or user ARNs"}},
		{"operator is a bare account id", map[string]string{"DR_OPERATOR_ARNS": "123456789012"}, []string{`DR_OPERATOR_ARNS="123456789012"`}},
		{"operator with a wildcard", map[string]string{"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:role/ops-*"}, []string{"DR_OPERATOR_ARNS"}},
		{"operator of another partition", map[string]string{"DR_OPERATOR_ARNS": "arn:aws-cn:iam::123456789012:role/ops"}, []string{"DR_OPERATOR_ARNS", "aws partition"}},
		{"operator list with an empty entry", map[string]string{"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:role/ops,,arn:aws:iam::123456789012:role/oncall"}, []string{"DR_OPERATOR_ARNS"}},
		{"operator repeated", map[string]string{"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:role/ops,arn:aws:iam::123456789012:role/ops"}, []string{"DR_OPERATOR_ARNS"}},
		{"operator is a group", map[string]string{"DR_OPERATOR_ARNS": "arn:aws:iam::123456789012:group/ops"}, []string{"DR_OPERATOR_ARNS"}},
		{"waf limit under the floor", map[string]string{"WAF_RATE_LIMIT": "999"}, []string{`WAF_RATE_LIMIT="999"`, "from 1000"}},
		{"waf limit not a number", map[string]string{"WAF_RATE_LIMIT": "2k"}, []string{`WAF_RATE_LIMIT="2k"`, "an integer"}},
		{"waf limit over WAF's maximum", map[string]string{"WAF_RATE_LIMIT": "2000000001"}, []string{"WAF_RATE_LIMIT", "2000000000"}},
		{"issuer over http", map[string]string{"AUTH_ISSUER": "http://auth.example.net/"}, []string{`AUTH_ISSUER="http://auth.example.net/"`, "https URL"}},
		{"issuer with a query", map[string]string{"AUTH_ISSUER": "https://auth.example.net/?tenant=a"}, []string{"AUTH_ISSUER", "without query"}},
		{"issuer without host", map[string]string{"AUTH_ISSUER": "https:///realm"}, []string{"AUTH_ISSUER"}},
		{"audience with a space", map[string]string{"AUTH_AUDIENCE": "payments api"}, []string{`AUTH_AUDIENCE="payments api"`, "without spaces"}},
		{"jwks not a URL", map[string]string{"AUTH_JWKS_URL": "keys.json"}, []string{`AUTH_JWKS_URL="keys.json"`, "https URL"}},
		{"client name with upper case", map[string]string{"API_CLIENTS": "Acme"}, []string{`API_CLIENTS="Acme"`, "a-z, 0-9 and '-'"}},
		{"client name with underscore", map[string]string{"API_CLIENTS": "acme_corp"}, []string{`API_CLIENTS="acme_corp"`, "1-32 characters"}},
		{"client name too long", map[string]string{"API_CLIENTS": strings.Repeat("a", 33)}, []string{"API_CLIENTS", "1-32 characters"}},
		{"client name ending in hyphen", map[string]string{"API_CLIENTS": "acme-"}, []string{`API_CLIENTS="acme-"`, "starting and ending with a letter or digit"}},
		{"client repeated", map[string]string{"API_CLIENTS": "acme,globex,acme"}, []string{`API_CLIENTS="acme,globex,acme"`, "unique"}},
		{"client list with an empty entry", map[string]string{"API_CLIENTS": "acme,,globex"}, []string{`API_CLIENTS="acme,,globex"`, "comma-separated"}},
		{"client list ending in a comma", map[string]string{"API_CLIENTS": "acme,"}, []string{`API_CLIENTS="acme,"`}},
		{"too many clients", map[string]string{"API_CLIENTS": clientList(51)}, []string{"API_CLIENTS", "at most 50"}},
		{"quota of zero", map[string]string{"API_QUOTA_PER_DAY": "0"}, []string{`API_QUOTA_PER_DAY="0"`, "empty or an integer from 1 to 2147483647"}},
		{"negative quota", map[string]string{"API_QUOTA_PER_DAY": "-5"}, []string{`API_QUOTA_PER_DAY="-5"`, "from 1"}},
		{"quota not a number", map[string]string{"API_QUOTA_PER_DAY": "10k"}, []string{`API_QUOTA_PER_DAY="10k"`, "an integer"}},
		{"quota over API Gateway's maximum", map[string]string{"API_QUOTA_PER_DAY": "2147483648"}, []string{`API_QUOTA_PER_DAY="2147483648"`, "2147483647"}},
		{"jwks with user info", map[string]string{"AUTH_JWKS_URL": "https://user:pw@auth.example.net/jwks"}, []string{"AUTH_JWKS_URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromEnv(env(c.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"HEALTH_CHECK_FAILURE_THRESHOLD": "0", "SECONDARY_REGION": "us-east-1", "ALERT_EMAIL": "x"}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"HEALTH_CHECK_FAILURE_THRESHOLD", "SECONDARY_REGION", "ALERT_EMAIL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not report %s:\n%v", name, err)
		}
	}
}

func TestSettingsDocumentEveryVariable(t *testing.T) {
	seen := map[string]bool{}
	FromEnv(func(k string) string { seen[k] = true; return "" })
	for k := range seen {
		found := false
		for _, s := range Settings {
			found = found || s.Env == k
		}
		if !found {
			t.Errorf("FromEnv reads %s, which Settings does not document", k)
		}
	}
	if len(seen) != len(Settings) {
		t.Errorf("FromEnv reads %d variables, Settings documents %d", len(seen), len(Settings))
	}
}

// The suffix limit of 20 keeps every derived name within AWS's limits in every accepted
// region: S3 buckets 63, IAM roles and Lambda functions 64.
func TestLongestSuffixMakesValidNames(t *testing.T) {
	c := Config{EnvironmentSuffix: strings.Repeat("a", 20)}
	for _, region := range Regions {
		for _, service := range []string{"payment-docs", "payment-processor", "payment-conflict-watch", "receipts-replication", "apigateway-logs", "payment-api", "payment-peer-probe", "payment-peer-probe-schedule"} {
			name := c.Name(service, region)
			if len(name) > 63 {
				t.Errorf("%s is %d characters", name, len(name))
			}
			if service == "payment-docs" && !validBucketName(name) {
				t.Errorf("%s is not a valid bucket name", name)
			}
		}
	}
}

// A bad suffix makes the defaults derived from it bad too; only the suffix is reported,
// unless the user set the derived value.
func TestBadSuffixIsReportedOnce(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"ENVIRONMENT_SUFFIX": "Prod"}))
	if err == nil || !strings.Contains(err.Error(), "ENVIRONMENT_SUFFIX") {
		t.Fatalf("error %v does not name ENVIRONMENT_SUFFIX", err)
	}
	for _, derived := range []string{"API_DOMAIN_NAME", "STATE_BUCKET", "STATE_KEY"} {
		if strings.Contains(err.Error(), derived) {
			t.Errorf("error reports %s, which was not set:\n%v", derived, err)
		}
	}
	_, err = FromEnv(env(map[string]string{"ENVIRONMENT_SUFFIX": "Prod", "STATE_BUCKET": "Bad_Bucket"}))
	if err == nil || !strings.Contains(err.Error(), "STATE_BUCKET") {
		t.Errorf("an explicitly set bad STATE_BUCKET is not reported: %v", err)
	}
}

func TestEveryProblemIsIndented(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"HEALTH_CHECK_INTERVAL": "20", "LOG_RETENTION_DAYS": "2"}))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || lines[0] != "invalid configuration:" || !strings.HasPrefix(lines[1], "  HEALTH") || !strings.HasPrefix(lines[2], "  LOG_RETENTION_DAYS") {
		t.Errorf("error layout:\n%v", err)
	}
}

// The README's default column is rendered from Settings; it must say what FromEnv does.
func TestSettingsDefaultsAreTheRealDefaults(t *testing.T) {
	c := Default()
	actual := map[string]string{
		"ENVIRONMENT_SUFFIX": c.EnvironmentSuffix, "PRIMARY_REGION": c.PrimaryRegion, "SECONDARY_REGION": c.SecondaryRegion,
		"API_DOMAIN_NAME": c.DomainName, "HOSTED_ZONE_ID": c.HostedZoneID, "STATE_BUCKET": c.StateBucket,
		"STATE_KEY": c.StateKey, "STATE_REGION": c.StateRegion, "ALERT_EMAIL": c.AlertEmail,
		"HEALTH_CHECK_INTERVAL": strconv.Itoa(c.HealthCheckInterval), "HEALTH_CHECK_FAILURE_THRESHOLD": strconv.Itoa(c.HealthCheckFailureThreshold),
		"LOG_RETENTION_DAYS": strconv.Itoa(c.LogRetentionDays), "FAILOVER_CONTROL": c.FailoverControl,
		"FAILOVER_RECORD": c.FailoverRecord, "DNS_TTL": strconv.Itoa(c.DNSTTL),
		"DELETION_PROTECTION": strconv.FormatBool(c.DeletionProtection), "DR_EXTERNAL_ID": c.DRExternalID,
		"DR_OPERATOR_ARNS": c.DROperatorARNs, "WAF_RATE_LIMIT": strconv.Itoa(c.WAFRateLimit),
		"AUTH_ISSUER": c.AuthIssuer, "AUTH_AUDIENCE": c.AuthAudience, "AUTH_JWKS_URL": c.AuthJWKSURL,
		"API_CLIENTS": c.APIClientList, "API_QUOTA_PER_DAY": "",
	}
	if c.APIQuotaPerDay != 0 {
		actual["API_QUOTA_PER_DAY"] = strconv.Itoa(c.APIQuotaPerDay)
	}
	for _, s := range Settings {
		documented := strings.ReplaceAll(s.Default, "<suffix>", c.EnvironmentSuffix)
		if documented == "empty" {
			documented = ""
		}
		if got, ok := actual[s.Env]; !ok || got != documented {
			t.Errorf("%s: documented default %q, actual %q", s.Env, s.Default, got)
		}
	}
}

func TestOperatorARNsSplitsTheList(t *testing.T) {
	for _, c := range []struct {
		list string
		want []string
	}{
		{"", nil},
		{"arn:aws:iam::123456789012:role/ops", []string{"arn:aws:iam::123456789012:role/ops"}},
		{" arn:aws:iam::123456789012:role/ops , arn:aws:iam::123456789012:user/alice ", []string{"arn:aws:iam::123456789012:role/ops", "arn:aws:iam::123456789012:user/alice"}},
	} {
		got := Config{DROperatorARNs: c.list}.OperatorARNs()
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("OperatorARNs(%q) = %q, want %q", c.list, got, c.want)
		}
	}
}

func TestAPIClientsSplitsTheList(t *testing.T) {
	for _, c := range []struct {
		list string
		want []string
	}{
		{"default", []string{"default"}},
		{"acme,globex", []string{"acme", "globex"}},
		{" acme , globex-2 ", []string{"acme", "globex-2"}},
	} {
		got := Config{APIClientList: c.list}.APIClients()
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("APIClients(%q) = %q, want %q", c.list, got, c.want)
		}
	}
}

// clientList is n distinct valid client names, comma-separated.
func clientList(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = "client-" + strconv.Itoa(i)
	}
	return strings.Join(names, ",")
}

// A run with several bad settings names every one of them, whether a value does not parse
// (DNS_TTL=abc) or parses and is out of range (HEALTH_CHECK_INTERVAL=20), and names each
// only once.
func TestEveryProblemReportedAtOnce(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want []string // each must appear exactly once
	}{
		{"unparsable and out of range", map[string]string{"HEALTH_CHECK_INTERVAL": "20", "DNS_TTL": "abc"}, []string{"HEALTH_CHECK_INTERVAL=", "DNS_TTL="}},
		{"two unparsable", map[string]string{"WAF_RATE_LIMIT": "2k", "DELETION_PROTECTION": "yes"}, []string{"WAF_RATE_LIMIT=", "DELETION_PROTECTION="}},
		{"unparsable and a cross-setting rule", map[string]string{"LOG_RETENTION_DAYS": "month", "STATE_REGION": "us-east-1"}, []string{"LOG_RETENTION_DAYS=", `STATE_REGION="us-east-1"`}},
		{"alias TTL and a bad region", map[string]string{"FAILOVER_RECORD": "alias", "DNS_TTL": "20", "PRIMARY_REGION": "us-east-9"}, []string{"DNS_TTL=", `PRIMARY_REGION="us-east-9": invalid`}},
		{"explicit zero quota and a bad e-mail", map[string]string{"API_QUOTA_PER_DAY": "0", "ALERT_EMAIL": "oncall"}, []string{"API_QUOTA_PER_DAY=", "ALERT_EMAIL="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromEnv(env(tc.vars))
			if err == nil {
				t.Fatalf("FromEnv(%v) accepted the configuration", tc.vars)
			}
			for _, w := range tc.want {
				if n := strings.Count(err.Error(), w); n != 1 {
					t.Errorf("%q appears %d times in:\n%v", w, n, err)
				}
			}
		})
	}
}
