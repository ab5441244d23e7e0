package cli

// The levers against two local DynamoDB servers standing for the two regions'
// replicas. Nothing replicates between them, so every test sees exactly which
// replica a command wrote and read.

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

const east1, east2 = "us-east-1", "us-east-2" // the default PRIMARY_REGION, SECONDARY_REGION

// isolateAWS makes the commands use the local servers' static credentials and
// nothing from the machine: no profile, no shared files, no instance metadata.
func isolateAWS(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           localaws.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       localaws.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_DYNAMODB":   "",
		"PRIMARY_REGION":              east1,
		"SECONDARY_REGION":            east2,
		"ENVIRONMENT_SUFFIX":          "dev",
	} {
		t.Setenv(k, v)
	}
}

// hangingEndpoint accepts connections and never answers, as a region that is
// going away often does.
func hangingEndpoint(t *testing.T) string { return localaws.Hanging(t) }

// refusedEndpoint is a loopback port nobody listens on.
func refusedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// drainSummary is a drain item in a comparable form: "drained reason by".
func drainSummary(d control.Drain) string {
	return strings.Join(strings.Fields(fmt.Sprintf("%v %s %s", d.Drained, d.Reason, d.By)), " ")
}

func TestLevers(t *testing.T) {
	isolateAWS(t)
	servers := map[string]*localaws.Servers{east1: localaws.Dedicated(t), east2: localaws.Dedicated(t)}
	for _, s := range servers {
		s.S3.Stop() // only DynamoDB stands in here
	}
	hang, refused := hangingEndpoint(t), refusedEndpoint(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	drill := control.Drain{Region: east1, Drained: true, Reason: "drill", By: "alice"}

	// A seed writes items into the replicas; r(replica) is that replica.
	type replicaOf func(string) control.Table
	observe := func(t *testing.T, tbl control.Table, region string, s control.State, when time.Time) {
		t.Helper()
		if err := tbl.RecordObservation(ctx, region, otherOf(region), s, when); err != nil {
			t.Fatal(err)
		}
	}
	// observeDown writes an outage as the probe counts one: two down rounds
	// in a row, the second at when.
	observeDown := func(t *testing.T, tbl control.Table, region string, when time.Time) {
		t.Helper()
		observe(t, tbl, region, control.StateDown, when.Add(-10*time.Second))
		observe(t, tbl, region, control.StateDown, when)
	}
	// accept writes a payment the secondary created (in its replica, with its
	// accept-index entry) and returns it for replicate.
	accept := func(t *testing.T, tbl control.Table, key string, when time.Time) string {
		t.Helper()
		in, seq := control.AcceptEntry(east2, key, when)
		putItem(t, tbl, map[string]string{control.KeyAttribute: key, control.AcceptInAttribute: in, control.AcceptSeqAttribute: seq})
		return key
	}
	replicate := func(t *testing.T, from, to control.Table, key string) {
		t.Helper()
		putItem(t, to, map[string]string{control.KeyAttribute: key})
	}
	override := func(t *testing.T, tbl control.Table, state string, when time.Time, d time.Duration) {
		t.Helper()
		if err := tbl.SetOverride(ctx, control.Override{Region: east1, State: state, Reason: "drill", By: "oncall"}, when, d); err != nil {
			t.Fatal(err)
		}
	}
	setDrain := func(t *testing.T, tbl control.Table, d control.Drain, when time.Time) {
		t.Helper()
		if err := tbl.SetDrain(ctx, d, when); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		env  map[string]string // more environment
		seed func(*testing.T, replicaOf)
		down map[string]string // region → endpoint standing for its unreachable replica
		args []string
		code int
		out  []string // substrings of stdout+stderr, whitespace collapsed
		// after: "replica/region" → drainSummary of every drain item the replicas
		// hold afterwards; a combination not listed must hold none.
		after map[string]string
		// overrides: replica → "state by" of the primary's gate override there
		// afterwards; a replica not listed must hold none written by the command.
		overrides map[string]string
	}{
		{
			name:  "drain writes through the other region",
			args:  []string{"drain", east1, "--reason", "drill", "--by", "alice"},
			out:   []string{"drain us-east-1: wrote control#drain#us-east-1 = drained, reason \"drill\", by alice, at ", "through us-east-2's DynamoDB endpoint", "before: not drained (never set) (as read in us-east-2's replica)", "move traffic to us-east-2 after 3 failed checks 10 s apart", "Watch:", opsCmd + " status"},
			after: map[string]string{"us-east-2/us-east-1": "true drill alice"},
		},
		{
			name:  "flags before the region",
			args:  []string{"drain", "--by", "alice", "--reason", "drill", east2},
			out:   []string{"drain us-east-2: wrote control#drain#us-east-2", "through us-east-1's DynamoDB endpoint"},
			after: map[string]string{"us-east-1/us-east-2": "true drill alice"},
		},
		{
			name:  "drain --via the drained region",
			args:  []string{"drain", east1, "--via", east1, "--reason", "drill", "--by", "alice"},
			out:   []string{"through us-east-1's DynamoDB endpoint", "the flag is in us-east-1's replica now, and replicates to us-east-2's"},
			after: map[string]string{"us-east-1/us-east-1": "true drill alice"},
		},
		{
			name: "drain warns when the other region is drained too",
			seed: func(t *testing.T, r replicaOf) { setDrain(t, r(east1), drill, at(0)) },
			args: []string{"drain", east2, "--reason", "drill", "--by", "bob"},
			out:  []string{"warning: us-east-1 is drained too", "Route 53 answers with the primary (us-east-1) anyway"},
			after: map[string]string{
				"us-east-1/us-east-1": "true drill alice",
				"us-east-1/us-east-2": "true drill bob",
			},
		},
		{
			name:  "undrain",
			seed:  func(t *testing.T, r replicaOf) { setDrain(t, r(east2), drill, at(0)) },
			args:  []string{"undrain", east1, "--by", "bob"},
			out:   []string{"undrain us-east-1: wrote control#drain#us-east-1 = not drained, by bob, at ", "before: drained, reason \"drill\", by alice", "us-east-1 does not take traffic back yet", "until its failback gate opens", opsCmd + " failback-check --region us-east-1"},
			after: map[string]string{"us-east-2/us-east-1": "false bob"},
		},
		{
			name: "drain of a region not in the configuration",
			args: []string{"drain", "us-west-2", "--by", "alice"},
			code: exitProblem,
			out:  []string{`"us-west-2" is not a region of this deployment; accepted: us-east-1 (PRIMARY_REGION) or us-east-2 (SECONDARY_REGION)`},
		},
		{
			name: "undrain --via a region not in the configuration",
			args: []string{"undrain", east1, "--via", "eu-west-1"},
			code: exitProblem,
			out:  []string{"--via: \"eu-west-1\" is not a region of this deployment"},
		},
		{
			name: "drain without a region",
			args: []string{"drain", "--by", "alice"},
			code: exitProblem,
			out:  []string{"drain: missing <region>"},
		},
		{
			name: "drain with a stray argument",
			args: []string{"drain", east1, "now"},
			code: exitProblem,
			out:  []string{`drain: unexpected argument "now"`},
		},
		{
			name: "drain without credentials",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			args: []string{"drain", east1, "--by", "alice"},
			code: exitProblem,
			out:  []string{"drain: no AWS credentials:", "assume the DR operations role first"},
		},
		{
			name: "drain with a configuration that does not validate",
			env:  map[string]string{"SECONDARY_REGION": east1},
			args: []string{"drain", east1, "--by", "alice"},
			code: exitProblem,
			out:  []string{"SECONDARY_REGION=\"us-east-1\": must differ from PRIMARY_REGION"},
		},
		{
			name: "drain when the other region does not answer",
			down: map[string]string{east2: refused},
			args: []string{"drain", east1, "--by", "alice"},
			code: exitFailed,
			out:  []string{"drain us-east-1: nothing written: us-east-2: DynamoDB did not answer at " + refused, "use --via us-east-1"},
		},
		{
			name: "status of both regions from both replicas",
			seed: func(t *testing.T, r replicaOf) {
				setDrain(t, r(east2), drill, at(0))
				observe(t, r(east2), east1, control.StateDrained, at(10))
			},
			args: []string{"status"},
			out: []string{
				"replica us-east-1: answered in", "replica us-east-2: answered in",
				"REGION READ IN DRAIN PEER STATE OBSERVER HEARTBEAT LAST DOWN",
				"us-east-1 (primary) us-east-1 no (none) - - -",
				"us-east-1 (primary) us-east-2 YES \"drill\" by alice at " + stampMs(at(0).UnixMilli()) + " drained us-east-2 " + stampMs(at(10).UnixMilli()) + " " + stampMs(at(10).UnixMilli()),
				"us-east-2 (secondary) us-east-2 no (none) - - -",
				"gate override of us-east-1 in us-east-1's replica: none", "gate override of us-east-1 in us-east-2's replica: none",
				// The gate reads payments, not probe rounds: nothing accepted in the secondary.
				"failback gate of us-east-1 (the primary; the secondary has none), as its /health evaluates it: open: every payment us-east-2 accepted after the watermark is here (0 checked)",
			},
			after: map[string]string{"us-east-2/us-east-1": "true drill alice"},
		},
		{
			name: "status: payments the secondary accepted are missing in the primary",
			seed: func(t *testing.T, r replicaOf) {
				accept(t, r(east2), "owner.p-1", at(0))
				replicate(t, r(east2), r(east1), accept(t, r(east2), "owner.p-2", at(1)))
				accept(t, r(east2), "owner.p-3", at(2))
			},
			args: []string{"status"},
			out:  []string{"failback gate of us-east-1 (the primary; the secondary has none), as its /health evaluates it: behind: 2 payment(s) us-east-2 accepted are not in this replica yet (oldest accepted " + at(0).UTC().Format(time.RFC3339Nano) + ": owner.p-1); 3 checked"},
		},
		{
			name: "status shows an override in force",
			seed: func(t *testing.T, r replicaOf) { override(t, r(east2), control.OverrideClosed, time.Now(), time.Hour) },
			args: []string{"status"},
			out: []string{
				"gate override of us-east-1 in us-east-1's replica: none",
				"gate override of us-east-1 in us-east-2's replica: IN FORCE: closed by oncall until",
				"failback gate of us-east-1 (the primary; the secondary has none), as its /health evaluates it: override-closed: operator override: closed by oncall",
			},
		},
		{
			name: "status: one down round does not count",
			seed: func(t *testing.T, r replicaOf) {
				observe(t, r(east2), east1, control.StateUp, at(0))
				observe(t, r(east2), east1, control.StateDown, at(10))
			},
			args: []string{"status", "--via", east2},
			out: []string{
				"us-east-1 (primary) us-east-2 no down (1 round, not counted) us-east-2 " + stampMs(at(10).UnixMilli()) + " -",
			},
		},
		{
			name: "status when a replica hangs",
			seed: func(t *testing.T, r replicaOf) { setDrain(t, r(east2), drill, at(0)) },
			down: map[string]string{east1: hang},
			args: []string{"status"},
			out: []string{
				"replica us-east-1: NO ANSWER: us-east-1: DynamoDB did not answer at " + hang + " within 2 attempts of 3s: every attempt timed out; if us-east-1 is impaired, use --via us-east-2",
				"replica us-east-2: answered in",
				"us-east-1 (primary) us-east-1 (no answer)",
				"us-east-1 (primary) us-east-2 YES \"drill\" by alice",
				"failback gate of us-east-1 (the primary; the secondary has none), as its /health evaluates it: unknown: cannot read this replica's gate items",
			},
			after: map[string]string{"us-east-2/us-east-1": "true drill alice"},
		},
		{
			name: "status --via a replica that does not answer",
			down: map[string]string{east1: refused},
			args: []string{"status", "--via", east1},
			code: exitFailed,
			out:  []string{"replica us-east-1: NO ANSWER", "connection refused; if us-east-1 is impaired, use --via us-east-2", "status: no replica answered"},
		},
		{
			name: "status --via one replica",
			seed: func(t *testing.T, r replicaOf) { setDrain(t, r(east2), control.Drain{Region: east2, By: "bob"}, at(0)) },
			args: []string{"status", "--via", east2},
			out: []string{
				"replica us-east-2: answered in",
				"us-east-2 (secondary) us-east-2 no (by bob at " + stampMs(at(0).UnixMilli()) + ")",
				"failback gate of us-east-1 (the primary; the secondary has none), as its /health evaluates it: open",
			},
			after: map[string]string{"us-east-2/us-east-2": "false bob"},
		},
		{
			name: "status with a bad endpoint",
			args: []string{"status", "--endpoint", "us-east-1"},
			code: exitProblem,
			out:  []string{"want REGION=URL"},
		},
		{
			name: "status with an endpoint for a foreign region",
			args: []string{"status", "--endpoint", "eu-west-1=http://127.0.0.1:1"},
			code: exitProblem,
			out:  []string{"--endpoint eu-west-1=…: \"eu-west-1\" is not a region of this deployment"},
		},
		{
			name: "failback-check with nothing accepted in the secondary",
			seed: func(t *testing.T, r replicaOf) { observeDown(t, r(east2), east1, at(0)) }, // probe rounds do not decide
			args: []string{"failback-check"},
			out:  []string{"failback-check us-east-1 (primary), observed by us-east-2", "safe: us-east-1 may take traffic back: us-east-1's failback gate is open (open): every payment us-east-2 accepted after the watermark is here (0 checked)"},
		},
		{
			name: "failback-check: every payment the secondary accepted is here",
			seed: func(t *testing.T, r replicaOf) {
				replicate(t, r(east2), r(east1), accept(t, r(east2), "owner.p-1", at(0)))
				replicate(t, r(east2), r(east1), accept(t, r(east2), "owner.p-2", at(1)))
			},
			args: []string{"failback-check"},
			out:  []string{"safe: us-east-1 may take traffic back: us-east-1's failback gate is open (open): every payment us-east-2 accepted after the watermark is here (2 checked)"},
		},
		{
			name: "failback-check: a payment the secondary accepted has not replicated",
			seed: func(t *testing.T, r replicaOf) {
				// The probe's heartbeats are current in the primary: no matter.
				for _, rep := range []string{east1, east2} {
					observe(t, r(rep), east1, control.StateRecovering, at(30))
				}
				replicate(t, r(east2), r(east1), accept(t, r(east2), "owner.p-2", at(20)))
				accept(t, r(east2), "owner.p-1", at(10))
			},
			args: []string{"failback-check"},
			code: exitFailed,
			out:  []string{"not safe: us-east-1's failback gate is closed (behind): 1 payment(s) us-east-2 accepted are not in this replica yet (oldest accepted " + at(10).UTC().Format(time.RFC3339Nano) + ": owner.p-1); 2 checked"},
		},
		{
			name: "failback-check: an operator opened the gate",
			seed: func(t *testing.T, r replicaOf) {
				accept(t, r(east2), "owner.p-1", at(10))
				override(t, r(east1), control.OverrideOpen, time.Now(), time.Hour)
			},
			args: []string{"failback-check"},
			out:  []string{"safe: us-east-1 may take traffic back: us-east-1's failback gate is open (override-open): operator override: open by oncall"},
		},
		{
			name: "failback-check: still drained",
			seed: func(t *testing.T, r replicaOf) {
				setDrain(t, r(east1), drill, at(0))
				setDrain(t, r(east2), drill, at(0))
			},
			args:  []string{"failback-check"},
			code:  exitFailed,
			out:   []string{"not safe: us-east-1 is still drained (drained, reason \"drill\", by alice", opsCmd + " undrain us-east-1"},
			after: map[string]string{"us-east-1/us-east-1": "true drill alice", "us-east-2/us-east-1": "true drill alice"},
		},
		{
			name: "failback-check: the undrain has not replicated",
			seed: func(t *testing.T, r replicaOf) {
				setDrain(t, r(east1), drill, at(0))
				setDrain(t, r(east2), control.Drain{Region: east1, By: "bob"}, at(60))
			},
			args:  []string{"failback-check"},
			code:  exitFailed,
			out:   []string{"not safe: us-east-1 is still drained in its own replica: the undrain written through us-east-2 (not drained, by bob"},
			after: map[string]string{"us-east-1/us-east-1": "true drill alice", "us-east-2/us-east-1": "false bob"},
		},
		{
			name:  "failback-check: a drain written through the observer has not replicated",
			seed:  func(t *testing.T, r replicaOf) { setDrain(t, r(east2), drill, at(0)) },
			args:  []string{"failback-check"},
			code:  exitFailed,
			out:   []string{"not safe: us-east-1 was drained through us-east-2 (drained, reason \"drill\"", "has not replicated to us-east-1 yet"},
			after: map[string]string{"us-east-2/us-east-1": "true drill alice"},
		},
		{
			name: "failback-check: the primary's replica does not answer",
			down: map[string]string{east1: hang},
			args: []string{"failback-check"},
			code: exitFailed,
			out:  []string{"us-east-1's replica (what its /health reads): NO ANSWER", "within 2 attempts of 3s", "every attempt timed out", "not safe: us-east-1's replica did not answer (above), so its /health cannot pass either"},
		},
		{
			name: "failback-check: the secondary's replica does not answer",
			down: map[string]string{east2: refused},
			args: []string{"failback-check"},
			code: exitFailed,
			out:  []string{"us-east-2's replica (what us-east-2's probe wrote): NO ANSWER", "not safe: us-east-1's failback gate is closed (unknown): cannot read us-east-2's accept index", "failing closed"},
		},
		{
			name: "failback-check of the secondary",
			seed: func(t *testing.T, r replicaOf) { observeDown(t, r(east1), east2, at(0)) },
			args: []string{"failback-check", "--region", east2},
			out:  []string{"failback-check us-east-2 (secondary), observed by us-east-1", "safe: us-east-2 may take traffic back: us-east-2 is the secondary: it has no failback gate"},
		},
		{
			name:      "gate open writes both replicas",
			args:      []string{"gate", "open", east1, "--reason", "us-east-2 lost with payments unreplicated", "--for", "30m", "--by", "alice"},
			out:       []string{"gate open us-east-1: wrote control#override#us-east-1 through us-east-1's endpoint", "gate open us-east-1: wrote control#override#us-east-1 through us-east-2's endpoint", "open by alice until", "takes payment writes again"},
			overrides: map[string]string{east1: "open alice", east2: "open alice"},
		},
		{
			name:      "gate close with the secondary gone",
			down:      map[string]string{east2: refused},
			args:      []string{"gate", "close", east1, "--reason", "hold failback", "--for", "1h", "--by", "bob"},
			out:       []string{"gate: not written through us-east-2", "gate closed us-east-1: wrote control#override#us-east-1 through us-east-1's endpoint", "refuses payment writes until"},
			overrides: map[string]string{east1: "closed bob"},
		},
		{
			name:      "gate --via one region",
			args:      []string{"gate", "closed", east1, "--via", east2, "--reason", "x", "--for", "5m", "--by", "bob"},
			out:       []string{"through us-east-2's endpoint"},
			overrides: map[string]string{east2: "closed bob"},
		},
		{
			name: "gate of the secondary",
			args: []string{"gate", "open", east2, "--reason", "x", "--for", "5m"},
			code: exitProblem,
			out:  []string{"gate: us-east-2 is the secondary: it has no failback gate"},
		},
		{
			name: "gate without reason, too long",
			args: []string{"gate", "open", east1, "--for", "48h"},
			code: exitProblem,
			out:  []string{"duration 48h0m0s: want more than 0 and at most 24h0m0s", "a reason is required", "(--reason TEXT, --for DURATION)"},
		},
		{
			name: "gate with a bad verb",
			args: []string{"gate", "ajar", east1},
			code: exitProblem,
			out:  []string{"gate: want `gate open <region>` or `gate close <region>`"},
		},
		{
			name: "failback-check of a foreign region",
			args: []string{"failback-check", "--region", "eu-west-1"},
			code: exitProblem,
			out:  []string{"--region: \"eu-west-1\" is not a region of this deployment"},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := "payments-lever-" + strconv.Itoa(i)
			replicas := map[string]control.Table{}
			args := append(append([]string{}, tc.args...), "--table", table)
			for _, region := range []string{east1, east2} {
				s := servers[region]
				if err := s.CreateTable(ctx, table); err != nil {
					t.Fatal(err)
				}
				replicas[region] = control.Table{DB: s.DynamoDBClient(), Name: table}
				endpoint := s.DynamoDB.URL
				if u, ok := tc.down[region]; ok {
					endpoint = u
				}
				args = append(args, "--endpoint", region+"="+endpoint)
			}
			if tc.seed != nil {
				tc.seed(t, func(r string) control.Table { return replicas[r] })
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}

			runLever(t, args, leverRun{code: tc.code, out: tc.out})

			for _, rep := range []string{east1, east2} {
				o, err := replicas[rep].Override(ctx, east1)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := strings.TrimSpace(o.State+" "+o.By), tc.overrides[rep]; tc.seed == nil && got != want {
					t.Errorf("%s's replica: gate override = %q, want %q", rep, got, want)
				}
				for _, region := range []string{east1, east2} {
					d, err := replicas[rep].Drain(ctx, region)
					if err != nil {
						t.Fatal(err)
					}
					got := ""
					if d.AtMs != 0 {
						got = drainSummary(d)
					}
					if want := tc.after[rep+"/"+region]; got != want {
						t.Errorf("%s's replica: drain item of %s = %q, want %q", rep, region, got, want)
					}
				}
			}
		})
	}
}

