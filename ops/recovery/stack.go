package recovery

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Stack is a synthesized Terraform JSON stack indexed by resource type. Resources are
// found by type and attributes; logical ids serve only to resolve ${type.id.attr}
// references, so nothing here depends on cdktf's hashed names.
type Stack struct {
	// Regions of the AWS providers, in declaration order.
	Regions   []string
	resources map[string][]*Resource
	byAddress map[string]*Resource
}

// Resource is one resource block.
type Resource struct {
	Type   string
	ID     string // logical id: only for resolving references, never for meaning
	Region string // of the resource's provider
	Attrs  map[string]any
}

// Address is the Terraform address, type.id.
func (r *Resource) Address() string { return r.Type + "." + r.ID }

// ParseStack reads a cdk.tf.json document.
func ParseStack(stackJSON []byte) (*Stack, error) {
	var doc struct {
		Provider map[string]json.RawMessage           `json:"provider"`
		Resource map[string]map[string]map[string]any `json:"resource"`
		Data     map[string]map[string]map[string]any `json:"data"`
	}
	if err := json.Unmarshal(stackJSON, &doc); err != nil {
		return nil, fmt.Errorf("not a Terraform JSON stack: %w", err)
	}
	s := &Stack{resources: map[string][]*Resource{}, byAddress: map[string]*Resource{}}
	providers := map[string]string{} // "aws" or "aws.<alias>" -> region
	if raw, ok := doc.Provider["aws"]; ok {
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			var one map[string]any
			if err := json.Unmarshal(raw, &one); err != nil {
				return nil, fmt.Errorf("provider.aws: %w", err)
			}
			list = []map[string]any{one}
		}
		for _, p := range list {
			region, _ := p["region"].(string)
			key := "aws"
			if alias, _ := p["alias"].(string); alias != "" {
				key += "." + alias
			}
			providers[key] = region
			if region != "" && !slices.Contains(s.Regions, region) {
				s.Regions = append(s.Regions, region)
			}
		}
	}
	if len(s.Regions) == 0 {
		return nil, fmt.Errorf("not a Terraform JSON stack: no AWS provider with a region")
	}
	// Data sources are kept under "data.<type>", the way references name them; the
	// policy documents of roles (their trust) are data sources.
	blocks := maps.Clone(doc.Resource)
	if blocks == nil {
		blocks = map[string]map[string]map[string]any{}
	}
	for typ, byID := range doc.Data {
		blocks[DataPrefix+typ] = byID
	}
	for typ, byID := range blocks {
		for id, attrs := range byID {
			p, _ := attrs["provider"].(string)
			if p == "" {
				p = "aws"
			}
			r := &Resource{Type: typ, ID: id, Region: providers[p], Attrs: attrs}
			s.resources[typ] = append(s.resources[typ], r)
			s.byAddress[r.Address()] = r
		}
	}
	for _, rs := range s.resources {
		sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	}
	return s, nil
}

// DataPrefix begins the Type of a data source: "data.aws_iam_policy_document".
const DataPrefix = "data."

// Resources of one type, in a stable order.
func (s *Stack) Resources(typ string) []*Resource { return s.resources[typ] }

// RegionIndex orders regions as the providers declare them; unknown ones sort last.
func (s *Stack) RegionIndex(region string) int {
	if i := slices.Index(s.Regions, region); i >= 0 {
		return i
	}
	return len(s.Regions)
}

// ResourcesByRegion counts the resources (not data sources) declared with each region's
// provider.
func (s *Stack) ResourcesByRegion() map[string]int {
	n := map[string]int{}
	for typ, rs := range s.resources {
		if strings.HasPrefix(typ, DataPrefix) {
			continue
		}
		for _, r := range rs {
			n[r.Region]++
		}
	}
	return n
}

var refPattern = regexp.MustCompile(`\$\{(?:[a-z]+\()?((?:data\.)?[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)`)

// Ref resolves the first ${type.id.attr} (or ${data.type.id.attr}) reference in v to its
// resource or data source.
func (s *Stack) Ref(v any) (*Resource, string) {
	str, _ := v.(string)
	m := refPattern.FindStringSubmatch(str)
	if m == nil {
		return nil, ""
	}
	return s.byAddress[m[1]+"."+m[2]], m[3]
}

// RefTo resolves v when it references a resource of type typ.
func (s *Stack) RefTo(v any, typ string) *Resource {
	r, _ := s.Ref(v)
	if r == nil || r.Type != typ {
		return nil
	}
	return r
}

// applyTime matches a reference to a random_id's value: the health checks' paths carry
// one (stacks/restapi, HealthPath), known only once applied.
var applyTime = regexp.MustCompile(`\$\{random_id\.[A-Za-z0-9_-]+\.[a-z0-9_]+\}`)

// Readable replaces each random_id reference in s by "<random_id>", for people: the
// health path's secret segment is a value only the state holds.
func Readable(s string) string { return applyTime.ReplaceAllString(s, "<random_id>") }

