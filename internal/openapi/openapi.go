// Package openapi builds the OpenAPI 3.1 document the gateway serves at
// /openapi.json from what the running gateway does: its sayHello routes,
// the ways a caller must authenticate to them (from the config), every
// status they answer, and the OAuth 2.0 endpoints beside them.
//
// The fixed parts (schemas, responses, the OAuth operations) are in
// base.json (data, not code); Build adds the servers, the sayHello operations with their
// security, and the security schemes. To document a new way to
// authenticate, give Options.Security one more Scheme (see HTTPBasic and
// MutualTLS).
package openapi

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"

	"github.com/go-json-experiment/json"
)

//go:embed base.json
var base []byte

// Options are what the document describes.
type Options struct {
	// PublicURL is the gateway's base URL, the document's server.
	PublicURL string
	// SayHelloPaths are the JSON routes of sayHello, the canonical one first.
	SayHelloPaths []string
	// Security lists the ways a caller may prove who it is to call
	// sayHello, any one of which is enough; empty means sayHello is open.
	Security []Scheme
	// OAuth documents the authorization server's endpoints; nil leaves
	// them out (a gateway without one).
	OAuth *OAuth
}

// Scheme is one way to authenticate: an OpenAPI Security Scheme Object
// (OpenAPI 3.1 §4.8.27) and the scopes sayHello needs under it.
type Scheme struct {
	Name   string         // its key in components.securitySchemes
	Object map[string]any // the Security Scheme Object
	Scopes []string       // required scopes, for oauth2 schemes
}

// OAuth2 is the authorization code flow (RFC 6749 §4.1) of this gateway's
// authorization server, requiring scopes of sayHello.
func OAuth2(authorizeURL, tokenURL string, offered, required []string) Scheme {
	scopes := map[string]any{}
	for _, s := range offered {
		scopes[s] = "granted to the clients the config lists with it"
	}
	return Scheme{
		Name: "oauth2",
		Object: map[string]any{
			"type":        "oauth2",
			"description": "A bearer access token (RFC 6750) from this gateway's token endpoint.",
			"flows": map[string]any{
				"authorizationCode": map[string]any{
					"authorizationUrl": authorizeURL,
					"tokenUrl":         tokenURL,
					"refreshUrl":       tokenURL,
					"scopes":           scopes,
				},
			},
		},
		Scopes: required,
	}
}

// HTTPBasic is HTTP Basic authentication (RFC 7617).
func HTTPBasic(name, description string) Scheme {
	return Scheme{Name: name, Object: map[string]any{"type": "http", "scheme": "basic", "description": description}}
}

// MutualTLS is a TLS client certificate (RFC 8705 §2).
func MutualTLS(name, description string) Scheme {
	return Scheme{Name: name, Object: map[string]any{"type": "mutualTLS", "description": description}}
}

// OAuth names the authorization server's endpoints.
type OAuth struct {
	AuthorizePath, TokenPath, RevokePath, IntrospectPath, MetadataPath string
}

// Build returns the document, as deterministic JSON.
func Build(o Options) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi: base.json: %w", err)
	}
	doc["servers"] = []any{map[string]any{"url": o.PublicURL}}
	components := doc["components"].(map[string]any)
	// The OAuth path items, under their keys; placed at the configured paths.
	fixed := doc["x-hellogw-oauth"].(map[string]any)
	delete(doc, "x-hellogw-oauth")
	paths := map[string]any{}

	responses := map[string]any{
		"200": ref("responses", "Greeting"),
		"400": ref("responses", "BadRequest"),
		"413": ref("responses", "TooLarge"),
		"415": ref("responses", "UnsupportedType"),
		"500": ref("responses", "InternalError"),
		"502": ref("responses", "BadGateway"),
		"503": ref("responses", "Unavailable"),
		"504": ref("responses", "GatewayTimeout"),
	}
	var security []any
	if len(o.Security) > 0 {
		responses["401"] = ref("responses", "Unauthorized")
		responses["403"] = ref("responses", "Forbidden")
		schemes := map[string]any{}
		for _, s := range o.Security {
			schemes[s.Name] = s.Object
			security = append(security, map[string]any{s.Name: nonNil(s.Scopes)})
		}
		components["securitySchemes"] = schemes
	}
	for i, p := range o.SayHelloPaths {
		op := map[string]any{
			"operationId": "sayHello",
			"summary":     "Greet a person by first name",
			"tags":        []any{"Hello_Binding"},
			"requestBody": ref("requestBodies", "SayHelloRequest"),
			"responses":   responses,
		}
		if i > 0 {
			op["operationId"] = fmt.Sprintf("sayHello%d", i+1)
			op["summary"] = "Greet a person by first name (alias of " + o.SayHelloPaths[0] + ")"
		}
		if security != nil {
			op["security"] = security
		}
		paths[p] = map[string]any{"post": op}
	}

	if o.OAuth != nil {
		for key, path := range map[string]string{
			"authorize":  o.OAuth.AuthorizePath,
			"token":      o.OAuth.TokenPath,
			"revoke":     o.OAuth.RevokePath,
			"introspect": o.OAuth.IntrospectPath,
			"metadata":   o.OAuth.MetadataPath,
		} {
			item, ok := fixed[key]
			if !ok {
				return nil, fmt.Errorf("openapi: base.json has no %s operations", key)
			}
			paths[path] = item
		}
		schemes, _ := components["securitySchemes"].(map[string]any)
		if schemes == nil {
			schemes = map[string]any{}
			components["securitySchemes"] = schemes
		}
		schemes["clientSecretBasic"] = map[string]any{
			"type":        "http",
			"scheme":      "basic",
			"description": "The client's id and secret (RFC 6749 §2.3.1); client_id and client_secret in the form are accepted too.",
		}
	} else {
		for _, name := range slices.Collect(maps.Keys(components["schemas"].(map[string]any))) {
			if slices.Contains(oauthSchemas, name) {
				delete(components["schemas"].(map[string]any), name)
			}
		}
		for _, name := range oauthResponses {
			delete(components["responses"].(map[string]any), name)
		}
	}
	doc["paths"] = paths
	return json.Marshal(doc, json.Deterministic(true))
}

// The components only the OAuth operations use, dropped without them.
var (
	oauthSchemas   = []string{"OAuthToken", "OAuthError", "TokenRequest", "RevokeRequest", "IntrospectRequest", "Introspection", "Metadata", "AuthorizeForm"}
	oauthResponses = []string{"OAuthError", "OAuthUnauthorized", "OAuthThrottled", "Page"}
)

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
