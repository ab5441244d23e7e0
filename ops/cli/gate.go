package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/payments-dr/payments-dr/lambda/control"
)

// cmdGate is `gate open|close <region> --reason TEXT --for DURATION`:
// the operator's override of the primary's failback gate, for the cases its
// evidence cannot decide (the secondary is gone with payments it accepted still
// unreplicated; a failback to hold back although the evidence says go).
//
// The override is written into both replicas by default, so it works with
// either region gone: the gate reads its own replica's copy and the
// secondary's, and the newest in force wins. Only the DR role may write it
// (stacks/operations). It expires by itself.
func cmdGate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != control.OverrideOpen && args[0] != control.OverrideClosed && args[0] != "close") {
		fmt.Fprintf(stderr, "gate: want `gate open <region>` or `gate close <region>` (%s help)\n", opsCmd)
		return exitProblem
	}
	state := args[0]
	if state == "close" {
		state = control.OverrideClosed
	}
	fs := newFlags("gate "+args[0], stderr)
	lf := addLeverFlags(fs)
	via := fs.String("via", "", "write through this region's DynamoDB endpoint only (default: both, so either region may be gone)")
	reason := fs.String("reason", "", "why (required); shown in the primary's public /status body and in status")
	by := fs.String("by", os.Getenv("USER"), "who, kept in the item")
	dur := fs.Duration("for", 0, fmt.Sprintf("how long the override lasts, a Go duration up to %v (required), e.g. 30m", control.MaxOverride))
	region, l, ok := regionLever(fs, lf, args[1:], stderr)
	if !ok {
		return exitProblem
	}
	if region != l.cfg.PrimaryRegion {
		fmt.Fprintf(stderr, "gate: %s is the secondary: it has no failback gate (Route 53 sends it traffic only while %s is unhealthy); the gate to override is %s's\n",
			region, l.cfg.PrimaryRegion, l.cfg.PrimaryRegion)
		return exitProblem
	}
	if *by == "" {
		*by = "unknown"
	}
	o := control.Override{Region: region, State: state, Reason: *reason, By: *by}
	now := time.Now()
	// Checked before connecting: bad input changes nothing.
	if err := (control.Table{}).ValidateOverride(o, *dur); err != nil {
		fmt.Fprintf(stderr, "gate: %v (--reason TEXT, --for DURATION)\n", err)
		return exitProblem
	}
	ctx, cancel := context.WithTimeout(context.Background(), leverBudget)
	defer cancel()
	if err := l.connect(ctx); err != nil {
		return connectFailed(stderr, "gate", err)
	}
	targets := l.regions()
	if *via != "" {
		targets = []string{*via}
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, r := range targets {
		wg.Go(func() { errs[i] = l.replica(r).SetOverride(ctx, o, now, *dur) })
	}
	wg.Wait()
	written := 0
	for i, r := range targets {
		if errs[i] != nil {
			fmt.Fprintf(stderr, "gate: not written through %s: %v\n", r, l.explain(r, errs[i]))
			continue
		}
		written++
		fmt.Fprintf(stdout, "gate %s %s: wrote %s through %s's endpoint (%s)\n", state, region, control.OverrideKey(region), r, l.endpointName(r))
	}
	if written == 0 {
		return exitFailed
	}
	o.AtMs, o.UntilMs = now.UnixMilli(), now.Add(*dur).UnixMilli()
	fmt.Fprintf(stdout, "  %s\n", o)
	if state == control.OverrideOpen {
		fmt.Fprintf(stdout, "\n%s's /health passes the gate and it takes payment writes again until %s, whatever the evidence says: "+
			"payments %s accepted that are not in %s's replica stay missing there until replication delivers them (GETs look in %s's replica on a miss while it answers).\n",
			region, stampMs(o.UntilMs), l.cfg.SecondaryRegion, region, l.cfg.SecondaryRegion)
	} else {
		fmt.Fprintf(stdout, "\n%s's /health answers 503 (%q) and it refuses payment writes until %s; Route 53 moves traffic to %s while that is healthy.\n",
			region, control.CheckFailbackGate, stampMs(o.UntilMs), l.cfg.SecondaryRegion)
	}
	fmt.Fprintf(stdout, "Watch: %s status   (the override in each replica and the gate's verdict)\n", opsCmd)
	return exitOK
}
