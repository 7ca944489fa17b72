package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlite"
)

// errorMessages is the message each broken file of testdata/config gets.
var errorMessages = map[string]string{
	// Keys the schema does not have.
	"unknown-key.yaml":         `unknown-key.yaml:1: greting: unknown key; did you mean greeting?`,
	"unknown-nested-key.yaml":  `unknown-nested-key.yaml:2: sayhello.require_tokens: unknown key; did you mean require_token?`,
	"unknown-key-in-list.yaml": `unknown-key-in-list.yaml:4: clients[0].redirect_uri: unknown key; did you mean redirect_uris?`,
	"unknown-key-far.yaml":     `unknown-key-far.yaml:2: colour: unknown key; the keys here are backend, clients, greeting, max_body_bytes, migration, sayhello, session_key, shadow, throttle, tokens, trusted_proxies, users`,
	// Syntax: the line that is wrong, not the block it breaks.
	"indent-list-item.yaml":   `indent-list-item.yaml:3: unexpected key here: check the indentation (keys of one mapping start in the same column; the keys of a list item line up under the first one, after "- ")`,
	"indent-too-deep.yaml":    `indent-too-deep.yaml:2: unexpected key here: check the indentation (keys of one mapping start in the same column; the keys of a list item line up under the first one, after "- ")`,
	"indent-too-shallow.yaml": `indent-too-shallow.yaml:3: unexpected key here: check the indentation (keys of one mapping start in the same column; the keys of a list item line up under the first one, after "- ")`,
	"indent-under-value.yaml": `indent-under-value.yaml:3: a key where a value was expected: check the indentation (keys of one mapping start in the same column) and that a value with ": " in it is quoted`,
	"indent-tab.yaml":         `indent-tab.yaml:2: a tab in the indentation: indent with spaces`,
	"unclosed-quote.yaml":     `unclosed-quote.yaml:1: could not find end character of double-quoted text: close the quote`,
	"duplicate-key.yaml":      `duplicate-key.yaml:2: key "greeting" already defined at [1:1]: give each key once`,
	// Values that do not fit their key.
	"duration-words.yaml":     `duration-words.yaml:2: tokens.access_ttl: "1 hour" is not a duration: use a Go duration such as 1h, 30m or 1500ms`,
	"duration-number.yaml":    `duration-number.yaml:2: backend.timeout: "2" is not a duration: use a Go duration such as 1h, 30m or 1500ms`,
	"not-a-number.yaml":       `not-a-number.yaml:1: max_body_bytes: "1MB" is not a whole number: use digits only, such as 1048576`,
	"not-a-boolean.yaml":      `not-a-boolean.yaml:2: sayhello.require_token: "yes please" is not a boolean: use true or false`,
	"not-a-list.yaml":         `not-a-list.yaml:1: clients: use a list: [a, b] or one "- item" a line`,
	"not-a-mapping.yaml":      `not-a-mapping.yaml:1: sayhello: use a mapping of keys (key: value, on lines indented under it)`,
	"not-a-single-value.yaml": `not-a-single-value.yaml:1: greeting: use a single value, not a list or a mapping`,
	"not-positive.yaml":       `not-positive.yaml:2: max_body_bytes: must be positive: use a number of bytes such as 1048576`,
	"bad-kind.yaml":           `bad-kind.yaml:2: backend.kind: must be local, json or soap, not "grpc"`,
	"bad-trusted-proxy.yaml":  `bad-trusted-proxy.yaml:1: trusted_proxies[1]: "proxy.local" is neither an IP address nor a CIDR: use such as 10.0.0.1 or 10.0.0.0/8`,
	"short-session-key.yaml":  `short-session-key.yaml:1: session_key: is 5 characters; use at least 32 (hellogw hash-secret -generate makes one)`,
	// The migration section.
	"migration-no-to.yaml":          `migration-no-to.yaml:3: migration.to.kind: is required: local, json or soap, the backend being migrated to`,
	"migration-url.yaml":            `migration-url.yaml:4: migration.to.url: must be an absolute http or https URL for kind json, not "new.example:9000"`,
	"migration-weight.yaml":         `migration-weight.yaml:3: migration.weight: must be from 0 to 100 (a percentage of callers), not 150`,
	"migration-weight-percent.yaml": `migration-weight-percent.yaml:3: migration.weight: "30%" is not a whole number: use digits only, such as 30`,
	"migration-step-percent.yaml":   `migration-step-percent.yaml:3: migration.ramp.steps[1]: "50 %" is not a whole number: use digits only, such as 25`,
	"migration-steps.yaml":          `migration-steps.yaml:6: migration.ramp.steps[2]: is 25: steps are weights from 1 to 100, each above the one before, such as [5, 25, 50, 100]`,
	"migration-rate.yaml":           `migration-rate.yaml:7: migration.rollback.max_error_rate: must be from 0 to 1 (a share: 0.05 is 5 %; 0 turns the check off), not 5`,
	// The OAuth section, checked by oauth.NewServer.
	"missing-secret.yaml":        `missing-secret.yaml:2: clients[0].secret: missing: give secret or secret_hash`,
	"both-secrets.yaml":          `both-secrets.yaml:3: clients[0].secret: both secret and secret_hash given: give one of them`,
	"bad-secret-hash.yaml":       `bad-secret-hash.yaml:3: clients[0].secret_hash: neither a bcrypt nor an argon2id hash: make one with hellogw hash-secret`,
	"missing-client-id.yaml":     `missing-client-id.yaml:2: clients[0].id: missing: give each client an id`,
	"missing-password.yaml":      `missing-password.yaml:2: users[0].password: missing: give password or password_hash`,
	"relative-redirect-uri.yaml": `relative-redirect-uri.yaml:6: clients[0].redirect_uris[1]: "/callback": not absolute: use an absolute URL without a #fragment (RFC 6749 §3.1.2)`,
	"bad-legacy-wsse.yaml":       `bad-legacy-wsse.yaml:7: clients[0].legacy.wsse: "dgst" is neither text nor digest`,
	"negative-ttl.yaml":          `negative-ttl.yaml:3: tokens.code_ttl: negative: use a positive Go duration such as 1h, or leave it out for the default`,
	"negative-throttle.yaml":     `negative-throttle.yaml:3: throttle.max_wait: negative: use a positive Go duration such as 5m, or leave it out for the default`,
	"throttle-steps.yaml":        `throttle-steps.yaml:3: throttle.tarpit_step: 10s is longer than tarpit_max_step (4s): the tar pit's steps double from tarpit_step up to tarpit_max_step`,
}

