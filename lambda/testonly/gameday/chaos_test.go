package gameday

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// TestSchedule: a seed names one schedule (printed, so a failing seed can be
// played again), every fault heals inside the window, and over 200 seeds
// every kind of fault is drawn.
func TestSchedule(t *testing.T) {
	const d = 3 * time.Second
	kinds := map[string]int{}
	for seed := uint64(1); seed <= 200; seed++ {
		a, b := Schedule(seed, d), Schedule(seed, d)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two schedules differ:\n%v\n%v", seed, a, b)
		}
		if len(a) < 2 || len(a) > 5 {
			t.Errorf("seed %d: %d faults, want 2 to 5", seed, len(a))
		}
		for _, f := range a {
			kinds[f.Kind]++
			if f.Start < 0 || f.Len <= 0 || f.Start+f.Len > d {
				t.Errorf("seed %d: %s is not inside the %v window", seed, f, d)
			}
		}
	}
	for _, k := range faultKinds {
		if kinds[k] == 0 {
			t.Errorf("no seed of 200 draws a %s fault", k)
		}
	}
	if reflect.DeepEqual(Schedule(1, d), Schedule(2, d)) {
		t.Error("seeds 1 and 2 draw the same schedule")
	}
}

// chaosTestSeeds: 8 kills the primary, browns it out and partitions both
// ways; 20 kills and drains the primary, lags and partitions replication
// (with a miss answered 404 when the other replica cannot be read, as
// before, it counts stale reads).
var chaosTestSeeds = []uint64{8, 20}

var chaosLineRE = regexp.MustCompile(`^chaos: seed \d+, faults \d+, acknowledged \d+, lost \d+, duplicated \d+, stale reads \d+, stuck \d+$`)

// TestChaos plays a few fixed seeds (`make chaos` plays many more): nothing
// acknowledged lost or duplicated, no acknowledged payment read back as 404
// through the router, and the primary serving again within the stuck bound
// after the last fault heals. The seeds are chosen to cover a region killed
// whole, partitions, a drain, a brownout and a skewed clock between them.
func TestChaos(t *testing.T) {
	skipUnlessLocalAWS(t)
	for _, seed := range chaosTestSeeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			o := testOptions(t)
			o.Chaos, o.Seed, o.ChaosDuration = true, seed, 2*time.Second
			for _, f := range Schedule(seed, o.ChaosDuration) {
				t.Logf("seed %d: %s", seed, f)
			}
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			line := res.ChaosLine(seed)
			t.Log(line)
			if !chaosLineRE.MatchString(line) {
				t.Errorf("summary line %q is not in the form chaos mode promises", line)
			}
			if !res.OK() {
				t.Errorf("lost %v\nduplicated %v\nstale %v\nstuck %v\nviolations %v", res.Lost, res.Duplicated, res.Stale, res.Stuck, res.Violations)
			}
		})
	}
}
