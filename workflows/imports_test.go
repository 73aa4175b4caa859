package workflows

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Workflows are the glue and the timeline: queries and writes live in
// store/, so no package under workflows/ may talk to PostgreSQL itself.
func TestWorkflowsDoNotImportSQL(t *testing.T) {
	forbidden := func(path string) bool {
		return path == "database/sql" || strings.HasPrefix(path, "database/sql/") ||
			path == "github.com/jackc/pgx/v5" || strings.HasPrefix(path, "github.com/jackc/pgx/v5/") ||
			strings.HasPrefix(path, "github.com/lib/pq")
	}
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if forbidden(p) {
				t.Errorf("workflows/%s imports %s: move the SQL to store/", filepath.ToSlash(path), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("checked %d files under workflows/, expected the whole tree", files)
	}
}
