// Command synthbench measures what payments-dr's synth costs against the floor: a cdktf
// app with the same modules and one resource (ops/synthbench/floor). It builds both
// binaries once, so no run pays for compiling them, runs them in alternation and prints
// every run, the medians and the ratio app/floor.
//
// What it measures, per run, of the child process and everything the child waited for
// (the jsii Node process, the go commands that build the functions):
//   - cpu: user + system time, from the child's rusage (os.ProcessState);
//   - wall: from start to exit;
//   - rss: peak resident set size (rusage Maxrss), the largest single process of the tree,
//     not the sum.
//
// The runs alternate and the order flips every pair (app, floor, floor, app, ...), so a
// neighbour's load drifting during the benchmark falls on both sides alike; the medians
// shrug off the odd run that a neighbour slowed down.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("n", 7, "measured runs of each binary (after one warm-up run each)")
	root := flag.String("root", ".", "payments-dr's module root: where the app is built and runs")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintf(os.Stderr, "-n must be a whole number of runs, 1 or more (got %d)\n", *runs)
		os.Exit(2)
	}
	if err := bench(os.Stdout, *root, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "synthbench:", err)
		os.Exit(1)
	}
}

// sample is one run of one binary.
type sample struct {
	cpu, wall time.Duration
	rssMiB    float64
}

func bench(w io.Writer, root string, runs int) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "synthbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	app, floor := filepath.Join(tmp, "app"), filepath.Join(tmp, "floor")
	for _, b := range []struct{ out, pkg string }{{app, "."}, {floor, "./ops/synthbench/floor"}} {
		build := exec.Command("go", "build", "-o", b.out, b.pkg)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	// The app builds its functions from the module's source, so it runs at the root; the
	// floor needs no directory of its own.
	binaries := []struct {
		name, path, dir string
	}{{"app", app, root}, {"floor", floor, tmp}}

	fmt.Fprintf(w, "synthbench: %d runs each after 1 warm-up, alternating; %d CPUs (%s/%s), GOMAXPROCS %d\n",
		runs, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "%-6s %-5s %8s %8s %8s %9s\n", "run", "bin", "cpu s", "wall s", "user s", "rss MiB")
	results := map[string][]sample{}
	for i := -1; i < runs; i++ {
		order := []int{0, 1}
		if i%2 != 0 {
			order = []int{1, 0}
		}
		for _, k := range order {
			b := binaries[k]
			s, user, err := runOnce(b.path, b.dir, filepath.Join(tmp, "out-"+b.name))
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			label := fmt.Sprint(i + 1)
			if i < 0 {
				label = "warm"
			} else {
				results[b.name] = append(results[b.name], s)
			}
			fmt.Fprintf(w, "%-6s %-5s %8.2f %8.2f %8.2f %9.0f\n", label, b.name, s.cpu.Seconds(), s.wall.Seconds(), user.Seconds(), s.rssMiB)
		}
	}

	a, f := medians(results["app"]), medians(results["floor"])
	fmt.Fprintf(w, "\n%-12s %8s %8s %9s\n", "median", "cpu s", "wall s", "rss MiB")
	fmt.Fprintf(w, "%-12s %8.2f %8.2f %9.0f\n", "app", a.cpu.Seconds(), a.wall.Seconds(), a.rssMiB)
	fmt.Fprintf(w, "%-12s %8.2f %8.2f %9.0f\n", "floor", f.cpu.Seconds(), f.wall.Seconds(), f.rssMiB)
	fmt.Fprintf(w, "%-12s %8.2f %8.2f %9.2f\n", "app/floor", a.cpu.Seconds()/f.cpu.Seconds(), a.wall.Seconds()/f.wall.Seconds(), a.rssMiB/f.rssMiB)
	fmt.Fprintf(w, "cpu spread (max-min)/median: app %.0f%%, floor %.0f%%\n", spread(results["app"])*100, spread(results["floor"])*100)
	return nil
}

// runOnce runs bin in dir with a fresh output directory, which it removes afterwards.
func runOnce(bin, dir, outdir string) (sample, time.Duration, error) {
	defer os.RemoveAll(outdir)
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CDKTF_OUTDIR="+outdir, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, 0, fmt.Errorf("%v\n%s", err, stderr.Bytes())
	}
	st := cmd.ProcessState
	s := sample{cpu: st.UserTime() + st.SystemTime(), wall: wall}
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		s.rssMiB = maxrssMiB(ru.Maxrss)
	}
	return s, st.UserTime(), nil
}

// maxrssMiB converts rusage's Maxrss, which Linux counts in KiB and macOS in bytes.
func maxrssMiB(v int64) float64 {
	if runtime.GOOS == "darwin" {
		return float64(v) / (1 << 20)
	}
	return float64(v) / (1 << 10)
}

func medians(s []sample) sample {
	return sample{
		cpu:    time.Duration(medianOf(s, func(x sample) float64 { return float64(x.cpu) })),
		wall:   time.Duration(medianOf(s, func(x sample) float64 { return float64(x.wall) })),
		rssMiB: medianOf(s, func(x sample) float64 { return x.rssMiB }),
	}
}

// medianOf is the middle value of field over s (the mean of the two middle ones for an
// even count).
func medianOf(s []sample, field func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = field(x)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// spread is the CPU range over the median: how much a neighbour's load moved the runs.
func spread(s []sample) float64 {
	cpu := func(x sample) float64 { return float64(x.cpu) }
	lo := slices.MinFunc(s, func(a, b sample) int { return int(a.cpu - b.cpu) })
	hi := slices.MaxFunc(s, func(a, b sample) int { return int(a.cpu - b.cpu) })
	return (cpu(hi) - cpu(lo)) / medianOf(s, cpu)
}
