// Package mobile is the tenant's phone page (issue 21 §3, M15): a small
// plain-JS page in Chinese, embedded in the binary, served at /m/. It
// talks to /api/v1/tenant only.
package mobile

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Handler serves the page under /m/ with the console's CSP: no inline
// script or style, nothing from elsewhere, never framed.
func Handler() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/m" {
			http.Redirect(w, r, "/m/", http.StatusFound)
			return
		}
		name := strings.TrimPrefix(strings.TrimPrefix(path.Clean(r.URL.Path), "/m"), "/")
		if name == "" || name == "index.html" {
			// Written directly: the file server redirects index.html to "./".
			b, err := fs.ReadFile(root, "index.html")
			if err != nil {
				http.Error(w, "page missing", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			if r.Method == http.MethodGet {
				_, _ = w.Write(b)
			}
			return
		}
		if f, err := root.Open(name); err == nil {
			st, serr := f.Stat()
			_ = f.Close()
			if serr == nil && !st.IsDir() {
				r2 := r.Clone(r.Context())
				r2.URL.Path = "/" + name
				files.ServeHTTP(w, r2)
				return
			}
		}
		http.NotFound(w, r)
	})
}