// Get walks a path of keys through attributes; a list on the way stands for its first
// element (cdktf writes single nested blocks either way).
func (r *Resource) Get(path ...string) any {
	var v any = r.Attrs
	for _, k := range path {
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Str is a string attribute, "" when absent.
func (r *Resource) Str(path ...string) string {
	s, _ := r.Get(path...).(string)
	return s
}

// Num is a numeric attribute (numbers may be written as strings), def when absent.
func (r *Resource) Num(def float64, path ...string) float64 {
	switch v := r.Get(path...).(type) {
	case float64:
		return v
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return def
}

// Bool is a boolean attribute, false when absent.
func (r *Resource) Bool(path ...string) bool {
	switch v := r.Get(path...).(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// List is a list attribute; a single object stands for a list of one.
func (r *Resource) List(path ...string) []any { return asList(r.Get(path...)) }

// asList reads a block that cdktf writes either as a list or, when there is one, as
// the object itself.
func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

var executeAPIRegion = regexp.MustCompile(`execute-api\.([a-z0-9-]+)\.amazonaws\.com`)

// HealthCheckRegion is the region whose API a health check probes: from its execute-api
// host name, else the region of the API it references.
func (s *Stack) HealthCheckRegion(hc *Resource) string {
	fqdn := hc.Str("fqdn")
	if m := executeAPIRegion.FindStringSubmatch(fqdn); m != nil {
		return m[1]
	}
	if api, _ := s.Ref(fqdn); api != nil {
		return api.Region
	}
	return ""
}

// TargetRegion is the region an alias record points at: the region of the referenced
// API Gateway domain (or other resource), else a region named in a literal target.
func (s *Stack) TargetRegion(record *Resource) string {
	name := record.Str("alias", "name")
	if name == "" {
		// A CNAME failover record: its one value is the target name.
		if values := record.List("records"); len(values) == 1 {
			name, _ = values[0].(string)
		}
	}
	if t, _ := s.Ref(name); t != nil {
		return t.Region
	}
	for _, region := range s.Regions {
		if strings.Contains(name, region) {
			return region
		}
	}
	return ""
}

// FailoverRecords are the route53 records with a failover routing policy, PRIMARY first.
func (s *Stack) FailoverRecords() []*Resource {
	var out []*Resource
	for _, r := range s.Resources("aws_route53_record") {
		if FailoverType(r) != "" {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return FailoverType(out[i]) < FailoverType(out[j]) })
	return out
}

// FailoverType is PRIMARY, SECONDARY or "" for a record without failover routing.
func FailoverType(record *Resource) string {
	return strings.ToUpper(record.Str("failover_routing_policy", "type"))
}

// ServingRegions are the regions with an API or a failover target, in provider order.
func (s *Stack) ServingRegions() []string {
	has := map[string]bool{}
	for _, api := range s.Resources("aws_api_gateway_rest_api") {
		has[api.Region] = true
	}
	for _, rec := range s.FailoverRecords() {
		has[s.TargetRegion(rec)] = true
	}
	var out []string
	for _, r := range s.Regions {
		if has[r] {
			out = append(out, r)
		}
	}
	return out
}

// AlarmTopicRegions are the regions of the SNS topics an alarm notifies (a literal ARN
// gives its own region).
func (s *Stack) AlarmTopicRegions(alarm *Resource) []string {
	var out []string
	for _, a := range alarm.List("alarm_actions") {
		region := ""
		if t, _ := s.Ref(a); t != nil {
			region = t.Region
		} else if str, _ := a.(string); strings.HasPrefix(str, "arn:") {
			if parts := strings.Split(str, ":"); len(parts) > 3 {
				region = parts[3]
			}
		}
		if region != "" && !slices.Contains(out, region) {
			out = append(out, region)
		}
	}
	return out
}

// TableRegions lists the regions a DynamoDB global table lives in: its own, those of
// inline replica blocks, and those of aws_dynamodb_table_replica resources pointing at it.
func (s *Stack) TableRegions(t *Resource) []string {
	regions := []string{t.Region}
	add := func(r string) {
		if r != "" && !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	for _, rep := range t.List("replica") {
		if m, ok := rep.(map[string]any); ok {
			r, _ := m["region_name"].(string)
			add(r)
		}
	}
	for _, rep := range s.Resources("aws_dynamodb_table_replica") {
		if s.RefTo(rep.Get("global_table_arn"), "aws_dynamodb_table") == t {
			add(rep.Region)
		}
	}
	return regions
}

// ServesAPI reports whether API Gateway may invoke fn: its alarms then watch the serving
// path, not a background function such as the conflict watch.
func (s *Stack) ServesAPI(fn *Resource) bool {
	if fn == nil {
		return false
	}
	for _, p := range s.Resources("aws_lambda_permission") {
		if p.Str("principal") == "apigateway.amazonaws.com" && s.RefTo(p.Get("function_name"), "aws_lambda_function") == fn {
			return true
		}
	}
	return false
}
