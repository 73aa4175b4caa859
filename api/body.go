package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

const maxBody = 1 << 20

// decode is the one way a handler reads a JSON body. In order: at most
// maxBody bytes (413 beyond), valid UTF-8 JSON with nothing after it, no
// NUL or control character in any string (400 invalid_text, naming the
// field, and the refused value kept in the audit record), the operation's
// request schema in the OpenAPI document (required fields present and not
// null, types, enums, bounds: 422), then a strict decode into v (unknown
// fields refused). It writes the problem and returns false on failure.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if f := refusedParam(r); f != nil { // a write whose audit did not refuse it
		f.write(w)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, CodeMalformed, fmt.Sprintf("request body is over %d bytes", tooLarge.Limit))
		return false
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "request body could not be read")
		return false
	}
	if !utf8.Valid(body) {
		noteRefused(r, "body", string(body))
		writeProblem(w, http.StatusBadRequest, CodeInvalidText, "request body is not valid UTF-8")
		return false
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, jsonSyntaxDetail(err))
		return false
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		writeProblem(w, http.StatusBadRequest, CodeMalformed, "request body: data after the JSON value")
		return false
	}
	if field, value, rule := badText(doc, ""); rule != "" {
		noteRefused(r, field, value)
		writeProblemField(w, http.StatusBadRequest, CodeInvalidText, field+" "+rule, field)
		return false
	}
	strict := json.NewDecoder(bytes.NewReader(body))
	strict.DisallowUnknownFields()
	err = strict.Decode(v)
	field, detail := decodeDetail(err)
	if err != nil && field == "" { // an unknown field is a malformed request before it is an invalid one
		writeProblemField(w, http.StatusBadRequest, CodeMalformed, detail, field)
		return false
	}
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		if p := bodySchemas().check(r.Method, rctx.RoutePattern(), doc); p != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, p.code, p.field+" "+p.rule, p.field)
			return false
		}
	}
	if err != nil {
		writeProblemField(w, http.StatusBadRequest, CodeMalformed, detail, field)
		return false
	}
	return true
}

// checkFormat refuses a business number that breaks its format
// (domain/identifier) with 422 invalid_field naming the field, and reports
// false. An empty value passes: each handler already says what a missing
// one means.
func checkFormat(w http.ResponseWriter, field, value string, format func(string) error) bool {
	if value == "" {
		return true
	}
	if err := format(value); err != nil {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, field+" "+err.Error(), field)
		return false
	}
	return true
}

func jsonSyntaxDetail(err error) string {
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return "request body is required"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "request body: JSON ends early"
	case errors.As(err, &syntax):
		return fmt.Sprintf("request body is not JSON (byte %d): %s", syntax.Offset, syntax.Error())
	}
	return "request body is not JSON"
}

// decodeDetail says what a strict decode refused in the API's words: the
// field and the JSON type it needs, never a Go type name.
func decodeDetail(err error) (field, detail string) {
	if err == nil {
		return "", ""
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field = nonEmpty(typ.Field)
		return field, fmt.Sprintf("%s must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return "", "unknown field " + name
	}
	return "", "request body: " + err.Error()
}

func jsonKind(goKind string) string {
	switch {
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "true or false"
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"):
		return "a whole number"
	case strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "slice", goKind == "array":
		return "an array"
	}
	return "an object"
}

// badText finds the first string (value or key) in a decoded JSON value
// that breaks the text rules, with its field path.
func badText(v any, path string) (field, value, rule string) {
	switch v := v.(type) {
	case string:
		if rule := textRule(v, true); rule != "" {
			return nonEmpty(path), v, rule
		}
	case []any:
		for i, e := range v {
			if f, val, rule := badText(e, fmt.Sprintf("%s[%d]", path, i)); rule != "" {
				return f, val, rule
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same field named on every try
		for _, k := range keys {
			if rule := textRule(k, false); rule != "" {
				return nonEmpty(path), k, "has a field name that " + rule
			}
			if f, val, rule := badText(v[k], join(path, k)); rule != "" {
				return f, val, rule
			}
		}
	}
	return "", "", ""
}

func nonEmpty(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// schemaProblem is a body the OpenAPI document refuses.
type schemaProblem struct{ field, rule, code string }

// schemas are the request bodies of the OpenAPI document by "METHOD
// pattern", with the document's components to resolve $ref.
type schemas struct {
	ops        map[string]map[string]any
	query      map[string]map[string]map[string]any // "METHOD pattern" → query parameter → schema
	components map[string]any
}

// bodySchemas parses the embedded document once; it never changes after.
var bodySchemas = sync.OnceValue(func() *schemas {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct{ Schemas map[string]any }
	}
	s := &schemas{ops: map[string]map[string]any{}, query: map[string]map[string]map[string]any{}}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return s // TestOpenAPIDocument fails on a broken document
	}
	s.components = doc.Components.Schemas
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				RequestBody struct {
					Content map[string]struct{ Schema map[string]any }
				}
				Parameters []struct {
					Name, In string
					Schema   map[string]any
				}
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			for _, p := range op.Parameters {
				if p.In == "query" && p.Schema != nil {
					key := strings.ToUpper(method) + " " + path
					if s.query[key] == nil {
						s.query[key] = map[string]map[string]any{}
					}
					s.query[key][p.Name] = p.Schema
				}
			}
			if c, ok := op.RequestBody.Content["application/json"]; ok && c.Schema != nil {
				s.ops[strings.ToUpper(method)+" "+path] = c.Schema
			}
		}
	}
	return s
})

