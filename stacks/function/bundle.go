package function

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Bundle is the function's deployment package, built from source at synth time.
type Bundle struct {
	ZipPath string
	// SourceHash names the asset: a digest of the function's source files and of the
	// module versions it links. It is the same on every machine and Go patch release, so
	// the snapshot changes exactly when the function's code or dependencies do.
	SourceHash string
}

// BuildFlags are part of SourceHash: changing how the binary is built changes the asset.
var BuildFlags = []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// zipTime is fixed so the same binary always makes the same zip.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Build compiles the Go main package pkg (e.g. "./lambda") of the module at moduleRoot
// for provided.al2023 on arm64, and zips it as "bootstrap" into outDir.
func Build(moduleRoot, pkg, outDir string) (Bundle, error) {
	hash, err := sourceHash(moduleRoot, pkg)
	if err != nil {
		return Bundle{}, err
	}
	binary := filepath.Join(outDir, "bootstrap")
	cmd := exec.Command("go", append(BuildFlags, "-o", binary, pkg)...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Bundle{}, fmt.Errorf("building the function (%s): %v\n%s", pkg, err, out)
	}
	zipPath := filepath.Join(outDir, "bootstrap.zip")
	if err := writeZip(zipPath, binary); err != nil {
		return Bundle{}, err
	}
	return Bundle{ZipPath: zipPath, SourceHash: hash}, nil
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

// sourceHash digests the package's non-test Go files (and embedded files under its
// directory), the module versions it depends on and the build flags.
func sourceHash(moduleRoot, pkg string) (string, error) {
	list := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}@{{.Version}}{{end}}", pkg)
	list.Dir = moduleRoot
	list.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("listing the function's dependencies (%s): %v\n%s", pkg, err, stderr.String())
	}
	modules := map[string]bool{}
	for _, m := range strings.Fields(string(out)) {
		modules[m] = true
	}
	sum := sha256.New()
	for _, m := range slices.Sorted(maps.Keys(modules)) {
		fmt.Fprintln(sum, "module", m)
	}
	fmt.Fprintln(sum, "flags", strings.Join(BuildFlags, " "))

	dir := filepath.Join(moduleRoot, filepath.FromSlash(pkg))
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != dir {
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasSuffix(d.Name(), "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		fh, err := os.Open(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(sum, "file", filepath.ToSlash(rel))
		_, err = io.Copy(sum, fh)
		fh.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(sum.Sum(nil))[:16], nil
}
