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
//	go run ./lambda/gameday -scenario observer-dies|reordered-replication|brownout|partition [-no-failback-gate] [-gate-on-secondary]
//
// Chaos mode plays a random schedule of faults from a seed and ends with
//
//	chaos: seed <n>, faults <n>, acknowledged <n>, lost <n>, duplicated <n>, stale reads <n>, stuck <n>
//
// printing the timeline and exiting 1 when any count is not zero:
//
//	go run ./lambda/gameday -chaos -seed 7 [-duration 3s] [-stuck-bound 5s]
//	go run ./lambda/gameday -chaos -seeds 200 [-parallel 3]   # seeds 1..200, one summary line
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

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
	flag.BoolVar(&o.GateOnSecondary, "gate-on-secondary", false, "the secondary's /health runs a failback gate too, as before issue 13 (shows what observer-dies catches)")
	flag.StringVar(&o.Scenario, "scenario", "", "play one named scenario of issue 13 instead: "+strings.Join(gameday.ScenarioNames(), ", "))
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of the random replication delays and of the chaos schedule")
	flag.BoolVar(&o.Chaos, "chaos", false, "play a random schedule of faults from -seed (or each of -seeds)")
	flag.DurationVar(&o.ChaosDuration, "duration", o.ChaosDuration, "chaos: the window the faults fall in")
	flag.DurationVar(&o.StuckBound, "stuck-bound", o.StuckBound, "chaos: the primary must serve again this soon after the last fault heals")
	seeds := flag.Int("seeds", 0, "chaos: play seeds 1..n (overrides -seed) and end with one summary line")
	parallel := flag.Int("parallel", 2, "chaos with -seeds: runs at a time, each with its own stand-ins")
	flag.Parse()
	if o.Scenario != "" && gameday.ScenarioDoc(o.Scenario) == "" {
		fmt.Fprintf(os.Stderr, "gameday: -scenario %q: want one of %s\n", o.Scenario, strings.Join(gameday.ScenarioNames(), ", "))
		os.Exit(2)
	}
	if o.Chaos && (o.ChaosDuration <= 0 || o.StuckBound <= 0) {
		fmt.Fprintf(os.Stderr, "gameday: -duration %v and -stuck-bound %v: want durations above 0, e.g. 3s\n", o.ChaosDuration, o.StuckBound)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, o, *seeds, *parallel))
}

// run plays what the flags ask for and returns the exit code.
func run(ctx context.Context, o gameday.Options, seeds, parallel int) int {
	defer gameday.CloseStandIns()
	if o.Chaos {
		return chaos(ctx, o, seeds, parallel)
	}
	if o.Scenario != "" {
		fmt.Println("scenario", o.Scenario+":", gameday.ScenarioDoc(o.Scenario))
	}
	o.Timeline = os.Stdout
	res, err := gameday.Run(ctx, o)
	for _, v := range res.Violations {
		fmt.Println("violation:", v)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gameday:", err)
		return 2
	}
	fmt.Println(res.Line())
	if !res.OK() {
		return 1
	}
	return 0
}

// chaos plays one seed (n == 0) or seeds 1..n and returns the exit code.
func chaos(ctx context.Context, o gameday.Options, n, parallel int) int {
	list := []uint64{o.Seed}
	if n > 0 {
		list = list[:0]
		for s := range n {
			list = append(list, uint64(s+1))
		}
	} else {
		parallel = 1
	}
	start := time.Now()
	var (
		mu        sync.Mutex
		failed    []string
		broken    int
		recovered time.Duration
	)
	gameday.ChaosSeeds(ctx, o, list, parallel, func(seed uint64, res gameday.Result, timeline string, err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("seed %d schedule:\n", seed)
		for _, f := range gameday.Schedule(seed, o.ChaosDuration) {
			fmt.Println("  " + f.String())
		}
		ok := err == nil && res.OK()
		if !ok {
			fmt.Print(timeline)
			for _, v := range res.Violations {
				fmt.Println("violation:", v)
			}
			for _, s := range res.Stuck {
				fmt.Println("stuck:", s)
			}
			failed = append(failed, fmt.Sprint(seed))
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gameday: seed %d: %v\n", seed, err)
			broken++
		}
		recovered = max(recovered, res.Recovered)
		fmt.Println(res.ChaosLine(seed))
	})
	if n > 0 {
		fmt.Printf("chaos: seeds 1-%d, passed %d, failed %d%s, slowest recovery %.2fs (bound %v), took %s\n",
			n, len(list)-len(failed), len(failed), list2(failed), recovered.Seconds(), o.StuckBound, time.Since(start).Round(time.Second))
	}
	switch {
	case broken > 0 && len(failed) == broken:
		return 2
	case len(failed) > 0:
		return 1
	}
	return 0
}

func list2(seeds []string) string {
	if len(seeds) == 0 {
		return ""
	}
	return " (seeds " + strings.Join(seeds, " ") + ")"
}
