// Package cli holds the operator subcommands, run by ops/cmd/dr (and by `go run .`,
// which also synthesizes): report, diagram, docs and review read synthesized JSON only;
// drain, undrain, status, failback-check, gate (levers.go, gate.go) and find-payment
// (findpayment.go) talk to DynamoDB and S3 only. Nothing here may import cdktf, jsii or
// the provider bindings (ops/cmd/dr's tests check its dependency graph), so that the
// levers build fast on a laptop that has never built this repository. Paths (README.md,
// docs/, generated/, cdktf.out/) are relative to the working directory, the module root.
package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/payments-dr/payments-dr/ops/recovery"
	"github.com/payments-dr/payments-dr/ops/topology"
	"github.com/payments-dr/payments-dr/stacks/synthout"
)

const (
	readmePath  = "README.md"
	fixturePath = "generated/payments-dr.json" // the reviewed default configuration
)

var defaultStackPath = synthout.StackFile("cdktf.out", synthout.DRStackName)

// Exit codes of the subcommands.
const (
	exitOK      = 0
	exitFailed  = 1 // the check failed: RTO over target, a gap, a stale README; failback not safe; DynamoDB did not answer
	exitProblem = 2 // bad usage or unreadable input
)

// opsCmd is how usage and the levers' hints name these commands: their own main
// package, which links no cdktf, jsii or provider bindings, so that the first run on a
// laptop with an empty build cache (the day of an outage) builds in seconds. `go run .`
// runs them too, but builds the synth first (docs/operator-commands.md).
const opsCmd = "go run ./ops/cmd/dr"

const usage = `usage (from the module root):
  go run .                          synthesize both stacks to cdktf.out (configuration from the environment)
  go run ./ops/cmd/dr COMMAND ...   every command below, without building cdktf (go run . COMMAND works too,
                                    but builds cdktf and the provider bindings first: minutes on an empty cache)

  go run ./ops/cmd/dr report  [--from PATH] [--json] [--rto-target 60s] [--strict]
  go run ./ops/cmd/dr diagram [--from PATH] [--format mermaid|dot] [--svg out.svg]
  go run ./ops/cmd/dr docs    [--check]
  go run ./ops/cmd/dr review  [--base generated | --base-ref REF] [--head cdktf.out] [--format text|markdown|json] [--strict]
                                    offline plan of head against base: changes per address, DATA AT RISK, recovery delta;
                                    exit 1 with --strict when data is at risk or recovery regressed, 2 on bad input

Failover levers (DynamoDB and S3 only; AWS credentials from the standard chain, e.g. the assumed DR role):
  go run ./ops/cmd/dr drain <region> [--reason TEXT] [--by NAME] [--via REGION]
                                    take <region> out of service: its /health answers 503, Route 53 moves traffic;
                                    written through the OTHER region's endpoint unless --via says otherwise
  go run ./ops/cmd/dr undrain <region> [--reason TEXT] [--by NAME] [--via REGION]
                                    clear the flag; <region> returns once its failback gate opens
  go run ./ops/cmd/dr status [--via REGION]
                                    drain flags, peer observations, gate overrides and the primary's failback gate
  go run ./ops/cmd/dr failback-check [--region PRIMARY]
                                    exit 0 when PRIMARY (default PRIMARY_REGION) may take traffic back, 1 when not, and why
  go run ./ops/cmd/dr gate open|close <PRIMARY> --reason TEXT --for DURATION [--by NAME] [--via REGION]
                                    override the primary's failback gate for DURATION (at most 24h), written into
                                    both replicas (either region may be gone) unless --via names one
  go run ./ops/cmd/dr find-payment --owner PRINCIPAL --id PAYMENT_ID [--region REGION]
                       [--bucket REGION=NAME] [--s3-endpoint REGION=URL]
                                    a payment's item and receipt as the function keys them (<owner hash>.<paymentId>),
                                    read in PRIMARY_REGION, then SECONDARY_REGION when that does not answer or lacks it
                                    (only REGION with --region); exit 0 when found, processed and its receipt is in
                                    that region's bucket, 1 otherwise, 2 on bad input
  common: --table NAME (default payments-global-<ENVIRONMENT_SUFFIX>), --endpoint REGION=URL (DynamoDB; repeatable);
  <region> and REGION: PRIMARY_REGION or SECONDARY_REGION. Each call: 2 attempts of 3 s; each command: at most 20 s.
`

