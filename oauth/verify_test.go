package oauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestVerifyAccessToken covers the states a bearer token can be in.
func TestVerifyAccessToken(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tok := e.tokens(t, e.newGrant(t, "hello"))
	require.NoError(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken))
	for name, token := range map[string]string{"Missing": "", "Unknown": "abc", "RefreshToken": tok.RefreshToken} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, token), oauth.ErrInvalidToken)
		})
	}
	t.Run("Expired", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		defer e.clock.Advance(-time.Hour)
		require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
	})
	t.Run("Revoked", func(t *testing.T) {
		resp, body := e.do(t, tokenRequest{path: oauth.RevokePath, basic: demoID + ":" + demoSecret, form: formOf("token", tok.AccessToken)})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
	})
}
