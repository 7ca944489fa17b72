package oauth_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/oauth"
)

const demoBasic = demoID + ":" + demoSecret

// fixture is what a negative test case may refer to: a fresh code for
// demo-app and tokens from another, exchanged one.
type fixture struct {
	grant
	access, refresh string
}

func newFixture(t *testing.T, e *env) fixture {
	t.Helper()
	used := e.newGrant(t, "hello", "extra")
	tok := e.tokens(t, used)
	return fixture{grant: e.newGrant(t, "hello"), access: tok.AccessToken, refresh: tok.RefreshToken}
}

// TestTokenErrors is the table of RFC 6749 §5.2 answers: input → status,
// error code, headers.
func TestTokenErrors(t *testing.T) {
	codeForm := func(f fixture, kv ...string) string {
		return formOf(append([]string{"grant_type", "authorization_code", "code", f.code, "redirect_uri", demoRedirect, "code_verifier", f.verifier}, kv...)...)
	}
	tests := []struct {
		name    string
		req     func(f fixture) tokenRequest
		status  int
		errCode string
	}{
		{"WrongContentType", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: codeForm(f), contentType: "application/json"}
		}, 400, "invalid_request"},
		{"RepeatedGrantType", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: codeForm(f, "grant_type", "authorization_code")}
		}, 400, "invalid_request"},
		{"RepeatedCode", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: codeForm(f, "code", f.code)}
		}, 400, "invalid_request"},
		{"RepeatedClientID", func(f fixture) tokenRequest {
			return tokenRequest{form: codeForm(f, "client_id", demoID, "client_id", demoID, "client_secret", demoSecret)}
		}, 400, "invalid_request"},
		{"NoClientAuthentication", func(f fixture) tokenRequest {
			return tokenRequest{form: codeForm(f)}
		}, 401, "invalid_client"},
		{"ClientIDWithoutSecret", func(f fixture) tokenRequest {
			return tokenRequest{form: codeForm(f, "client_id", demoID)}
		}, 401, "invalid_client"},
		{"WrongSecretBasic", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoID + ":wrong", form: codeForm(f)}
		}, 401, "invalid_client"},
		{"WrongSecretBody", func(f fixture) tokenRequest {
			return tokenRequest{form: codeForm(f, "client_id", demoID, "client_secret", "wrong")}
		}, 401, "invalid_client"},
		{"UnknownClient", func(f fixture) tokenRequest {
			return tokenRequest{basic: "nobody:" + demoSecret, form: codeForm(f)}
		}, 401, "invalid_client"},
		{"MalformedBasic", func(f fixture) tokenRequest {
			return tokenRequest{basic: "no-colon", form: codeForm(f)}
		}, 401, "invalid_client"},
		{"TwoAuthenticationMethods", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: codeForm(f, "client_secret", demoSecret)}
		}, 400, "invalid_request"},
		{"BodyClientIDDiffersFromBasic", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: codeForm(f, "client_id", otherID)}
		}, 401, "invalid_client"},
		{"MissingGrantType", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("code", f.code, "redirect_uri", demoRedirect)}
		}, 400, "invalid_request"},
		{"UnsupportedGrantType", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "password", "username", "alice", "password", "alice-password")}
		}, 400, "unsupported_grant_type"},
		{"ClientCredentialsNotAllowed", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "client_credentials")}
		}, 400, "unauthorized_client"},
		{"MissingCode", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "redirect_uri", demoRedirect)}
		}, 400, "invalid_request"},
		{"EmptyCode", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", "", "redirect_uri", demoRedirect)}
		}, 400, "invalid_request"},
		{"UnknownCode", func(f fixture) tokenRequest {
			f.code = "not-a-code"
			return tokenRequest{basic: demoBasic, form: codeForm(f)}
		}, 400, "invalid_grant"},
		{"CodeOfAnotherClient", func(f fixture) tokenRequest {
			return tokenRequest{basic: otherID + ":" + otherSecret, form: codeForm(f)}
		}, 400, "invalid_grant"},
		{"WrongRedirectURI", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", f.code, "redirect_uri", "http://127.0.0.1:9999/other", "code_verifier", f.verifier)}
		}, 400, "invalid_grant"},
		{"MissingRedirectURI", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", f.code, "code_verifier", f.verifier)}
		}, 400, "invalid_request"},
		{"MissingVerifier", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", f.code, "redirect_uri", demoRedirect)}
		}, 400, "invalid_grant"},
		{"WrongVerifier", func(f fixture) tokenRequest {
			f.verifier = oauth2.GenerateVerifier()
			return tokenRequest{basic: demoBasic, form: codeForm(f)}
		}, 400, "invalid_grant"},
		{"MalformedVerifier", func(f fixture) tokenRequest {
			f.verifier = "short"
			return tokenRequest{basic: demoBasic, form: codeForm(f)}
		}, 400, "invalid_grant"},
		{"MissingRefreshToken", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token")}
		}, 400, "invalid_request"},
		{"UnknownRefreshToken", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", "nope")}
		}, 400, "invalid_grant"},
		{"AccessTokenAsRefreshToken", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", f.access)}
		}, 400, "invalid_grant"},
		{"RefreshTokenOfAnotherClient", func(f fixture) tokenRequest {
			return tokenRequest{basic: otherID + ":" + otherSecret, form: formOf("grant_type", "refresh_token", "refresh_token", f.refresh)}
		}, 400, "invalid_grant"},
		{"WiderScopeOnRefresh", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", f.refresh, "scope", "hello admin")}
		}, 400, "invalid_scope"},
		{"EmptyScope", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", f.refresh, "scope", "")}
		}, 400, "invalid_request"},
		{"EmptyVerifier", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", f.code, "redirect_uri", demoRedirect, "code_verifier", "")}
		}, 400, "invalid_request"},
		{"EmptyClientSecret", func(f fixture) tokenRequest {
			return tokenRequest{form: codeForm(f, "client_id", demoID, "client_secret", "")}
		}, 400, "invalid_request"},
		{"RepeatedScope", func(f fixture) tokenRequest {
			return tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", f.refresh, "scope", "hello", "scope", "extra")}
		}, 400, "invalid_request"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, tt.req(newFixture(t, e)))
			require.Equal(t, tt.status, resp.StatusCode, body)
			m := jsonBody(t, body)
			assert.Equal(t, tt.errCode, m["error"])
			checkDescription(t, m["error_description"].(string), "")
			assert.NotEmpty(t, m["error_description"])
			assert.True(t, strings.HasPrefix(m["error_uri"].(string), "https://www.rfc-editor.org/rfc/rfc6749"), m["error_uri"])
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
			assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
			if tt.status == http.StatusUnauthorized {
				assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic"), resp.Header.Get("WWW-Authenticate"))
			} else {
				assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestPostOnly: GET on the token, revocation and introspection endpoints is
// 405 with Allow: POST and a JSON error.
func TestPostOnly(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{oauth.TokenPath, oauth.RevokePath, oauth.IntrospectPath} {
		resp, err := e.ts.Client().Get(e.ts.URL + path + "?grant_type=refresh_token")
		require.NoError(t, err)
		body := readBody(t, resp)
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, path)
		assert.Equal(t, "POST", resp.Header.Get("Allow"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "invalid_request", jsonBody(t, body)["error"])
	}
}

// TestTokenSuccessShape checks the 200 answer against the API reference:
// numbers are JSON numbers, expiry is Unix seconds, no-store.
func TestTokenSuccessShape(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier, "unknown_param", "ignored")})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	m := jsonBody(t, body)
	assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in", "scope", "expiry", "refresh_token"}, keys(m))
	assert.Equal(t, "Bearer", m["token_type"])
	assert.Equal(t, 3600.0, m["expires_in"])
	assert.Equal(t, float64(e.clock.Now().Add(time.Hour).Unix()), m["expiry"])
	assert.Equal(t, "hello", m["scope"])
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	return k
}

