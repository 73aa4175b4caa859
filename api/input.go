package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// The rules every input text obeys, wherever it comes from (path, query,
// JSON body): PostgreSQL refuses a NUL and invalid UTF-8 (500 before these
// checks), and control characters in a meter number or a name only ever
// come from a careless or hostile client.
const CodeInvalidText = "invalid_text"

// maxDetail bounds a problem's detail: an input echoed back is cut here.
const maxDetail = 200

// maxCursor bounds an opaque paging cursor; ours are far shorter.
const maxCursor = 512

// textRule names what is wrong with s, or "" when s is acceptable text.
// multiline allows tab, LF and CR (free text in a JSON body: a comment, an
// address); path and query parameters never need them.
func textRule(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, c := range s {
		if c == 0 {
			return "contains a NUL character"
		}
		if multiline && (c == '\t' || c == '\n' || c == '\r') {
			continue
		}
		if unicode.IsControl(c) {
			return "contains a control character"
		}
	}
	return ""
}

// escapeText shows s so that any input fits in a log, an audit record or a
// problem detail: invalid bytes as \xNN, control characters as \uNNNN.
func escapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(c):
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
		i += size
	}
	return b.String()
}

// clip escapes s and cuts it to max runes, marking the cut.
func clip(s string, max int) string {
	s = escapeText(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// refusal is an input refused before its handler ran: the parameter, the
// rule it broke and the value (escaped for the audit record).
type refusal struct {
	field, rule, value string
	status             int
	code               string
}

func (f *refusal) write(w http.ResponseWriter) {
	writeProblemField(w, f.status, f.code, f.field+" "+f.rule, f.field)
}

type refusalKey struct{}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// guard runs before routing on every request: it names the request (a
// client's X-Request-Id when it is a plain token, else a random one; never
// the host name), sets the headers every answer carries, and checks the
// path and query parameters. A read with a bad parameter is refused here; a
// write is refused by its audit middleware after routing, so that the
// refused attempt is recorded under its action and operator.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(middleware.RequestIDHeader)
		if !requestIDPattern.MatchString(id) {
			raw := make([]byte, 12)
			_, _ = rand.Read(raw)
			id = hex.EncodeToString(raw)
		}
		ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
		h := w.Header()
		h.Set(middleware.RequestIDHeader, id)
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// Answers carry tokens and personal data: no cache keeps them.
			h.Set("Cache-Control", "no-store")
		}
		if f := checkParams(r); f != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				f.write(w)
				return
			}
			ctx = context.WithValue(ctx, refusalKey{}, f)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// refusedParam is the refusal guard left for a write, if any.
func refusedParam(r *http.Request) *refusal {
	f, _ := r.Context().Value(refusalKey{}).(*refusal)
	return f
}

// checkParams checks the path and the query string: text rules for every
// value, and the paging parameters every list shares.
func checkParams(r *http.Request) *refusal {
	if rule := textRule(r.URL.Path, false); rule != "" {
		return &refusal{field: pathParamName(r), rule: rule, value: escapeText(r.URL.Path),
			status: http.StatusBadRequest, code: CodeInvalidText}
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return &refusal{field: "query", rule: "is not a valid query string", value: escapeText(r.URL.RawQuery),
			status: http.StatusBadRequest, code: CodeMalformed}
	}
	for _, kv := range q {
		if rule := textRule(kv[0], false); rule != "" {
			return &refusal{field: "query parameter name", rule: rule, value: escapeText(kv[0]),
				status: http.StatusBadRequest, code: CodeInvalidText}
		}
		if rule := textRule(kv[1], false); rule != "" {
			return &refusal{field: kv[0], rule: rule, value: escapeText(kv[1]), status: http.StatusBadRequest, code: CodeInvalidText}
		}
		if f := bodySchemas().checkQuery(r.Method, pattern(r), kv[0], kv[1]); f != nil {
			return f
		}
		switch kv[0] {
		case "limit":
			// Each list bounds limit itself (1..500, a batch's items 1..10,000);
			// what no list accepts is refused here for all of them.
			n, err := strconv.Atoi(kv[1])
			if err != nil {
				return &refusal{field: "limit", rule: "must be a whole number", value: escapeText(kv[1]),
					status: http.StatusBadRequest, code: CodeMalformed}
			}
			if n < 1 {
				return &refusal{field: "limit", rule: "must be at least 1", value: escapeText(kv[1]),
					status: http.StatusUnprocessableEntity, code: CodeInvalidField}
			}
		case "cursor":
			if len(kv[1]) > maxCursor {
				return &refusal{field: "cursor", rule: "is not a cursor this API gave out", value: clip(kv[1], 64),
					status: http.StatusBadRequest, code: CodeMalformed}
			}
		}
	}
	return nil
}

// pattern is the route pattern the request will match ("" for none); guard
// runs before routing, so it asks the router.
func pattern(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return ""
	}
	finder, ok := rctx.Routes.(interface {
		Find(*chi.Context, string, string) string
	})
	if !ok {
		return ""
	}
	return finder.Find(chi.NewRouteContext(), r.Method, r.URL.Path)
}

// parseQuery splits a raw query into its pairs in order, unescaped;
// url.ParseQuery would also do, but loses the order (the first bad
// parameter is the one named).
func parseQuery(raw string) ([][2]string, error) {
	var out [][2]string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		var err error
		if k, err = url.QueryUnescape(k); err != nil {
			return nil, err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, err
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// pathParamName names the path parameter that holds bad text, from the
// route the path matches ("path" when none does or no parameter holds it).
// It runs before routing, only for a refused request, so it walks the
// routes itself.
func pathParamName(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return "path"
	}
	segments := strings.Split(r.URL.Path, "/")
	name := "path"
	_ = chi.Walk(rctx.Routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		parts := strings.Split(strings.TrimSuffix(route, "/"), "/")
		if name != "path" || method != r.Method || len(parts) != len(segments) {
			return nil
		}
		bad := ""
		for i, p := range parts {
			switch {
			case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
				if bad == "" && textRule(segments[i], false) != "" {
					bad = strings.Trim(p, "{}")
				}
			case p != segments[i]:
				return nil
			}
		}
		if bad != "" {
			name = bad
		}
		return nil
	})
	return name
}
