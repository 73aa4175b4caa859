// Package layout checks rules of the repository's shape that the compiler
// does not: one local name for every package of the four layers.
package layout

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/voltflow/voltflow/"

// suffixes: a capability laid out in several layers on purpose
// (domain/recharge, store/recharge, activities/recharge, workflows/recharge)
// is imported under one name per layer everywhere; a name found in one layer
// only is imported under its own name.
var suffixes = map[string]string{"domain": "dom", "store": "store", "activities": "acts", "workflows": "wf"}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// wantName is the local name an import of path must have, or "" when the
// path is outside the rule.
func wantName(shared map[string]int, path string) string {
	rest, ok := strings.CutPrefix(path, module)
	if !ok {
		return ""
	}
	layer, name, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return ""
	}
	suffix, ok := suffixes[layer]
	if !ok {
		return ""
	}
	if shared[name] > 1 {
		return name + suffix
	}
	return name
}

func layerNames(t *testing.T, root string) map[string]int {
	t.Helper()
	shared := map[string]int{}
	for layer := range suffixes {
		ents, err := os.ReadDir(filepath.Join(root, layer))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() && e.Name() != "testdata" {
				shared[e.Name()]++
			}
		}
	}
	return shared
}

func TestOneNamePerPackage(t *testing.T) {
	root := repoRoot(t)
	shared := layerNames(t, root)
	checked := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".voltflow", "testdata", "node_modules":
				return filepath.SkipDir
			}
			// A nested module (the embedded Temporal server) has rules of its own.
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			want := wantName(shared, path)
			if want == "" {
				continue
			}
			checked++
			got := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				got = imp.Name.Name
			}
			if got == "_" {
				continue
			}
			if got != want {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s imports %s as %q; import it as %q (one name per package)", rel, path, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no layered imports found: is the repository root right?")
	}
}

func TestWantName(t *testing.T) {
	shared := map[string]int{"recharge": 4, "money": 1}
	for _, c := range []struct{ path, want string }{
		{module + "domain/recharge", "rechargedom"},
		{module + "store/recharge", "rechargestore"},
		{module + "activities/recharge", "rechargeacts"},
		{module + "workflows/recharge", "rechargewf"},
		{module + "domain/money", "money"},
		{module + "store/demo/sub", ""},
		{module + "devices/ocpp", ""},
		{"github.com/jackc/pgx/v5", ""},
	} {
		if got := wantName(shared, c.path); got != c.want {
			t.Errorf("wantName(%s) = %q, want %q", c.path, got, c.want)
		}
	}
}