// TestCodeReplay: a code used twice is refused and what it issued is revoked
// (RFC 6749 §4.1.2).
func TestCodeReplay(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	tok := e.tokens(t, g)
	form := formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier)
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: form})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Equal(t, "invalid_grant", jsonBody(t, body)["error"])
	ctx := context.Background()
	require.ErrorIs(t, e.srv.VerifyAccessToken(ctx, tok.AccessToken), oauth.ErrInvalidToken)
	resp, body = e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
}

// TestCodeExpired: a code is refused after code_ttl.
func TestCodeExpired(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	e.clock.Advance(5 * time.Minute)
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier)})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Equal(t, "invalid_grant", jsonBody(t, body)["error"])
}

// TestRefreshScope narrows the scope on refresh (RFC 6749 §6): the access
// token gets the narrower scope, the new refresh token keeps the original.
func TestRefreshScope(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokens(t, e.newGrant(t, "hello", "extra"))
	assert.Equal(t, "hello extra", tok.Extra("scope"))
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken, "scope", "extra")})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	m := jsonBody(t, body)
	assert.Equal(t, "extra", m["scope"])
	resp, body = e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", m["refresh_token"].(string))})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "hello extra", jsonBody(t, body)["scope"])
}

// TestRefreshExpired: a refresh token is refused after refresh_ttl.
func TestRefreshExpired(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Tokens.RefreshTTL = 2 * time.Hour })
	tok := e.tokens(t, e.newGrant(t, "hello"))
	e.clock.Advance(2 * time.Hour)
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken)})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Equal(t, "invalid_grant", jsonBody(t, body)["error"])
}

// TestConcurrentRedemption sends one code, then one refresh token, many
// times at once: exactly one request succeeds. Run with -race.
func TestConcurrentRedemption(t *testing.T) {
	e := newEnv(t, nil)
	race := func(form string) (ok int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				resp, b := e.do(t, tokenRequest{basic: demoBasic, form: form})
				mu.Lock()
				defer mu.Unlock()
				switch resp.StatusCode {
				case http.StatusOK:
					ok++
				case http.StatusBadRequest:
					assert.Equal(t, "invalid_grant", jsonBody(t, b)["error"])
				default:
					t.Errorf("status %d: %s", resp.StatusCode, b)
				}
			})
		}
		close(start)
		wg.Wait()
		return ok
	}
	g := e.newGrant(t, "hello")
	ok := race(formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier))
	require.Equal(t, 1, ok, "successful code redemptions")

	tok := e.tokens(t, e.newGrant(t, "hello"))
	ok = race(formOf("grant_type", "refresh_token", "refresh_token", tok.RefreshToken))
	require.Equal(t, 1, ok, "successful refreshes")
}
