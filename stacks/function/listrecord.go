package function

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Once the zips are cached, asking the go command which files the functions link is most
// of what building them costs (about 0.1 s of CPU: it loads the whole module graph). So
// the answer is recorded in the cache with the size, modification time and mode of every
// file and directory it depends on, and reused while none of them changed: the go.mod,
// go.sum and go.work of the module, the workspace file wherever it is (with its
// directory's other entries), every entry of the directories of
// its packages the functions link (a new file, a changed build tag or import shows there),
// and the directories between those and the module root (a nested go.mod shows there).
// What the toolchain and its settings change is in the record's name (goEnv).
//
// A file modified less than recordCutoff before go list started is not trusted to show
// its next change by its size and time (as the go command treats test inputs), so such
// an answer is not recorded and the next synth asks again.
const recordCutoff = 2 * time.Second

// goListRuns counts the go list calls, for the tests.
var goListRuns atomic.Int32

// listRecord is a recorded answer and what it depends on.
type listRecord struct {
	Inputs []inputs
	Stamps []stamp
}

// stamp is the state of one path: Missing, or its size, time and mode.
type stamp struct {
	Path    string
	Missing bool        `json:",omitempty"`
	Size    int64       `json:",omitempty"`
	ModTime int64       `json:",omitempty"` // Unix nanoseconds
	Mode    fs.FileMode `json:",omitempty"`
}

// inputsOf is listInputs, or its recorded answer when nothing it depends on changed.
// Without a cacheDir nothing is recorded.
func inputsOf(moduleRoot string, pkgs []string, cacheDir, toolchain string) ([]inputs, error) {
	root, err := filepath.Abs(moduleRoot)
	if err != nil {
		return nil, err
	}
	record := ""
	if cacheDir != "" {
		sum := sha256.Sum256([]byte(fmt.Sprintf("root %s\npackages %q\ntarget %s\ntoolchain %s\nflags %q\n",
			root, pkgs, strings.Join(target, " "), toolchain, BuildFlags)))
		record = filepath.Join(cacheDir, "go-list", hex.EncodeToString(sum[:16])+".json")
		if in, ok := loadRecord(record, len(pkgs)); ok {
			return in, nil
		}
	}
	started := time.Now()
	goListRuns.Add(1)
	in, watched, err := listInputs(moduleRoot, pkgs)
	if err != nil || record == "" {
		return in, err
	}
	// A workspace file outside the module replaces modules as much as one inside it.
	if env := strings.Split(toolchain, "\n"); len(env) > 4 && filepath.IsAbs(env[4]) {
		watched = append(watched, filepath.Dir(env[4]))
	}
	stamps := stampsOf(root, watched)
	for _, s := range stamps {
		if !s.Missing && s.ModTime >= started.Add(-recordCutoff).UnixNano() {
			return in, nil
		}
	}
	// A record that cannot be written costs the next synth a go list, nothing more.
	if data, err := json.Marshal(listRecord{Inputs: in, Stamps: stamps}); err == nil {
		writeAtomically(record, data)
	}
	return in, nil
}

// loadRecord is the recorded answer at path if every stamp still holds.
func loadRecord(path string, functions int) ([]inputs, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var r listRecord
	if json.Unmarshal(data, &r) != nil || len(r.Inputs) != functions || len(r.Stamps) == 0 {
		return nil, false
	}
	for _, s := range r.Stamps {
		if stampOf(s.Path) != s {
			return nil, false
		}
	}
	return r.Inputs, true
}

// stampsOf stamps the module's own files, each watched directory and its entries, and
// the directories between the watched ones and root.
func stampsOf(root string, watched []string) []stamp {
	paths := map[string]bool{}
	for _, f := range []string{"go.mod", "go.sum", "go.work", "go.work.sum"} {
		paths[filepath.Join(root, f)] = true
	}
	for _, dir := range watched {
		paths[dir] = true
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries {
				paths[filepath.Join(dir, e.Name())] = true
			}
		}
		for d := filepath.Dir(dir); strings.HasPrefix(d, root+string(filepath.Separator)); d = filepath.Dir(d) {
			paths[d] = true
		}
	}
	stamps := make([]stamp, 0, len(paths))
	for p := range paths {
		stamps = append(stamps, stampOf(p))
	}
	return stamps
}

func stampOf(path string) stamp {
	st, err := os.Stat(path)
	if err != nil {
		return stamp{Path: path, Missing: true}
	}
	return stamp{Path: path, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Mode: st.Mode()}
}

// writeAtomically writes data to path under a temporary name and renames it into place,
// so a synth running at the same time reads all of it or none.
func writeAtomically(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
