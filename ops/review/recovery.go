package review

import (
	"fmt"
	"strings"

	"github.com/payments-dr/payments-dr/ops/recovery"
)

// RecoveryDelta is what a change does to the recovery report (ops/recovery) of a stack.
type RecoveryDelta struct {
	// Skipped says why there is no delta (a stack without failover records, such as the
	// state stack, has no recovery report).
	Skipped string `json:"skipped,omitempty"`

	RTO        *Delta   `json:"rto,omitempty"`
	FirstPage  []Delta  `json:"firstPage,omitempty"`
	RPO        []Delta  `json:"rpo,omitempty"`
	PagesLost  []string `json:"pagesLost,omitempty"`
	PagesAdded []string `json:"pagesAdded,omitempty"`
	GapsAdded  []string `json:"gapsAdded,omitempty"`
	GapsGone   []string `json:"gapsRemoved,omitempty"`
	// Regressions are the findings that fail --strict.
	Regressions []string `json:"regressions,omitempty"`
}

// Delta is one figure, before and after.
type Delta struct {
	What string `json:"what"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

func (d Delta) String() string { return fmt.Sprintf("%s %s -> %s", d.What, d.Old, d.New) }

// Empty reports whether nothing in the recovery report changed.
func (r *RecoveryDelta) Empty() bool {
	return r == nil || (r.Skipped == "" && r.RTO == nil && len(r.FirstPage) == 0 && len(r.RPO) == 0 &&
		len(r.PagesLost) == 0 && len(r.PagesAdded) == 0 && len(r.GapsAdded) == 0 && len(r.GapsGone) == 0)
}

// recoveryDelta runs the recovery report on both sides. A side that has no report (the
// stack is absent there, or is not a DR stack) makes the delta skipped, not an error.
func recoveryDelta(base, head *Stack) *RecoveryDelta {
	if base == nil || head == nil {
		return &RecoveryDelta{Skipped: "the stack is on one side only"}
	}
	rb, errB := recovery.Analyze(base.JSON)
	rh, errH := recovery.Analyze(head.JSON)
	switch {
	case errB != nil && errH != nil:
		return &RecoveryDelta{Skipped: "no recovery report: " + errB.Error()}
	case errB != nil:
		return &RecoveryDelta{Skipped: "the base has no recovery report (" + errB.Error() + ")"}
	case errH != nil:
		return &RecoveryDelta{Skipped: "the head has no recovery report (" + errH.Error() + ")", Regressions: []string{"the head has no recovery report: " + errH.Error()}}
	}
	d := &RecoveryDelta{}
	if bb, hb := rtoText(rb.RTO), rtoText(rh.RTO); bb != hb {
		d.RTO = &Delta{What: "RTO bound", Old: bb, New: hb}
		if !rh.RTO.Bounded || (rb.RTO.Bounded && rh.RTO.Seconds > rb.RTO.Seconds) {
			d.Regressions = append(d.Regressions, d.RTO.String())
		}
	}
	d.firstPages(rb, rh)
	d.rpo(rb, rh)
	d.gaps(rb, rh)
	return d
}

func rtoText(r recovery.RTO) string {
	if !r.Bounded {
		return "none"
	}
	return fmt.Sprintf("%d s", r.Seconds)
}

func (d *RecoveryDelta) firstPages(rb, rh recovery.Report) {
	hn := map[string]recovery.Notification{}
	for _, n := range rh.Notifications {
		hn[n.FailedRegion] = n
	}
	bn := map[string]recovery.Notification{}
	for _, n := range rb.Notifications {
		bn[n.FailedRegion] = n
	}
	for _, region := range unionKeys(bn, hn) {
		b, h := bn[region], hn[region]
		if bs, hs := pageText(b), pageText(h); bs != hs {
			delta := Delta{What: "first page when " + region + " fails", Old: bs, New: hs}
			d.FirstPage = append(d.FirstPage, delta)
			if h.FirstSeconds == 0 || (b.FirstSeconds > 0 && h.FirstSeconds > b.FirstSeconds) {
				d.Regressions = append(d.Regressions, delta.String())
			}
		}
		bAlarms, hAlarms := alarmNames(b), alarmNames(h)
		for _, name := range sortedKeys(bAlarms) {
			if !hAlarms[name] {
				lost := fmt.Sprintf("%s can no longer page when %s fails", name, region)
				d.PagesLost = append(d.PagesLost, lost)
				d.Regressions = append(d.Regressions, lost)
			}
		}
		for _, name := range sortedKeys(hAlarms) {
			if !bAlarms[name] {
				d.PagesAdded = append(d.PagesAdded, fmt.Sprintf("%s now pages when %s fails", name, region))
			}
		}
	}
}

func pageText(n recovery.Notification) string {
	if n.FirstSeconds == 0 {
		return "none bounded"
	}
	return fmt.Sprintf("%d s", n.FirstSeconds)
}

func alarmNames(n recovery.Notification) map[string]bool {
	out := map[string]bool{}
	for _, a := range n.Alarms {
		out[a.Name] = true
	}
	return out
}

func (d *RecoveryDelta) rpo(rb, rh recovery.Report) {
	rows := func(r recovery.Report) map[string]string {
		out := map[string]string{}
		for _, st := range r.RPO {
			for _, l := range st.Links {
				guarantee, alarm := "no guarantee", "unwatched"
				if l.GuaranteeSeconds > 0 {
					guarantee = fmt.Sprintf("guarantee %d s", l.GuaranteeSeconds)
				}
				if l.AlarmSeconds > 0 {
					alarm = fmt.Sprintf("alarm at %g s (%s)", l.AlarmSeconds, l.Alarm)
				}
				out[st.Name+" "+l.From+" -> "+l.To] = guarantee + ", " + alarm
			}
		}
		return out
	}
	b, h := rows(rb), rows(rh)
	for _, k := range unionKeys(b, h) {
		if b[k] != h[k] {
			d.RPO = append(d.RPO, Delta{What: "RPO " + k, Old: orNone(b[k]), New: orNone(h[k])})
			if h[k] == "" || strings.Contains(h[k], "unwatched") && !strings.Contains(b[k], "unwatched") {
				d.Regressions = append(d.Regressions, "RPO "+k+" is no longer watched")
			}
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(no link)"
	}
	return s
}

func (d *RecoveryDelta) gaps(rb, rh recovery.Report) {
	set := func(r recovery.Report) map[string]bool {
		out := map[string]bool{}
		for _, g := range r.Gaps {
			out[g.String()] = true
		}
		return out
	}
	b, h := set(rb), set(rh)
	for _, g := range sortedKeys(h) {
		if !b[g] {
			d.GapsAdded = append(d.GapsAdded, g)
			d.Regressions = append(d.Regressions, "new gap: "+g)
		}
	}
	for _, g := range sortedKeys(b) {
		if !h[g] {
			d.GapsGone = append(d.GapsGone, g)
		}
	}
}
