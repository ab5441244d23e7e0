// Package topology draws the DR stack from its synthesized Terraform JSON: the two regions
// as clusters, the global pieces (zone, failover name, health checks, table replication)
// between them, and edges for replication, failover routing and alarm → topic. It renders
// Mermaid (embedded in docs/architecture.md) and Graphviz DOT. Output is sorted and depends only on
// resource types and attributes, never on logical ids. No cdktf or jsii here.
package topology

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/payments-dr/payments-dr/ops/recovery"
)

// Graph is the drawing, before it is rendered.
type Graph struct {
	Clusters []Cluster // regions in provider order, the global cluster second
	Edges    []Edge
}

// Cluster is a box of nodes.
type Cluster struct {
	ID, Label string
	Nodes     []Node
}

// Node is one resource (or a group standing for one).
type Node struct{ ID, Label string }

// Edge style.
const (
	Solid  = "solid"
	Dashed = "dashed" // probes, notifications
	Both   = "both"   // two-way replication
)

// Edge is a directed link between nodes.
type Edge struct{ From, To, Label, Style string }

// Build reads the stack into a graph.
func Build(stackJSON []byte) (Graph, error) {
	s, err := recovery.ParseStack(stackJSON)
	if err != nil {
		return Graph{}, err
	}
	b := builder{s: s, nodes: map[string]string{}, cluster: map[string]string{}}
	b.build()
	return b.graph(), nil
}

const global = "global"

type builder struct {
	s       *recovery.Stack
	nodes   map[string]string // id -> label
	cluster map[string]string // id -> cluster id (a region or global)
	edges   []Edge
	roles   map[string]string // region -> PRIMARY/SECONDARY
}

var notID = regexp.MustCompile(`[^A-Za-z0-9]+`)

func id(parts ...string) string {
	return strings.ToLower(strings.Trim(notID.ReplaceAllString(strings.Join(parts, "_"), "_"), "_"))
}

func (b *builder) node(cluster, nodeID, label string) string {
	b.nodes[nodeID] = label
	b.cluster[nodeID] = cluster
	return nodeID
}

func (b *builder) edge(from, to, label, style string) {
	if from == "" || to == "" {
		return
	}
	b.edges = append(b.edges, Edge{From: from, To: to, Label: label, Style: style})
}

// named is the node of a resource that has a name attribute, in its region.
func (b *builder) named(r *recovery.Resource, kind, nameAttr string) string {
	if r == nil {
		return ""
	}
	name := r.Str(nameAttr)
	return b.node(r.Region, id(kind, name), kind+" "+name)
}

func (b *builder) build() {
	s := b.s
	b.roles = map[string]string{}
	apis := map[string]string{} // region -> API node
	for _, api := range s.Resources("aws_api_gateway_rest_api") {
		apis[api.Region] = b.named(api, "API", "name")
	}
	for _, fn := range s.Resources("aws_lambda_function") {
		b.named(fn, "Lambda", "function_name")
	}
	for _, in := range s.Resources("aws_api_gateway_integration") {
		if fn := s.RefTo(in.Get("uri"), "aws_lambda_function"); fn != nil {
			b.edge(apis[in.Region], b.named(fn, "Lambda", "function_name"), "invokes", Solid)
		}
	}
	for _, t := range s.Resources("aws_sns_topic") {
		b.named(t, "SNS", "name")
	}

	// Global: the zone, the failover name, the health checks.
	zone := ""
	for _, z := range s.Resources("aws_route53_zone") {
		zone = b.node(global, id("zone", z.Str("name")), "Route 53 zone "+z.Str("name"))
	}
	checks := map[*recovery.Resource]string{}
	for _, hc := range s.Resources("aws_route53_health_check") {
		region := s.HealthCheckRegion(hc)
		path := recovery.Readable(hc.Str("resource_path"))
		label := fmt.Sprintf("health check %s %s %ds×%d", region, path, int(hc.Num(30, "request_interval")), int(hc.Num(3, "failure_threshold")))
		if hc.Bool("invert_healthcheck") {
			label += " INVERTED (drill)"
		}
		checks[hc] = b.node(global, id("health", region, path), label)
		b.edge(checks[hc], apis[region], "probes", Dashed)
	}
	for _, rec := range s.FailoverRecords() {
		name := b.node(global, id("dns", rec.Str("name")), rec.Str("name")+" (failover)")
		b.edge(zone, name, "", Solid)
		role, region := recovery.FailoverType(rec), s.TargetRegion(rec)
		b.roles[region] = role
		label := role
		if hc := s.RefTo(rec.Get("health_check_id"), "aws_route53_health_check"); hc != nil {
			b.edge(checks[hc], name, "gates "+role, Dashed)
		} else {
			label += " (no health check)"
		}
		b.edge(name, apis[region], label, Solid)
	}

	// Data: the global table and its replicas, the receipts buckets and their replication.
	for _, t := range s.Resources("aws_dynamodb_table") {
		name := t.Str("name")
		g := b.node(global, id("table", name), "DynamoDB global table "+name)
		for _, r := range s.TableRegions(t) {
			b.edge(g, b.node(r, id("table", name, r), "table "+name+" ("+r+")"), "replication", Both)
		}
	}
	for _, fn := range s.Resources("aws_lambda_function") {
		vars, _ := fn.Get("environment", "variables").(map[string]any)
		for _, v := range vars {
			if t := s.RefTo(v, "aws_dynamodb_table"); t != nil {
				b.edge(b.named(fn, "Lambda", "function_name"), id("table", t.Str("name"), fn.Region), "reads/writes", Solid)
			}
			if bk := s.RefTo(v, "aws_s3_bucket"); bk != nil {
				b.edge(b.named(fn, "Lambda", "function_name"), b.named(bk, "S3", "bucket"), "writes receipts", Solid)
			}
		}
	}
	for _, rc := range s.Resources("aws_s3_bucket_replication_configuration") {
		src := b.named(s.RefTo(rc.Get("bucket"), "aws_s3_bucket"), "S3", "bucket")
		for _, r := range rc.List("rule") {
			rule, _ := r.(map[string]any)
			dest, _ := rule["destination"].(map[string]any)
			label := "replication"
			if rt, _ := dest["replication_time"].(map[string]any); rt != nil && rt["status"] == "Enabled" {
				label += " (RTC 15 min)"
			}
			b.edge(src, b.named(s.RefTo(dest["bucket"], "aws_s3_bucket"), "S3", "bucket"), label, Solid)
		}
	}

	// Alarms → topics.
	for _, al := range s.Resources("aws_cloudwatch_metric_alarm") {
		n := b.node(al.Region, id("alarm", al.Str("alarm_name")), "alarm "+al.Str("alarm_name"))
		actions := al.List("alarm_actions")
		if len(actions) == 0 {
			b.nodes[n] += " (NO ACTION)"
		}
		for _, a := range actions {
			b.edge(n, b.named(s.RefTo(a, "aws_sns_topic"), "SNS", "name"), "", Dashed)
		}
	}
}

