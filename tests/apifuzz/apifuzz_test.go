// Package apifuzz sends hostile and invalid requests, generated from the
// OpenAPI document the API serves, to every operation of the real platform
// (PostgreSQL, Temporal, worker, simulators). It fails on any 5xx, on any 2xx
// for an input the document says is invalid, and on any write whose audit
// record is missing.
//
// The bounded run in `make test` sends VOLTFLOW_FUZZ_REQUESTS (default 2,200)
// requests from VOLTFLOW_FUZZ_SEED (default 1); `make fuzz-api` sends more.
package apifuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/voltflow/voltflow/tests/harness"
)

var stack *harness.Stack

func TestMain(m *testing.M) {
	harness.Main(m, "apifuzz", harness.Options{Gateways: 1, MetersPerGW: 8, UpdateTimeout: 5 * time.Second}, &stack)
}

// operation is one method and path of the document.
type operation struct {
	method, path string
	params       []param
	body         map[string]any // the JSON request schema, if any
	contentTypes []string       // a non-JSON body (the meter import)
}

type param struct {
	name, in string
	schema   map[string]any
}

// request is one generated request and what the document says of it.
type request struct {
	op       *operation
	path     string
	header   http.Header
	body     []byte
	invalid  string // why the document refuses it ("" when it may be valid)
	mutation string
}

type finding struct{ what, req string }

