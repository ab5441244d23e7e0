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
	o.Steady, o.Outage, o.CatchUp, o.Drill = time.Second, 2*time.Second, 1500*time.Millisecond, 1500*time.Millisecond
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

// TestGameDayCatchesPrematureFailback proves the game day can fail: with
// /health served without the failback gate, the returning primary takes
// traffic while its replica is still behind, and the game day must say so.
func TestGameDayCatchesPrematureFailback(t *testing.T) {
	skipUnlessLocalAWS(t)
	o := testOptions(t)
	o.DisableFailbackGate, o.NoDrill = true, true
	// A long catch-up leaves no doubt that the router's checks (3 × 100 ms)
	// and the TTL fit inside it.
	o.CatchUp = 4 * time.Second
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if res.OK() {
		t.Fatal("the game day passed with the failback gate disabled")
	}
	for _, want := range []string{
		"acknowledged a payment at",        // an acknowledgement while behind
		"router answered us-east-1",        // the DNS answer while behind
		"were not readable at us-east-1",   // read-your-writes broken
		"never answered 503 failback-gate", // the gate never showed
	} {
		if !containsAny(res.Violations, want) {
			t.Errorf("no violation mentions %q; violations: %v", want, res.Violations)
		}
	}
}

// TestGameDayReplicationLast brings the primary's API back while replication
// to it is still stopped. Its replica then holds the pre-outage copy of
// control#peer#us-east-1 (no lastDownAt), which alone reads open; /health
// must also read the secondary's copy (PEER_REGION) and stay out until the
// outage's payments are in.
func TestGameDayReplicationLast(t *testing.T) {
	skipUnlessLocalAWS(t)
	o := testOptions(t)
	o.ReplicationLast, o.NoDrill = true, true
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Errorf("lost %v\nduplicated %v\nviolations %v", res.Lost, res.Duplicated, res.Violations)
	}
}

// TestGameDaySlowRoundOnReturn: the returning primary's probe gets one slow
// answer from the secondary, which serves all traffic (a round seen down by
// chance, as under CPU load). One down round must not close the secondary's
// failback gate: otherwise both regions answer 503, the router answers the
// primary, and it takes traffic while its replica is still behind. The long
// catch-up keeps the primary gated past the slow round.
func TestGameDaySlowRoundOnReturn(t *testing.T) {
	skipUnlessLocalAWS(t)
	o := testOptions(t)
	o.SlowRoundOnReturn, o.NoDrill = true, true
	o.CatchUp = 4 * time.Second
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if !res.OK() {
		t.Errorf("lost %v\nduplicated %v\nviolations %v", res.Lost, res.Duplicated, res.Violations)
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
