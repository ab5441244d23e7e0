package topology

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGolden pins the exact output on a small stack that does not change with the infra.
func TestGolden(t *testing.T) {
	in := read(t, filepath.Join("testdata", "small.json"))
	for name, render := range map[string]func([]byte) (string, error){"small.mmd": Mermaid, "small.dot": DOT} {
		got, err := render(in)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if want := string(read(t, golden)); got != want {
			t.Errorf("%s differs from %s (go test ./ops/topology -update):\n%s", name, golden, got)
		}
		again, _ := render(in)
		if again != got {
			t.Errorf("%s: output not deterministic", name)
		}
	}
}

// TestFixture checks the structure of the real DR stack: two region clusters with the
// global one between them, failover, replication and alarm → topic edges.
func TestFixture(t *testing.T) {
	in := read(t, filepath.Join("..", "..", "generated", "payments-dr.json"))
	g, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, c := range g.Clusters {
		labels = append(labels, c.Label)
	}
	if got := strings.Join(labels, " | "); got != "us-east-1 (primary) | global (Route 53, global table) | us-east-2 (secondary)" {
		t.Errorf("clusters: %s", got)
	}
	count := map[string]int{}
	for _, e := range g.Edges {
		switch {
		case e.Label == "PRIMARY" || e.Label == "SECONDARY":
			count["failover"]++
		case strings.HasPrefix(e.Label, "gates "):
			count["gates"]++
		case e.Label == "probes":
			count["probes"]++
		case e.Label == "replication" && e.Style == Both:
			count["table replication"]++
		case strings.HasPrefix(e.Label, "replication (RTC"):
			count["bucket replication"]++
		case strings.HasPrefix(e.From, "alarm_") && strings.HasPrefix(e.To, "sns_"):
			count["alarm→topic"]++
		}
	}
	var doc struct {
		Resource struct {
			Alarms map[string]any `json:"aws_cloudwatch_metric_alarm"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(in, &doc); err != nil {
		t.Fatal(err)
	}
	// Every alarm of the stack notifies exactly one topic.
	want := map[string]int{"failover": 2, "gates": 2, "probes": 2, "table replication": 2, "bucket replication": 2, "alarm→topic": len(doc.Resource.Alarms)}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s edges, want %d", count[k], k, n)
		}
	}

	m, err := Mermaid(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(m, "  subgraph "); n != 3 || !strings.HasPrefix(m, "flowchart LR\n") {
		t.Errorf("mermaid: %d subgraphs", n)
	}
	// Every edge endpoint is a declared node.
	declared := map[string]bool{}
	for _, c := range g.Clusters {
		for _, n := range c.Nodes {
			declared[n.ID] = true
		}
	}
	for _, e := range g.Edges {
		if !declared[e.From] || !declared[e.To] {
			t.Errorf("edge %+v has an undeclared end", e)
		}
	}
	// Logical ids (hashed, e.g. _0839D50A) never leak into the drawing.
	d, _ := DOT(in)
	if hashed := regexp.MustCompile(`_[0-9A-F]{8}\b`); hashed.MatchString(m) || hashed.MatchString(d) {
		t.Errorf("a logical id leaked into the output: %q", hashed.FindString(m+d))
	}
	if !strings.HasPrefix(d, "digraph payments_dr {") || strings.Count(d, "subgraph cluster_") != 3 {
		t.Errorf("dot:\n%s", d)
	}
}
