package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestMetadata checks RFC 8414 §2 and §3: every endpoint is named, under the issuer.
func TestMetadata(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.ts.Client().Get(e.ts.URL + oauth.MetadataPath)
	require.NoError(t, err)
	body := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	m := jsonBody(t, body)
	iss := e.ts.URL
	assert.Equal(t, iss, m["issuer"])
	assert.Equal(t, iss+"/authorize", m["authorization_endpoint"])
	assert.Equal(t, iss+"/odfksdlfksld345345fdgdfg3453", m["token_endpoint"])
	assert.Equal(t, iss+"/oauth/revoke", m["revocation_endpoint"])
	assert.Equal(t, iss+"/oauth/introspect", m["introspection_endpoint"])
	assert.Equal(t, []any{"code"}, m["response_types_supported"])
	assert.Equal(t, []any{"authorization_code", "refresh_token", "client_credentials"}, m["grant_types_supported"])
	assert.Equal(t, []any{"client_secret_basic", "client_secret_post"}, m["token_endpoint_auth_methods_supported"])
	assert.Equal(t, []any{"S256", "plain"}, m["code_challenge_methods_supported"], "plain-app allows plain")
	assert.Equal(t, []any{"extra", "hello"}, m["scopes_supported"])
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])
}

// TestMetadataIssuerFromRequest: without a configured issuer, the request's
// origin is the issuer.
func TestMetadataIssuerFromRequest(t *testing.T) {
	e := newEnv(t, nil)
	srv, err := oauth.NewServer(loadConfig(t), e.store, nil, nil)
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://gw.example:8080"+oauth.MetadataPath, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	m := jsonBody(t, rec.Body.String())
	assert.Equal(t, "http://gw.example:8080", m["issuer"])
	assert.Equal(t, "http://gw.example:8080/authorize", m["authorization_endpoint"])
}

// TestMetadataIssuerTrailingSlash: a configured issuer loses its trailing
// slash, so endpoint URLs have no double slash.
func TestMetadataIssuerTrailingSlash(t *testing.T) {
	e := newEnv(t, nil)
	cfg := loadConfig(t)
	cfg.Issuer = "https://gw.example/"
	srv, err := oauth.NewServer(cfg, e.store, nil, nil)
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, oauth.MetadataPath, nil))
	m := jsonBody(t, rec.Body.String())
	assert.Equal(t, "https://gw.example", m["issuer"])
	assert.Equal(t, "https://gw.example/odfksdlfksld345345fdgdfg3453", m["token_endpoint"])
}
