// Command gameday runs the local game day (package lambda/testonly/gameday):
// both regions of the payment API on this machine, the primary killed,
// brought back while its replica lags, drained and undrained, with clients
// posting payments all along. It prints the timeline and ends with
//
//	gameday: failover <s>s, failback <s>s, acknowledged <n>, lost <n>, duplicated <n>
//
// (the worst failover and failback of the scenarios). It exits 1 when a
// payment was lost or duplicated or a scenario assertion failed, 2 when the
// game day could not run.
//
//	go run ./lambda/gameday [-clients 4] [-outage 3s] [-catch-up 2s] [-no-failback-gate] [-slow-round]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/payments-dr/payments-dr/lambda/testonly/gameday"
)

func main() {
	o := gameday.Defaults()
	flag.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients")
	flag.DurationVar(&o.Steady, "steady", o.Steady, "traffic before the kill")
	flag.DurationVar(&o.Outage, "outage", o.Outage, "how long the primary stays dead")
	flag.DurationVar(&o.CatchUp, "catch-up", o.CatchUp, "how long the returning primary's replica takes to work through its backlog")
	flag.DurationVar(&o.Drill, "drill", o.Drill, "how long the primary stays drained")
	flag.DurationVar(&o.Lag, "lag", o.Lag, "normal replication lag")
	flag.BoolVar(&o.ReplicationLast, "replication-last", false, "bring the primary's API back while replication to it is still stopped")
	flag.BoolVar(&o.NoDrill, "no-drill", false, "stop after the kill and the return")
	flag.BoolVar(&o.SlowRoundOnReturn, "slow-round", false, "the secondary answers the returning primary's first probe late: one down round, which must not close its gate")
	flag.BoolVar(&o.DisableFailbackGate, "no-failback-gate", false, "serve /health without the failback gate (shows what the gate prevents)")
	flag.Parse()
	o.Timeline = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := gameday.Run(ctx, o)
	for _, v := range res.Violations {
		fmt.Println("violation:", v)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gameday:", err)
		os.Exit(2)
	}
	fmt.Println(res.Line())
	if !res.OK() {
		os.Exit(1)
	}
}
