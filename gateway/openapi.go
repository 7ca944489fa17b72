package gateway

import (
	_ "embed"
	"fmt"

	"github.com/go-json-experiment/json"
)

//go:embed openapi.json
var openAPIDoc []byte

// renderOpenAPI returns the OpenAPI document with its server set to the
// gateway's public URL.
func renderOpenAPI(publicURL string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return nil, fmt.Errorf("gateway: openapi.json: %w", err)
	}
	doc["servers"] = []any{map[string]any{"url": publicURL}}
	return json.Marshal(doc, json.Deterministic(true))
}