// leverRun is what a lever command must do: exit with code, print each of out and
// none of notIn (whitespace collapsed, stdout and stderr together), within bound
// (0: the whole command's budget).
type leverRun struct {
	code       int
	out, notIn []string
	bound      time.Duration
}

func runLever(t *testing.T, args []string, want leverRun) {
	t.Helper()
	start := time.Now()
	code, out, errOut := runCmd(t, args...)
	took := time.Since(start)
	text := strings.Join(strings.Fields(out+errOut), " ")
	if code != want.code {
		t.Errorf("exit %d, want %d", code, want.code)
	}
	for _, s := range want.out {
		if !strings.Contains(text, strings.Join(strings.Fields(s), " ")) {
			t.Errorf("output lacks %q", s)
		}
	}
	for _, s := range want.notIn {
		if strings.Contains(text, s) {
			t.Errorf("output has %q", s)
		}
	}
	bound := want.bound
	if bound == 0 {
		bound = leverBudget
	}
	if took >= bound {
		t.Errorf("took %s, over the bound of %s", took, bound)
	}
	if t.Failed() {
		t.Logf("%v (took %s):\n%s%s", args, took, out, errOut)
	}
}

func otherOf(region string) string {
	if region == east1 {
		return east2
	}
	return east1
}

func putItem(t *testing.T, tbl control.Table, attrs map[string]string) {
	t.Helper()
	item := map[string]types.AttributeValue{}
	for k, v := range attrs {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	if _, err := tbl.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &tbl.Name, Item: item}); err != nil {
		t.Fatal(err)
	}
}
