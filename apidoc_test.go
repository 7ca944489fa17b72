package main

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// served fetches /openapi.json and checks it against the OpenAPI 3.1
// specification's schema with a real validator (pb33f/libopenapi-validator);
// it returns the validator, for exchanges to be checked against the document.
func served(t *testing.T, base string) (validator.Validator, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := libopenapi.NewDocument(body)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("openapi.json: %s: %s", e.Message, e.Reason)
	}
	require.True(t, ok, "the served document is not valid OpenAPI 3.1")
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	assert.Equal(t, "3.1.0", m["openapi"])
	return v, m
}

// exchange makes a request and checks the answer against the document: its
// status must be documented for the operation and its body fit the schema.
// With checkRequest, the request must fit the document too.
func exchange(t *testing.T, v validator.Validator, req *http.Request, checkRequest bool) *http.Response {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	req.Body = io.NopCloser(bytes.NewReader(reqBody))

	var ok bool
	var errs []*verrors.ValidationError
	if checkRequest {
		ok, errs = v.ValidateHttpRequestResponse(req, resp)
	} else {
		ok, errs = v.ValidateHttpResponse(req, resp)
	}
	for _, e := range errs {
		t.Errorf("%s %s → %d: %s: %s", req.Method, req.URL.Path, resp.StatusCode, e.Message, e.Reason)
	}
	assert.True(t, ok, "%s %s → %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// TestOpenAPIFromConfig: the document the running gateway serves is valid
// OpenAPI 3.1, names the security the config demands, and documents every
// answer real requests get, sayHello's and the OAuth endpoints'.
func TestOpenAPIFromConfig(t *testing.T) {
	t.Run("Open", func(t *testing.T) {
		g := startInProcess(t)
		v, doc := served(t, g.URL)
		op := doc["paths"].(map[string]any)["/sayHello"].(map[string]any)["post"].(map[string]any)
		assert.NotContains(t, op, "security", "sayHello is open by default")
		assert.NotContains(t, op["responses"], "401")
		for _, p := range []string{"/SayHello/sayHello", "/sayHello", "/odfksdlfksld345345fdgdfg3453", "/oauth/revoke", "/oauth/introspect", "/authorize", "/.well-known/oauth-authorization-server"} {
			assert.Contains(t, doc["paths"], p)
		}

		post := func(path, ctype, body string) *http.Request {
			req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", ctype)
			return req
		}
		assert.Equal(t, 200, exchange(t, v, post("/sayHello", "application/json", `{"firstName":"Ada"}`), true).StatusCode)
		assert.Equal(t, 200, exchange(t, v, post("/SayHello/sayHello", "application/json", `{"firstName":"Ada"}`), true).StatusCode)
		assert.Equal(t, 400, exchange(t, v, post("/sayHello", "application/json", `{"firstName":""}`), false).StatusCode)
		assert.Equal(t, 400, exchange(t, v, post("/sayHello", "application/json", `{`), false).StatusCode)
		assert.Equal(t, 415, exchange(t, v, post("/sayHello", "text/plain", `{"firstName":"Ada"}`), false).StatusCode)
		big := `{"firstName":"` + strings.Repeat("a", 2<<20) + `"}`
		assert.Equal(t, 413, exchange(t, v, post("/sayHello", "application/json", big), false).StatusCode)
	})

	t.Run("RequireToken", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "hellogw.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(`
sayhello: {require_token: true}
clients:
  - id: api
    secret: api-secret
    grant_types: [client_credentials]
    scopes: [hello, other]
  - id: demo-app
    secret: demo-secret
    redirect_uris: ["http://127.0.0.1:9999/callback"]
    scopes: [hello, profile]
users:
  - {username: alice, password: alice-password}
`), 0o600))
		g := startInProcess(t, "-config", cfg)
		v, doc := served(t, g.URL)

		schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
		oauth2 := schemes["oauth2"].(map[string]any)
		flow := oauth2["flows"].(map[string]any)["authorizationCode"].(map[string]any)
		assert.Equal(t, g.URL+"/authorize", flow["authorizationUrl"])
		assert.Equal(t, g.URL+"/odfksdlfksld345345fdgdfg3453", flow["tokenUrl"])
		assert.Equal(t, []string{"hello", "other", "profile"}, keys(flow["scopes"]))
		op := doc["paths"].(map[string]any)["/sayHello"].(map[string]any)["post"].(map[string]any)
		assert.Equal(t, []any{map[string]any{"oauth2": []any{"hello"}}}, op["security"], "the scope sayhello.scope names")
		for _, status := range []string{"200", "400", "401", "403", "413", "415", "500", "502", "503", "504"} {
			assert.Contains(t, op["responses"], status)
		}

		form := func(path string, values url.Values, id, secret string) *http.Request {
			req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(values.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if id != "" {
				req.SetBasicAuth(id, secret)
			}
			return req
		}
		const tokenPath = "/odfksdlfksld345345fdgdfg3453"
		resp := exchange(t, v, form(tokenPath, url.Values{"grant_type": {"client_credentials"}, "scope": {"hello"}}, "api", "api-secret"), true)
		require.Equal(t, 200, resp.StatusCode)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
		assert.Equal(t, 400, exchange(t, v, form(tokenPath, url.Values{"grant_type": {"password"}}, "api", "api-secret"), true).StatusCode)
		assert.Equal(t, 401, exchange(t, v, form(tokenPath, url.Values{"grant_type": {"client_credentials"}}, "api", "wrong"), false).StatusCode)

		call := func(token, body string) *http.Request {
			req, err := http.NewRequest(http.MethodPost, g.URL+"/sayHello", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return req
		}
		assert.Equal(t, 200, exchange(t, v, call(tok.AccessToken, `{"firstName":"Ada"}`), true).StatusCode)
		assert.Equal(t, 400, exchange(t, v, call(tok.AccessToken, `{"firstName":7}`), false).StatusCode)
		assert.Equal(t, 401, exchange(t, v, call("", `{"firstName":"Ada"}`), false).StatusCode)
		resp = exchange(t, v, form(tokenPath, url.Values{"grant_type": {"client_credentials"}, "scope": {"other"}}, "api", "api-secret"), true)
		var other struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&other))
		assert.Equal(t, 403, exchange(t, v, call(other.AccessToken, `{"firstName":"Ada"}`), false).StatusCode, "insufficient_scope")
		assert.Equal(t, 401, exchange(t, v, call("not-a-token", `{"firstName":"Ada"}`), false).StatusCode)

		assert.Equal(t, 200, exchange(t, v, form("/oauth/introspect", url.Values{"token": {tok.AccessToken}}, "api", "api-secret"), true).StatusCode)
		assert.Equal(t, 200, exchange(t, v, form("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, "api", "api-secret"), true).StatusCode)
		assert.Equal(t, 401, exchange(t, v, form("/oauth/revoke", url.Values{"token": {tok.AccessToken}}, "api", "wrong"), false).StatusCode)

		get := func(path string) *http.Request {
			req, err := http.NewRequest(http.MethodGet, g.URL+path, nil)
			require.NoError(t, err)
			return req
		}
		assert.Equal(t, 200, exchange(t, v, get("/.well-known/oauth-authorization-server"), true).StatusCode)
		q := url.Values{"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {"http://127.0.0.1:9999/callback"},
			"scope": {"hello"}, "state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		assert.Equal(t, 200, exchange(t, v, get("/authorize?"+q.Encode()), true).StatusCode, "the login page")
		q.Set("client_id", "nobody")
		assert.Equal(t, 400, exchange(t, v, get("/authorize?"+q.Encode()), true).StatusCode, "an error page, never a redirect")
		q.Set("client_id", "demo-app")
		q.Set("scope", "admin")
		assert.Equal(t, 303, exchange(t, v, get("/authorize?"+q.Encode()), true).StatusCode, "invalid_scope goes back to the client")
	})

	// Legacy credentials the config allows are security schemes too, each
	// an alternative to the token.
	t.Run("Legacy", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "hellogw.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte(`
sayhello: {require_token: true}
clients:
  - id: legacy
    secret: legacy-secret
    grant_types: [client_credentials]
    scopes: [hello]
    legacy: {basic: true, tls_thumbprint: 0000000000000000000000000000000000000000000000000000000000000000}
`), 0o600))
		g := startInProcess(t, "-config", cfg)
		v, doc := served(t, g.URL)
		schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
		assert.Equal(t, "basic", schemes["legacyBasic"].(map[string]any)["scheme"])
		assert.Equal(t, "mutualTLS", schemes["legacyMutualTLS"].(map[string]any)["type"])
		op := doc["paths"].(map[string]any)["/sayHello"].(map[string]any)["post"].(map[string]any)
		assert.Equal(t, []any{
			map[string]any{"oauth2": []any{"hello"}}, map[string]any{"legacyBasic": []any{}}, map[string]any{"legacyMutualTLS": []any{}},
		}, op["security"])
		req, err := http.NewRequest(http.MethodPost, g.URL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("legacy", "legacy-secret")
		assert.Equal(t, 200, exchange(t, v, req, true).StatusCode)
	})
}

func keys(m any) []string {
	return slices.Sorted(maps.Keys(m.(map[string]any)))
}
