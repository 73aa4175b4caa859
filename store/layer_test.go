package store_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The store layer sits below activities, workflows and the API: they call
// it, never the other way round (issue 15). Tests may reach up, so
// _test.go files are not checked.
var upperLayers = []string{
	"github.com/voltflow/voltflow/activities",
	"github.com/voltflow/voltflow/workflows",
	"github.com/voltflow/voltflow/api",
}

// layerViolations lists "file: import" for every non-test Go file under root
// that imports a package of an upper layer.
func layerViolations(t *testing.T, root string) []string {
	t.Helper()
	var bad []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(upperLayers, func(l string) bool { return p == l || strings.HasPrefix(p, l+"/") }) {
				bad = append(bad, path+": "+p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return bad
}

func TestStoreImportsNoUpperLayer(t *testing.T) {
	if bad := layerViolations(t, "."); len(bad) > 0 {
		t.Fatalf("store packages import activities, workflows or api:\n%s", strings.Join(bad, "\n"))
	}
}

// The check itself finds an upward import, and ignores one in a test file.
func TestLayerViolationsFindsUpwardImport(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"x/x.go":      "package x\n\nimport _ \"github.com/voltflow/voltflow/activities/ledger\"\n",
		"x/ok.go":     "package x\n\nimport _ \"github.com/voltflow/voltflow/apikeys\"\n",
		"x/x_test.go": "package x\n\nimport _ \"github.com/voltflow/voltflow/workflows/recharge\"\n",
	}
	for name, src := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := layerViolations(t, dir)
	want := []string{filepath.Join(dir, "x/x.go") + ": github.com/voltflow/voltflow/activities/ledger"}
	if !slices.Equal(got, want) {
		t.Fatalf("violations = %q, want %q", got, want)
	}
}
