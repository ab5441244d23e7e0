package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/payments-dr/payments-dr/ops/review"
)

// cmdReview is `review`: an offline plan of head against base (ops/review).
// Exit 0 normally; 1 with --strict when something is at risk or recovery regressed; 2 on
// bad input.
func cmdReview(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("review", stderr)
	base := fs.String("base", "generated", "the reviewed side: a folder of <stack>.json files or a cdktf outdir")
	head := fs.String("head", "cdktf.out", "the proposed side: a cdktf outdir or a folder of <stack>.json files")
	baseRef := fs.String("base-ref", "", "read the base from generated/ at this git ref instead (e.g. origin/main)")
	format := fs.String("format", "text", "text, markdown or json")
	strict := fs.Bool("strict", false, "exit 1 when anything is at risk or recovery regressed")
	if err := parse(fs, args); err != nil {
		return exitProblem
	}
	f, err := review.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "review:", err)
		return exitProblem
	}
	baseSet := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "base" {
			baseSet = true
		}
	})
	if baseSet && *baseRef != "" {
		fmt.Fprintln(stderr, "review: --base and --base-ref both name the base; give one")
		return exitProblem
	}
	var b *review.Side
	if *baseRef != "" {
		wd, werr := os.Getwd()
		if werr != nil {
			fmt.Fprintln(stderr, "review:", werr)
			return exitProblem
		}
		b, err = review.LoadGitRef(wd, *baseRef, "generated")
	} else {
		b, err = review.LoadDir(*base)
	}
	if err == nil {
		var h *review.Side
		if h, err = review.LoadDir(*head); err == nil {
			plan := review.Review(b, h)
			if err := plan.Write(stdout, f, f == review.Text && isTerminal(stdout)); err != nil {
				fmt.Fprintln(stderr, "review:", err)
				return exitProblem
			}
			return strictResult(plan, *strict, stderr)
		}
	}
	var ie *review.InputError
	if errors.As(err, &ie) {
		fmt.Fprintln(stderr, "review:", err)
	} else {
		fmt.Fprintln(stderr, "review: unexpected:", err)
	}
	return exitProblem
}

func strictResult(plan *review.Plan, strict bool, stderr io.Writer) int {
	if !strict {
		return exitOK
	}
	failed := false
	if plan.AtRisk() {
		fmt.Fprintln(stderr, "review --strict: data at risk (see DATA AT RISK)")
		failed = true
	}
	for _, r := range plan.Regressions() {
		fmt.Fprintln(stderr, "review --strict: recovery regressed:", r)
		failed = true
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

// isTerminal reports whether w is a terminal that wants colour (NO_COLOR unset).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
