package oauth_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlite"
)

// TestConfigYAML checks the yaml tags against testdata/oauth/config.yaml.
func TestConfigYAML(t *testing.T) {
	cfg := loadConfig(t)
	require.Len(t, cfg.Clients, 4)
	c := cfg.Clients[0]
	assert.Equal(t, "demo-app", c.ID)
	assert.Equal(t, "Demo App", c.Name)
	assert.True(t, strings.HasPrefix(c.SecretHash, "$2a$"))
	assert.Equal(t, []string{demoRedirect, "https://app.example/cb?tenant=1"}, c.RedirectURIs)
	assert.Equal(t, []string{"hello", "extra"}, c.Scopes)
	assert.True(t, cfg.Clients[3].AllowPlainPKCE)
	assert.Equal(t, "alice", cfg.Users[0].Username)
	assert.Equal(t, oauth.TokenTTLs{AccessTTL: time.Hour, RefreshTTL: 720 * time.Hour, CodeTTL: 5 * time.Minute}, cfg.Tokens)
}

// TestNewServerErrors: an invalid config is refused at start-up.
func TestNewServerErrors(t *testing.T) {
	okClient := func() oauth.Client {
		return oauth.Client{ID: "a", SecretHash: loadConfig(t).Clients[0].SecretHash, RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"hello"}}
	}
	tests := []struct {
		name string
		edit func(*oauth.Config)
	}{
		{"EmptyClientID", func(c *oauth.Config) {
			c.Clients = []oauth.Client{{RedirectURIs: []string{"https://a.example/cb"}, Secret: "s"}}
		}},
		{"DuplicateClientID", func(c *oauth.Config) { c.Clients = []oauth.Client{okClient(), okClient()} }},
		{"SecretAndHash", func(c *oauth.Config) { x := okClient(); x.Secret = "s"; c.Clients = []oauth.Client{x} }},
		{"NoSecret", func(c *oauth.Config) { x := okClient(); x.SecretHash = ""; c.Clients = []oauth.Client{x} }},
		{"BadHash", func(c *oauth.Config) { x := okClient(); x.SecretHash = "md5:abc"; c.Clients = []oauth.Client{x} }},
		{"BadArgon2Hash", func(c *oauth.Config) {
			x := okClient()
			x.SecretHash = "$argon2id$v=19$m=1$x$y"
			c.Clients = []oauth.Client{x}
		}},
		{"NoRedirectURI", func(c *oauth.Config) { x := okClient(); x.RedirectURIs = nil; c.Clients = []oauth.Client{x} }},
		{"RelativeRedirectURI", func(c *oauth.Config) {
			x := okClient()
			x.RedirectURIs = []string{"/cb"}
			c.Clients = []oauth.Client{x}
		}},
		{"RedirectURIWithFragment", func(c *oauth.Config) {
			x := okClient()
			x.RedirectURIs = []string{"https://a.example/cb#f"}
			c.Clients = []oauth.Client{x}
		}},
		{"InvalidScope", func(c *oauth.Config) { x := okClient(); x.Scopes = []string{`say"hi`}; c.Clients = []oauth.Client{x} }},
		{"EmptyUsername", func(c *oauth.Config) { c.Users = []oauth.User{{PasswordHash: c.Users[0].PasswordHash}} }},
		{"DuplicateUser", func(c *oauth.Config) { c.Users = []oauth.User{c.Users[0], c.Users[0]} }},
		{"NoPassword", func(c *oauth.Config) { c.Users = []oauth.User{{Username: "x"}} }},
		{"NegativeTTL", func(c *oauth.Config) { c.Tokens.AccessTTL = -time.Second }},
	}
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "oauth.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfig(t)
			tt.edit(&cfg)
			_, err := oauth.NewServer(cfg, store, nil, nil)
			require.Error(t, err)
		})
	}
	t.Run("NilStore", func(t *testing.T) {
		_, err := oauth.NewServer(loadConfig(t), nil, nil, nil)
		require.Error(t, err)
	})
	t.Run("MetricsRegisteredTwice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		_, err := oauth.NewServer(loadConfig(t), store, nil, reg)
		require.NoError(t, err)
		_, err = oauth.NewServer(loadConfig(t), store, nil, reg)
		require.Error(t, err)
	})
}

// TestPlainSecrets: plain secrets and passwords in the config work, and
// never show up when the config is printed or logged.
func TestPlainSecrets(t *testing.T) {
	const secret, password = "plain-client-secret-1", "plain-password-2"
	e := newEnv(t, func(c *oauth.Config) {
		c.Clients[0].SecretHash, c.Clients[0].Secret = "", secret
		c.Users[0].PasswordHash, c.Users[0].Password = "", password
	})
	resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoID + ":" + secret, form: "token=x"})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	cfg := oauth.Config{Clients: []oauth.Client{{ID: "a", Secret: secret}}, Users: []oauth.User{{Username: "u", Password: password}}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "client", cfg.Clients[0], "user", cfg.Users[0], "all", cfg)
	fmt.Fprintf(&buf, "%v %+v %s", cfg.Clients, cfg.Users[0], cfg.Clients[0])
	assert.NotContains(t, buf.String(), secret)
	assert.NotContains(t, buf.String(), password)
	assert.Contains(t, buf.String(), `"a"`)
}
