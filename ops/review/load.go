package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// InputError is bad input: a missing folder or ref, unreadable JSON, a file that is not a
// cdktf stack. Its message names what was wrong and what is accepted.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErr(format string, args ...any) error { return &InputError{fmt.Sprintf(format, args...)} }

// Side is one side of a review: the stacks of one synth, by stack name.
type Side struct {
	Label  string // what the reader typed: a folder or ref:folder
	Stacks map[string]*Stack
}

// Stack is one synthesized stack, split into the blocks a plan compares.
type Stack struct {
	Name string
	File string // where it was read, for messages
	// Blocks by Terraform address: type.name, data.type.name, output.name.
	Blocks map[string]*Block
	// Moved are the stack's own moved blocks (cdktf MoveTo/MoveFromId write them).
	Moved []Move
	// Settings are the terraform and provider blocks, compared as a whole per key.
	Settings map[string]any
	JSON     []byte
}

// Block is one resource, data source or output.
type Block struct {
	Mode  string // resource, data or output
	Type  string // empty for outputs
	Name  string
	Attrs map[string]any // configuration, without cdktf's "//" metadata
	// ConstructPath is cdktf's construct path ("payments-dr/primary/receipts/bucket").
	ConstructPath string
}

// Move is one moved block.
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Address is the block's Terraform address.
func (b *Block) Address() string {
	switch b.Mode {
	case "data":
		return "data." + b.Type + "." + b.Name
	case "output":
		return "output." + b.Name
	}
	return b.Type + "." + b.Name
}

// LoadDir reads a side from a folder: either <stack>.json files (the generated/ form) or a
// cdktf outdir (stacks/<stack>/cdk.tf.json).
func LoadDir(dir string) (*Side, error) {
	info, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, inputErr("%s: no such folder; want a folder of <stack>.json files (generated/) or a cdktf outdir (cdktf.out/, after `go run .`)", dir)
		}
		return nil, inputErr("%s: %v", dir, err)
	}
	if !info.IsDir() {
		return nil, inputErr("%s is a file; want a folder of <stack>.json files (generated/) or a cdktf outdir (stacks/<stack>/cdk.tf.json)", dir)
	}
	files := map[string][]byte{}
	outdir, _ := filepath.Glob(filepath.Join(dir, "stacks", "*", "cdk.tf.json"))
	if len(outdir) > 0 {
		for _, f := range outdir {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, inputErr("%s: %v", f, err)
			}
			files[f] = b
		}
	} else {
		flat, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range flat {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, inputErr("%s: %v", f, err)
			}
			files[f] = b
		}
	}
	if len(files) == 0 {
		return nil, inputErr("%s holds no <stack>.json files and no stacks/<stack>/cdk.tf.json: nothing to review", dir)
	}
	return newSide(dir, files)
}

// gitTimeout bounds each git call: a review must not hang on a locked or huge repository.
const gitTimeout = 10 * time.Second

// LoadGitRef reads the <stack>.json files under folder at a git ref (`git show`), run in
// repoDir.
func LoadGitRef(repoDir, ref, folder string) (*Side, error) {
	if ref == "" || strings.HasPrefix(ref, "-") {
		return nil, inputErr("--base-ref %q: want a git ref (a branch, tag or commit, e.g. origin/main)", ref)
	}
	if _, err := git(repoDir, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err != nil {
		return nil, inputErr("--base-ref %s: no such commit in %s (fetch it first, e.g. git fetch origin main)", ref, repoDir)
	}
	// Paths in ls-tree and show are the repository's, whatever folder git runs in.
	top, err := git(repoDir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, inputErr("--base-ref %s: %s is not in a git repository: %v", ref, repoDir, err)
	}
	repoDir = strings.TrimSpace(string(top))
	folder = strings.Trim(filepath.ToSlash(folder), "/")
	list, err := git(repoDir, "ls-tree", "--name-only", ref, folder+"/")
	if err != nil {
		return nil, inputErr("--base-ref %s: listing %s/: %v", ref, folder, err)
	}
	files := map[string][]byte{}
	for _, name := range strings.Fields(string(list)) {
		if path.Ext(name) != ".json" {
			continue
		}
		b, err := git(repoDir, "show", ref+":"+name)
		if err != nil {
			return nil, inputErr("--base-ref %s: reading %s: %v", ref, name, err)
		}
		files[ref+":"+name] = b
	}
	if len(files) == 0 {
		return nil, inputErr("--base-ref %s: %s/ holds no <stack>.json files at that ref", ref, folder)
	}
	return newSide(ref+":"+folder+"/", files)
}

func git(dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: no answer within %s", args[0], gitTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func newSide(label string, files map[string][]byte) (*Side, error) {
	side := &Side{Label: label, Stacks: map[string]*Stack{}}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		s, err := ParseStack(f, files[f])
		if err != nil {
			return nil, err
		}
		if prev, dup := side.Stacks[s.Name]; dup {
			return nil, inputErr("%s and %s are both stack %q", prev.File, f, s.Name)
		}
		side.Stacks[s.Name] = s
	}
	return side, nil
}

// ParseStack reads one synthesized stack. file names it in errors.
func ParseStack(file string, data []byte) (*Stack, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, inputErr("%s: not readable JSON: %v", file, err)
	}
	var meta struct {
		Metadata struct {
			StackName string `json:"stackName"`
			Version   string `json:"version"`
		} `json:"metadata"`
	}
	if raw, ok := doc["//"]; ok {
		_ = json.Unmarshal(raw, &meta)
	}
	if meta.Metadata.StackName == "" {
		return nil, inputErr(`%s: not a cdktf stack: no "//".metadata.stackName (want the JSON cdktf synth writes, cdk.tf.json or generated/<stack>.json)`, file)
	}
	s := &Stack{Name: meta.Metadata.StackName, File: file, Blocks: map[string]*Block{}, Settings: map[string]any{}, JSON: data}
	var resources, datas map[string]map[string]map[string]any
	var outputs map[string]map[string]any
	for key, into := range map[string]any{"resource": &resources, "data": &datas, "output": &outputs, "moved": &s.Moved} {
		if raw, ok := doc[key]; ok {
			if err := json.Unmarshal(raw, into); err != nil {
				return nil, inputErr("%s: %q is not in the form Terraform JSON gives it: %v", file, key, err)
			}
		}
	}
	for _, key := range []string{"terraform", "provider"} {
		if raw, ok := doc[key]; ok {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, inputErr("%s: %q: %v", file, key, err)
			}
			s.Settings[key] = v
		}
	}
	add := func(mode string, byType map[string]map[string]map[string]any) {
		for typ, byName := range byType {
			for name, attrs := range byName {
				b := &Block{Mode: mode, Type: typ, Name: name, Attrs: attrs}
				b.ConstructPath = metadataPath(attrs)
				delete(attrs, "//")
				s.Blocks[b.Address()] = b
			}
		}
	}
	add("resource", resources)
	add("data", datas)
	for name, attrs := range outputs {
		b := &Block{Mode: "output", Name: name, Attrs: attrs}
		s.Blocks[b.Address()] = b
	}
	return s, nil
}

func metadataPath(attrs map[string]any) string {
	m, _ := attrs["//"].(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	p, _ := md["path"].(string)
	return p
}