// TestErrorMessages loads each broken file of testdata/config and checks
// the whole message: the file, the line, the key path in YAML terms, and
// the fix. Problems in the OAuth section are found by oauth.NewServer and
// put in the file's terms by config.Explain, as main does.
func TestErrorMessages(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "oauth.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })

	for file, want := range errorMessages {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "config", file)
			cfg, err := config.Load(path)
			if err == nil {
				_, err = oauth.NewServer(cfg.OAuth, store, nil, nil)
				err = config.Explain(path, err)
			}
			require.Error(t, err)
			var ce *config.Error
			require.True(t, errors.As(err, &ce), "%T: %v", err, err)
			assert.Equal(t, "config "+filepath.Join("..", "testdata", "config", want), err.Error())
		})
	}
}

func TestExplain(t *testing.T) {
	plain := errors.New("oauth: nil store")
	assert.Same(t, plain, config.Explain("x.yaml", plain), "other errors pass as they are")
	err := config.Explain("", &oauth.ConfigError{Path: "clients[0].secret", Msg: "missing: give secret or secret_hash"})
	assert.EqualError(t, err, "config (embedded defaults): clients[0].secret: missing: give secret or secret_hash")
}

// Every input of testdata/config is in the table above.
func TestErrorMessagesCoverTestdata(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "testdata", "config"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.Contains(t, errorMessages, e.Name(), "add new inputs to TestErrorMessages")
	}
}

// A file that cannot be read is an *Error too, naming the file and the fix,
// without the os package's "open PATH" repeated.
func TestLoadUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := config.Load(path)
	var ce *config.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "config "+path+": cannot read it: no such file or directory: give the path of a YAML config file (examples/ has some), or no -config for the embedded defaults", err.Error())
}
