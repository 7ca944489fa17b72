package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/oauth"
)

// load writes yaml to a file and loads it.
func load(t *testing.T, yaml string) (config.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hellogw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	return config.Load(path)
}

func TestDefault(t *testing.T) {
	cfg, err := config.Load("")
	require.NoError(t, err)
	assert.Equal(t, config.Default(), cfg)
	assert.Equal(t, config.KindLocal, cfg.Backend.Kind)
	assert.Equal(t, 2*time.Second, cfg.Backend.Timeout)
	assert.Empty(t, cfg.Shadow.Kind, "no shadow unless configured")
	assert.False(t, cfg.Shadow.Admin)
}

func TestMigration(t *testing.T) {
	t.Run("OKSpecExample", func(t *testing.T) {
		cfg, err := load(t, `
greeting: "Hello, {firstName}!"
backend:
  kind: local
  url: ""
  timeout: 2s
shadow:
  kind: ""
  url: ""
`)
		require.NoError(t, err)
		assert.Equal(t, config.Default(), cfg)
	})
	t.Run("OKEveryKey", func(t *testing.T) {
		cfg, err := load(t, `
backend:
  kind: soap
  url: http://legacy.example:8080/SayHello/
  timeout: 1500ms
  max_conns: 8
  forward_authorization: true
  breaker: {failures: 3, cooldown: 30s}
shadow:
  kind: json
  url: https://new.example/api
  max_in_flight: 4
  forward_authorization: true
  log_names: true
  admin: true
  sample_size: 5
`)
		require.NoError(t, err)
		assert.Equal(t, config.Backend{
			Kind: "soap", URL: "http://legacy.example:8080/SayHello/", Timeout: 1500 * time.Millisecond, MaxConns: 8,
			ForwardAuthorization: true, Identity: config.Identity{Kind: "bearer"}, Breaker: config.Breaker{Failures: 3, Cooldown: 30 * time.Second},
		}, cfg.Backend)
		assert.Equal(t, config.Shadow{
			Kind: "json", URL: "https://new.example/api", Timeout: 1500 * time.Millisecond, ForwardAuthorization: true, Identity: config.Identity{Kind: "bearer"},
			MaxInFlight: 4, LogNames: true, Admin: true, SampleSize: 5,
		}, cfg.Shadow, "the shadow takes the backend's timeout when it has none")
	})
	t.Run("OKIdentity", func(t *testing.T) {
		t.Setenv("TEST_LEGACY_PASSWORD", "from-env")
		cfg, err := load(t, `
clients:
  - {id: gateway, secret: s, grant_types: [client_credentials], scopes: [hello]}
  - {id: old, secret: s, grant_types: [client_credentials], legacy: {basic: true}}
backend:
  kind: soap
  url: http://legacy.example/SayHello/
  identity: {kind: wsse, username: gw, password_env: TEST_LEGACY_PASSWORD, password_type: digest}
shadow:
  kind: json
  url: http://new.example/
  identity: {kind: bearer, mint_for: gateway}
`)
		require.NoError(t, err)
		assert.Equal(t, config.Identity{Kind: "wsse", Username: "gw", Password: "from-env", PasswordEnv: "TEST_LEGACY_PASSWORD", PasswordType: "digest"}, cfg.Backend.Identity)
		assert.NotContains(t, cfg.Backend.Identity.String(), "from-env", "String hides the password")
		assert.Equal(t, config.Identity{Kind: "bearer", MintFor: "gateway"}, cfg.Shadow.Identity)
	})
	t.Run("OKShadowTimeout", func(t *testing.T) {
		cfg, err := load(t, "shadow: {kind: local, timeout: 300ms}")
		require.NoError(t, err)
		assert.Equal(t, 300*time.Millisecond, cfg.Shadow.Timeout)
	})
	for _, tc := range []struct{ desc, yaml, err string }{
		{"ErrKind", "backend: {kind: grpc}", `backend.kind: must be local, json or soap, not "grpc"`},
		{"ErrNoURL", "backend: {kind: json}", "backend.url: must be an absolute http or https URL"},
		{"ErrRelativeURL", "backend: {kind: soap, url: /SayHello/}", "backend.url: must be an absolute"},
		{"ErrScheme", "backend: {kind: soap, url: 'ftp://x/'}", "backend.url: must be an absolute"},
		{"ErrLocalURL", "backend: {kind: local, url: 'http://x/'}", "backend.url: is for kind json or soap, not local: remove it, or set the kind"},
		{"ErrTimeout", "backend: {timeout: 0s}", "backend.timeout: must be positive: use a Go duration such as 2s"},
		{"ErrTimeoutNotDuration", "backend: {timeout: soon}", `backend.timeout: "soon" is not a duration: use a Go duration such as 1h, 30m or 1500ms`},
		{"ErrMaxConns", "backend: {max_conns: -1}", "backend.max_conns: must be positive"},
		{"ErrBreaker", "backend: {breaker: {failures: 0}}", "backend.breaker.failures: must be positive"},
		{"ErrCooldown", "backend: {breaker: {cooldown: -1s}}", "backend.breaker.cooldown: must be positive: use a Go duration such as 10s"},
		{"ErrUnknownKey", "backend: {kind: json, uri: 'http://x'}", "backend.uri: unknown key; did you mean url?"},
		{"ErrShadowKind", "shadow: {kind: xml}", `shadow.kind: must be local, json or soap, not "xml"`},
		{"ErrShadowNoURL", "shadow: {kind: soap}", "shadow.url: must be an absolute"},
		{"ErrShadowOff", "shadow: {url: 'http://x/'}", "shadow: shadow.url and shadow.admin need a shadow.kind: local, json or soap"},
		{"ErrShadowAdminOff", "shadow: {admin: true}", "need a shadow.kind"},
		{"ErrShadowInFlight", "shadow: {kind: local, max_in_flight: 0}", "shadow.max_in_flight: must be positive"},
		{"ErrShadowSamples", "shadow: {kind: local, sample_size: 0}", "shadow.sample_size: must be positive"},
		{"ErrIdentityKind", "backend: {kind: json, url: 'http://x/', identity: {kind: jwt}}", "backend.identity.kind: must be none, bearer, basic or wsse"},
		{"ErrIdentityLocal", "backend: {identity: {kind: bearer}}", "backend.identity: is for kind json or soap"},
		{"ErrIdentityWSSEJSON", "backend: {kind: json, url: 'http://x/', identity: {kind: wsse, username: u, password: p}}", "wsse is for kind soap"},
		{"ErrIdentityForward", "backend: {kind: soap, url: 'http://x/', forward_authorization: true, identity: {kind: basic, username: u, password: p}}", "cannot go with kind basic"},
		{"ErrIdentityNoUser", "backend: {kind: soap, url: 'http://x/', identity: {kind: basic, password: p}}", "backend.identity.username: is required for kind basic"},
		{"ErrIdentityTwoPasswords", "backend: {kind: soap, url: 'http://x/', identity: {kind: basic, username: u, password: p, password_env: X}}", "one of password and password_env"},
		{"ErrIdentityEnvUnset", "backend: {kind: soap, url: 'http://x/', identity: {kind: basic, username: u, password_env: HELLOGW_TEST_UNSET_VAR}}", "$HELLOGW_TEST_UNSET_VAR is empty or not set"},
		{"ErrIdentityBearerPassword", "shadow: {kind: json, url: 'http://x/', identity: {kind: bearer, password: p}}", "username and password are for kind basic or wsse"},
		{"ErrIdentityMintFor", "backend: {kind: soap, url: 'http://x/', identity: {kind: basic, username: u, password: p, mint_for: c}}", "backend.identity.mint_for: is for kind bearer"},
		{"ErrIdentityPasswordType", "backend: {kind: soap, url: 'http://x/', identity: {kind: wsse, username: u, password: p, password_type: md5}}", "text or digest"},
		{"ErrMintForUnknown", "backend: {kind: json, url: 'http://x/', identity: {kind: bearer, mint_for: nobody}}", `"nobody" is not among the clients`},
		{"ErrMintForGrant", "clients: [{id: gw, secret: s, redirect_uris: ['http://x/cb']}]\nbackend: {kind: json, url: 'http://x/', identity: {kind: bearer, mint_for: gw}}", "clients[0].grant_types: must list client_credentials"},
		{"ErrMintForScope", "clients: [{id: gw, secret: s, grant_types: [client_credentials], scopes: [admin]}]\nbackend: {kind: json, url: 'http://x/', identity: {kind: bearer, mint_for: gw}}", `clients[0].scopes: must list "hello"`},
		{"ErrLegacyGrant", "clients: [{id: old, secret: s, redirect_uris: ['http://x/cb'], legacy: {basic: true}}]\nshadow: {kind: json, url: 'http://x/', identity: {kind: bearer}}", `shadow.identity mints tokens of "old"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := load(t, tc.yaml)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// TestSpecExample loads SPEC's whole example config file.
func TestSpecExample(t *testing.T) {
	cfg, err := load(t, `
greeting: "Hello, {firstName}!"      # template; the default is exactly this
sayhello:
  require_token: false                # the reference tags sayHello "Skips Authentication"
clients:                              # OAuth clients
  - id: demo-app
    secret: demo-secret               # or secret_hash: a bcrypt/argon2 hash
    redirect_uris: ["http://127.0.0.1:9999/callback"]
    scopes: ["hello"]
users:                                # resource owners who log in at /authorize
  - username: alice
    password: alice-password          # or password_hash
tokens:
  access_ttl: 1h
  refresh_ttl: 720h
  code_ttl: 5m
backend:                              # who answers sayHello (see "Migration")
  kind: local                         # local | json | soap
  url: ""                             # upstream base URL for json / soap
  timeout: 2s
shadow:                               # optional second backend, compared in the background
  kind: ""                            # "" (off) | local | json | soap
  url: ""
`)
	require.NoError(t, err)
	assert.False(t, cfg.SayHello.RequireToken)
	require.Len(t, cfg.OAuth.Clients, 1)
	c := cfg.OAuth.Clients[0]
	assert.Equal(t, "demo-app", c.ID)
	assert.Equal(t, "demo-secret", c.Secret)
	assert.Equal(t, []string{"http://127.0.0.1:9999/callback"}, c.RedirectURIs)
	assert.Equal(t, []string{"hello"}, c.Scopes)
	require.Len(t, cfg.OAuth.Users, 1)
	assert.Equal(t, "alice", cfg.OAuth.Users[0].Username)
	assert.Equal(t, time.Hour, cfg.OAuth.Tokens.AccessTTL)
	assert.Equal(t, 720*time.Hour, cfg.OAuth.Tokens.RefreshTTL)
	assert.Equal(t, 5*time.Minute, cfg.OAuth.Tokens.CodeTTL)
}

func TestOAuthSettings(t *testing.T) {
	cfg, err := load(t, `
sayhello: {require_token: true}
session_key: 0123456789abcdef0123456789abcdef
trusted_proxies: ["10.0.0.0/8"]
`)
	require.NoError(t, err)
	assert.True(t, cfg.SayHello.RequireToken)
	assert.Equal(t, "0123456789abcdef0123456789abcdef", cfg.SessionKey)
	assert.Equal(t, []string{"10.0.0.0/8"}, cfg.TrustedProxies)

	_, err = load(t, "session_key: short\n")
	assert.ErrorContains(t, err, "session_key: is 5 characters; use at least 32 (hellogw hash-secret -generate makes one)")

	_, err = load(t, "sayhello: {require_tokens: true}\n")
	assert.ErrorContains(t, err, "sayhello.require_tokens: unknown key; did you mean require_token?", "a misspelt key is an error")
}

// The throttle's budgets (README "Throttling"), every key; left out, a
// key keeps its default (oauth.Throttle).
func TestThrottleSection(t *testing.T) {
	cfg, err := load(t, `
throttle:
  window: 10m
  pair_limit: 5
  address_limit: 500
  tarpit_free: 20
  tarpit_step: 100ms
  tarpit_max_step: 2s
  max_wait: 5s
  known_for: 168h
`)
	require.NoError(t, err)
	assert.Equal(t, oauth.Throttle{
		Window: 10 * time.Minute, PairLimit: 5, AddressLimit: 500, TarPitFree: 20,
		TarPitStep: 100 * time.Millisecond, TarPitMaxStep: 2 * time.Second, MaxWait: 5 * time.Second, KnownFor: 168 * time.Hour,
	}, cfg.OAuth.Throttle)

	cfg, err = load(t, "greeting: hi {firstName}\n")
	require.NoError(t, err)
	assert.Zero(t, cfg.OAuth.Throttle, "the defaults are oauth's")

	_, err = load(t, "throttle: {pair_limit: lots}\n")
	assert.ErrorContains(t, err, "throttle.pair_limit")
	_, err = load(t, "throttle: {pair_limt: 5}\n")
	assert.ErrorContains(t, err, "throttle.pair_limt: unknown key; did you mean pair_limit?")
}

func TestMigrationSection(t *testing.T) {
	t.Run("OKAbsent", func(t *testing.T) {
		cfg, err := load(t, "greeting: hi {firstName}\n")
		require.NoError(t, err)
		assert.Nil(t, cfg.Migration)
	})
	t.Run("OKDefaults", func(t *testing.T) {
		cfg, err := load(t, `
backend: {kind: soap, url: "http://legacy:8080/hello", timeout: 3s}
migration:
  to: {kind: json, url: "http://new:9000"}
`)
		require.NoError(t, err)
		m := cfg.Migration
		require.NotNil(t, m)
		assert.Equal(t, 3*time.Second, m.To.Timeout, "the backend's")
		assert.Equal(t, 64, m.To.MaxConns)
		assert.Equal(t, config.Breaker{Failures: 5, Cooldown: 10 * time.Second}, m.To.Breaker)
		assert.Equal(t, 0, m.Weight)
		assert.Equal(t, 10*time.Minute, m.Ramp.Pause)
		assert.Equal(t, 2*time.Minute, m.Rollback.Window)
		assert.Equal(t, 20, m.Rollback.MinCalls)
		assert.Equal(t, 0.05, *m.Rollback.MaxErrorRate)
		assert.Equal(t, 0.05, *m.Rollback.MaxMismatchRate)
		assert.Equal(t, time.Second, m.Poll)
		assert.Equal(t, 168*time.Hour, m.Retention)
	})
	t.Run("OKEveryKey", func(t *testing.T) {
		cfg, err := load(t, `
migration:
  to:
    kind: soap
    url: http://new:9000/hello
    timeout: 1s
    max_conns: 8
    identity: {kind: basic, username: gw, password: pw}
    breaker: {failures: 2, cooldown: 5s}
  weight: 30
  ramp: {steps: [5, 25, 50, 100], pause: 30s}
  rollback: {window: 1m, min_calls: 50, max_error_rate: 0.1, max_mismatch_rate: 0}
  poll: 500ms
  retention: 24h
`)
		require.NoError(t, err)
		m := cfg.Migration
		assert.Equal(t, config.KindSOAP, m.To.Kind)
		assert.Equal(t, time.Second, m.To.Timeout)
		assert.Equal(t, "gw", m.To.Identity.Username)
		assert.Equal(t, 30, m.Weight)
		assert.Equal(t, config.Ramp{Steps: []int{5, 25, 50, 100}, Pause: 30 * time.Second}, m.Ramp)
		assert.Equal(t, time.Minute, m.Rollback.Window)
		assert.Equal(t, 50, m.Rollback.MinCalls)
		assert.Equal(t, 0.1, *m.Rollback.MaxErrorRate)
		assert.Equal(t, 0.0, *m.Rollback.MaxMismatchRate, "0 turns the check off, it is not the default")
		assert.Equal(t, 500*time.Millisecond, m.Poll)
		assert.Equal(t, 24*time.Hour, m.Retention)
	})
	t.Run("ErrMintForNotAClient", func(t *testing.T) {
		_, err := load(t, `
migration:
  to:
    kind: json
    url: http://new:9000
    identity: {kind: bearer, mint_for: nobody}
`)
		require.ErrorContains(t, err, "migration.to.identity.mint_for: \"nobody\" is not among the clients")
	})
}
