package stacks

import (
	"encoding/json"
	"github.com/payments-dr/payments-dr/stacks/synthout"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// `cdktf deploy '*'` deploys in manifest.json's order: the DR stack's backend is the state
// stack's bucket, so the DR stack must list the state stack among its dependencies.
func TestManifestDeploysStateFirst(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(defaultOut, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Stacks map[string]struct {
			Dependencies []string `json:"dependencies"`
		} `json:"stacks"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		stack string
		want  []string
	}{
		{synthout.DRStackName, []string{synthout.StateStackName}},
		{synthout.StateStackName, nil},
	}
	for _, tc := range cases {
		s, ok := manifest.Stacks[tc.stack]
		if !ok {
			t.Fatalf("manifest.json has no stack %s", tc.stack)
		}
		if !slices.Equal(s.Dependencies, tc.want) {
			t.Errorf("%s depends on %v in manifest.json, want %v", tc.stack, s.Dependencies, tc.want)
		}
	}
}

var lockedProvider = regexp.MustCompile(`(?s)provider "registry\.terraform\.io/hashicorp/([a-z0-9-]+)" \{\s*version\s*=\s*"([^"]+)"(.*?)\n\}`)

// Each stack's committed provider lock names exactly the providers and versions that stack
// requires, with checksums: a bumped binding module without a refreshed lock would make
// `terraform init` refuse the lock (or, with no lock, trust whatever the registry serves).
func TestProviderLocksMatchRequiredProviders(t *testing.T) {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		t.Run(stack, func(t *testing.T) {
			b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
			if err != nil {
				t.Fatal(err)
			}
			required := map[string]string{}
			for name, p := range parse(t, string(b)).Terraform["required_providers"].(map[string]any) {
				required[name] = block(p)["version"].(string)
			}
			lock, err := os.ReadFile(LockFile("..", stack))
			if err != nil {
				t.Fatalf("%v: write it with `make diff` (terraform init) and commit it", err)
			}
			locked := map[string]string{}
			for _, m := range lockedProvider.FindAllStringSubmatch(string(lock), -1) {
				locked[m[1]] = m[2]
				if !strings.Contains(m[3], `"h1:`) || !strings.Contains(m[3], `"zh:`) {
					t.Errorf("the lock of hashicorp/%s has no h1:/zh: checksums", m[1])
				}
			}
			for name, v := range required {
				if locked[name] != v {
					t.Errorf("%s requires hashicorp/%s %s, %s locks %q: run `terraform init -upgrade` in cdktf.out/stacks/%s and commit the lock it writes",
						stack, name, v, LockFile("..", stack), locked[name], stack)
				}
			}
			for name := range locked {
				if _, ok := required[name]; !ok {
					t.Errorf("%s locks hashicorp/%s, which %s does not require", LockFile("..", stack), name, stack)
				}
			}
		})
	}
}

// Every synth puts each stack's committed lock where terraform init reads it; a module
// without a lock yet leaves the choice to init, and an outdir missing a stack is an error.
func TestPlaceLockFiles(t *testing.T) {
	outdir := func(t *testing.T, stacks ...string) string {
		dir := t.TempDir()
		for _, s := range stacks {
			if err := os.MkdirAll(filepath.Dir(synthout.StackFile(dir, s)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name       string
		moduleRoot string
		stacks     []string
		wantErr    bool
		wantPlaced bool
	}{
		{"both stacks", "..", []string{synthout.StateStackName, synthout.DRStackName}, false, true},
		{"no lock committed yet", t.TempDir(), []string{synthout.StateStackName, synthout.DRStackName}, false, false},
		{"a stack missing from the outdir", "..", []string{synthout.StateStackName}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := outdir(t, tc.stacks...)
			err := PlaceLockFiles(tc.moduleRoot, out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("PlaceLockFiles: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			for _, s := range tc.stacks {
				got, err := os.ReadFile(filepath.Join(filepath.Dir(synthout.StackFile(out, s)), ".terraform.lock.hcl"))
				if !tc.wantPlaced {
					if err == nil {
						t.Errorf("%s: wrote a lock with none committed", s)
					}
					continue
				}
				want, _ := os.ReadFile(LockFile(tc.moduleRoot, s))
				if err != nil || string(got) != string(want) || len(want) == 0 {
					t.Errorf("%s: placed lock differs from %s (%v)", s, LockFile(tc.moduleRoot, s), err)
				}
			}
		})
	}
}

// statefulTypes hold what a destroy and re-create loses: data, the keys that decrypt it,
// the zone's name servers (delegated in the parent), the logs of past incidents, the
// clients' API key values.
var statefulTypes = map[string]bool{
	"aws_dynamodb_table": true, "aws_dynamodb_table_replica": true, "aws_s3_bucket": true,
	"aws_kms_key": true, "aws_route53_zone": true, "aws_cloudwatch_log_group": true,
	"aws_api_gateway_api_key": true,
}

// protectedTypes must refuse a destroy in the default configuration (DELETION_PROTECTION
// on, the state stack always).
var protectedTypes = map[string]bool{
	"aws_dynamodb_table": true, "aws_dynamodb_table_replica": true, "aws_s3_bucket": true,
	"aws_kms_key": true, "aws_route53_zone": true,
}

// statefulAddresses pins the Terraform address of every stateful resource of the default
// configuration, per stack. Construct ids make the addresses: renaming a construct (or
// moving it to another parent) plans a destroy of the old address and a create of the new.
var statefulAddresses = map[string][]string{
	synthout.StateStackName: {
		"aws_kms_key.state-key_753BFC90",
		"aws_s3_bucket.state-bucket_828F7150",
	},
	synthout.DRStackName: {
		"aws_api_gateway_api_key.primary_api_api-key-default_4DAB3134",
		"aws_api_gateway_api_key.secondary_api_api-key-default_E3954D5A",
		"aws_cloudwatch_log_group.primary_api_access-logs_27FBE95F",
		"aws_cloudwatch_log_group.primary_api_execution-logs_A34766F2",
		"aws_cloudwatch_log_group.primary_authorizer_log-group_A7E24C3B",
		"aws_cloudwatch_log_group.primary_conflict-watch_log-group_6542C3A8",
		"aws_cloudwatch_log_group.primary_function_log-group_4D544BC9",
		"aws_cloudwatch_log_group.primary_peer-probe_log-group_8BCB1D67",
		"aws_cloudwatch_log_group.primary_waf_log-group_9AEF4F9A",
		"aws_cloudwatch_log_group.secondary_api_access-logs_BF5E255B",
		"aws_cloudwatch_log_group.secondary_api_execution-logs_2E3CDDAF",
		"aws_cloudwatch_log_group.secondary_authorizer_log-group_DFBB0602",
		"aws_cloudwatch_log_group.secondary_conflict-watch_log-group_CA169419",
		"aws_cloudwatch_log_group.secondary_function_log-group_DC6F076C",
		"aws_cloudwatch_log_group.secondary_peer-probe_log-group_06D52EE7",
		"aws_cloudwatch_log_group.secondary_waf_log-group_828F229A",
		"aws_dynamodb_table.payments-table_7633156F",
		"aws_dynamodb_table_replica.payments-table_replica_8D311EBC",
		"aws_kms_key.primary_key_29E9045C",
		"aws_kms_key.secondary_key_9D6D65DE",
		"aws_route53_zone.zone",
		"aws_s3_bucket.primary_receipts_bucket_DE5616A0",
		"aws_s3_bucket.secondary_receipts_bucket_00DDA4AC",
	},
}

// TestStatefulAddressesArePinned fails when a refactor changes the address of a stateful
// resource, and says how to keep the resource with a moved block instead.
func TestStatefulAddressesArePinned(t *testing.T) {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		t.Run(stack, func(t *testing.T) {
			b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
			if err != nil {
				t.Fatal(err)
			}
			j := parse(t, string(b))
			var got []string
			for typ, byName := range j.Resource {
				if !statefulTypes[typ] {
					continue
				}
				for name, r := range byName {
					got = append(got, typ+"."+name)
					if protectedTypes[typ] && block(r["lifecycle"])["prevent_destroy"] != true {
						t.Errorf("%s.%s has no lifecycle prevent_destroy: a plan may destroy it", typ, name)
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(statefulAddresses[stack])
			slices.Sort(want)
			for _, gone := range difference(want, got) {
				typ, _, _ := strings.Cut(gone, ".")
				var candidates []string
				for _, n := range difference(got, want) {
					if strings.HasPrefix(n, typ+".") {
						candidates = append(candidates, n)
					}
				}
				t.Errorf("%s is no longer in %s (new of its type: %v): terraform would destroy it and create a new one, with its data, key material or name servers gone.\n"+
					"If the construct was renamed or moved on purpose, keep the resource: on the new resource call MoveFromId(jsii.String(%q)) "+
					"(cdktf writes a `moved { from = %s, to = <new address> }` block), plan, and only then update statefulAddresses in %s.",
					gone, stack, candidates, gone, gone, "stacks/deploy_test.go")
			}
			for _, added := range difference(got, want) {
				t.Errorf("%s is a new stateful address in %s: add it to statefulAddresses (stacks/deploy_test.go) so that a later rename is caught", added, stack)
			}
			if t.Failed() {
				t.Logf("addresses now: %q", got)
			}
		})
	}
}

// difference is a minus b, both sorted.
func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}