func (b *builder) graph() Graph {
	var g Graph
	clusters := map[string]*Cluster{}
	order := append([]string{}, b.s.Regions...)
	if len(order) > 1 {
		// Between the regions, so the drawing reads primary | global | secondary.
		order = append([]string{order[0], global}, order[1:]...)
	} else {
		order = append(order, global)
	}
	g.Clusters = make([]Cluster, len(order))
	for i, c := range order {
		label := c
		if c == global {
			label = "global (Route 53, global table)"
		} else if role := b.roles[c]; role != "" {
			label = c + " (" + strings.ToLower(role) + ")"
		}
		g.Clusters[i] = Cluster{ID: id("cluster", c), Label: label}
		clusters[c] = &g.Clusters[i]
	}
	ids := make([]string, 0, len(b.nodes))
	for n := range b.nodes {
		ids = append(ids, n)
	}
	sort.Strings(ids)
	for _, n := range ids {
		if c := clusters[b.cluster[n]]; c != nil {
			c.Nodes = append(c.Nodes, Node{ID: n, Label: b.nodes[n]})
		}
	}
	seen := map[Edge]bool{}
	for _, e := range b.edges {
		if !seen[e] {
			seen[e] = true
			g.Edges = append(g.Edges, e)
		}
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		x, y := g.Edges[i], g.Edges[j]
		if x.From != y.From {
			return x.From < y.From
		}
		if x.To != y.To {
			return x.To < y.To
		}
		return x.Label < y.Label
	})
	return g
}

// Mermaid renders the stack as a Mermaid flowchart.
func Mermaid(stackJSON []byte) (string, error) { return render(stackJSON, writeMermaid) }

// DOT renders the stack as a Graphviz digraph.
func DOT(stackJSON []byte) (string, error) { return render(stackJSON, writeDOT) }

func render(stackJSON []byte, write func(*strings.Builder, Graph)) (string, error) {
	g, err := Build(stackJSON)
	if err != nil {
		return "", err
	}
	var w strings.Builder
	write(&w, g)
	return w.String(), nil
}

func writeMermaid(w *strings.Builder, g Graph) {
	w.WriteString("flowchart LR\n")
	for _, c := range g.Clusters {
		fmt.Fprintf(w, "  subgraph %s[%s]\n", c.ID, mermaidText(c.Label))
		for _, n := range c.Nodes {
			fmt.Fprintf(w, "    %s[%s]\n", n.ID, mermaidText(n.Label))
		}
		w.WriteString("  end\n")
	}
	for _, e := range g.Edges {
		arrow := map[string]string{Solid: "-->", Dashed: "-.->", Both: "<-->"}[e.Style]
		if e.Label != "" {
			arrow += "|" + mermaidText(e.Label) + "|"
		}
		fmt.Fprintf(w, "  %s %s %s\n", e.From, arrow, e.To)
	}
}

func mermaidText(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

func writeDOT(w *strings.Builder, g Graph) {
	w.WriteString("digraph payments_dr {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, c := range g.Clusters {
		fmt.Fprintf(w, "  subgraph %s {\n    label=%s;\n    style=rounded;\n", c.ID, dotText(c.Label))
		for _, n := range c.Nodes {
			fmt.Fprintf(w, "    %s [label=%s];\n", n.ID, dotText(n.Label))
		}
		w.WriteString("  }\n")
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+dotText(e.Label))
		}
		switch e.Style {
		case Dashed:
			attrs = append(attrs, "style=dashed")
		case Both:
			attrs = append(attrs, "dir=both")
		}
		fmt.Fprintf(w, "  %s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
	}
	w.WriteString("}\n")
}

func dotText(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
