package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/payments-dr/payments-dr/ops/recovery"
	"github.com/payments-dr/payments-dr/ops/topology"
	"github.com/payments-dr/payments-dr/stacks/config"
)

// docsDir holds the documents beside README.md; a generated section may live in
// any of them, each in exactly one.
const docsDir = "docs"

// docPaths lists README.md, RUNBOOK.md and every docs/*.md that exists, in that
// order.
func docPaths() ([]string, error) {
	paths := []string{readmePath}
	if _, err := os.Stat("RUNBOOK.md"); err == nil {
		paths = append(paths, "RUNBOOK.md")
	}
	more, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		return nil, err
	}
	slices.Sort(more)
	return append(paths, more...), nil
}

// sectionBodies renders every generated section from stackJSON.
func sectionBodies(stackJSON []byte) (map[string]string, error) {
	diagram, err := topology.Mermaid(stackJSON)
	if err != nil {
		return nil, err
	}
	r, err := recovery.Analyze(stackJSON)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"topology": "```mermaid\n" + diagram + "```\n",
		"recovery": "```text\n" + r.Table() + "```\n",
		"config":   config.Table(),
	}, nil
}

// renderDocs renders each generated section in the one document of texts (path
// → content) that holds its markers, and returns every document. A section
// whose markers are in no document, or in more than one, is an error: a reader
// would find it stale or twice.
func renderDocs(texts map[string]string, stackJSON []byte) (map[string]string, error) {
	bodies, err := sectionBodies(stackJSON)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(texts))
	for p, t := range texts {
		out[p] = t
	}
	for _, name := range readmeSections {
		start, _ := markers(name)
		var holders []string
		for p, t := range out {
			if strings.Contains(t, start) {
				holders = append(holders, p)
			}
		}
		slices.Sort(holders)
		if len(holders) != 1 {
			return nil, fmt.Errorf("%s: found in %v; want it in exactly one of README.md and docs/*.md", start, holders)
		}
		if out[holders[0]], err = replaceSection(out[holders[0]], name, bodies[name]); err != nil {
			return nil, fmt.Errorf("%s: %w", holders[0], err)
		}
	}
	return out, nil
}

// readDocs reads the documents docPaths lists.
func readDocs() (map[string]string, []string, error) {
	paths, err := docPaths()
	if err != nil {
		return nil, nil, err
	}
	texts := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		texts[p] = string(b)
	}
	return texts, paths, nil
}

var (
	// mdLink is an inline link or image: [text](target "title").
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// fence and codeSpan are left out: a link inside code is not a link.
	fence    = regexp.MustCompile("(?ms)^```.*?^```[^\n]*$")
	codeSpan = regexp.MustCompile("`[^`\n]*`")
	heading  = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	// notSlug is what GitHub drops from a heading's text to make its anchor.
	notSlug = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`)
)

// anchors lists the anchors GitHub gives a document's headings: lower case,
// punctuation dropped, spaces to hyphens, "-1", "-2" … for repeats.
func anchors(text string) map[string]bool {
	text = fence.ReplaceAllString(text, "")
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		h := strings.ToLower(strings.TrimSpace(m[1]))
		h = strings.ReplaceAll(h, "`", "")
		slug := strings.ReplaceAll(notSlug.ReplaceAllString(h, ""), " ", "-")
		if n := seen[slug]; n > 0 {
			out[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// brokenLinks reports every relative link of the documents (path → content)
// whose file does not exist or whose #anchor is no heading there.
func brokenLinks(texts map[string]string) []string {
	var bad []string
	paths := make([]string, 0, len(texts))
	for p := range texts {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		body := codeSpan.ReplaceAllString(fence.ReplaceAllString(texts[p], ""), "")
		for _, m := range mdLink.FindAllStringSubmatch(body, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := p
			if file != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(p), file))
			}
			content, ok := texts[dest]
			if !ok {
				b, err := os.ReadFile(dest)
				if err != nil {
					bad = append(bad, fmt.Sprintf("%s: link %q: %s does not exist", p, target, dest))
					continue
				}
				content = string(b)
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") && !anchors(content)[anchor] {
				bad = append(bad, fmt.Sprintf("%s: link %q: %s has no heading with anchor #%s", p, target, dest, anchor))
			}
		}
	}
	return bad
}
