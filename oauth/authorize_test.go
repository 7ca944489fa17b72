package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/oauth"
)

const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 Appendix B

// authQuery returns an authorization request URL for demo-app with kv
// replacing or adding parameters ("" deletes one).
func (e *env) authQuery(kv ...string) string {
	v := url.Values{
		"response_type": {"code"}, "client_id": {demoID}, "redirect_uri": {demoRedirect},
		"scope": {"hello"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return e.ts.URL + oauth.AuthorizePath + "?" + v.Encode()
}

// TestAuthorizeErrorPages: an unknown client or a redirect URI that is not
// registered exactly is an error page, never a redirect (RFC 6749 §4.1.2.1,
// RFC 9700 §4.1.3).
func TestAuthorizeErrorPages(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct{ name, url string }{
		{"MissingClientID", e.authQuery("client_id", "")},
		{"UnknownClient", e.authQuery("client_id", "evil-app")},
		{"UnregisteredRedirect", e.authQuery("redirect_uri", "https://evil.example/cb")},
		{"RedirectPathSuffix", e.authQuery("redirect_uri", demoRedirect+"/../evil")},
		{"RedirectPathPrefix", e.authQuery("redirect_uri", demoRedirect+"x")},
		{"RedirectExtraQuery", e.authQuery("redirect_uri", demoRedirect+"?next=https://evil.example")},
		{"RedirectFragment", e.authQuery("redirect_uri", demoRedirect+"#x")},
		{"RedirectOtherLoopbackHost", e.authQuery("redirect_uri", "http://localhost:9999/callback")},
		{"RedirectHTTPSForLoopback", e.authQuery("redirect_uri", "https://127.0.0.1:9999/callback")},
		{"RedirectPortOnNonLoopback", e.authQuery("redirect_uri", "https://app.example:8443/cb?tenant=1")},
		{"MissingRedirectWithSeveralRegistered", e.authQuery("redirect_uri", "")},
		{"RepeatedRedirect", e.authQuery() + "&redirect_uri=" + url.QueryEscape(demoRedirect)},
		{"RepeatedClientID", e.authQuery() + "&client_id=" + demoID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.browser(t).Get(tt.url)
			require.NoError(t, err)
			body := readBody(t, resp)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			assert.Contains(t, body, "<h1>")
			assert.NotContains(t, body, "<form", "no login on an error page")
		})
	}
}

// TestAuthorizeErrorRedirects: the other errors of RFC 6749 §4.1.2.1 go back
// to the client with error and state.
func TestAuthorizeErrorRedirects(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct{ name, url, errCode string }{
		{"MissingResponseType", e.authQuery("response_type", ""), "invalid_request"},
		{"TokenResponseType", e.authQuery("response_type", "token"), "unsupported_response_type"},
		{"UnknownScope", e.authQuery("scope", "hello admin"), "invalid_scope"},
		{"PlainPKCERefused", e.authQuery("code_challenge_method", "plain"), "invalid_request"},
		{"DefaultPlainPKCERefused", e.authQuery("code_challenge_method", ""), "invalid_request"},
		{"UnknownPKCEMethod", e.authQuery("code_challenge_method", "S512"), "invalid_request"},
		{"MethodWithoutChallenge", e.authQuery("code_challenge", ""), "invalid_request"},
		{"ShortChallenge", e.authQuery("code_challenge", "abc"), "invalid_request"},
		{"RepeatedState", e.authQuery() + "&state=other", "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.browser(t).Get(tt.url)
			require.NoError(t, err)
			readBody(t, resp)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			loc, err := resp.Location()
			require.NoError(t, err)
			assert.Equal(t, "127.0.0.1:9999", loc.Host)
			assert.Equal(t, tt.errCode, loc.Query().Get("error"))
			checkDescription(t, loc.Query().Get("error_description"), "")
			assert.Empty(t, loc.Query().Get("code"))
			if tt.name != "RepeatedState" {
				assert.Equal(t, "st", loc.Query().Get("state"))
			}
			assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
		})
	}
}

