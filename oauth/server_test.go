package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/oauth"
)

// storeKey is how the server names a token in the store: the unpadded
// base64url SHA-256 of its value.
func storeKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestRunSweeper: expired tokens are deleted from the store in the background.
func TestRunSweeper(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Tokens.AccessTTL, c.Tokens.RefreshTTL = time.Minute, 2*time.Minute })
	tok := e.tokens(t, e.newGrant(t, "hello"))
	older := e.tokens(t, e.newGrant(t, "hello"))
	_, err := e.store.GetToken(context.Background(), storeKey(tok.RefreshToken))
	require.NoError(t, err)

	e.clock.Advance(2 * time.Hour)
	// A token issued now is not expired and must survive.
	fresh := e.tokens(t, e.newGrant(t, "hello"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.RunSweeper(ctx, 10*time.Millisecond); close(done) }()
	require.Eventually(t, func() bool {
		_, err := e.store.GetToken(context.Background(), storeKey(tok.RefreshToken))
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	for _, gone := range []string{tok.AccessToken, older.RefreshToken} {
		_, err := e.store.GetToken(context.Background(), storeKey(gone))
		require.ErrorIs(t, err, oauth.ErrNotFound)
	}
	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), fresh.AccessToken))
}

// TestLogsHaveNoSecrets runs successful and failing flows and looks for any
// secret, password, code or token in the server's log.
func TestLogsHaveNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	tok := e.tokens(t, g)
	// Failures that get logged: wrong client secret, wrong password, code
	// replay, refresh token reuse.
	e.do(t, tokenRequest{basic: demoID + ":wrong-secret-123", form: formOf("grant_type", "authorization_code", "code", g.code)})
	c := e.browser(t)
	resp, err := c.Get(e.authQuery())
	require.NoError(t, err)
	readBody(t, e.post(t, c, parseForm(t, readBody(t, resp)), map[string][]string{"username": {"alice"}, "password": {"wrong-password-456"}}))
	e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier)})
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect)
	fresh := e.tokens(t, e.newGrant(t, "hello"))
	_, err = conf.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	require.NoError(t, err)
	_, err = conf.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	require.Error(t, err)

	logs := e.logs.String()
	for _, want := range []string{"client authentication failed", "login failed", "replayed", "reused", "tokens issued"} {
		assert.Contains(t, logs, want)
	}
	for _, secret := range []string{demoSecret, "wrong-secret-123", "alice-password", "wrong-password-456", g.code, g.verifier, tok.AccessToken, tok.RefreshToken, fresh.AccessToken, fresh.RefreshToken} {
		assert.NotContains(t, logs, secret)
	}
}

// TestAuthorizePOST: the authorization request itself may be sent with POST
// (RFC 6749 §3.1); it shows the login page without a session error.
func TestAuthorizePOST(t *testing.T) {
	e := newEnv(t, nil)
	q := e.authQuery()[len(e.ts.URL+oauth.AuthorizePath+"?"):]
	resp, err := e.browser(t).Post(e.ts.URL+oauth.AuthorizePath, "application/x-www-form-urlencoded", strings.NewReader(q))
	require.NoError(t, err)
	body := readBody(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `name="password"`)
	assert.NotContains(t, body, "expired")
}
