package oauth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hellogw/hellogw/oauth"
)

const (
	machineID     = "machine"
	machineSecret = "machine-secret"
	resourceID    = "resource-api"
	resourceBasic = resourceID + ":resource-secret"
)

// withMachines adds a client that may use only client_credentials (and so
// needs no redirect_uris) and a resource server that introspects every
// client's access tokens.
func withMachines(cfg *oauth.Config) {
	cfg.Clients = append(cfg.Clients,
		oauth.Client{ID: machineID, Secret: machineSecret, Scopes: []string{"hello", "extra"}, GrantTypes: []string{oauth.GrantClientCredentials}},
		oauth.Client{ID: resourceID, Secret: "resource-secret", GrantTypes: []string{oauth.GrantClientCredentials}, IntrospectAll: true},
	)
}

// TestClientCredentials covers RFC 6749 §4.4 with the real
// golang.org/x/oauth2/clientcredentials client.
func TestClientCredentials(t *testing.T) {
	e := newEnv(t, withMachines)
	conf := func(secret string, scopes ...string) *clientcredentials.Config {
		return &clientcredentials.Config{ClientID: machineID, ClientSecret: secret, TokenURL: e.ts.URL + oauth.TokenPath, Scopes: scopes}
	}
	introspect := func(t *testing.T, basic, token string) map[string]any {
		t.Helper()
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: basic, form: formOf("token", token)})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		return jsonBody(t, body)
	}
	retrieveError := func(t *testing.T, err error) *oauth2.RetrieveError {
		t.Helper()
		var rerr *oauth2.RetrieveError
		require.True(t, errors.As(err, &rerr), "%v", err)
		return rerr
	}

	t.Run("OK", func(t *testing.T) {
		tok, err := conf(machineSecret, "hello").Token(e.ctx())
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.Type())
		assert.Empty(t, tok.RefreshToken, "§4.4.3: no refresh token")
		assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
		assert.Equal(t, "hello", tok.Extra("scope"))
		require.NoError(t, e.srv.VerifyAccessToken(e.ctx(), tok.AccessToken))

		m := introspect(t, machineID+":"+machineSecret, tok.AccessToken)
		assert.Equal(t, true, m["active"])
		assert.Equal(t, machineID, m["client_id"])
		assert.Equal(t, "hello", m["scope"])
		assert.Nil(t, m["username"], "a client's own token has no user")
	})
	t.Run("DefaultScope", func(t *testing.T) {
		tok, err := conf(machineSecret).Token(e.ctx())
		require.NoError(t, err)
		assert.Equal(t, "hello extra", tok.Extra("scope"), "§3.3: omitted means the registered scopes")
	})
	t.Run("ErrInvalidScope", func(t *testing.T) {
		_, err := conf(machineSecret, "hello", "admin").Token(e.ctx())
		assert.Equal(t, "invalid_scope", retrieveError(t, err).ErrorCode)
	})
	t.Run("ErrInvalidClient", func(t *testing.T) {
		_, err := conf("wrong").Token(e.ctx())
		assert.Equal(t, "invalid_client", retrieveError(t, err).ErrorCode)
	})
	t.Run("ErrUnauthorizedClient", func(t *testing.T) {
		for _, form := range []string{
			formOf("grant_type", "authorization_code", "code", "x", "redirect_uri", demoRedirect),
			formOf("grant_type", "refresh_token", "refresh_token", "x"),
		} {
			resp, body := e.do(t, tokenRequest{basic: machineID + ":" + machineSecret, form: form})
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			assert.Equal(t, "unauthorized_client", jsonBody(t, body)["error"])
		}
	})
	t.Run("IntrospectAll", func(t *testing.T) {
		tok, err := conf(machineSecret, "hello").Token(e.ctx())
		require.NoError(t, err)
		m := introspect(t, resourceBasic, tok.AccessToken)
		assert.Equal(t, true, m["active"], "a resource server sees other clients' access tokens")
		assert.Equal(t, machineID, m["client_id"])

		user := e.tokens(t, e.newGrant(t, "hello"))
		assert.Equal(t, true, introspect(t, resourceBasic, user.AccessToken)["active"])
		assert.Equal(t, map[string]any{"active": false}, introspect(t, resourceBasic, user.RefreshToken), "never their refresh tokens")
		assert.Equal(t, map[string]any{"active": false}, introspect(t, otherID+":"+otherSecret, tok.AccessToken), "without introspect_all, only its own")
	})
	t.Run("IssueClientToken", func(t *testing.T) {
		value, exp, err := e.srv.IssueClientToken(e.ctx(), machineID, []string{"hello"})
		require.NoError(t, err)
		assert.WithinDuration(t, e.clock.Now().Add(time.Hour), exp, time.Second)
		m := introspect(t, resourceBasic, value)
		assert.Equal(t, true, m["active"])
		assert.Equal(t, "hello", m["scope"])

		_, _, err = e.srv.IssueClientToken(e.ctx(), demoID, nil)
		assert.ErrorIs(t, err, oauth.ErrUnauthorizedClient, "only for clients that allow client_credentials")
		_, _, err = e.srv.IssueClientToken(e.ctx(), machineID, []string{"admin"})
		assert.ErrorIs(t, err, oauth.ErrInvalidScope)
	})
}

// TestGrantTypes covers the grant_types of a client entry.
func TestGrantTypes(t *testing.T) {
	t.Run("NoRefreshToken", func(t *testing.T) {
		e := newEnv(t, func(cfg *oauth.Config) { cfg.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode} })
		tok := e.tokens(t, e.newGrant(t, "hello"))
		assert.NotEmpty(t, tok.AccessToken)
		assert.Empty(t, tok.RefreshToken, "a client without refresh_token gets none")
	})
	t.Run("ErrConfig", func(t *testing.T) {
		for grants, want := range map[string][]string{
			`grant_types: "implicit" is none of`:                  {"implicit"},
			`grant_types: refresh_token needs authorization_code`: {oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		} {
			cfg := loadConfig(t)
			cfg.Clients[0].GrantTypes = want
			_, err := oauth.NewServer(cfg, newEnv(t, nil).store, nil, nil)
			assert.ErrorContains(t, err, grants)
		}
		cfg := loadConfig(t)
		cfg.Clients[0].RedirectURIs = nil
		_, err := oauth.NewServer(cfg, newEnv(t, nil).store, nil, nil)
		assert.ErrorContains(t, err, "no redirect_uris", "the authorization code grant needs them")
	})
}
