package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// forbidden are the module paths of cdktf and what it drags in: the jsii runtime (which
// embeds and starts Node), constructs and the generated provider bindings (about 125
// packages for the AWS provider alone).
var forbidden = []string{
	"github.com/hashicorp/terraform-cdk-go/",
	"github.com/aws/jsii-runtime-go",
	"github.com/aws/constructs-go/",
	"github.com/cdktf/", // cdktf-provider-aws-go and any other cdktf-provider-*
}

// linked lists the packages of deps that come from a forbidden module.
func linked(deps []string) []string {
	var bad []string
	for _, d := range deps {
		if slices.ContainsFunc(forbidden, func(f string) bool { return strings.HasPrefix(d, f) }) {
			bad = append(bad, d)
		}
	}
	return bad
}

// The levers are what an on-call engineer runs during an outage, maybe on a laptop that
// never built this repository: whatever they link is compiled before the first drain
// runs. The root package is in the table too, as the case the check must catch: it
// synthesizes, so it links cdktf, and a check that found nothing there would be broken.
func TestLinksNoCdktf(t *testing.T) {
	const module = "github.com/payments-dr/payments-dr"
	tests := []struct {
		pkg        string
		wantCdktf  bool
		whyMatters string
	}{
		{module + "/ops/cmd/dr", false, "the levers' command"},
		{module + "/ops/cli", false, "the commands themselves, also dispatched by the root package"},
		{module + "/stacks/synthout", false, "the stack names the levers and the stacks share"},
		{module, true, "the synth, which must link cdktf"},
	}
	for _, tc := range tests {
		t.Run(tc.pkg, func(t *testing.T) {
			// -deps lists every package the build of pkg compiles, the standard library
			// included; test-only imports are not in it, as they are not in the binary.
			out, err := exec.Command("go", "list", "-deps", tc.pkg).Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("go list -deps %s: %v\n%s", tc.pkg, err, stderr)
			}
			deps := strings.Fields(string(out))
			if !slices.Contains(deps, tc.pkg) {
				t.Fatalf("go list -deps %s does not list the package itself: %q", tc.pkg, out)
			}
			bad := linked(deps)
			switch {
			case tc.wantCdktf && len(bad) == 0:
				t.Errorf("%s (%s) links nothing from %v: the check no longer recognises cdktf's packages", tc.pkg, tc.whyMatters, forbidden)
			case !tc.wantCdktf && len(bad) > 0:
				t.Errorf("%s (%s) links %d package(s) of cdktf, jsii or the provider bindings, e.g. %s; "+
					"import the names it needs from a package that does not (as stacks/synthout does for the stack names); `go list -deps %s` shows the path",
					tc.pkg, tc.whyMatters, len(bad), strings.Join(bad[:min(3, len(bad))], ", "), tc.pkg)
			}
		})
	}
}