// Run runs the subcommand args[0] and returns the process exit status. main calls it
// only when there are arguments; without any it prints the usage and fails.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitProblem
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"report": cmdReport, "diagram": cmdDiagram, "docs": cmdDocs, "review": cmdReview,
		"drain": cmdDrain, "undrain": cmdUndrain, "status": cmdStatus, "failback-check": cmdFailbackCheck,
		"gate": cmdGate, "find-payment": cmdFindPayment,
	}
	if cmd, ok := cmds[args[0]]; ok {
		return cmd(args[1:], stdout, stderr)
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return exitProblem
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// readStack reads a synthesized stack, saying how to make it when it is missing.
func readStack(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: run the synth first (JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 go run .), or pass --from %s", path, fixturePath)
	}
	return b, err
}

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", stderr)
	from := fs.String("from", defaultStackPath, "synthesized DR stack JSON")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	target := fs.Duration("rto-target", recovery.DefaultRTOTarget, "fail when the RTO bound exceeds this")
	strict := fs.Bool("strict", false, "fail on warning gaps too (e.g. alert topics nobody subscribes to)")
	if err := parse(fs, args); err != nil {
		return exitProblem
	}
	b, err := readStack(*from)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitProblem
	}
	r, err := recovery.Analyze(b)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *from, err)
		return exitProblem
	}
	checkErr := r.Check(*target, *strict)
	if *asJSON {
		out := struct {
			recovery.Report
			Check checkResult `json:"check"`
		}{r, newCheckResult(*target, checkErr)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, err)
			return exitProblem
		}
	} else {
		fmt.Fprintf(stdout, "Recovery budget of %s\n\n%s\n", *from, r.Table())
	}
	if checkErr != nil {
		fmt.Fprintf(stderr, "check failed (RTO target %s):\n%s\n", *target, indent(checkErr.Error()))
		return exitFailed
	}
	if w := r.Warnings(); w > 0 {
		fmt.Fprintf(stderr, "check passed: RTO bound %s within the target %s; %d warning gap(s), which --strict fails on\n", r.RTO.Bound(), *target, w)
		return exitOK
	}
	fmt.Fprintf(stderr, "check passed: RTO bound %s within the target %s, no gaps\n", r.RTO.Bound(), *target)
	return exitOK
}

type checkResult struct {
	RTOTargetSeconds int      `json:"rtoTargetSeconds"`
	Passed           bool     `json:"passed"`
	Problems         []string `json:"problems,omitempty"`
}

