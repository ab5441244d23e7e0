package gameday

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// testOptions are the defaults with shorter phases; the scaled checks, TTL
// and lag stay as in `make gameday`. Deadlines are generous: a loaded
// 2-core machine slows everything, and only a transition that never comes
// fails the run.
func testOptions(t *testing.T) Options {
	o := Defaults()
	o.Steady, o.Outage, o.CatchUp, o.Drill = 500*time.Millisecond, 1200*time.Millisecond, 1500*time.Millisecond, time.Second
	o.Deadline = 40 * time.Second
	o.Timeline = tlog{t}
	return o
}

type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func skipUnlessLocalAWS(t *testing.T) {
	t.Helper()
	if os.Getenv(localaws.SkipEnv) == "1" {
		t.Skipf("%s=1: local DynamoDB/S3 stand-ins declared unavailable", localaws.SkipEnv)
	}
	if testing.Short() {
		t.Skip("the game day takes about 20 s")
	}
}

var lineRE = regexp.MustCompile(`^gameday: failover \d+\.\ds, failback \d+\.\ds, acknowledged \d+, lost \d+, duplicated \d+$`)

// TestGameDay is `make gameday` with shorter phases: nothing acknowledged
// may be lost or duplicated, and every scenario assertion must hold (the
// primary takes no traffic while its replica lags, failover and failback
// happen, payments acknowledged by the secondary read back from the primary
// when it takes traffic again).
func TestGameDay(t *testing.T) {
	skipUnlessLocalAWS(t)
	t.Parallel()
	res, err := Run(context.Background(), testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if !lineRE.MatchString(res.Line()) {
		t.Errorf("summary line %q is not in the form make gameday promises", res.Line())
	}
	if !res.OK() {
		t.Errorf("lost %v\nduplicated %v\nviolations %v", res.Lost, res.Duplicated, res.Violations)
	}
	if res.Acknowledged < 50 {
		t.Errorf("only %d payments acknowledged: the clients hardly ran", res.Acknowledged)
	}
	for _, want := range []struct {
		got  []Switch
		what string
	}{{res.Failovers, "kill drain"}, {res.Failbacks, "return undrain"}} {
		var names []string
		for _, s := range want.got {
			names = append(names, s.Scenario)
		}
		if strings.Join(names, " ") != want.what {
			t.Errorf("switches %v, want %s", want.got, want.what)
		}
	}
}

// TestScenarios plays each scenario of issue 13 with the fix (it must pass)
// and with the old behaviour it reproduces (it must fail, saying why): the
// secondary running a gate (observer-dies), or no gate on payments at all
// (the others; the gate built from probe rounds is gone, so its absence is
// the old behaviour left to show).
func TestScenarios(t *testing.T) {
	skipUnlessLocalAWS(t)
	noGate := func(o *Options) { o.DisableFailbackGate = true }
	gateOnSecondary := func(o *Options) { o.GateOnSecondary = true }
	tests := []struct {
		scenario, variant string
		mutate            func(*Options)
		want              []string // violations the old behaviour must produce; nil: the run must pass
	}{
		{"observer-dies", "", nil, nil},
		{"observer-dies", "gate-on-secondary", gateOnSecondary, []string{
			"us-east-2 acknowledged no payment within", // no failover: both regions 503, the router answers the dead primary
			"the secondary ran a failback gate",
		}},
		{"reordered-replication", "", nil, nil},
		{"reordered-replication", "no-failback-gate", noGate, []string{
			"acknowledged a payment at",        // an acknowledgement while behind
			"router answered us-east-1",        // the DNS answer while behind
			"were not readable at us-east-1",   // read-your-writes broken
			"never answered 503 failback-gate", // the gate never showed
		}},
		{"brownout", "", nil, nil},
		{"brownout", "no-failback-gate", noGate, []string{
			"never answered 503 failback-gate after the brownout",
			"were not readable at us-east-1",
		}},
		{"partition", "", nil, nil},
		{"partition", "no-failback-gate", noGate, []string{
			"never refused a payment write",
			"did not fail closed",
		}},
	}
	for _, tc := range tests {
		name := tc.scenario
		if tc.variant != "" {
			name += "/" + tc.variant
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := testOptions(t)
			o.Scenario = tc.scenario
			if tc.mutate != nil {
				tc.mutate(&o)
				// The old behaviour is expected to fail: no need to wait
				// long for a failover that does not come.
				o.ScenarioBound = 4 * time.Second
			}
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res.Line())
			if !lineRE.MatchString(res.Line()) {
				t.Errorf("summary line %q is not in the form make gameday promises", res.Line())
			}
			if tc.want == nil {
				if !res.OK() {
					t.Errorf("lost %v\nduplicated %v\nstale %v\nviolations %v", res.Lost, res.Duplicated, res.Stale, res.Violations)
				}
				if res.Acknowledged < 20 {
					t.Errorf("only %d payments acknowledged: the clients hardly ran", res.Acknowledged)
				}
				return
			}
			if res.OK() {
				t.Fatalf("%s passed with %s: it cannot tell the fix from the old behaviour", tc.scenario, tc.variant)
			}
			// Which of them shows depends on timing (a loaded machine
			// delays the router or the clients); at least one must.
			found := false
			for _, want := range tc.want {
				found = found || containsAny(res.Violations, want)
			}
			if !found {
				t.Errorf("no violation mentions any of %q; violations: %v", tc.want, res.Violations)
			}
		})
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
