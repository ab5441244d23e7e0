package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// readmeVersionCell returns the cell after "| tool |" in README.md's Versions table.
func readmeVersionCell(t *testing.T, readme, tool string) string {
	t.Helper()
	for _, line := range strings.Split(readme, "\n") {
		if rest, ok := strings.CutPrefix(line, "| "+tool+" | "); ok {
			return strings.TrimSuffix(strings.TrimSpace(rest), "|")
		}
	}
	t.Fatalf("README.md has no %q row in its Versions table", tool)
	return ""
}

// TestVersionsMatchReadme fails when what both synthesized stacks require drifts from
// what README.md tells an operator to install: the Terraform version (required_version)
// and the hashicorp/aws provider version (required_providers, set by the provider
// module's release), in the Versions table and wherever else the README names them.
func TestVersionsMatchReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	tests := []struct {
		name string
		// stated is the version the Versions table gives (first capture group of
		// pattern in the tool's row).
		tool, pattern string
		// mentions matches every other place the README states the version (first
		// capture group), e.g. "Terraform ≥ 1.11"; mentionOf turns the stated version
		// into that form.
		mentions  *regexp.Regexp
		mentionOf func(stated string) string
		// synthesized is the stack's value.
		synthesized func(tf) any
	}{
		{
			name: "terraform required_version", tool: "Terraform", pattern: "^`([^`]+)`",
			mentions:    regexp.MustCompile(`(?:Terraform|OpenTofu) ≥ (\S+?)[,)\s]`),
			mentionOf:   func(v string) string { return strings.TrimPrefix(v, ">= ") },
			synthesized: func(j tf) any { return j.Terraform["required_version"] },
		},
		{
			name: "aws provider version", tool: "AWS provider", pattern: "^hashicorp/aws `([^`]+)`",
			mentions:  regexp.MustCompile("hashicorp/aws`? `?([0-9][0-9.]*[0-9])"),
			mentionOf: func(v string) string { return v },
			synthesized: func(j tf) any {
				return block(block(j.Terraform["required_providers"])["aws"])["version"]
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cell := readmeVersionCell(t, readme, tc.tool)
			m := regexp.MustCompile(tc.pattern).FindStringSubmatch(cell)
			if m == nil {
				t.Fatalf("README.md's %q row %q does not match %q", tc.tool, cell, tc.pattern)
			}
			stated := m[1]
			for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
				b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.synthesized(parse(t, string(b))); got != stated {
					t.Errorf("%s: synthesized %v, README.md states %q", stack, got, stated)
				}
			}
			found := tc.mentions.FindAllStringSubmatch(readme, -1)
			if len(found) == 0 {
				t.Errorf("README.md never names the version in prose (%s)", tc.mentions)
			}
			for _, f := range found {
				if f[1] != tc.mentionOf(stated) {
					t.Errorf("README.md says %q where its Versions table states %q", f[0], stated)
				}
			}
		})
	}
}

// TestProviderModuleMatchesReadme fails when go.mod moves the provider bindings to another
// release than the one README.md's Versions table names: the release decides the
// hashicorp/aws version every stack requires.
func TestProviderModuleMatchesReadme(t *testing.T) {
	const module = "github.com/cdktf/cdktf-provider-aws-go/aws/v19"
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatalf("go.mod does not require %s", module)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cell := readmeVersionCell(t, string(readme), "AWS provider")
	if want := "`cdktf-provider-aws-go/aws/v19` " + string(m[1]); !strings.Contains(cell, want) {
		t.Errorf("README.md's AWS provider row %q does not name %q, the release go.mod requires", cell, want)
	}
}
