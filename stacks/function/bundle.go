package function

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bundle is the function's deployment package, built from source at synth time.
type Bundle struct {
	ZipPath string
	// SourceHash names the asset: a digest of the function's source files and of the
	// module versions it links. It is the same on every machine and Go patch release, so
	// the snapshot changes exactly when the function's code or dependencies do.
	SourceHash string
	// Reused is true when the zip came from the cache instead of a build.
	Reused bool
}

// BuildFlags are part of SourceHash: changing how the binary is built changes the asset.
var BuildFlags = []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// target is what every function is built for: provided.al2023 on arm64.
var target = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// zipTime is fixed so the same binary always makes the same zip.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultCacheDir is where synth keeps the functions' zips between runs: the user's
// cache directory ($XDG_CACHE_HOME or ~/.cache on Linux), or "" (no cache) when there is
// none.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "payments-dr", "functions")
}

// cacheUnused is how long a cached zip that no synth has used is kept.
const cacheUnused = 7 * 24 * time.Hour

// Build compiles each Go main package of pkgs (module-relative directories such as
// "./lambda/cmd/payment") of the module at moduleRoot for provided.al2023 on arm64 and zips it as
// "bootstrap". The bundles come back in the order of pkgs.
//
// With a cacheDir, a zip built before from the same inputs is reused instead of
// compiling and zipping again (most of a warm synth's cost otherwise). The inputs are
// what SourceHash digests plus what it leaves out on purpose: the Go toolchain and its
// settings (GOVERSION, GOFLAGS, GOEXPERIMENT, GOARM64) and the module replacements. A
// function that links a module replaced by a local directory is always built, as its
// files are not digested; so is every function of a module with a vendor directory.
// Without a cacheDir every function is built.
//
// The functions that are built, are built at the same time, each into a directory of its
// own under outDir.
func Build(moduleRoot string, pkgs []string, outDir, cacheDir string) ([]Bundle, error) {
	// Vendored modules are edited in place under the version go.mod names, which is all
	// SourceHash knows of a module: a cached zip could be older than their code.
	if _, err := os.Stat(filepath.Join(moduleRoot, "vendor", "modules.txt")); err == nil {
		cacheDir = ""
	}
	toolchain := ""
	if cacheDir != "" {
		var err error
		if toolchain, err = goEnv(moduleRoot); err != nil {
			return nil, err
		}
	}
	inputs, err := inputsOf(moduleRoot, pkgs, cacheDir, toolchain)
	if err != nil {
		return nil, err
	}
	bundles := make([]Bundle, len(pkgs))
	errs := make([]error, len(pkgs))
	var wg sync.WaitGroup
	for i, pkg := range pkgs {
		in := inputs[i]
		bundles[i].SourceHash = in.SourceHash
		cached := ""
		if cacheDir != "" && in.Cacheable {
			cached = filepath.Join(cacheDir, in.cacheKey(toolchain), "bootstrap.zip")
			if _, err := os.Stat(cached); err == nil {
				// Marks the entry as used, so pruning keeps it.
				now := time.Now()
				os.Chtimes(filepath.Dir(cached), now, now)
				bundles[i].ZipPath, bundles[i].Reused = cached, true
				continue
			}
		}
		wg.Go(func() {
			dir := filepath.Join(outDir, fmt.Sprint(i))
			zipPath, err := compile(moduleRoot, pkg, dir)
			if err == nil && cached != "" {
				// The zip is built: a cache that cannot keep it costs the next synth a
				// build, not this one its result.
				if err := store(zipPath, cached); err != nil {
					slog.Warn("function cache: the zip is not kept for the next synth", "function", pkg, "err", err)
				}
			}
			bundles[i].ZipPath, errs[i] = zipPath, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cacheDir != "" {
		prune(cacheDir, time.Now().Add(-cacheUnused))
	}
	return bundles, nil
}

// compile builds pkg into dir and zips it; it returns the zip's path.
func compile(moduleRoot, pkg, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	binary := filepath.Join(dir, "bootstrap")
	if _, err := runGo(moduleRoot, nil, append(BuildFlags, "-o", binary, pkg)...); err != nil {
		return "", fmt.Errorf("building the function (%s): %w", pkg, err)
	}
	zipPath := filepath.Join(dir, "bootstrap.zip")
	return zipPath, writeZip(zipPath, binary)
}

func writeZip(zipPath, binary string) error {
	data, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	// Lambda runs the file named bootstrap, so it must be executable in the zip.
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(zipPath, buf.Bytes(), 0o644)
}

// store copies a built zip into the cache.
func store(zipPath, cached string) error {
	data, err := os.ReadFile(zipPath)
	if err != nil {
		return err
	}
	return writeAtomically(cached, data)
}

// prune removes the cache entries no synth has used since cutoff. A failure to remove
// one costs disk space only, so it is not an error.
func prune(cacheDir string, cutoff time.Time) {
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.IsDir() && info.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(cacheDir, e.Name()))
		}
	}
}

// oneThread is for the go commands that only read: one thread does their work for about
// a quarter less CPU than several (go list: 0.09 s instead of 0.12 s on the test machine),
// and they run while Node starts, so their wall time is not what the synth waits for.
var oneThread = []string{"GOMAXPROCS=1"}

// goEnv is what the go command reports of the settings that change the binary built for
// the target and that SourceHash leaves out: the exact toolchain and its flags, and the
// workspace file if there is one (it can replace modules).
func goEnv(moduleRoot string) (string, error) {
	out, err := runGo(moduleRoot, oneThread, "env", "GOVERSION", "GOFLAGS", "GOEXPERIMENT", "GOARM64", "GOWORK")
	if err != nil {
		return "", fmt.Errorf("reading the Go toolchain's settings: %w", err)
	}
	return string(out), nil
}

