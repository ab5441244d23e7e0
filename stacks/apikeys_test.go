package stacks

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/config"
	"github.com/payments-dr/payments-dr/stacks/restapi"
)

// Per-client API keys, checked on the synthesized JSON: each client has one key per
// region, the secondary's with the value of the same client's primary key (so a client's
// key keeps working after a failover), each key in its own region's usage plan, whose
// throttle is per key and whose quota is there exactly when API_QUOTA_PER_DAY is set.

// keyVariant is a synthesized stack and the clients and quota it was synthesized for.
type keyVariant struct {
	j       tf
	clients []string
	quota   int
}

// The variants: the default configuration, and API_CLIENTS=a,b with API_QUOTA_PER_DAY=5000.
var (
	defaultClients = keyVariant{clients: []string{config.DefaultAPIClient}}
	twoClients     = keyVariant{clients: []string{"a", "b"}, quota: 5000}
)

func synthTwoClients(t *testing.T) string {
	t.Helper()
	return synthDR(t, func(c *config.Config) { c.APIClientList, c.APIQuotaPerDay = "a,b", 5000 })
}

// parsed is the variant with its stack parsed from stackJSON.
func (v keyVariant) parsed(t *testing.T, stackJSON string) keyVariant {
	v.j = parse(t, stackJSON)
	return v
}

// keysByClient are the API keys of region by client, judged by the key name's
// -<client> suffix; keys matching no client are listed as extra.
func (j tf) keysByClient(region string, clients []string) (byClient map[string][]string, extra []string) {
	byClient = map[string][]string{}
	for name, k := range j.Resource["aws_api_gateway_api_key"] {
		if j.regionOf(k) != region {
			continue
		}
		matched := false
		for _, c := range clients {
			if strings.HasSuffix(fmt.Sprint(k["name"]), "-"+c) {
				byClient[c] = append(byClient[c], name)
				matched = true
			}
		}
		if !matched {
			extra = append(extra, name)
		}
	}
	return byClient, extra
}

// clientKeyFindings: one key per client and region, the secondary's value the same
// client's primary key's, every key in one usage plan of its own region.
func clientKeyFindings(v keyVariant) []string {
	j := v.j
	var out []string
	primary, secondary := j.roleRegion("primary"), j.roleRegion("secondary")
	keys := map[string]map[string]string{} // region -> client -> resource name
	for _, region := range []string{primary, secondary} {
		byClient, extra := j.keysByClient(region, v.clients)
		keys[region] = map[string]string{}
		for _, name := range extra {
			out = append(out, fmt.Sprintf("API key %s in %s belongs to no client of %v", name, region, v.clients))
		}
		for _, c := range v.clients {
			if len(byClient[c]) != 1 {
				out = append(out, fmt.Sprintf("client %s has %d API keys in %s, want 1", c, len(byClient[c]), region))
				continue
			}
			keys[region][c] = byClient[c][0]
		}
	}
	for _, c := range v.clients {
		p, s := keys[primary][c], keys[secondary][c]
		if p == "" || s == "" {
			continue
		}
		if value, set := j.Resource["aws_api_gateway_api_key"][p]["value"]; set {
			out = append(out, fmt.Sprintf("client %s's primary key sets value %v; it should be generated there", c, value))
		}
		if got, want := j.Resource["aws_api_gateway_api_key"][s]["value"], "${aws_api_gateway_api_key."+p+".value}"; got != want {
			out = append(out, fmt.Sprintf("client %s's secondary key has value %v, not the value of client %s's primary key %s: the client's key fails after a failover", c, got, c, p))
		}
	}
	for _, region := range []string{primary, secondary} {
		for _, c := range v.clients {
			if keys[region][c] != "" {
				out = append(out, j.usagePlanKeyFindings(region, c, keys[region][c])...)
			}
		}
	}
	return out
}

