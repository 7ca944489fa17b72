package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"
)

// adminClients, added to the OAuth test config's clients, are one for
// Prometheus, which gets admin tokens with the client_credentials grant, and
// one without the admin scope.
const adminClients = `  - id: prometheus
    secret: prometheus-secret
    grant_types: [client_credentials]
    scopes: ["admin"]
  - id: batch-job
    secret: batch-secret
    grant_types: [client_credentials]
    scopes: ["hello"]
`

// TestAdminSurface: /metrics and /admin/* need an admin-scope bearer token on
// the public port, which Prometheus gets as its scrape_config's oauth2
// section does (client_credentials, played here by
// golang.org/x/oauth2/clientcredentials); on -admin-addr they need none,
// and nothing else is served there.
func TestAdminSurface(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hellogw.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(oauthTestConfig, "users:", adminClients+"users:", 1)), 0o600))
	gw := startClientsGateway(t, "-config", cfg, "-store", filepath.Join(dir, "hellogw.db"))
	token := func(t *testing.T, id, secret string) string {
		t.Helper()
		conf := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: gw.URL + "/odfksdlfksld345345fdgdfg3453"}
		tok, err := conf.Token(t.Context())
		require.NoError(t, err)
		return tok.AccessToken
	}
	get := func(t *testing.T, method, url, bearer string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return resp, string(body)
	}

	tests := []struct {
		name, method, path, bearer string
		status                     int
		challenge                  string // in WWW-Authenticate
		detail                     string // of the problem
	}{
		{"NoToken", http.MethodGet, "/metrics", "", http.StatusUnauthorized, `Bearer realm="hellogw admin", scope="admin"`, "this route needs a bearer token with the admin scope"},
		{"NoTokenHEAD", http.MethodHead, "/metrics", "", http.StatusUnauthorized, `Bearer realm=`, ""},
		{"NoTokenAdminRoute", http.MethodGet, "/admin/shadow", "", http.StatusUnauthorized, `Bearer realm=`, "this route needs a bearer token with the admin scope"},
		{"NoTokenEscapedPath", http.MethodGet, "/%6detrics", "", http.StatusUnauthorized, `Bearer realm=`, "this route needs a bearer token with the admin scope"},
		{"NoTokenDotSegments", http.MethodGet, "/admin/../metrics", "", http.StatusUnauthorized, `Bearer realm=`, "this route needs a bearer token with the admin scope"},
		{"TrailingSlashIsNoRoute", http.MethodGet, "/metrics/", "", http.StatusNotFound, "", "no such resource"},
		{"UnknownToken", http.MethodGet, "/metrics", "not-a-token", http.StatusUnauthorized, `error="invalid_token"`, "the access token is not valid: it is unknown, expired or revoked"},
		{"NoAdminScope", http.MethodGet, "/metrics", token(t, "batch-job", "batch-secret"), http.StatusForbidden, `error="insufficient_scope"`, "the access token does not have the admin scope"},
		{"AdminToken", http.MethodGet, "/metrics", token(t, "prometheus", "prometheus-secret"), http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.method, gw.URL+tt.path, tt.bearer)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.challenge != "" {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), tt.challenge)
				assert.NotContains(t, body, "hellogw_requests_total")
			}
			if tt.status == http.StatusOK {
				assert.Contains(t, body, "hellogw_requests_total")
			}
			if tt.detail != "" {
				// A problem like the gateway's others: the request id
				// in the body and the header, for the log line.
				var p struct {
					Status    int    `json:"status"`
					Detail    string `json:"detail"`
					RequestID string `json:"request_id"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &p), body)
				assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
				assert.Equal(t, tt.status, p.Status)
				assert.Equal(t, tt.detail, p.Detail)
				assert.NotEmpty(t, p.RequestID)
				assert.Equal(t, resp.Header.Get("X-Request-Id"), p.RequestID)
				require.Eventually(t, func() bool { return strings.Contains(gw.logs(), `"request_id":"`+p.RequestID+`"`) },
					5*time.Second, 50*time.Millisecond, "the refusal has its request log line")
			}
		})
	}
	t.Run("AdminListener", func(t *testing.T) {
		resp, body := get(t, http.MethodGet, gw.AdminURL+"/metrics", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, "hellogw_requests_total")
		resp, _ = get(t, http.MethodGet, gw.AdminURL+"/healthz", "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		for _, path := range []string{"/SayHello/?wsdl", "/authorize", "/odfksdlfksld345345fdgdfg3453"} {
			resp, _ = get(t, http.MethodGet, gw.AdminURL+path, "")
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		}
	})
}

// TestAdminAddrWarning: an admin listener on a non-loopback address is
// served, with a warning in the log.
func TestAdminAddrWarning(t *testing.T) {
	gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-admin-addr", "0.0.0.0:0")
	require.Eventually(t, func() bool {
		return strings.Contains(gw.logs(), "the admin listener is not on a loopback address")
	}, 5*time.Second, 50*time.Millisecond)
	assert.NotContains(t, gw.AdminURL, "127.0.0.1")
}