// runGo runs the go command in moduleRoot for the functions' target, with env added to
// the environment; a failure carries what the command printed on stderr.
func runGo(moduleRoot string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(append(os.Environ(), target...), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, stderr.Bytes())
	}
	return out, nil
}

// inputs is what one function's binary is built from.
type inputs struct {
	SourceHash string
	// Replacements lists the module replacements the function links, which SourceHash
	// leaves out: the same module version may be replaced by another.
	Replacements []string
	// Cacheable is false when a linked module is replaced by a local directory.
	Cacheable bool
}

func (in inputs) cacheKey(toolchain string) string {
	sum := sha256.New()
	fmt.Fprintf(sum, "source %s\ntarget %s\ntoolchain %s\n", in.SourceHash, strings.Join(target, " "), toolchain)
	for _, r := range in.Replacements {
		fmt.Fprintln(sum, "replace", r)
	}
	return hex.EncodeToString(sum.Sum(nil))[:32]
}

// listFormat prints, for each package any function links, one line of tab-separated
// fields: its import path; the command-line patterns it matches (a function's package
// only); the import paths it depends on (a function's package only); "mod path@version"
// for a dependency's package or "src <dir>|<go files>|<embedded files>" for a package
// of this module; the replacement of its module, "dir" when that is a local directory.
const listFormat = "{{.ImportPath}}\t{{join .Match \" \"}}\t{{if not .DepOnly}}{{join .Deps \" \"}}{{end}}\t" +
	`{{with .Module}}{{if .Main}}src {{$.Dir}}|{{join $.GoFiles ","}}|{{join $.EmbedFiles ","}}{{else}}mod {{.Path}}@{{.Version}}{{end}}{{end}}` + "\t" +
	`{{with .Module}}{{with .Replace}}{{if .Version}}{{.Path}}@{{.Version}}{{else}}dir{{end}}{{end}}{{end}}`

// listInputs asks the go command once for every package the functions link (one call
// for all functions: each call loads the whole module graph) and digests each
// function's inputs.
//
// SourceHash digests exactly what the binary is built from: the non-test Go and embedded
// files of this module's packages that the function links, the versions of the modules
// it links, and the build flags. Go's own version is left out, so the hash (and the
// snapshot that shows it) is the same on every machine and Go patch release.
//
// It also returns the directories whose content the answer depends on: those of this
// module's packages the functions link, and of the files they embed.
func listInputs(moduleRoot string, pkgs []string) ([]inputs, []string, error) {
	out, err := runGo(moduleRoot, oneThread, append([]string{"list", "-deps", "-f", listFormat}, pkgs...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the functions' dependencies (%s): %w", strings.Join(pkgs, " "), err)
	}
	type pkgInfo struct{ deps, source, replace string }
	infos := map[string]pkgInfo{}
	roots := map[string]string{} // command-line pattern -> import path
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 5 {
			return nil, nil, fmt.Errorf("listing the functions' dependencies: go list printed %d fields, want 5, for %s", len(f), f[0])
		}
		infos[f[0]] = pkgInfo{deps: f[2], source: f[3], replace: f[4]}
		for _, m := range strings.Fields(f[1]) {
			roots[m] = f[0]
		}
	}
	root, err := filepath.Abs(moduleRoot)
	if err != nil {
		return nil, nil, err
	}
	watched := map[string]bool{}
	result := make([]inputs, len(pkgs))
	for i, pkg := range pkgs {
		path, ok := roots[pkg]
		if !ok {
			return nil, nil, fmt.Errorf("listing the functions' dependencies: go list did not report %s", pkg)
		}
		linked := append(strings.Fields(infos[path].deps), path)
		modules := map[string]bool{}
		replacements := map[string]bool{}
		var files []string
		in := inputs{Cacheable: true}
		for _, p := range linked {
			info := infos[p]
			switch {
			case strings.HasPrefix(info.source, "mod "):
				modules[strings.TrimPrefix(info.source, "mod ")] = true
			case strings.HasPrefix(info.source, "src "):
				parts := strings.Split(strings.TrimPrefix(info.source, "src "), "|")
				watched[parts[0]] = true
				for _, group := range parts[1:] {
					for _, f := range strings.Split(group, ",") {
						if f != "" {
							files = append(files, filepath.Join(parts[0], f))
							watched[filepath.Dir(filepath.Join(parts[0], f))] = true
						}
					}
				}
			}
			switch info.replace {
			case "":
			case "dir":
				in.Cacheable = false
			default:
				replacements[strings.TrimPrefix(info.source, "mod ")+" => "+info.replace] = true
			}
		}
		if in.SourceHash, err = digest(root, slices.Sorted(maps.Keys(modules)), files); err != nil {
			return nil, nil, err
		}
		in.Replacements = slices.Sorted(maps.Keys(replacements))
		result[i] = in
	}
	return result, slices.Sorted(maps.Keys(watched)), nil
}

// digest is SourceHash: the sorted module versions, the build flags, and every source
// file's module-relative path, length and content in path order.
func digest(root string, modules, files []string) (string, error) {
	sum := sha256.New()
	for _, m := range modules {
		fmt.Fprintln(sum, "module", m)
	}
	fmt.Fprintln(sum, "flags", strings.Join(BuildFlags, " "))
	slices.Sort(files)
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			return "", err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "file %s %d\n", filepath.ToSlash(rel), len(data))
		sum.Write(data)
	}
	return hex.EncodeToString(sum.Sum(nil))[:16], nil
}