// usagePlanKeyFindings: the key is in exactly one usage plan, of its own region, which
// covers its own region's stage.
func (j tf) usagePlanKeyFindings(region, client, key string) []string {
	var out []string
	var plans []string
	for _, pk := range j.Resource["aws_api_gateway_usage_plan_key"] {
		if pk["key_id"] != "${aws_api_gateway_api_key."+key+".id}" {
			continue
		}
		typ, _, _, _ := ref(pk["usage_plan_id"])
		planRegion := j.refRegion(pk["usage_plan_id"], "aws_api_gateway_usage_plan")
		switch {
		case pk["key_type"] != "API_KEY":
			out = append(out, fmt.Sprintf("client %s's key in %s is attached with key_type %v", client, region, pk["key_type"]))
		case typ != "aws_api_gateway_usage_plan":
			out = append(out, fmt.Sprintf("client %s's key in %s is attached to %v, not a usage plan", client, region, pk["usage_plan_id"]))
		case planRegion != region || j.regionOf(pk) != region:
			out = append(out, fmt.Sprintf("client %s's key in %s is in the usage plan of %s", client, region, planRegion))
		}
		plans = append(plans, fmt.Sprint(pk["usage_plan_id"]))
	}
	if len(plans) != 1 {
		out = append(out, fmt.Sprintf("client %s's key in %s is in %d usage plans, want 1: without one its requests get 403", client, region, len(plans)))
	}
	return out
}

// usagePlanFindings: each region's one plan covers its own stage, throttles per key at
// restapi.ClientRateLimit/ClientBurstLimit and has a daily quota exactly when configured.
func usagePlanFindings(v keyVariant) []string {
	j := v.j
	var out []string
	perRegion := map[string]int{}
	for name, p := range j.Resource["aws_api_gateway_usage_plan"] {
		region := j.regionOf(p)
		perRegion[region]++
		stages := list(p["api_stages"])
		if len(stages) != 1 || j.refRegion(block(stages[0])["api_id"], "aws_api_gateway_rest_api") != region {
			out = append(out, fmt.Sprintf("usage plan %s in %s does not cover exactly its own region's API: %v", name, region, p["api_stages"]))
		}
		throttle := block(p["throttle_settings"])
		if throttle["rate_limit"] != float64(restapi.ClientRateLimit) || throttle["burst_limit"] != float64(restapi.ClientBurstLimit) {
			out = append(out, fmt.Sprintf("usage plan %s in %s throttles each key at %v, want rate %d burst %d", name, region, p["throttle_settings"], restapi.ClientRateLimit, restapi.ClientBurstLimit))
		}
		quota := block(p["quota_settings"])
		switch {
		case v.quota == 0 && quota != nil:
			out = append(out, fmt.Sprintf("usage plan %s in %s has quota %v, but API_QUOTA_PER_DAY is not set", name, region, quota))
		case v.quota != 0 && quota == nil:
			out = append(out, fmt.Sprintf("usage plan %s in %s has no quota, but API_QUOTA_PER_DAY=%d", name, region, v.quota))
		case v.quota != 0 && (quota["limit"] != float64(v.quota) || quota["period"] != "DAY" || quota["offset"] != nil):
			out = append(out, fmt.Sprintf("usage plan %s in %s has quota %v, want %d per DAY", name, region, quota, v.quota))
		}
	}
	for _, region := range []string{j.roleRegion("primary"), j.roleRegion("secondary")} {
		if perRegion[region] != 1 {
			out = append(out, fmt.Sprintf("%s has %d usage plans, want 1", region, perRegion[region]))
		}
	}
	return out
}

// keyOutputFindings: apiKeyIds and apiKeyValues map every client to its primary key,
// and the values are sensitive.
func keyOutputFindings(v keyVariant) []string {
	j := v.j
	var out []string
	byClient, _ := j.keysByClient(j.roleRegion("primary"), v.clients)
	for output, attr := range map[string]string{"apiKeyIds": "id", "apiKeyValues": "value"} {
		o := j.Output[output]
		if o == nil {
			out = append(out, "output "+output+" missing")
			continue
		}
		values, _ := o["value"].(map[string]any)
		var got []string
		for c := range values {
			got = append(got, c)
		}
		sort.Strings(got)
		want := slices.Sorted(slices.Values(v.clients))
		if !slices.Equal(got, want) {
			out = append(out, fmt.Sprintf("output %s has clients %v, want %v", output, got, want))
		}
		for _, c := range v.clients {
			if len(byClient[c]) == 1 && values[c] != "${aws_api_gateway_api_key."+byClient[c][0]+"."+attr+"}" {
				out = append(out, fmt.Sprintf("output %s[%s] is %v, not client %s's primary key's %s", output, c, values[c], c, attr))
			}
		}
	}
	if o := j.Output["apiKeyValues"]; o != nil && o["sensitive"] != true {
		out = append(out, "output apiKeyValues is not sensitive")
	}
	return out
}