func TestFuzzAPI(t *testing.T) {
	total := envInt("VOLTFLOW_FUZZ_REQUESTS", 2200)
	seed := envInt("VOLTFLOW_FUZZ_SEED", 1)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	admin := stack.Login(t, "admin", "admin").Token
	cashier := stack.Login(t, "cashier", "cashier").Token

	resp, err := http.Get(stack.API.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := &generator{rng: rng, components: dig(doc, "components", "schemas")}
	ops := operations(doc)
	if len(ops) < 50 {
		t.Fatalf("only %d operations in the document", len(ops))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var findings []finding
	counts := map[string]int{}
	sent := 0
	perOp := (total + len(ops) - 1) / len(ops)
	for i := 0; i < perOp; i++ {
		for _, op := range ops {
			req := g.request(op)
			id := fmt.Sprintf("fz-%d-%d", seed, sent)
			req.header.Set("X-Request-Id", id)
			switch n := rng.IntN(10); {
			case n < 7:
				req.header.Set("Authorization", "Bearer "+admin)
			case n == 7:
				req.header.Set("Authorization", "Bearer "+cashier)
			case n == 8:
				req.header.Set("Authorization", "Bearer forged-"+strconv.Itoa(rng.IntN(1e6)))
			}
			status, body := send(t, client, req)
			sent++
			counts[strconv.Itoa(status/100)+"xx"]++
			describe := fmt.Sprintf("%s %s [%s] %s → %d %s", op.method, clipS(req.path, 160), req.mutation,
				clipS(string(req.body), 160), status, clipS(string(body), 200))
			switch {
			case status >= 500 && !(status == 503 && bytes.Contains(body, []byte(`"worker_unavailable"`))):
				findings = append(findings, finding{"5xx", describe})
			case status < 300 && req.invalid != "" && req.header.Get("Authorization") != "":
				findings = append(findings, finding{"accepted invalid (" + req.invalid + ")", describe})
			}
			// Every write that got past authentication is audited, refused
			// or not (a 404 of the router itself and a 405 reach no route).
			routed := status != 0 && status != http.StatusMethodNotAllowed && !bytes.Contains(body, []byte(`"no route `))
			if op.method != "GET" && routed && (status != http.StatusUnauthorized || op.path == "/api/v1/auth/login") &&
				!audited(t, id) {
				findings = append(findings, finding{"audit record lost", describe})
			}
		}
	}
	kinds := map[string]int{}
	for _, f := range findings {
		kinds[f.what]++
	}
	t.Logf("apifuzz seed=%d operations=%d requests=%d answers=%v findings=%v", seed, len(ops), sent, counts, kinds)
	if sent < 2000 && total >= 2000 {
		t.Errorf("sent %d requests, want at least 2,000", sent)
	}
	for i, f := range findings {
		if i == 40 {
			t.Errorf("… and %d more", len(findings)-40)
			break
		}
		t.Errorf("%s: %s", f.what, f.req)
	}
}

// audited reports whether the request with id left an audit record.
func audited(t *testing.T, id string) bool {
	var n int
	if err := stack.DB.QueryRow(context.Background(), `select count(*) from audit_log where request_id=$1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func send(t *testing.T, client *http.Client, r request) (int, []byte) {
	req, err := http.NewRequest(r.op.method, stack.API.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Logf("unsendable %s: %v", r.path, err)
		return 0, nil
	}
	req.Header = r.header
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", r.op.method, clipS(r.path, 200), err)
		return 0, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, body
}

// operations lists the document's operations under /api/v1 in a stable order.
func operations(doc map[string]any) []*operation {
	paths, _ := doc["paths"].(map[string]any)
	var out []*operation
	for path, v := range paths {
		if !strings.HasPrefix(path, "/api/v1/") || path == "/api/v1/openapi.json" {
			continue
		}
		item, _ := v.(map[string]any)
		shared, _ := item["parameters"].([]any)
		for method, o := range item {
			opm, ok := o.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			op := &operation{method: strings.ToUpper(method), path: path}
			ps, _ := opm["parameters"].([]any)
			for _, p := range append(slices.Clone(shared), ps...) {
				pm, _ := p.(map[string]any)
				s, _ := pm["schema"].(map[string]any)
				op.params = append(op.params, param{name: fmt.Sprint(pm["name"]), in: fmt.Sprint(pm["in"]), schema: s})
			}
			// A path parameter the document forgets is still fuzzed.
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					name = strings.TrimSuffix(name, "}")
					if !slices.ContainsFunc(op.params, func(p param) bool { return p.in == "path" && p.name == name }) {
						op.params = append(op.params, param{name: name, in: "path", schema: map[string]any{"type": "string"}})
					}
				}
			}
			if content := dig(opm, "requestBody", "content"); content != nil {
				if s := dig(content, "application/json", "schema"); s != nil {
					op.body = s
				}
				for ct := range content {
					if ct != "application/json" {
						op.contentTypes = append(op.contentTypes, ct)
					}
				}
				sort.Strings(op.contentTypes)
			}
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

type generator struct {
	rng        *rand.Rand
	components map[string]any
}

// hostile strings: NUL, control bytes, invalid UTF-8, huge, odd.
var hostile = []string{"a\x00b", "\x00", "\x1b[31m\x07", "x\x7f", "\xff\xfe", strings.Repeat("9", 10000),
	"../../etc/passwd", "' or 1=1 --", "\u202e\u0000", "%00", "M0001\x00", "\t\n"}

// request generates one request for op: mostly valid-looking with one
// part made hostile or invalid.
func (g *generator) request(op *operation) request {
	r := request{op: op, header: http.Header{}}
	path := op.path
	query := url.Values{}
	// Which part to break: a parameter, the body, or nothing.
	target := g.rng.IntN(len(op.params) + 2)
	for i, p := range op.params {
		value := g.paramValue(p)
		if i == target {
			var why string
			value, why = g.badParam(p)
			r.mutation = p.in + " " + p.name + "=" + clipS(strconv.Quote(value), 40)
			if why != "" {
				r.invalid = p.name + " " + why
			}
		}
		switch p.in {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.name+"}", url.PathEscape(value))
		case "query":
			if value != "" {
				query.Set(p.name, value)
			}
		case "header":
			// The client refuses control bytes in a header; the server never sees them.
			if value != "" && utf8.ValidString(value) && !strings.ContainsAny(value, "\x00\x01\x07\x1b\x7f\n\t") {
				r.header.Set(p.name, clipS(value, 200))
			}
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	r.path = path
	switch {
	case op.body != nil:
		r.header.Set("Content-Type", "application/json")
		v := g.value(op.body, 0)
		if target == len(op.params) {
			var why string
			r.body, why, r.mutation = g.badBody(op.body, v)
			if why != "" && r.invalid == "" {
				r.invalid = why
			}
		} else {
			r.body, _ = json.Marshal(v)
		}
	case len(op.contentTypes) > 0:
		r.header.Set("Content-Type", op.contentTypes[0])
		r.body = []byte("meter_no,gateway,unit_address,profile,price\nZ\x00,GW-01,1,dlt645,1.2\n" + hostile[g.rng.IntN(len(hostile))] + "\n")
		r.mutation = "hostile CSV"
	}
	if r.mutation == "" {
		r.mutation = "plain"
	}
	return r
}

func (g *generator) paramValue(p param) string {
	switch p.name {
	case "meterNo":
		return fmt.Sprintf("M%04d", 1+g.rng.IntN(8))
	case "project":
		return []string{"demo", "other", "00000000-0000-0000-0000-000000000001"}[g.rng.IntN(3)]
	case "limit":
		return strconv.Itoa(1 + g.rng.IntN(500))
	case "cursor", "Idempotency-Key":
		return ""
	}
	if p.in != "path" && g.rng.IntN(3) > 0 {
		return "" // most optional query parameters absent
	}
	return g.scalar(p.schema)
}

// badParam returns a hostile or invalid value, and why the document
// refuses it ("" when the document does not say).
func (g *generator) badParam(p param) (string, string) {
	s := g.resolve(p.schema)
	switch g.rng.IntN(4) {
	case 0:
		if typ, _ := s["type"].(string); typ == "integer" || typ == "number" {
			return "abc", "is not a number"
		}
		if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
			return "not-" + fmt.Sprint(enum[0]), "is not in the enum"
		}
	case 1:
		if min, ok := s["minimum"].(float64); ok {
			return strconv.FormatFloat(min-1, 'f', -1, 64), "is below the minimum"
		}
		if max, ok := s["maximum"].(float64); ok {
			return strconv.FormatFloat(max+1, 'f', -1, 64), "is above the maximum"
		}
	case 2:
		if p.name == "cursor" {
			return strings.Repeat("A", 5000), ""
		}
	}
	return hostile[g.rng.IntN(len(hostile))], ""
}

// badBody breaks one top-level field of a valid-looking body v, or the body.
func (g *generator) badBody(schema map[string]any, v any) ([]byte, string, string) {
	s := g.resolve(schema)
	obj, _ := v.(map[string]any)
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range asSlice(s["required"]) {
		required[fmt.Sprint(r)] = true
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	if obj == nil || len(names) == 0 || g.rng.IntN(8) == 0 {
		bodies := []string{"{", "[]", "null", `"x"`, "{} {}", "\xff\xfe", `{"a":` + strings.Repeat("[", 10000)}
		b := bodies[g.rng.IntN(len(bodies))]
		return []byte(b), "", "body " + clipS(strconv.Quote(b), 30)
	}
	name := names[g.rng.IntN(len(names))]
	prop := g.resolve(asMap(props[name]))
	typ, _ := prop["type"].(string)
	var why string
	switch g.rng.IntN(7) {
	case 0: // the wrong JSON type
		switch typ {
		case "string":
			obj[name] = 12345
		case "integer", "number":
			obj[name] = "12"
		case "boolean":
			obj[name] = "yes"
		case "array":
			obj[name] = map[string]any{}
		case "object":
			obj[name] = []any{1}
		}
		if typ != "" {
			why = name + " has the wrong type"
		}
	case 1: // null or missing
		if g.rng.IntN(2) == 0 {
			obj[name] = nil
		} else {
			delete(obj, name)
		}
		if required[name] {
			why = name + " is required"
		}
	case 2: // out of bounds
		if min, ok := prop["minimum"].(float64); ok {
			obj[name], why = min-1, name+" is below the minimum"
		} else if max, ok := prop["maximum"].(float64); ok {
			obj[name], why = max+1, name+" is above the maximum"
		} else if enum, ok := prop["enum"].([]any); ok && len(enum) > 0 {
			obj[name], why = "not-"+fmt.Sprint(enum[0]), name+" is not in the enum"
		} else {
			obj[name] = -1e300
		}
	case 3: // huge
		obj[name] = strings.Repeat("x", 100000)
		if typ != "" && typ != "string" {
			why = name + " has the wrong type"
		}
	default: // NUL, control bytes, invalid UTF-8
		obj[name] = hostile[g.rng.IntN(len(hostile))]
		if typ != "" && typ != "string" {
			why = name + " has the wrong type"
		}
	}
	b, _ := json.Marshal(obj)
	if s, ok := obj[name].(string); ok && strings.Contains(s, "\xff") {
		// json.Marshal would make it U+FFFD: put the raw bytes in.
		b = bytes.Replace(b, []byte(`\ufffd\ufffd`), []byte("\xff\xfe"), 1)
	}
	return b, why, "body " + name + "=" + clipS(fmt.Sprint(obj[name]), 30)
}

func (g *generator) resolve(s map[string]any) map[string]any {
	for i := 0; s != nil && i < 5; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			break
		}
		s = asMap(g.components[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	return s
}

// value is a valid-looking value of the schema.
func (g *generator) value(schema map[string]any, depth int) any {
	s := g.resolve(schema)
	if s == nil || depth > 6 {
		return nil
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object", "":
		props := asMap(s["properties"])
		if props == nil && typ == "" {
			return g.scalar(s)
		}
		out := map[string]any{}
		for _, r := range asSlice(s["required"]) {
			out[fmt.Sprint(r)] = g.value(asMap(props[fmt.Sprint(r)]), depth+1)
		}
		return out
	case "array":
		n := 1
		if m, ok := s["minItems"].(float64); ok && int(m) > n {
			n = int(m)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(asMap(s["items"]), depth+1)
		}
		return out
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok && m > 1 {
			return m
		}
		return 1
	case "boolean":
		return true
	}
	return g.scalar(s)
}

func (g *generator) scalar(schema map[string]any) string {
	s := g.resolve(schema)
	if enum := asSlice(s["enum"]); len(enum) > 0 {
		return fmt.Sprint(enum[g.rng.IntN(len(enum))])
	}
	switch typ, _ := s["type"].(string); typ {
	case "integer", "number":
		return strconv.Itoa(1 + g.rng.IntN(50))
	case "boolean":
		return "true"
	}
	if p, _ := s["pattern"].(string); strings.Contains(p, `\.[0-9]{1,2}`) {
		return fmt.Sprintf("%d.00", 1+g.rng.IntN(20))
	}
	switch s["format"] {
	case "date-time":
		return time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	case "date":
		return time.Now().Format(time.DateOnly)
	}
	return fmt.Sprintf("fz%d", g.rng.IntN(1000))
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = asMap(m[k])
	}
	return m
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }

func clipS(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
