package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output form of a review.
type Format string

const (
	Text     Format = "text"
	Markdown Format = "markdown"
	JSON     Format = "json"
)

// ParseFormat accepts text, markdown or json.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, Markdown, JSON:
		return f, nil
	}
	return "", fmt.Errorf("--format %q: accepted: text, markdown, json", s)
}

// Write renders the plan. color adds ANSI colours (text only; callers pass it when the
// output is a terminal). The last line is always the summary line.
func (p *Plan) Write(w io.Writer, f Format, color bool) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // "<the resource at …>" and "->" stay readable
		return enc.Encode(p)
	case Markdown:
		_, err := io.WriteString(w, p.markdown())
		return err
	}
	_, err := io.WriteString(w, p.text(paint{on: color}))
	return err
}

type paint struct{ on bool }

func (c paint) wrap(code, s string) string {
	if !c.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (c paint) red(s string) string    { return c.wrap("31", s) }
func (c paint) green(s string) string  { return c.wrap("32", s) }
func (c paint) yellow(s string) string { return c.wrap("33", s) }
func (c paint) cyan(s string) string   { return c.wrap("36", s) }
func (c paint) bold(s string) string   { return c.wrap("1", s) }

func (c paint) symbol(ch Change) string {
	switch ch.Action {
	case Create:
		return c.green("+")
	case Update:
		return c.yellow("~")
	case Replace:
		return c.red("-/+")
	case Destroy:
		return c.red("-")
	}
	return c.cyan("->")
}

func headline(ch Change) string {
	var s string
	switch ch.Action {
	case Create:
		s = ch.Address + " will be created"
	case Update:
		s = ch.Address + " will be updated in place"
	case Replace:
		s = ch.Address + " must be replaced"
	case Destroy:
		s = ch.Address + " will be destroyed"
	default:
		s = ch.Address
	}
	if ch.MovedFrom != "" {
		if ch.Action == NoOp {
			s = ch.MovedFrom + " has moved to " + ch.Address
		} else {
			s += " (moved from " + ch.MovedFrom + ")"
		}
		if !ch.MoveDeclared {
			s += "; the head has no moved block for it: without one Terraform destroys and recreates it"
		}
	}
	return s
}

func attrLine(a AttrChange) string {
	s := fmt.Sprintf("%s: %s -> %s", a.Path, a.Old, a.New)
	var notes []string
	if a.ForcesReplacement {
		notes = append(notes, "forces replacement")
	}
	if a.Note != "" {
		notes = append(notes, a.Note)
	}
	if len(notes) > 0 {
		s += "   # " + strings.Join(notes, "; ")
	}
	return s
}

// changeLines is the body shared by text and markdown: one block per change.
func changeLines(b *strings.Builder, indent string, changes []Change, c paint) {
	for _, ch := range changes {
		fmt.Fprintf(b, "%s%s %s\n", indent, c.symbol(ch), headline(ch))
		for _, a := range ch.Attributes {
			fmt.Fprintf(b, "%s      %s\n", indent, attrLine(a))
		}
		if ch.MovedFrom != "" && !ch.MoveDeclared {
			for _, l := range strings.Split(ch.MovedBlock, "\n") {
				fmt.Fprintf(b, "%s      %s\n", indent, l)
			}
			fmt.Fprintf(b, "%s      cdktf: %s\n", indent, ch.CDKTFMove)
		}
	}
}

func riskLines(b *strings.Builder, indent string, risks []Risk) {
	for _, r := range risks {
		fmt.Fprintf(b, "%s%s: %s\n", indent, r.Address, r.Action)
		fmt.Fprintf(b, "%s    why: it %s\n", indent, r.Why)
		fmt.Fprintf(b, "%s    would prevent_destroy stop the apply? %s\n", indent, r.PreventDestroy)
		if r.Also != "" {
			fmt.Fprintf(b, "%s    also: %s\n", indent, r.Also)
		}
	}
}

func recoveryLines(b *strings.Builder, indent string, r *RecoveryDelta) {
	switch {
	case r == nil:
		return
	case r.Skipped != "":
		fmt.Fprintf(b, "%s%s\n", indent, r.Skipped)
	case r.Empty():
		fmt.Fprintf(b, "%sno change to the RTO bound, pages, RPO or gaps\n", indent)
	}
	if r.RTO != nil {
		fmt.Fprintf(b, "%s%s\n", indent, r.RTO)
	}
	for _, d := range append(r.FirstPage, r.RPO...) {
		fmt.Fprintf(b, "%s%s\n", indent, d)
	}
	for _, group := range []struct {
		prefix string
		lines  []string
	}{{"page lost: ", r.PagesLost}, {"page added: ", r.PagesAdded}, {"gap added: ", r.GapsAdded}, {"gap removed: ", r.GapsGone}} {
		for _, l := range group.lines {
			fmt.Fprintf(b, "%s%s%s\n", indent, group.prefix, l)
		}
	}
}

func settingLines(b *strings.Builder, indent string, settings []AttrChange, c paint) {
	for _, a := range settings {
		fmt.Fprintf(b, "%s%s %s\n", indent, c.yellow("~"), attrLine(a))
	}
}

func onlyIn(s StackPlan) string {
	switch s.OnlyIn {
	case "head":
		return " (new stack: everything in it is created)"
	case "base":
		return " (stack removed: everything in it is destroyed)"
	}
	return ""
}

// section is one titled part of a stack's review, shared by text and markdown.
type section struct{ title, body string }

func stackSections(s StackPlan, c paint) []section {
	var out []section
	add := func(title string, write func(*strings.Builder)) {
		var sb strings.Builder
		write(&sb)
		if sb.Len() > 0 {
			out = append(out, section{title, sb.String()})
		}
	}
	add("Resources", func(sb *strings.Builder) { changeLines(sb, "", s.Resources, c) })
	add("Data sources (read during plan; not counted below)", func(sb *strings.Builder) { changeLines(sb, "", s.DataSources, c) })
	add("Outputs", func(sb *strings.Builder) { changeLines(sb, "", s.Outputs, c) })
	add("Backend and providers", func(sb *strings.Builder) { settingLines(sb, "", s.Settings, c) })
	if len(out) == 0 {
		out = append(out, section{"no changes", ""})
	}
	add("Recovery", func(sb *strings.Builder) { recoveryLines(sb, "", s.Recovery) })
	return out
}

func (p *Plan) text(c paint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Review of %s -> %s (offline, from the synthesized JSON)\n", p.Base, p.Head)
	for _, s := range p.Stacks {
		fmt.Fprintf(&b, "\n%s%s\n", c.bold("Stack "+s.Name), onlyIn(s))
		if len(s.Risks) > 0 {
			fmt.Fprintf(&b, "  %s\n", c.red(c.bold("DATA AT RISK")))
			riskLines(&b, "    ", s.Risks)
		}
		for _, sec := range stackSections(s, c) {
			fmt.Fprintf(&b, "  %s\n", sec.title)
			for _, l := range strings.SplitAfter(sec.body, "\n") {
				if l != "" {
					b.WriteString("    " + l)
				}
			}
		}
	}
	b.WriteString("\n" + c.bold(p.Line) + "\n")
	return b.String()
}

func (p *Plan) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Review of `%s` → `%s`\n", p.Base, p.Head)
	for _, s := range p.Stacks {
		fmt.Fprintf(&b, "\n### Stack `%s`%s\n", s.Name, onlyIn(s))
		if len(s.Risks) > 0 {
			b.WriteString("\n#### DATA AT RISK\n\n")
			for _, r := range s.Risks {
				fmt.Fprintf(&b, "- **`%s`**: %s\n  - why: it %s\n  - would `prevent_destroy` stop the apply? %s\n", r.Address, r.Action, r.Why, r.PreventDestroy)
				if r.Also != "" {
					fmt.Fprintf(&b, "  - also: %s\n", r.Also)
				}
			}
		}
		for _, sec := range stackSections(s, paint{}) {
			if sec.body == "" {
				fmt.Fprintf(&b, "\n%s\n", sec.title)
				continue
			}
			fmt.Fprintf(&b, "\n#### %s\n\n```text\n%s```\n", sec.title, sec.body)
		}
	}
	b.WriteString("\n" + p.Line + "\n")
	return b.String()
}