var clientKeyChecks = []struct {
	name  string
	check func(v keyVariant) []string
}{
	{"one key per client and region, the secondary's value the same client's primary key's, each in its region's plan", clientKeyFindings},
	{"one usage plan per region, throttling per key, with a daily quota exactly when configured", usagePlanFindings},
	{"apiKeyIds and apiKeyValues (sensitive) map each client to its key", keyOutputFindings},
}

func TestClientKeys(t *testing.T) {
	variants := map[string]keyVariant{
		"default (one client, no quota)": defaultClients.parsed(t, defaultDR),
		"API_CLIENTS=a,b with a quota":   twoClients.parsed(t, synthTwoClients(t)),
	}
	for name, v := range variants {
		for _, c := range clientKeyChecks {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				for _, f := range c.check(v) {
					t.Error(f)
				}
			})
		}
	}
	// The count of keys per region, spelled out, so a check that compared the clients
	// with themselves would not pass unnoticed.
	v := variants["API_CLIENTS=a,b with a quota"]
	for _, region := range []string{"us-east-1", "us-east-2"} {
		n := 0
		for _, k := range v.j.Resource["aws_api_gateway_api_key"] {
			if v.j.regionOf(k) == region {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%s has %d API keys with API_CLIENTS=a,b, want 2", region, n)
		}
	}
}

// keyOf is the resource name of client's API key in region.
func keyOf(t *testing.T, j tf, region, client string) string {
	t.Helper()
	byClient, _ := j.keysByClient(region, []string{"a", "b", config.DefaultAPIClient})
	if len(byClient[client]) != 1 {
		t.Fatalf("no single key of client %s in %s: %v", client, region, byClient[client])
	}
	return byClient[client][0]
}

// planKeyOf is the usage plan key attaching key.
func planKeyOf(t *testing.T, j tf, key string) map[string]any {
	t.Helper()
	for _, pk := range j.Resource["aws_api_gateway_usage_plan_key"] {
		if pk["key_id"] == "${aws_api_gateway_api_key."+key+".id}" {
			return pk
		}
	}
	t.Fatalf("key %s is in no usage plan", key)
	return nil
}

func plans(j tf, region string) []map[string]any {
	var out []map[string]any
	for _, p := range j.Resource["aws_api_gateway_usage_plan"] {
		if region == "" || j.regionOf(p) == region {
			out = append(out, p)
		}
	}
	return out
}

