package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/oauth"
)

// tokenVerifier is the one-method interface a resource server (the gateway)
// declares for bearer checks; *oauth.Server satisfies it.
type tokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) error
}

var _ tokenVerifier = (*oauth.Server)(nil)

// protected is a stand-in for the gateway's bearer check (RFC 6750 §2.1, §3).
func protected(v tokenVerifier) http.Handler {
	r := gin.New()
	r.POST("/sayHello", func(c *gin.Context) {
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if err := v.VerifyAccessToken(c.Request.Context(), token); !ok || err != nil {
			c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
			c.Status(http.StatusUnauthorized)
			return
		}
		c.JSON(http.StatusOK, gin.H{"greeting": "Hello, Ada!"})
	})
	return r
}

// TestEndToEnd drives the authorization code flow with golang.org/x/oauth2:
// login and consent as form posts, Exchange with a PKCE verifier, a refresh
// through a TokenSource, and a protected call with each access token.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect, "hello")
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("xyz-state", oauth2.S256ChallengeOption(verifier))

	loc := e.authorize(t, authURL)
	assert.Equal(t, "127.0.0.1:9999", loc.Host)
	assert.Equal(t, "/callback", loc.Path)
	assert.Equal(t, "xyz-state", loc.Query().Get("state"))
	assert.Equal(t, e.ts.URL, loc.Query().Get("iss"), "RFC 9207 iss")
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	tok, err := conf.Exchange(e.ctx(), code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, "hello", tok.Extra("scope"))
	expiry, ok := tok.Extra("expiry").(float64)
	require.True(t, ok, "expiry is a JSON number: %T", tok.Extra("expiry"))
	assert.Equal(t, e.clock.Now().Add(time.Hour).Unix(), int64(expiry))
	assert.Equal(t, float64(3600), tok.Extra("expires_in"))
	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), tok.AccessToken))

	api := httptest.NewServer(protected(e.srv))
	defer api.Close()
	call := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, api.URL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		readBody(t, resp)
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, call(tok.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, call("not-a-token"))

	// Refresh through a TokenSource: mark the token expired.
	old := *tok
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(e.ctx(), tok).Token()
	require.NoError(t, err)
	assert.NotEqual(t, old.AccessToken, fresh.AccessToken)
	assert.NotEqual(t, old.RefreshToken, fresh.RefreshToken, "refresh tokens rotate")
	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), fresh.AccessToken))
	assert.Equal(t, http.StatusOK, call(fresh.AccessToken))

	// The rotated-out refresh token again: reuse, the whole chain is revoked
	// (RFC 9700 §4.14.2).
	_, err = conf.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	var rerr *oauth2.RetrieveError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "invalid_grant", rerr.ErrorCode)
	require.ErrorIs(t, e.srv.VerifyAccessToken(context.Background(), fresh.AccessToken), oauth.ErrInvalidToken)
	assert.Equal(t, http.StatusUnauthorized, call(fresh.AccessToken))
	_, err = conf.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	require.ErrorAs(t, err, &rerr)
}

// TestRestart issues tokens, stops the server and the store, starts them
// again on the same SQLite file: tokens still work and a used code stays used.
func TestRestart(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	tok := e.tokens(t, g)
	unused := e.newGrant(t, "hello")

	e.restart(t)

	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), tok.AccessToken))
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect)
	_, err := conf.Exchange(e.ctx(), g.code, oauth2.VerifierOption(g.verifier))
	var rerr *oauth2.RetrieveError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "invalid_grant", rerr.ErrorCode)
	// The replay revoked what the code issued.
	require.ErrorIs(t, e.srv.VerifyAccessToken(context.Background(), tok.AccessToken), oauth.ErrInvalidToken)
	// A code issued before the restart and not used still works.
	fresh := e.tokens(t, unused)
	refreshed, err := conf.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	require.NoError(t, err)
	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), refreshed.AccessToken))
}

// TestStoredOnlyAsHashes looks for issued codes and tokens in the SQLite
// files: none may appear in plain text.
func TestStoredOnlyAsHashes(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	tok := e.tokens(t, g)
	var files []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(e.path + suffix)
		if !errors.Is(err, os.ErrNotExist) {
			require.NoError(t, err)
		}
		files = append(files, b...)
	}
	require.NotEmpty(t, files)
	assert.True(t, bytes.Contains(files, []byte(demoID)), "the scan must see the rows")
	for name, secret := range map[string]string{"code": g.code, "access token": tok.AccessToken, "refresh token": tok.RefreshToken} {
		assert.False(t, bytes.Contains(files, []byte(secret)), "%s stored in plain text", name)
	}
}
