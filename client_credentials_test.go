package main_test

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestClientCredentialsBinary: a machine client of the real binary gets a
// token with golang.org/x/oauth2/clientcredentials (RFC 6749 §4.4) and
// calls the protected sayHello with it; the metadata lists the grant.
func TestClientCredentialsBinary(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hellogw.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`
sayhello:
  require_token: true
clients:
  - id: batch-job
    secret: batch-secret
    grant_types: [client_credentials]
    scopes: [hello]
`), 0o600))
	gw := startClientsGateway(t, "-config", cfgPath, "-store", filepath.Join(dir, "hellogw.db"))

	var meta struct {
		GrantTypes []string `json:"grant_types_supported"`
	}
	getJSON(t, gw.URL+"/.well-known/oauth-authorization-server", &meta)
	assert.Contains(t, meta.GrantTypes, "client_credentials")

	conf := clientcredentials.Config{ClientID: "batch-job", ClientSecret: "batch-secret", TokenURL: gw.URL + "/odfksdlfksld345345fdgdfg3453", Scopes: []string{"hello"}}
	tok, err := conf.Token(t.Context())
	require.NoError(t, err)
	assert.Empty(t, tok.RefreshToken)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
	assertSayHello(t, gw.URL, tok.AccessToken, http.StatusOK)

	// The client's http.Client sends the token on each call.
	resp, err := conf.Client(t.Context()).Post(gw.URL+"/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(body))

	conf.ClientSecret = "wrong"
	_, err = conf.Token(t.Context())
	var rerr *oauth2.RetrieveError
	require.True(t, errors.As(err, &rerr), "%v", err)
	assert.Equal(t, "invalid_client", rerr.ErrorCode)
}
