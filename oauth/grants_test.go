package oauth_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestGrantsFollowConfig: a grant is held to today's config (RFC 6749 §6,
// §10.4). Tokens of demo-app for alice with "hello extra" are issued, the
// config changes and the server restarts on the same store; then the refresh,
// introspection and bearer check answer as the table says, and the start-up
// revocation revokes what it says.
func TestGrantsFollowConfig(t *testing.T) {
	without := func(list []string, v string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == v })
	}
	tests := []struct {
		name string
		edit func(c *oauth.Config)
		// refresh is the token endpoint's answer to a refresh: the error
		// code, or "" and the scope granted.
		refreshError, refreshScope string
		oldAccessActive            bool
		revoked                    int64 // by RevokeRemovedGrants
	}{
		{"Unchanged", func(*oauth.Config) {}, "", "hello extra", true, 0},
		{"UserRemoved", func(c *oauth.Config) {
			c.Users = slices.DeleteFunc(c.Users, func(u oauth.User) bool { return u.Username == "alice" })
		}, "invalid_grant", "", false, 2},
		{"ClientRemoved", func(c *oauth.Config) {
			c.Clients = slices.DeleteFunc(c.Clients, func(cl oauth.Client) bool { return cl.ID == demoID })
		}, "invalid_client", "", false, 2},
		{"ScopeRemoved", func(c *oauth.Config) {
			c.Clients[0].Scopes = without(c.Clients[0].Scopes, "extra")
		}, "", "hello", false, 0},
		{"AllScopesRemoved", func(c *oauth.Config) {
			c.Clients[0].Scopes = []string{"other"}
		}, "invalid_grant", "", false, 0},
		{"GrantTypeRemoved", func(c *oauth.Config) {
			c.Clients[0].GrantTypes = []string{oauth.GrantClientCredentials}
		}, "unauthorized_client", "", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, nil)
			tok := e.tokens(t, e.newGrant(t, "hello", "extra"))
			tt.edit(&e.cfg)
			e.restart(t)

			resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
			m := jsonBody(t, body)
			if tt.refreshError != "" {
				assert.Equal(t, tt.refreshError, m["error"], body)
			} else {
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				assert.Equal(t, tt.refreshScope, m["scope"])
				require.NoError(t, e.srv.VerifyAccessToken(ctx, m["access_token"].(string)), "the new access token")
			}

			err := e.srv.VerifyAccessToken(ctx, tok.AccessToken)
			if tt.oldAccessActive {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, oauth.ErrInvalidToken)
			}
			if tt.name != "ClientRemoved" {
				resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoBasic, form: formOf("token", tok.AccessToken)})
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				assert.Equal(t, tt.oldAccessActive, jsonBody(t, body)["active"], "introspection")
			}

			n, err := e.srv.RevokeRemovedGrants(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.revoked, n, "revoked at start-up")
		})
	}
}

// TestRemovedGrantsStayRevoked: a user removed and added back does not get
// the old grants back once a start-up revoked them.
func TestRemovedGrantsStayRevoked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	tok := e.tokens(t, e.newGrant(t, "hello"))
	users := e.cfg.Users
	e.cfg.Users = users[1:] // alice removed
	e.restart(t)
	_, err := e.srv.RevokeRemovedGrants(ctx)
	require.NoError(t, err)
	e.cfg.Users = users
	e.restart(t)
	require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Equal(t, "invalid_grant", jsonBody(t, body)["error"])
}
