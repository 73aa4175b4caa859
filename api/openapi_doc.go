package api

// OpenAPIDocument returns the OpenAPI document the server serves at
// /api/v1/openapi.json, for tests that check answers against it.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPI...) }