func newCheckResult(target time.Duration, err error) checkResult {
	c := checkResult{RTOTargetSeconds: int(target / time.Second), Passed: err == nil}
	if err != nil {
		c.Problems = strings.Split(err.Error(), "\n")
	}
	return c
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func cmdDiagram(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("diagram", stderr)
	from := fs.String("from", defaultStackPath, "synthesized DR stack JSON")
	format := fs.String("format", "mermaid", "mermaid or dot")
	svg := fs.String("svg", "", "render with Graphviz (dot -Tsvg) into this file")
	if err := parse(fs, args); err != nil {
		return exitProblem
	}
	render := map[string]func([]byte) (string, error){"mermaid": topology.Mermaid, "dot": topology.DOT}[*format]
	if *svg != "" {
		render = topology.DOT
	}
	if render == nil {
		fmt.Fprintf(stderr, "diagram: --format %q: accepted: mermaid, dot\n", *format)
		return exitProblem
	}
	b, err := readStack(*from)
	if err == nil {
		var out string
		if out, err = render(b); err == nil {
			if *svg == "" {
				_, err = io.WriteString(stdout, out)
			} else if err = renderSVG(out, *svg); err == nil {
				fmt.Fprintf(stderr, "wrote %s\n", *svg)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "diagram:", err)
		return exitProblem
	}
	return exitOK
}

func renderSVG(dot, path string) error {
	bin, err := exec.LookPath("dot")
	if err != nil {
		return errors.New("--svg needs Graphviz's `dot` on PATH (e.g. apt-get install graphviz); `" + opsCmd + " diagram --format dot` prints the source without it")
	}
	cmd := exec.Command(bin, "-Tsvg", "-o", path)
	cmd.Stdin = strings.NewReader(dot)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dot -Tsvg: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func cmdDocs(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("docs", stderr)
	check := fs.Bool("check", false, "only check that README.md and docs/*.md are current; exit 1 when stale")
	if err := parse(fs, args); err != nil {
		return exitProblem
	}
	texts, paths, err := readDocs()
	if err != nil {
		fmt.Fprintln(stderr, "docs:", err)
		return exitProblem
	}
	stack, err := os.ReadFile(fixturePath)
	if err != nil {
		fmt.Fprintln(stderr, "docs:", err)
		return exitProblem
	}
	updated, err := renderDocs(texts, stack)
	if err != nil {
		fmt.Fprintf(stderr, "docs: %v\n", err)
		return exitProblem
	}
	var stale []string
	for _, p := range paths {
		if updated[p] != texts[p] {
			stale = append(stale, p)
		}
	}
	if len(stale) == 0 {
		fmt.Fprintf(stdout, "%s are current with %s\n", strings.Join(paths, ", "), fixturePath)
		return exitOK
	}
	if *check {
		fmt.Fprintf(stderr, "%s: stale: the topology/recovery/config sections do not match %s and stacks/config; run `%s docs` and commit the result\n", strings.Join(stale, ", "), fixturePath, opsCmd)
		return exitFailed
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte(updated[p]), 0o644); err != nil {
			fmt.Fprintln(stderr, "docs:", err)
			return exitProblem
		}
		fmt.Fprintf(stdout, "updated %s from %s\n", p, fixturePath)
	}
	return exitOK
}

// readmeSections are the generated parts of README.md and docs/*.md, by marker name.
var readmeSections = []string{"topology", "recovery", "config"}

// renderReadme returns readme with its generated sections rendered from stackJSON: the
// Mermaid diagram between the topology markers, the recovery table between the recovery
// markers. It is pure: same input, same output.
func renderReadme(readme string, stackJSON []byte) (string, error) {
	out, err := renderDocs(map[string]string{readmePath: readme}, stackJSON)
	if err != nil {
		return "", err
	}
	return out[readmePath], nil
}

func markers(name string) (start, end string) {
	return "<!-- " + name + ":start -->", "<!-- " + name + ":end -->"
}

// replaceSection puts body between the start and end markers of name.
func replaceSection(text, name, body string) (string, error) {
	start, end := markers(name)
	i := strings.Index(text, start)
	j := strings.Index(text, end)
	if i < 0 || j < 0 || j < i {
		return "", fmt.Errorf("no %s … %s section", start, end)
	}
	return text[:i] + start + "\n" + body + text[j:], nil
}

// PrintSynthSummary ends a successful synth: the stacks written and where, resources per
// region, and the recovery budget's RTO and RPO lines for the DR stack.
func PrintSynthSummary(w io.Writer, outdir string) error {
	fmt.Fprintf(w, "stacks written to %s:\n", outdir)
	var drJSON []byte
	for _, name := range []string{synthout.StateStackName, synthout.DRStackName} {
		path := synthout.StackFile(outdir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s, err := recovery.ParseStack(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		counts := s.ResourcesByRegion()
		regions := make([]string, 0, len(counts))
		for region := range counts {
			regions = append(regions, region)
		}
		sort.Slice(regions, func(i, j int) bool { return s.RegionIndex(regions[i]) < s.RegionIndex(regions[j]) })
		var per []string
		for _, region := range regions {
			per = append(per, fmt.Sprintf("%s %d", region, counts[region]))
		}
		fmt.Fprintf(w, "  %-18s %s (resources: %s)\n", name, path, strings.Join(per, ", "))
		if name == synthout.DRStackName {
			drJSON = b
		}
	}
	r, err := recovery.Analyze(drJSON)
	if err != nil {
		return err
	}
	for _, line := range r.Summary() {
		fmt.Fprintln(w, line)
	}
	return nil
}