// checkQuery checks a query parameter against its schema in the document:
// a number where one is documented (400), its bounds and enum (422).
func (s *schemas) checkQuery(method, pattern, name, value string) *refusal {
	schema := s.query[method+" "+pattern][name]
	if schema == nil {
		return nil
	}
	var v any = value
	switch t, _ := schema["type"].(string); t {
	case "integer", "number":
		if _, err := strconv.ParseFloat(value, 64); err != nil || (t == "integer" && strings.ContainsAny(value, ".eE")) {
			return &refusal{field: name, rule: "must be a " + map[string]string{"integer": "whole number", "number": "number"}[t],
				value: escapeText(value), status: http.StatusBadRequest, code: CodeMalformed}
		}
		v = json.Number(value)
	case "boolean":
		if value != "true" && value != "false" {
			return &refusal{field: name, rule: "must be true or false", value: escapeText(value),
				status: http.StatusBadRequest, code: CodeInvalidField}
		}
		v = value == "true"
	case "string", "":
	default:
		return nil // arrays and objects: the handler reads them
	}
	if p := s.value(schema, v, name, false); p != nil {
		return &refusal{field: name, rule: p.rule, value: escapeText(value), status: http.StatusUnprocessableEntity, code: CodeInvalidField}
	}
	return nil
}

const moneyRef = "#/components/schemas/Money"

// moneyPattern is the document's pattern for an amount given inline: a
// decimal string with at most 2 places, as money.Parse accepts it.
const moneyPattern = `^-?[0-9]+(\.[0-9]{1,2})?$`

func (s *schemas) check(method, pattern string, v any) *schemaProblem {
	schema, ok := s.ops[method+" "+pattern]
	if !ok {
		return nil
	}
	return s.value(schema, v, "", false)
}

// value checks v against the subset of JSON Schema the document uses:
// type, required (null counts as absent), enum, minimum/maximum,
// minLength/maxLength, minItems/maxItems, properties and items. Patterns
// and formats are left to the handlers, which know the exact rules.
func (s *schemas) value(schema map[string]any, v any, path string, money bool) *schemaProblem {
	if ref, ok := schema["$ref"].(string); ok {
		money = money || ref == moneyRef
		target, _ := s.components[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		if target == nil {
			return nil
		}
		schema = target
	}
	if p, _ := schema["pattern"].(string); p == moneyPattern {
		money = true
	}
	code := fieldCode(path, money)
	bad := func(rule string) *schemaProblem { return &schemaProblem{nonEmpty(path), rule, code} }
	if v == nil {
		return nil // null is absence; required fields are checked by the object holding them
	}
	if want := schemaTypes(schema); len(want) > 0 && !slices.Contains(want, jsonType(v)) &&
		!(jsonType(v) == "integer" && slices.Contains(want, "number")) {
		if money {
			return bad(`must be a decimal string, e.g. "100.00"`)
		}
		return bad("must be " + strings.Join(want, " or ") + ", not " + jsonType(v))
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		words := make([]string, len(enum))
		for i, e := range enum {
			words[i] = fmt.Sprint(e)
		}
		return bad("must be one of " + strings.Join(words, ", "))
	}
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return bad("is not a number")
		}
		if m, ok := schema["minimum"].(float64); ok && f < m {
			return bad("must be at least " + strconv.FormatFloat(m, 'f', -1, 64))
		}
		if m, ok := schema["maximum"].(float64); ok && f > m {
			return bad("must be at most " + strconv.FormatFloat(m, 'f', -1, 64))
		}
	case string:
		n := float64(utf8.RuneCountInString(v))
		if m, ok := schema["minLength"].(float64); ok && n < m {
			return bad("must be at least " + strconv.FormatFloat(m, 'f', -1, 64) + " characters")
		}
		if m, ok := schema["maxLength"].(float64); ok && n > m {
			return bad("must be at most " + strconv.FormatFloat(m, 'f', -1, 64) + " characters")
		}
	case []any:
		if m, ok := schema["minItems"].(float64); ok && float64(len(v)) < m {
			return bad("needs at least " + strconv.FormatFloat(m, 'f', -1, 64) + " items")
		}
		if m, ok := schema["maxItems"].(float64); ok && float64(len(v)) > m {
			return bad("takes at most " + strconv.FormatFloat(m, 'f', -1, 64) + " items")
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				if p := s.value(items, e, fmt.Sprintf("%s[%d]", path, i), false); p != nil {
					return p
				}
			}
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if required, ok := schema["required"].([]any); ok {
			for _, name := range required {
				name, _ := name.(string)
				prop, _ := props[name].(map[string]any)
				if v[name] == nil && !slices.Contains(schemaTypes(prop), "null") && prop["nullable"] != true {
					return &schemaProblem{join(path, name), "is required", fieldCode(join(path, name), isMoney(prop))}
				}
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if prop, ok := props[k].(map[string]any); ok {
				if p := s.value(prop, v[k], join(path, k), false); p != nil {
					return p
				}
			}
		}
	}
	return nil
}

// fieldCode is the problem code of a refused field: the codes clients
// already match on for an amount and for a meter or dispatch command.
func fieldCode(path string, money bool) string {
	switch {
	case money:
		return CodeInvalidAmount
	case path == "command" || strings.HasSuffix(path, ".command"):
		return CodeUnknownCommand
	}
	return CodeInvalidField
}

func isMoney(prop map[string]any) bool {
	ref, _ := prop["$ref"].(string)
	p, _ := prop["pattern"].(string)
	return ref == moneyRef || p == moneyPattern
}

func schemaTypes(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		if f, err := v.Float64(); err == nil && f == float64(int64(f)) && !strings.ContainsAny(v.String(), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}
