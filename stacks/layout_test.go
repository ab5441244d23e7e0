package stacks

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDeployedFunctionsAreTheCmdFolders keeps lambda/ readable at a glance: the folders
// under lambda/cmd are exactly the functions the stacks build and deploy, each a main
// package, and no deployed binary links anything under lambda/testonly (the local AWS
// stand-ins, the in-memory table, the test identity provider, the game day harness).
func TestDeployedFunctionsAreTheCmdFolders(t *testing.T) {
	deployed := []string{PaymentFunctionPackage, ConflictWatchPackage, PeerWatchPackage, AuthorizerPackage}
	entries, err := os.ReadDir(filepath.Join("..", "lambda", "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, "./lambda/cmd/"+e.Name())
		}
	}
	slices.Sort(folders)
	slices.Sort(deployed)
	if !slices.Equal(folders, deployed) {
		t.Fatalf("lambda/cmd holds %v, the stacks deploy %v: a deployed function's main belongs in lambda/cmd/<function>/, and nothing else does", folders, deployed)
	}

	args := append([]string{"list", "-deps", "-json=ImportPath,Name,DepOnly"}, deployed...)
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	const testonly = "github.com/payments-dr/payments-dr/lambda/testonly/"
	for dec.More() {
		var p struct {
			ImportPath, Name string
			DepOnly          bool
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !p.DepOnly && p.Name != "main" {
			t.Errorf("%s is deployed as a function but is package %s, not main", p.ImportPath, p.Name)
		}
		if strings.HasPrefix(p.ImportPath, testonly) {
			t.Errorf("a deployed function links %s: lambda/testonly is for tests and the game day only", p.ImportPath)
		}
	}
}
