package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestIntrospect covers RFC 7662 §2.
func TestIntrospect(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokens(t, e.newGrant(t, "hello"))
	introspect := func(basic, token string) map[string]any {
		t.Helper()
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: basic, form: formOf("token", token)})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		return jsonBody(t, body)
	}
	t.Run("Active", func(t *testing.T) {
		m := introspect(demoBasic, tok.AccessToken)
		assert.Equal(t, true, m["active"])
		assert.Equal(t, "hello", m["scope"])
		assert.Equal(t, demoID, m["client_id"])
		assert.Equal(t, "alice", m["username"])
		assert.Equal(t, "alice", m["sub"])
		assert.Equal(t, "Bearer", m["token_type"])
		assert.Equal(t, float64(e.clock.Now().Add(time.Hour).Unix()), m["exp"])
		assert.Equal(t, e.ts.URL, m["iss"])
	})
	t.Run("RefreshTokenActive", func(t *testing.T) {
		m := introspect(demoBasic, tok.RefreshToken)
		assert.Equal(t, true, m["active"])
		assert.Nil(t, m["token_type"])
	})
	t.Run("InactiveForOtherClient", func(t *testing.T) {
		assert.Equal(t, map[string]any{"active": false}, introspect(otherID+":"+otherSecret, tok.AccessToken))
	})
	t.Run("InactiveUnknown", func(t *testing.T) {
		assert.Equal(t, map[string]any{"active": false}, introspect(demoBasic, "nope"))
	})
	t.Run("InactiveExpired", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		defer e.clock.Advance(-time.Hour)
		assert.Equal(t, map[string]any{"active": false}, introspect(demoBasic, tok.AccessToken))
	})
	t.Run("ErrMissingToken", func(t *testing.T) {
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoBasic})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	})
	t.Run("ErrClientAuthentication", func(t *testing.T) {
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, form: formOf("token", tok.AccessToken)})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	})
	t.Run("ErrStoreDown", func(t *testing.T) {
		// Last: it closes the store. A store failure is a server_error,
		// never "inactive", which a resource server takes for revoked.
		require.NoError(t, e.store.Close())
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoBasic, form: formOf("token", tok.AccessToken)})
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, body)
		assert.Equal(t, "server_error", jsonBody(t, body)["error"])
	})
}
