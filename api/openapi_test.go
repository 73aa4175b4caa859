package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestOpenAPICoversRoutes walks the router and fails for every route that
// api/openapi.json does not document (and for documented operations no
// route serves), so the document cannot drift from server.go again.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	s := New(Config{})
	methods := map[string]map[string]bool{} // route → methods
	err := chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if route != "/" && strings.HasSuffix(route, "/") {
			route = strings.TrimSuffix(route, "/")
		}
		if methods[route] == nil {
			methods[route] = map[string]bool{}
		}
		methods[route][method] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for route, ms := range methods {
		if ms[http.MethodTrace] && ms[http.MethodConnect] {
			// Handle (any method), e.g. /metrics: documented as the GET it serves.
			ms = map[string]bool{http.MethodGet: true}
		}
		for m := range ms {
			if m != http.MethodHead && m != http.MethodOptions {
				routed[m+" "+route] = true
			}
		}
	}
	if len(routed) < 50 {
		t.Fatalf("walked only %d routes: the walk is broken", len(routed))
	}
	var missing, stale []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			stale = append(stale, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, r := range missing {
		t.Errorf("route %s has no entry in api/openapi.json", r)
	}
	for _, d := range stale {
		t.Errorf("api/openapi.json documents %s, which no route serves", d)
	}
}

// TestOpenAPIProblemCodes fails for every problem code constant (Code… =
// "…" in this package) the document's Problem.code enum does not list, so a
// new code cannot reach clients undocumented.
func TestOpenAPIProblemCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct{ Enum []string } `json:"code"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for _, c := range doc.Components.Schemas.Problem.Properties.Code.Enum {
		documented[c] = true
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Code") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				found++
				if !documented[code] {
					t.Errorf("%s: problem code %q (%s) is not in the Problem.code enum of api/openapi.json", name, code, id.Name)
				}
			}
			return true
		})
	}
	if found < 40 {
		t.Fatalf("found only %d problem code constants: the scan is broken", found)
	}
}
