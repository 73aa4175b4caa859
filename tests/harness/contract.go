package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/voltflow/voltflow/api"
)

// contract checks requests and answers against api/openapi.json with
// kin-openapi, so the document cannot drift from what the API does.
type contract struct {
	router routers.Router
	// checked counts the exchanges validated, for the log at Stop.
	checked atomic.Int64
}

// newContract loads the document the API serves, with its server set to
// base (the test server's URL) so the router matches the test requests.
func newContract(ctx context.Context, base string) (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIDocument())
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid document: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.json router: %w", err)
	}
	return &contract{router: router}, nil
}

// check validates one exchange: the request (with its body) and the answer.
// A request the document refuses must be refused by the API too (4xx); an
// answer must match the documented status and schema. Binary answers (xlsx,
// pdf, csv) are checked by content type only.
func (k *contract) check(req *http.Request, body []byte, status int, header http.Header, answer []byte) error {
	ctx := context.Background()
	req = req.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // an undocumented path the API does not serve either
		}
		return fmt.Errorf("no documented operation: %w", err)
	}
	k.checked.Add(1)
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var errs []error
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && (status < 400 || status >= 500) {
		errs = append(errs, fmt.Errorf("request refused by the document but answered %d: %w", status, err))
	}
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if !strings.HasSuffix(ct, "json") && len(answer) > 0 {
		if err := k.contentType(route, status, ct); err != nil {
			errs = append(errs, err)
		}
		opts = &openapi3filter.Options{AuthenticationFunc: opts.AuthenticationFunc, IncludeResponseStatus: true, ExcludeResponseBody: true}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: opts}
	out.SetBodyBytes(answer)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		errs = append(errs, fmt.Errorf("answer: %w", err))
	}
	return errors.Join(errs...)
}

// contentType checks a binary answer's content type is one the document
// lists for its status.
func (k *contract) contentType(route *routers.Route, status int, ct string) error {
	r := route.Operation.Responses.Status(status)
	if r == nil {
		r = route.Operation.Responses.Default()
	}
	if r == nil || r.Value == nil {
		return fmt.Errorf("answer %d: status not documented", status)
	}
	if r.Value.Content.Get(ct) == nil {
		return fmt.Errorf("answer %d: content type %q not documented", status, ct)
	}
	return nil
}
