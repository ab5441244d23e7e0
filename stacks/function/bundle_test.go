package function

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
	b, err := Build(module, "./fn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(b.ZipPath)
	if err != nil {
		t.Fatal(err)
	}
	return b, data
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
	if _, err := Build(module, "./fn", t.TempDir()); err == nil {
		t.Fatal("a function that does not compile built")
	}
}

// BenchmarkBuild reports the deployment package's size for the real function.
func BenchmarkBuild(b *testing.B) {
	var size int64
	for b.Loop() {
		bundle, err := Build("../..", "./lambda", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		st, _ := os.Stat(bundle.ZipPath)
		size = st.Size()
	}
	b.ReportMetric(float64(size), "zip-bytes")
}