// TestAuthorizeDeny: decision=deny redirects with access_denied.
func TestAuthorizeDeny(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	loc := e.approve(t, c, e.login(t, c, e.authQuery()), "deny")
	assert.Equal(t, "access_denied", loc.Query().Get("error"))
	assert.Equal(t, "st", loc.Query().Get("state"))
	assert.Empty(t, loc.Query().Get("code"))
}

// TestAuthorizeAccepted covers requests that must get a code.
func TestAuthorizeAccepted(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct{ name, url, wantPrefix string }{
		{"LoopbackPortMayVary", e.authQuery("redirect_uri", "http://127.0.0.1:51234/callback"), "http://127.0.0.1:51234/callback?"},
		{"RegisteredQueryKept", e.authQuery("redirect_uri", "https://app.example/cb?tenant=1"), "https://app.example/cb?"},
		{"NoPKCE", e.authQuery("code_challenge", "", "code_challenge_method", ""), demoRedirect + "?"},
		{"NoScopeMeansRegistered", e.authQuery("scope", ""), demoRedirect + "?"},
		{"PlainPKCEAllowedForClient", e.authQuery("client_id", "plain-app", "redirect_uri", "https://legacy.example/cb", "code_challenge_method", "plain"), "https://legacy.example/cb?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := e.authorize(t, tt.url)
			assert.True(t, strings.HasPrefix(loc.String(), tt.wantPrefix), loc.String())
			assert.NotEmpty(t, loc.Query().Get("code"), loc.String())
			if tt.name == "RegisteredQueryKept" {
				assert.Equal(t, "1", loc.Query().Get("tenant"))
			}
		})
	}
}

// TestLogin covers the login form's failures.
func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	loginForm := func(t *testing.T, c *http.Client) form {
		resp, err := c.Get(e.authQuery())
		require.NoError(t, err)
		return parseForm(t, readBody(t, resp))
	}
	t.Run("WrongPassword", func(t *testing.T) {
		c := e.browser(t)
		resp := e.post(t, c, loginForm(t, c), url.Values{"username": {"alice"}, "password": {"nope"}})
		body := readBody(t, resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, body, "The username or password is incorrect.")
		assert.NotContains(t, body, `value="allow"`)
	})
	t.Run("UnknownUser", func(t *testing.T) {
		c := e.browser(t)
		resp := e.post(t, c, loginForm(t, c), url.Values{"username": {"mallory"}, "password": {"alice-password"}})
		body := readBody(t, resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, body, "The username or password is incorrect.")
	})
	t.Run("Argon2idUser", func(t *testing.T) {
		c := e.browser(t)
		resp := e.post(t, c, loginForm(t, c), url.Values{"username": {"bob"}, "password": {"bob-password"}})
		body := readBody(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, "Signed in as <strong>bob</strong>")
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		c := e.browser(t)
		f := loginForm(t, c)
		f.values.Set("csrf", "forged")
		resp := e.post(t, c, f, url.Values{"username": {"alice"}, "password": {"alice-password"}})
		body := readBody(t, resp)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.NotContains(t, body, `value="allow"`)
	})
	t.Run("ErrNoSessionCookie", func(t *testing.T) {
		f := loginForm(t, e.browser(t))
		c := e.browser(t) // another browser: no cookie
		resp := e.post(t, c, f, url.Values{"username": {"alice"}, "password": {"alice-password"}})
		body := readBody(t, resp)
		assert.Contains(t, body, "Your session has expired")
		assert.NotContains(t, body, `value="allow"`)
	})
	t.Run("Throttled", func(t *testing.T) {
		c := e.browser(t)
		f := loginForm(t, c)
		for range 10 {
			readBody(t, e.post(t, c, f, url.Values{"username": {"alice"}, "password": {"nope"}}))
		}
		// Even the right password waits until the window ends, from this
		// address (see throttle_test.go for other addresses).
		resp := e.post(t, c, f, url.Values{"username": {"alice"}, "password": {"alice-password"}})
		body := readBody(t, resp)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		assert.Contains(t, body, "Too many failed attempts")
		e.clock.Advance(5 * time.Minute)
		resp = e.post(t, c, f, url.Values{"username": {"alice"}, "password": {"alice-password"}})
		body = readBody(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, `value="allow"`)
	})
}

