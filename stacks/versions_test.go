package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// versionsDocs reads README.md and every docs/*.md (relative to the module root, as a
// reader sees them): the Versions table lives in one of them, and any may name a version.
func versionsDocs(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, p := range append([]string{filepath.Join("..", "README.md")}, paths...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs[strings.TrimPrefix(filepath.ToSlash(p), "../")] = string(b)
	}
	return docs
}

// versionCell returns the cell after "| tool |" in the Versions table, and the document
// that holds it: exactly one may, or a reader could find two different answers.
func versionCell(t *testing.T, docs map[string]string, tool string) (path, cell string) {
	t.Helper()
	var found []string
	for p, text := range docs {
		for _, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(line, "| "+tool+" | "); ok {
				path, cell = p, strings.TrimSuffix(strings.TrimSpace(rest), "|")
				found = append(found, p)
			}
		}
	}
	if len(found) != 1 {
		slices.Sort(found)
		t.Fatalf("want one %q row in a Versions table of README.md or docs/*.md, found %d (%v)", tool, len(found), found)
	}
	return path, cell
}

// TestVersionsMatchReadme fails when what both synthesized stacks require drifts from
// what the documentation tells an operator to install: the Terraform version
// (required_version) and the hashicorp/aws provider version (required_providers, set by
// the provider module's release), in the Versions table and wherever else README.md or
// docs/*.md name them.
func TestVersionsMatchReadme(t *testing.T) {
	docs := versionsDocs(t)
	paths := make([]string, 0, len(docs))
	for p := range docs {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	tests := []struct {
		name string
		// stated is the version the Versions table gives (first capture group of
		// pattern in the tool's row).
		tool, pattern string
		// mentions matches every other place the docs state the version (first
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
			table, cell := versionCell(t, docs, tc.tool)
			m := regexp.MustCompile(tc.pattern).FindStringSubmatch(cell)
			if m == nil {
				t.Fatalf("%s: the %q row %q does not match %q", table, tc.tool, cell, tc.pattern)
			}
			stated := m[1]
			for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
				b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.synthesized(parse(t, string(b))); got != stated {
					t.Errorf("%s: synthesized %v, %s states %q", stack, got, table, stated)
				}
			}
			// README.md's deploy section names both versions; a reader starts there.
			if !tc.mentions.MatchString(docs["README.md"]) {
				t.Errorf("README.md never names the version in prose (%s)", tc.mentions)
			}
			for _, p := range paths {
				for _, f := range tc.mentions.FindAllStringSubmatch(docs[p], -1) {
					if f[1] != tc.mentionOf(stated) {
						t.Errorf("%s says %q where the Versions table in %s states %q", p, f[0], table, stated)
					}
				}
			}
		})
	}
}

// TestProviderModuleMatchesReadme fails when go.mod moves the provider bindings to another
// release than the one the Versions table names: the release decides the
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
	table, cell := versionCell(t, versionsDocs(t), "AWS provider")
	if want := "`cdktf-provider-aws-go/aws/v19` " + string(m[1]); !strings.Contains(cell, want) {
		t.Errorf("%s: the AWS provider row %q does not name %q, the release go.mod requires", table, cell, want)
	}
}
