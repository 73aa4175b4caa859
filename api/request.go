package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/store"
)

// found reports whether a lookup found its row; otherwise it answers 404
// with detail when err is the package's notFound (an unknown row, or one of
// a project the caller cannot see), else 500.
func (s *Server) found(w http.ResponseWriter, r *http.Request, err, notFound error, detail string) bool {
	if errors.Is(err, notFound) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, detail)
		return false
	}
	if err != nil {
		s.internal(w, r, err)
		return false
	}
	return true
}

// writeFound answers a lookup of one resource: 200 with v when it was found,
// else the problem found writes.
func (s *Server) writeFound(w http.ResponseWriter, r *http.Request, v any, err, notFound error, detail string) {
	if s.found(w, r, err, notFound, detail) {
		writeJSON(w, http.StatusOK, v)
	}
}

// getByID answers GET of the resource {id} among the projects the caller may
// view: 200 with it, 404 with detail when get returns notFound, else 500.
func getByID[T any](s *Server, w http.ResponseWriter, r *http.Request,
	get func(context.Context, *store.DB, []string, string) (T, error), notFound error, detail string) {
	v, err := get(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData), chi.URLParam(r, "id"))
	s.writeFound(w, r, v, err, notFound, detail)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "request_id", middleware.GetReqID(r.Context()), "error", err)
	writeProblem(w, http.StatusInternalServerError, CodeInternal, "request id "+middleware.GetReqID(r.Context()))
}

// page is a parsed ?limit=&cursor=.
type page struct {
	limit    int
	before   *time.Time
	beforeID string
}

// parsePage reads the list parameters; the cursor is opaque to clients.
func parsePage(r *http.Request) (page, error) {
	p := page{limit: 50}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return p, fmt.Errorf("limit must be 1..500")
		}
		p.limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return p, errors.New("bad cursor")
		}
		ts, id, ok := strings.Cut(string(raw), "|")
		t, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || textRule(id, false) != "" {
			return p, errors.New("bad cursor")
		}
		p.before, p.beforeID = &t, id
	}
	return p, nil
}

// pageParams is parsePage for a list handler: an unreadable limit or cursor
// is answered 400 here and reported false.
func pageParams(w http.ResponseWriter, r *http.Request) (page, bool) {
	p, err := parsePage(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, err.Error())
		return p, false
	}
	return p, true
}

func cursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// writePage answers a list: {"items": [...], "nextCursor": ...}, with a
// cursor only when the page is full (there may be more).
func writePage[T any](w http.ResponseWriter, items []T, limit int, key func(T) (time.Time, string)) {
	out := map[string]any{"items": nonNil(items)}
	if len(items) == limit && limit > 0 {
		at, id := key(items[len(items)-1])
		out["nextCursor"] = cursor(at, id)
	}
	writeJSON(w, http.StatusOK, out)
}

// servePage answers a plain list: the page asked for (400 when unreadable),
// the rows list finds for it (500 on error) and writePage keyed by key.
func servePage[T any](s *Server, w http.ResponseWriter, r *http.Request, list func(page) ([]T, error), key func(T) (time.Time, string)) {
	p, ok := pageParams(w, r)
	if !ok {
		return
	}
	items, err := list(p)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, p.limit, key)
}
