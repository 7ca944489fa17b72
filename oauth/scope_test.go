package oauth_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// scopeCase is one case of testdata/oauth/scope.json: a scope parameter
// (with repeat > 0: "hello " repeated that many times, then scope) and the
// scope granted or the error.
type scopeCase struct {
	Name   string `json:"name"`
	Scope  string `json:"scope"`
	Repeat int    `json:"repeat"`
	Want   string `json:"want"`
	Error  string `json:"error"`
}

func (c scopeCase) raw() string { return strings.Repeat("hello ", c.Repeat) + c.Scope }

func loadScopeCases(t *testing.T) []scopeCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "oauth", "scope.json"))
	require.NoError(t, err)
	var cases []scopeCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	return cases
}

// descriptionChars are the characters RFC 6749 §5.2 allows in
// error_description: %x20-21 / %x23-5B / %x5D-7E.
var descriptionChars = regexp.MustCompile(`^[\x20-\x21\x23-\x5b\x5d-\x7e]*$`)

// checkDescription asserts that an error_description uses only §5.2's
// characters and does not quote the request's scope.
func checkDescription(t *testing.T, desc, scope string) {
	t.Helper()
	assert.NotEmpty(t, desc)
	assert.Regexp(t, descriptionChars, desc)
	for _, tok := range strings.Fields(scope) {
		if tok != "hello" && tok != "extra" {
			assert.NotContains(t, desc, tok, "the description quotes the request")
		}
	}
}

// TestScope runs the scope table (RFC 6749 §3.3) at every place a client
// names a scope: the authorization request, a refresh and the
// client_credentials grant.
func TestScope(t *testing.T) {
	cases := loadScopeCases(t)
	e := newEnv(t, func(c *oauth.Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials}
	})
	refresh := e.tokens(t, e.newGrant(t, "hello", "extra")).RefreshToken
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			raw := tc.raw()
			t.Run("Authorize", func(t *testing.T) {
				resp, err := e.browser(t).Get(e.authQuery("scope", raw))
				require.NoError(t, err)
				body := readBody(t, resp)
				if tc.Error == "" {
					assert.Equal(t, http.StatusOK, resp.StatusCode, "the login page")
					return
				}
				require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
				loc, err := resp.Location()
				require.NoError(t, err)
				assert.Equal(t, tc.Error, loc.Query().Get("error"))
				checkDescription(t, loc.Query().Get("error_description"), raw)
			})
			for _, grant := range []struct{ name, form string }{
				{"Refresh", formOf("grant_type", "refresh_token", "refresh_token", refresh, "scope", raw)},
				{"ClientCredentials", formOf("grant_type", "client_credentials", "scope", raw)},
			} {
				t.Run(grant.name, func(t *testing.T) {
					resp, body := e.do(t, tokenRequest{basic: demoBasic, form: grant.form})
					m := jsonBody(t, body)
					if tc.Error != "" {
						require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
						assert.Equal(t, tc.Error, m["error"])
						checkDescription(t, m["error_description"].(string), raw)
						return
					}
					require.Equal(t, http.StatusOK, resp.StatusCode, body)
					assert.Equal(t, tc.Want, m["scope"])
					if next, ok := m["refresh_token"].(string); ok {
						refresh = next
					}
				})
			}
		})
	}
}

// TestErrorDescriptions: every error the server can answer with has an
// error_description of RFC 6749 §5.2's characters.
func TestErrorDescriptions(t *testing.T) {
	for _, e := range []*oauth.RFC6749Error{
		oauth.ErrInvalidRequest, oauth.ErrInvalidClient, oauth.ErrInvalidGrant, oauth.ErrUnauthorizedClient,
		oauth.ErrUnsupportedGrantType, oauth.ErrUnsupportedResponseType, oauth.ErrInvalidScope,
		oauth.ErrAccessDenied, oauth.ErrServerError, oauth.ErrTooManyAttempts,
	} {
		assert.Regexp(t, descriptionChars, e.Description, e.Code)
	}
}
