package oauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestHashSecret: the hash-secret helper makes bcrypt hashes the config accepts.
func TestHashSecret(t *testing.T) {
	h, err := oauth.HashSecret("correct horse")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$2a$10$"), h)
	e := newEnv(t, func(c *oauth.Config) { c.Clients[0].SecretHash = h })
	resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoID + ":correct horse", form: "token=x"})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoID + ":correct horsE", form: "token=x"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)

	_, err = oauth.HashSecret("")
	require.Error(t, err)
}

// TestGenerateSecret: generated secrets are long, random and URL-safe, so
// form-urlencoded and raw Basic credentials agree.
func TestGenerateSecret(t *testing.T) {
	a, b := oauth.GenerateSecret(), oauth.GenerateSecret()
	assert.NotEqual(t, a, b)
	assert.Len(t, a, 43)
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, a)
}
