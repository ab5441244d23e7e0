package function

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// listFormat prints, for each package the function links: "mod path@version" for a
// dependency, or "src <dir>|<go files>|<embedded files>" for a package of this module.
const listFormat = `{{with .Module}}{{if .Main}}src {{$.Dir}}|{{join $.GoFiles ","}}|{{join $.EmbedFiles ","}}{{else}}mod {{.Path}}@{{.Version}}{{end}}{{end}}`

// sourceHash digests exactly what the binary is built from: the non-test Go and embedded
// files of this module's packages that pkg links, the versions of the modules it links,
// and the build flags. Go's own version is left out, so the hash (and the snapshot that
// shows it) is the same on every machine and Go patch release.
func sourceHash(moduleRoot, pkg string) (string, error) {
	list := exec.Command("go", "list", "-deps", "-f", listFormat, pkg)
	list.Dir = moduleRoot
	list.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("listing the function's dependencies (%s): %v\n%s", pkg, err, stderr.String())
	}
	root, err := filepath.Abs(moduleRoot)
	if err != nil {
		return "", err
	}
	modules := map[string]bool{}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "mod "):
			modules[strings.TrimPrefix(line, "mod ")] = true
		case strings.HasPrefix(line, "src "):
			parts := strings.Split(strings.TrimPrefix(line, "src "), "|")
			for _, group := range parts[1:] {
				for _, f := range strings.Split(group, ",") {
					if f != "" {
						files = append(files, filepath.Join(parts[0], f))
					}
				}
			}
		}
	}
	sum := sha256.New()
	for _, m := range slices.Sorted(maps.Keys(modules)) {
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
