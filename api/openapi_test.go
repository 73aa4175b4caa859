package api

import (
	"encoding/json"
	"net/http"
	"sort"
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
