package oauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestRevoke covers RFC 7009 §2.
func TestRevoke(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	revoke := func(basic string, kv ...string) (*http.Response, string) {
		return e.do(t, tokenRequest{path: oauth.RevokePath, basic: basic, form: formOf(kv...)})
	}
	t.Run("AccessTokenOnly", func(t *testing.T) {
		tok := e.tokens(t, e.newGrant(t, "hello"))
		resp, body := revoke(demoBasic, "token", tok.AccessToken, "token_type_hint", "access_token")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
		resp, body = e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the refresh token stays valid: %s", body)
	})
	t.Run("RefreshTokenRevokesChain", func(t *testing.T) {
		tok := e.tokens(t, e.newGrant(t, "hello"))
		// A wrong hint is only a hint (§2.1).
		resp, body := revoke(demoBasic, "token", tok.RefreshToken, "token_type_hint", "access_token")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
		resp, body = e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Equal(t, "invalid_grant", jsonBody(t, body)["error"])
	})
	t.Run("UnknownTokenIsOK", func(t *testing.T) {
		resp, body := revoke(demoBasic, "token", "no-such-token")
		assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	})
	t.Run("ErrOtherClientsToken", func(t *testing.T) {
		tok := e.tokens(t, e.newGrant(t, "hello"))
		resp, body := revoke(otherID+":"+otherSecret, "token", tok.AccessToken)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Equal(t, "unauthorized_client", jsonBody(t, body)["error"])
		require.NoError(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken))
	})
	// An unknown hint is no error: the search covers every token type
	// (RFC 7009 §2.1).
	for _, hint := range []string{"id_token", "urn:ietf:params:oauth:token-type:jwt", "REFRESH_TOKEN"} {
		t.Run("UnknownHint/"+hint, func(t *testing.T) {
			tok := e.tokens(t, e.newGrant(t, "hello"))
			resp, body := revoke(demoBasic, "token", tok.RefreshToken, "token_type_hint", hint)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken, "the chain is revoked")
		})
	}
	t.Run("ErrMissingToken", func(t *testing.T) {
		resp, body := revoke(demoBasic)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Equal(t, "invalid_request", jsonBody(t, body)["error"])
	})
	t.Run("ErrClientAuthentication", func(t *testing.T) {
		resp, body := revoke(demoID+":wrong", "token", "x")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
		assert.Equal(t, "invalid_client", jsonBody(t, body)["error"])
		assert.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
	})
}
