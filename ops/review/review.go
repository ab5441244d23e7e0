// Package review compares two synths of the stacks the way `terraform plan` would, offline:
// per Terraform address it says what is created, updated in place (attribute by attribute),
// replaced (and which argument forces it, from the provider's schema), destroyed or moved
// (with the moved block that keeps it), puts whatever loses data or identity first, and
// says what the change does to the recovery budget (ops/recovery). It reads synthesized
// JSON only: no cdktf, jsii or Node, so reviewing two full synths takes milliseconds.
package review

import "sort"

// Plan is a whole review.
type Plan struct {
	Base    string      `json:"base"`
	Head    string      `json:"head"`
	Stacks  []StackPlan `json:"stacks"`
	Summary Summary     `json:"summary"`
	// Changed is false when the two sides are the same.
	Changed bool   `json:"changed"`
	Line    string `json:"summaryLine"`
}

// Review compares every stack present on either side.
func Review(base, head *Side) *Plan {
	p := &Plan{Base: base.Label, Head: head.Label}
	for _, name := range unionKeys(base.Stacks, head.Stacks) {
		b, h := base.Stacks[name], head.Stacks[name]
		sp := planStack(name, b, h)
		switch {
		case b == nil:
			sp.OnlyIn = "head"
		case h == nil:
			sp.OnlyIn = "base"
		}
		sp.Recovery = recoveryDelta(b, h)
		p.Stacks = append(p.Stacks, sp)
		for _, c := range sp.Resources {
			switch c.Action {
			case Create:
				p.Summary.Add++
			case Update:
				p.Summary.Change++
			case Replace:
				p.Summary.Replace++
			case Destroy:
				p.Summary.Destroy++
			}
			if c.MovedFrom != "" {
				p.Summary.Move++
			}
		}
		if len(sp.Resources)+len(sp.DataSources)+len(sp.Outputs)+len(sp.Settings) > 0 {
			p.Changed = true
		}
	}
	sort.SliceStable(p.Stacks, func(i, j int) bool { return len(p.Stacks[i].Risks) > len(p.Stacks[j].Risks) })
	p.Line = p.Summary.Line(p.Changed)
	return p
}

// AtRisk reports whether anything holding data or identity is destroyed, replaced or moved
// without a moved block.
func (p *Plan) AtRisk() bool {
	for _, s := range p.Stacks {
		if len(s.Risks) > 0 {
			return true
		}
	}
	return false
}

// Regressions lists what got worse for recovery: RTO bound up, a page lost or slower, a
// new gap.
func (p *Plan) Regressions() []string {
	var out []string
	for _, s := range p.Stacks {
		if s.Recovery != nil {
			for _, r := range s.Recovery.Regressions {
				out = append(out, s.Name+": "+r)
			}
		}
	}
	return out
}