// TestConsentTampered: changing the request under a signed consent form
// issues no code.
func TestConsentTampered(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	f := parseForm(t, e.login(t, c, e.authQuery()))
	f.values.Set("scope", "hello extra")
	resp := e.post(t, c, f, url.Values{"decision": {"allow"}})
	readBody(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
}

// TestConsentTwice: a consent form submitted twice yields one code
// (RFC 9700 §4.12's spirit: a repeated POST must not mint a second grant).
func TestConsentTwice(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect, "hello")
	consent := e.login(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	first := e.approve(t, c, consent, "allow")
	second := e.approve(t, c, consent, "allow")
	require.NotEmpty(t, first.Query().Get("code"))
	assert.Equal(t, first.Query().Get("code"), second.Query().Get("code"))
	tok, err := conf.Exchange(e.ctx(), first.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)

	// Back and Allow again after the redemption: a page, not the spent
	// code, so the live tokens stay live.
	resp := e.post(t, c, parseForm(t, consent), url.Values{"decision": {"allow"}})
	page := readBody(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "already used")
	require.NoError(t, e.srv.VerifyAccessToken(e.ctx(), tok.AccessToken))
}

// TestConsentResubmittedAfterExpiry: a consent form whose code expired
// unused shows a page instead of redirecting with a dead code.
func TestConsentResubmittedAfterExpiry(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Tokens.CodeTTL = time.Minute })
	c := e.browser(t)
	consent := e.login(t, c, e.authQuery())
	require.NotEmpty(t, e.approve(t, c, consent, "allow").Query().Get("code"))
	e.clock.Advance(2 * time.Minute)
	resp := e.post(t, c, parseForm(t, consent), url.Values{"decision": {"allow"}})
	page := readBody(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "has expired")
}

// TestConsentBadDecision: a decision other than allow or deny is an
// invalid_request redirect; a missing consent nonce issues no code.
func TestConsentBadDecision(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	loc := e.approve(t, c, e.login(t, c, e.authQuery()), "maybe")
	assert.Equal(t, "invalid_request", loc.Query().Get("error"))

	f := parseForm(t, e.login(t, c, e.authQuery()))
	f.values.Del("consent")
	resp := e.post(t, c, f, url.Values{"decision": {"allow"}})
	readBody(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// TestPlainPKCE: a client allowed to use the plain method redeems its code
// with the verifier equal to the challenge (RFC 7636 §4.6).
func TestPlainPKCE(t *testing.T) {
	e := newEnv(t, nil)
	verifier := oauth2.GenerateVerifier()
	loc := e.authorize(t, e.authQuery("client_id", "plain-app", "redirect_uri", "https://legacy.example/cb", "code_challenge", verifier, "code_challenge_method", ""))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, loc.String())
	conf := e.oauth2Config("plain-app", "plain-secret", "https://legacy.example/cb")
	_, err := conf.Exchange(e.ctx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	require.Error(t, err, "wrong verifier")
	_, err = conf.Exchange(e.ctx(), code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
}

// TestPrivateUseSchemeRedirect: a native app's private-use URI scheme
// (RFC 8252 §7.1) is matched exactly and allowed by the page's CSP.
func TestPrivateUseSchemeRedirect(t *testing.T) {
	const redirect = "com.example.app:/oauth2redirect"
	e := newEnv(t, func(c *oauth.Config) { c.Clients[1].RedirectURIs = []string{redirect} })
	u := e.authQuery("client_id", otherID, "redirect_uri", redirect)
	resp, err := e.browser(t).Get(u)
	require.NoError(t, err)
	readBody(t, resp)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "form-action 'self' com.example.app:;")
	loc := e.authorize(t, u)
	assert.Equal(t, "com.example.app", loc.Scheme)
	assert.NotEmpty(t, loc.Query().Get("code"))
}
