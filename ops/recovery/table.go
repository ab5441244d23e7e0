package recovery

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Table renders the report for people: RTO terms, notification, RPO per store, gaps.
// It is deterministic, so it can be embedded in docs/recovery-budget.md and checked for staleness.
func (r Report) Table() string {
	var b strings.Builder
	section := func(title string, header string, rows [][]string) {
		fmt.Fprintf(&b, "%s\n", title)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		if header != "" {
			fmt.Fprintf(tw, "  %s\n", header)
		}
		for _, row := range rows {
			fmt.Fprintf(tw, "  %s\n", strings.Join(row, "\t"))
		}
		tw.Flush()
		b.WriteString("\n")
	}

	var regions []string
	for _, reg := range r.Regions {
		role := reg.Role
		if role == "" {
			role = "no failover record"
		}
		regions = append(regions, fmt.Sprintf("%s %s (%d resources)", role, reg.Name, reg.Resources))
	}
	fmt.Fprintf(&b, "Failover name %s: %s\n", r.DNSName, strings.Join(regions, ", "))
	fmt.Fprintf(&b, "Failover control: %s (%s)\n\n", r.Control, r.ControlBasis)

	var rows [][]string
	for _, t := range r.RTO.Terms {
		rows = append(rows, []string{t.Name, fmt.Sprintf("%ds", t.Seconds), t.Basis})
	}
	if r.RTO.Bounded {
		rows = append(rows, []string{"= RTO bound", fmt.Sprintf("%ds", r.RTO.Seconds), "sum of the terms above"})
	} else {
		rows = append(rows, []string{"= RTO bound", "none", "no failover without a health check on the PRIMARY record"})
	}
	for _, nc := range r.RTO.NotCounted {
		rows = append(rows, []string{"not counted", "", nc})
	}
	section("RTO upper bound", "term\tseconds\tbasis", rows)

	rows = nil
	for _, h := range r.HealthChecks {
		inv := "no"
		if h.Inverted {
			inv = "yes"
		}
		record := h.Record
		if record == "" {
			record = "-"
		}
		rows = append(rows, []string{h.Region, h.Type + " " + h.Path, fmt.Sprintf("%ds × %d", h.IntervalSeconds, h.FailureThreshold), inv, record})
	}
	section("Health checks", "region\tcheck\tinterval × threshold\tinverted\trecord", rows)

	for _, n := range r.Notifications {
		rows = nil
		for _, al := range n.Alarms {
			first := "unbounded"
			if al.FirstPageSeconds > 0 {
				first = fmt.Sprintf("%ds", al.FirstPageSeconds)
			}
			rows = append(rows, []string{al.Name, al.Metric, al.Region, strings.Join(al.TopicRegions, ", "), first, al.Basis, al.Why})
		}
		title := fmt.Sprintf("Notification when %s fails: pages deliverable from outside %s (informational: alarms do not gate DNS failover)", n.FailedRegion, n.FailedRegion)
		if n.FirstSeconds > 0 {
			title += fmt.Sprintf("\n  first page ≤ %ds after the failure", n.FirstSeconds)
		} else {
			title += "\n  no page with a bounded delay: see Gaps"
		}
		if len(n.Excluded) > 0 {
			title += "\n  cannot page while " + n.FailedRegion + " is gone: " + strings.Join(n.Excluded, ", ")
		}
		section(title, "alarm\tmetric\talarm region\ttopic region\tfirst page\tbasis\twhy", rows)
	}

	rows = nil
	for _, st := range r.RPO {
		for _, l := range st.Links {
			guarantee, alarm := "none", "none (unwatched)"
			if l.GuaranteeSeconds > 0 {
				guarantee = fmt.Sprintf("%ds (99.99%%)", l.GuaranteeSeconds)
			}
			if l.AlarmSeconds > 0 {
				alarm = fmt.Sprintf("%s: %s", seconds(l.AlarmSeconds), l.Alarm)
			}
			rows = append(rows, []string{st.Name, st.Kind, l.From + " → " + l.To, l.Typical, guarantee, alarm})
		}
	}
	section("RPO per data store", "store\tkind\tlink\ttypical\tguarantee\talarm threshold (the bound we watch)", rows)

	if len(r.Gaps) == 0 {
		b.WriteString("Gaps: none\n")
	} else {
		rows = nil
		for _, g := range r.Gaps {
			kind := string(g.Kind)
			if g.Warning {
				kind += " (warning)"
			}
			rows = append(rows, []string{kind, g.Subject, g.Detail})
		}
		section(fmt.Sprintf("Gaps (%d, %d warning; `report --strict` fails on warnings too)", len(r.Gaps), r.Warnings()), "", rows)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
