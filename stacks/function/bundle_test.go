package function

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// newModule writes a one-package module to build, so these tests need no network.
func newModule(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":              "module example.com/fn\n\ngo 1.22\n",
		"fn/main.go":          "package main\n\nfunc main() { println(" + body + ") }\n",
		"fn/main_test.go":     "package main\n",
		"fn/testdata/ignored": "x",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func build(t *testing.T, module string) (Bundle, []byte) {
	t.Helper()
	return buildCached(t, module, "")
}

// buildCached builds ./fn of module with the function cache at cacheDir.
func buildCached(t *testing.T, module, cacheDir string) (Bundle, []byte) {
	t.Helper()
	b, err := Build(module, []string{"./fn"}, t.TempDir(), cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(b[0].ZipPath)
	if err != nil {
		t.Fatal(err)
	}
	return b[0], data
}

func TestBundleIsReproducibleAndRunnable(t *testing.T) {
	module := newModule(t, `"hello"`)
	first, zip1 := build(t, module)
	second, zip2 := build(t, module)
	if !bytes.Equal(zip1, zip2) || first.SourceHash != second.SourceHash {
		t.Fatal("two builds of the same source differ")
	}
	r, err := zip.NewReader(bytes.NewReader(zip1), int64(len(zip1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.File) != 1 || r.File[0].Name != "bootstrap" {
		t.Fatalf("zip holds %v, want only bootstrap", r.File)
	}
	if mode := r.File[0].Mode(); mode.Perm() != 0o755 {
		t.Errorf("bootstrap mode %v, want 0755: Lambda must be able to execute it", mode)
	}
	f, _ := r.File[0].Open()
	head := make([]byte, 20)
	f.Read(head)
	f.Close()
	// ELF, 64-bit, machine EM_AARCH64 (183): what provided.al2023 on arm64 runs.
	if !bytes.HasPrefix(head, []byte("\x7fELF\x02")) || head[18] != 183 {
		t.Errorf("bootstrap is not a linux/arm64 executable: % x", head)
	}
}

func TestSourceHashFollowsTheSourceOnly(t *testing.T) {
	a, _ := build(t, newModule(t, `"hello"`))
	b, _ := build(t, newModule(t, `"hello, world"`))
	if a.SourceHash == b.SourceHash {
		t.Error("changing the function's code did not change its source hash")
	}
	module := newModule(t, `"hello"`)
	os.WriteFile(filepath.Join(module, "fn", "main_test.go"), []byte("package main\n\n// changed\n"), 0o644)
	os.WriteFile(filepath.Join(module, "fn", "testdata", "ignored"), []byte("changed"), 0o644)
	c, _ := build(t, module)
	if c.SourceHash != a.SourceHash {
		t.Error("tests or testdata changed the source hash; they are not in the package")
	}
	// Another package of the module, not linked by this function, is not its source.
	os.MkdirAll(filepath.Join(module, "other"), 0o755)
	os.WriteFile(filepath.Join(module, "other", "other.go"), []byte("package other\n"), 0o644)
	d, _ := build(t, module)
	if d.SourceHash != a.SourceHash {
		t.Error("a package the function does not link changed its source hash")
	}
}

func TestBuildFailureIsReported(t *testing.T) {
	module := newModule(t, `undefined`)
	if _, err := Build(module, []string{"./fn"}, t.TempDir(), ""); err == nil {
		t.Fatal("a function that does not compile built")
	}
}

// BenchmarkBuild reports the deployment package's size for the real function.
func BenchmarkBuild(b *testing.B) {
	var size int64
	for b.Loop() {
		bundles, err := Build("../..", []string{"./lambda/cmd/payment"}, b.TempDir(), "")
		if err != nil {
			b.Fatal(err)
		}
		st, _ := os.Stat(bundles[0].ZipPath)
		size = st.Size()
	}
	b.ReportMetric(float64(size), "zip-bytes")
}

// A synth reuses a zip only when everything the binary is built from is unchanged.
func TestCacheReusesOnlyWhatTheSameInputsBuilt(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change runs between the first build and the second; it may return another
		// module to build the second time.
		change     func(t *testing.T, module, cacheDir string) string
		wantReused bool
		wantSame   bool // the source hash stays the same
	}{
		{"nothing changed", func(t *testing.T, module, _ string) string { return module }, true, true},
		{"the function's code changed", func(t *testing.T, module, _ string) string {
			write(t, module, "fn/main.go", "package main\n\nfunc main() { println(\"changed\") }\n")
			return module
		}, false, false},
		{"a test file changed", func(t *testing.T, module, _ string) string {
			write(t, module, "fn/main_test.go", "package main\n\n// changed\n")
			return module
		}, true, true},
		{"the Go flags changed", func(t *testing.T, module, _ string) string {
			t.Setenv("GOFLAGS", "-mod=readonly -tags=cachetest")
			return module
		}, false, true},
		{"the cached zip was removed", func(t *testing.T, module, cacheDir string) string {
			if err := os.RemoveAll(cacheDir); err != nil {
				t.Fatal(err)
			}
			return module
		}, false, true},
		{"a copy of the module elsewhere", func(t *testing.T, _, _ string) string { return newModule(t, `"hello"`) }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cacheDir := filepath.Join(t.TempDir(), "cache")
			module := newModule(t, `"hello"`)
			first, zip1 := buildCached(t, module, cacheDir)
			if first.Reused {
				t.Fatal("the first build reused a zip from an empty cache")
			}
			second, zip2 := buildCached(t, tc.change(t, module, cacheDir), cacheDir)
			if second.Reused != tc.wantReused {
				t.Errorf("reused = %v, want %v", second.Reused, tc.wantReused)
			}
			if same := first.SourceHash == second.SourceHash; same != tc.wantSame {
				t.Errorf("source hash %s then %s, want the same: %v", first.SourceHash, second.SourceHash, tc.wantSame)
			}
			if second.Reused && !bytes.Equal(zip1, zip2) {
				t.Error("the reused zip differs from the one built")
			}
			// cdktf copies the zip with its mode into cdktf.out, where a built one is 0644.
			if st, err := os.Stat(second.ZipPath); err != nil {
				t.Error(err)
			} else if st.Mode().Perm() != 0o644 {
				t.Errorf("zip %s has mode %v, want 0644", second.ZipPath, st.Mode())
			}
			if third, _ := buildCached(t, module, cacheDir); !third.Reused && tc.name != "the function's code changed" {
				t.Error("the zip built the second time was not kept for the next synth")
			}
		})
	}
}

// Functions built in one call keep the order they were asked in, and each gets the hash
// it would get alone.
func TestBuildManyFunctionsAtOnce(t *testing.T) {
	module := newModule(t, `"hello"`)
	write(t, module, "other/main.go", "package main\n\nimport \"example.com/fn/lib\"\n\nfunc main() { println(lib.Name) }\n")
	write(t, module, "lib/lib.go", "package lib\n\nconst Name = \"other\"\n")
	both, err := Build(module, []string{"./other", "./fn"}, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	for i, pkg := range []string{"./other", "./fn"} {
		alone, err := Build(module, []string{pkg}, t.TempDir(), "")
		if err != nil {
			t.Fatal(err)
		}
		if both[i].SourceHash != alone[0].SourceHash {
			t.Errorf("%s: hash %s built with another function, %s alone", pkg, both[i].SourceHash, alone[0].SourceHash)
		}
	}
	if both[0].SourceHash == both[1].SourceHash || both[0].ZipPath == both[1].ZipPath {
		t.Errorf("two functions share a bundle: %+v", both)
	}
	// lib is linked by ./other only: changing it changes ./other's hash, not ./fn's.
	write(t, module, "lib/lib.go", "package lib\n\nconst Name = \"changed\"\n")
	again, err := Build(module, []string{"./other", "./fn"}, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if again[0].SourceHash == both[0].SourceHash || again[1].SourceHash != both[1].SourceHash {
		t.Errorf("after changing lib: other %s -> %s, fn %s -> %s", both[0].SourceHash, again[0].SourceHash, both[1].SourceHash, again[1].SourceHash)
	}
}

// A module replaced by a local directory is not in the source hash, so a function that
// links one is built every time.
func TestLocalReplacementIsNeverReused(t *testing.T) {
	root := t.TempDir()
	write(t, root, "dep/go.mod", "module example.com/dep\n\ngo 1.22\n")
	write(t, root, "dep/dep.go", "package dep\n\nconst Name = \"dep\"\n")
	write(t, root, "app/go.mod", "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ../dep\n")
	write(t, root, "app/fn/main.go", "package main\n\nimport \"example.com/dep\"\n\nfunc main() { println(dep.Name) }\n")
	cacheDir := t.TempDir()
	for range 2 {
		b, _ := buildCached(t, filepath.Join(root, "app"), cacheDir)
		if b.Reused {
			t.Fatal("reused a function that links a locally replaced module")
		}
	}
}

// A cache that cannot keep the zip costs the next synth a build, not this one its result.
func TestUnwritableCacheStillBuilds(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	write(t, filepath.Dir(notADir), "file", "not a directory")
	for range 2 {
		if b, _ := buildCached(t, newModule(t, `"hello"`), filepath.Join(notADir, "cache")); b.Reused {
			t.Fatal("reused a zip from a cache that cannot exist")
		}
	}
}

// A vendored module's code changes under the same version, so nothing is reused.
func TestVendoredModuleIsNeverReused(t *testing.T) {
	module := newModule(t, `"hello"`)
	write(t, module, "vendor/modules.txt", "")
	cacheDir := t.TempDir()
	for range 2 {
		if b, _ := buildCached(t, module, cacheDir); b.Reused {
			t.Fatal("reused a zip of a module with a vendor directory")
		}
	}
}

func TestPruneRemovesOnlyUnusedEntries(t *testing.T) {
	cacheDir := t.TempDir()
	old, fresh := filepath.Join(cacheDir, "old"), filepath.Join(cacheDir, "fresh")
	for _, d := range []string{old, fresh} {
		write(t, d, "bootstrap.zip", "zip")
	}
	longAgo := time.Now().Add(-cacheUnused - time.Hour)
	if err := os.Chtimes(old, longAgo, longAgo); err != nil {
		t.Fatal(err)
	}
	prune(cacheDir, time.Now().Add(-cacheUnused))
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("an entry unused for longer than %v is still there (%v)", cacheUnused, err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a recently used entry was removed: %v", err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The go list answer is reused while nothing it depends on changed, and asked again
// (with the source hash following) when anything did.
func TestGoListAnswerIsReusedOnlyWhileItsInputsHold(t *testing.T) {
	for _, tc := range []struct {
		name       string
		change     func(t *testing.T, module string)
		wantListed bool // go list ran for the second build
		wantSame   bool // the source hash stayed the same
	}{
		{"nothing changed", func(*testing.T, string) {}, false, true},
		{"the function's code", func(t *testing.T, m string) {
			write(t, m, "fn/main.go", "package main\n\nimport \"example.com/fn/lib\"\n\nfunc main() { println(lib.Name + \"!\") }\n")
		}, true, false},
		{"a linked package in another directory", func(t *testing.T, m string) {
			write(t, m, "lib/lib.go", "package lib\n\nconst Name = \"changed\"\n")
		}, true, false},
		{"a new file in the function's package", func(t *testing.T, m string) {
			write(t, m, "fn/more.go", "package main\n\nvar more = 1\n")
		}, true, false},
		{"a file's build tag now includes it", func(t *testing.T, m string) {
			write(t, m, "fn/skipped.go", "package main\n\nvar skipped = 1\n")
		}, true, false},
		{"a test file", func(t *testing.T, m string) {
			write(t, m, "fn/main_test.go", "package main\n\n// changed\n")
		}, true, true},
		{"go.mod", func(t *testing.T, m string) {
			write(t, m, "go.mod", "module example.com/fn\n\ngo 1.22\n\n// changed\n")
		}, true, true},
		{"a package the function does not link", func(t *testing.T, m string) {
			write(t, m, "other/other.go", "package other\n\nconst X = 2\n")
		}, false, true},
		{"the Go flags", func(t *testing.T, _ string) {
			t.Setenv("GOFLAGS", "-mod=readonly -tags=cachetest")
		}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			module := newModule(t, `"hello"`)
			write(t, module, "fn/main.go", "package main\n\nimport \"example.com/fn/lib\"\n\nfunc main() { println(lib.Name) }\n")
			write(t, module, "lib/lib.go", "package lib\n\nconst Name = \"lib\"\n")
			write(t, module, "fn/skipped.go", "//go:build ignore\n\npackage main\n\nvar skipped = 1\n")
			write(t, module, "other/other.go", "package other\n\nconst X = 1\n")
			age(t, module)
			cacheDir := t.TempDir()
			first, _ := buildCached(t, module, cacheDir)
			runs := goListRuns.Load()
			tc.change(t, module)
			second, _ := buildCached(t, module, cacheDir)
			if listed := goListRuns.Load() != runs; listed != tc.wantListed {
				t.Errorf("go list ran: %v, want %v", listed, tc.wantListed)
			}
			if same := first.SourceHash == second.SourceHash; same != tc.wantSame {
				t.Errorf("source hash %s then %s, want the same: %v", first.SourceHash, second.SourceHash, tc.wantSame)
			}
		})
	}
}

// Files modified just before go list ran may change again within their time's
// resolution without showing it, so that answer is not kept.
func TestRecentlyModifiedSourcesAreListedAgain(t *testing.T) {
	module := newModule(t, `"hello"`)
	cacheDir := t.TempDir()
	buildCached(t, module, cacheDir)
	runs := goListRuns.Load()
	buildCached(t, module, cacheDir)
	if goListRuns.Load() == runs {
		t.Error("reused a go list answer about files modified within the cutoff")
	}
}

// age sets every file and directory of dir to an hour ago, as for sources edited before
// this synth.
func age(t *testing.T, dir string) {
	t.Helper()
	then := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(path, then, then)
	})
	if err != nil {
		t.Fatal(err)
	}
}