// Each mutation is a plausible wrong edit; its check must report it on a fresh parse of
// the variant (clean before the mutation).
func TestClientKeyChecksCatchMutations(t *testing.T) {
	two, twoJSON := twoClients, synthTwoClients(t)
	dflt, defaultJSON := defaultClients, defaultDR
	cases := []struct {
		name    string
		variant keyVariant
		json    string
		check   func(v keyVariant) []string
		mutate  func(t *testing.T, j tf)
		want    string
	}{
		{"b's secondary key given a's value", two, twoJSON, clientKeyFindings, func(t *testing.T, j tf) {
			j.Resource["aws_api_gateway_api_key"][keyOf(t, j, "us-east-2", "b")]["value"] = "${aws_api_gateway_api_key." + keyOf(t, j, "us-east-1", "a") + ".value}"
		}, "client b's secondary key has value"},
		{"secondary key generating its own value", two, twoJSON, clientKeyFindings, func(t *testing.T, j tf) {
			delete(j.Resource["aws_api_gateway_api_key"][keyOf(t, j, "us-east-2", "a")], "value")
		}, "client a's secondary key has value <nil>"},
		{"primary key with a fixed value", dflt, defaultJSON, clientKeyFindings, func(t *testing.T, j tf) {
			j.Resource["aws_api_gateway_api_key"][keyOf(t, j, "us-east-1", "default")]["value"] = "committed-in-the-repository-0123456789"
		}, "primary key sets value"},
		{"one key shared by both clients in the secondary", two, twoJSON, clientKeyFindings, func(t *testing.T, j tf) {
			delete(j.Resource["aws_api_gateway_api_key"], keyOf(t, j, "us-east-2", "b"))
		}, "client b has 0 API keys in us-east-2"},
		{"a key for a client not configured", dflt, defaultJSON, clientKeyFindings, func(t *testing.T, j tf) {
			k := keyOf(t, j, "us-east-1", "default")
			extra := map[string]any{}
			for f, v := range j.Resource["aws_api_gateway_api_key"][k] {
				extra[f] = v
			}
			extra["name"] = "payment-api-us-east-1-dev-legacy"
			j.Resource["aws_api_gateway_api_key"]["legacy"] = extra
		}, "belongs to no client"},
		{"b's secondary key in the primary's plan", two, twoJSON, clientKeyFindings, func(t *testing.T, j tf) {
			primaryPlan := planKeyOf(t, j, keyOf(t, j, "us-east-1", "a"))["usage_plan_id"]
			planKeyOf(t, j, keyOf(t, j, "us-east-2", "b"))["usage_plan_id"] = primaryPlan
		}, "client b's key in us-east-2 is in the usage plan of us-east-1"},
		{"a's primary key in no plan", two, twoJSON, clientKeyFindings, func(t *testing.T, j tf) {
			k := keyOf(t, j, "us-east-1", "a")
			for name, pk := range j.Resource["aws_api_gateway_usage_plan_key"] {
				if pk["key_id"] == "${aws_api_gateway_api_key."+k+".id}" {
					delete(j.Resource["aws_api_gateway_usage_plan_key"], name)
				}
			}
		}, "client a's key in us-east-1 is in 0 usage plans"},
		{"quota dropped", two, twoJSON, usagePlanFindings, func(t *testing.T, j tf) {
			delete(plans(j, "us-east-2")[0], "quota_settings")
		}, "has no quota, but API_QUOTA_PER_DAY=5000"},
		{"quota without API_QUOTA_PER_DAY", dflt, defaultJSON, usagePlanFindings, func(t *testing.T, j tf) {
			plans(j, "us-east-1")[0]["quota_settings"] = map[string]any{"limit": 1000.0, "period": "DAY"}
		}, "but API_QUOTA_PER_DAY is not set"},
		{"quota per month", two, twoJSON, usagePlanFindings, func(t *testing.T, j tf) {
			block(plans(j, "us-east-1")[0]["quota_settings"])["period"] = "MONTH"
		}, "want 5000 per DAY"},
		{"plan throttle dropped", two, twoJSON, usagePlanFindings, func(t *testing.T, j tf) {
			delete(plans(j, "us-east-2")[0], "throttle_settings")
		}, "throttles each key at <nil>"},
		{"secondary plan on the primary's API", two, twoJSON, usagePlanFindings, func(t *testing.T, j tf) {
			plans(j, "us-east-2")[0]["api_stages"] = plans(j, "us-east-1")[0]["api_stages"]
		}, "does not cover exactly its own region's API"},
		{"key values no longer sensitive", two, twoJSON, keyOutputFindings, func(t *testing.T, j tf) {
			delete(j.Output["apiKeyValues"], "sensitive")
		}, "not sensitive"},
		{"outputs naming the secondary's keys", two, twoJSON, keyOutputFindings, func(t *testing.T, j tf) {
			j.Output["apiKeyIds"]["value"].(map[string]any)["b"] = "${aws_api_gateway_api_key." + keyOf(t, j, "us-east-2", "b") + ".id}"
		}, "output apiKeyIds[b]"},
		{"a client missing from the outputs", two, twoJSON, keyOutputFindings, func(t *testing.T, j tf) {
			delete(j.Output["apiKeyValues"]["value"].(map[string]any), "a")
		}, "output apiKeyValues has clients [b]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.variant.parsed(t, c.json)
			if f := c.check(v); len(f) != 0 {
				t.Fatalf("the unmutated stack already has findings: %v", f)
			}
			c.mutate(t, v.j)
			findings := c.check(v)
			for _, f := range findings {
				if strings.Contains(f, c.want) {
					return
				}
			}
			t.Errorf("mutation not reported (want a finding with %q); findings: %v", c.want, findings)
		})
	}
}
