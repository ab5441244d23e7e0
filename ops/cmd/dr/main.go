// Command dr runs the operator commands of payments-dr: the failover levers (drain,
// undrain, status, failback-check, gate), find-payment, and report, review, diagram and
// docs over the synthesized JSON. It does what `go run . COMMAND` does, without the
// synth: the root package links cdktf, jsii and the AWS provider's bindings, which a
// laptop with an empty build cache spends minutes compiling before the first drain can
// run; this one links none of them (TestLinksNoCdktf). Run it from the module root:
// `go run ./ops/cmd/dr drain us-east-1 --reason "..."`.
package main

import (
	"os"

	"github.com/payments-dr/payments-dr/ops/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
