package main_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
				requireLoggedProblem(t, gw, resp, body, tt.status, tt.detail)
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

// TestAdminListenerBrowsers: the admin listener needs no token, so a web
// page open on the operator's machine, which reaches loopback, must not be
// able to change the migration (cross-site request forgery) nor read the
// answers through a name of its own pointed at 127.0.0.1 (DNS rebinding);
// `hellogw migrate` and a Prometheus scrape, by IP address, localhost or a
// name given in -admin-hosts, keep working.
func TestAdminListenerBrowsers(t *testing.T) {
	var failing atomic.Bool
	cfg := writeConfig(t, `
clients:
`+adminClients+`
migration:
  to: {kind: json, url: %q}
  weight: 10
  ramp: {steps: [20, 100], pause: 1h}`, newAPI(t, &failing))
	gw := startClientsGateway(t, "-config", cfg, "-store", filepath.Join(t.TempDir(), "hellogw.db"),
		"-pprof", "-admin-hosts", "hellogw.monitoring.svc, Hellogw")
	_, port, err := net.SplitHostPort(strings.TrimPrefix(gw.AdminURL, "http://"))
	require.NoError(t, err)
	send := func(t *testing.T, method, url, host, contentType, body string, headers ...string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return resp, string(raw)
	}
	const crossSite = "a browser's request from another site"
	evil := []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}

	t.Run("CrossSiteChangesRefused", func(t *testing.T) {
		for _, tc := range []struct {
			name, path, contentType, body string
			headers                       []string
		}{
			{"RollbackEmptyForm", "/admin/migration/rollback", "application/x-www-form-urlencoded", ``, evil},
			{"ResumeTextPlain", "/admin/migration/resume", "text/plain", `{"weight":100,"reason":"="}` + "\r\n", evil},
			{"RampJSON", "/admin/migration/ramp", "application/json", `{}`, evil},
			// A browser of before Sec-Fetch-Site: its Origin is not the Host.
			{"RampOriginOnly", "/admin/migration/ramp", "application/json", `{}`, []string{"Origin", "https://evil.example"}},
			// A site of the same registrable domain is another origin too.
			{"SameSite", "/admin/migration/rollback", "application/json", ``, []string{"Sec-Fetch-Site", "same-site"}},
			{"PprofSymbol", "/debug/pprof/symbol", "text/plain", `0x1`, evil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := send(t, http.MethodPost, gw.AdminURL+tc.path, "", tc.contentType, tc.body, tc.headers...)
				requireLoggedProblem(t, gw, resp, body, http.StatusForbidden, crossSite)
			})
		}
		assert.Equal(t, 10, weightOf(t, gw), "nothing changed")
	})
	t.Run("NotJSONRefusedWithoutOrigin", func(t *testing.T) {
		// What no browser sends cross-site still has to say it is JSON.
		resp, body := send(t, http.MethodPost, gw.AdminURL+"/admin/migration/resume", "", "text/plain", `{"weight":100,"reason":"="}`)
		requireLoggedProblem(t, gw, resp, body, http.StatusUnsupportedMediaType, "Content-Type: application/json")
		assert.Equal(t, 10, weightOf(t, gw), "nothing changed")
	})
	t.Run("ForeignHostRefused", func(t *testing.T) {
		for _, tc := range []struct{ method, path, host string }{
			{http.MethodGet, "/admin/migration", "evil.example:" + port},
			{http.MethodGet, "/metrics", "evil.example:" + port},
			{http.MethodGet, "/debug/pprof/cmdline", "evil.example"},
			{http.MethodGet, "/admin/migration", "hellogw.monitoring.svc.evil.example:" + port},
			{http.MethodGet, "/admin/migration", "localhost.evil.example:" + port},
			// Rebinding makes the request same-origin: the Host still tells.
			{http.MethodPost, "/admin/migration/rollback", "evil.example:" + port},
		} {
			t.Run(tc.method+tc.path+"@"+tc.host, func(t *testing.T) {
				resp, body := send(t, tc.method, gw.AdminURL+tc.path, tc.host, "application/json", ``, "Sec-Fetch-Site", "same-origin")
				requireLoggedProblem(t, gw, resp, body, http.StatusMisdirectedRequest, "the admin listener answers requests for its IP address")
				assert.NotContains(t, body, "hellogw_")
			})
		}
		assert.Equal(t, 10, weightOf(t, gw), "nothing changed")
	})
	t.Run("OwnHostsServed", func(t *testing.T) {
		for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST.:8443", "admin.localhost", "[::1]:9090",
			"10.0.0.5:19090", "hellogw.monitoring.svc:9090", "hellogw"} {
			resp, body := send(t, http.MethodGet, gw.AdminURL+"/admin/migration", host, "", ``)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", host, body)
		}
	})
	t.Run("SameOriginBrowserChanges", func(t *testing.T) {
		// A page of the admin listener itself (such as the dashboard) may.
		resp, body := send(t, http.MethodPut, gw.AdminURL+"/admin/migration/weight", "", "application/json", `{"weight": 20}`,
			"Origin", gw.AdminURL, "Sec-Fetch-Site", "same-origin")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, 20, weightOf(t, gw))
	})
	t.Run("MigrateCLI", func(t *testing.T) {
		res := migrateCLI(t, "set", "30", "-admin-url", gw.AdminURL, "-reason", "first step")
		require.Equal(t, 0, res.code, "%s", res)
		assert.Equal(t, "weight 30%, running\nreason: first step\n", res.stdout)
		res = migrateCLI(t, "rollback", "-admin-url", "http://localhost:"+port)
		require.Equal(t, 0, res.code, "%s", res)
		res = migrateCLI(t, "status", "-admin-url", "http://localhost:"+port)
		require.Equal(t, 0, res.code, "%s", res)
		assert.True(t, strings.HasPrefix(res.stdout, "weight 0%, rolled back"), res.stdout)
	})
	t.Run("PrometheusScrape", func(t *testing.T) {
		// A scrape as Prometheus 3 sends it, of a target by name.
		resp, body := send(t, http.MethodGet, gw.AdminURL+"/metrics", "hellogw.monitoring.svc:"+port, "", ``,
			"Accept", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
			"User-Agent", "Prometheus/3.5.0", "X-Prometheus-Scrape-Timeout-Seconds", "10")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		require.NoError(t, err)
		require.Contains(t, families, "hellogw_migration_weight")
		assert.Equal(t, 0.0, families["hellogw_migration_weight"].GetMetric()[0].GetGauge().GetValue())
	})
	t.Run("PublicPortCrossSiteRefused", func(t *testing.T) {
		conf := clientcredentials.Config{ClientID: "prometheus", ClientSecret: "prometheus-secret", TokenURL: gw.URL + "/odfksdlfksld345345fdgdfg3453"}
		tok, err := conf.Token(t.Context())
		require.NoError(t, err)
		resp, body := send(t, http.MethodPost, gw.URL+"/admin/migration/resume", "", "text/plain", `{"weight":100,"reason":"="}`,
			append([]string{"Authorization", "Bearer " + tok.AccessToken}, evil...)...)
		requireLoggedProblem(t, gw, resp, body, http.StatusForbidden, crossSite)
		resp, body = send(t, http.MethodPost, gw.URL+"/admin/migration/resume", "", "text/plain", `{"weight":100,"reason":"="}`,
			"Authorization", "Bearer "+tok.AccessToken)
		requireLoggedProblem(t, gw, resp, body, http.StatusUnsupportedMediaType, "Content-Type: application/json")
		assert.Equal(t, 0, weightOf(t, gw), "nothing changed")
	})
}

// requireLoggedProblem checks a refusal: a problem like the gateway's
// others, with the status, a detail holding detail, and the request id in
// the body and the header, whose request log line the gateway wrote.
func requireLoggedProblem(t *testing.T, gw *clientsGateway, resp *http.Response, body string, status int, detail string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, body)
	var p struct {
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &p), body)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, status, p.Status)
	assert.Contains(t, p.Detail, detail)
	require.NotEmpty(t, p.RequestID)
	assert.Equal(t, resp.Header.Get("X-Request-Id"), p.RequestID)
	require.Eventually(t, func() bool {
		return strings.Contains(gw.logs(), `"request_id":"`+p.RequestID+`"`)
	}, 5*time.Second, 50*time.Millisecond, "the refusal has its request log line")
}
