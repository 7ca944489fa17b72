package oauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestClientAuthentication accepts Basic with form-urlencoded and with raw
// credentials, and credentials in the body.
func TestClientAuthentication(t *testing.T) {
	e := newEnv(t, nil)
	const id, secret = "special-app", "s3cr%t+/ :x"
	for name, req := range map[string]tokenRequest{
		"BasicURLEncoded": {basic: url.QueryEscape(id) + ":" + url.QueryEscape(secret)},
		"BasicRaw":        {basic: id + ":" + secret},
		"Body":            {form: formOf("client_id", id, "client_secret", secret)},
	} {
		t.Run(name, func(t *testing.T) {
			// Introspection needs only client authentication.
			req.path = oauth.IntrospectPath
			req.form += "&token=whatever"
			resp, body := e.do(t, req)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			assert.Equal(t, false, jsonBody(t, body)["active"])
		})
	}
	t.Run("WrongSecret", func(t *testing.T) {
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: id + ":" + secret + "x", form: "token=x"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	})
}

// TestClientAuthDoesNotBurnCode: a failed client authentication must not use
// up the code, since golang.org/x/oauth2 retries with body credentials.
func TestClientAuthDoesNotBurnCode(t *testing.T) {
	e := newEnv(t, nil)
	g := e.newGrant(t, "hello")
	form := formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier)
	resp, body := e.do(t, tokenRequest{basic: demoID + ":wrong", form: form})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	resp, body = e.do(t, tokenRequest{form: form + "&" + formOf("client_id", demoID, "client_secret", demoSecret)})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// TestClientSecretCache: after the first success, authenticating a client
// whose secret is bcrypt-hashed at the default cost costs far less than one
// bcrypt check (see secretCache in secret.go), in both Basic encodings of a
// secret whose raw and form-decoded forms differ.
func TestClientSecretCache(t *testing.T) {
	const secret = "p+q/r"
	begin := time.Now()
	h, err := oauth.HashSecret(secret) // one bcrypt at the default cost
	require.NoError(t, err)
	oneBcrypt := time.Since(begin)
	e := newEnv(t, func(c *oauth.Config) { c.Clients[0].SecretHash = h })

	introspect := func(basic string) {
		resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: basic, form: "token=x"})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}
	raw, encoded := demoID+":"+secret, demoID+":"+url.QueryEscape(secret)
	introspect(raw) // verifies bcrypt once
	begin = time.Now()
	const n = 20
	for range n / 2 {
		introspect(raw)
		introspect(encoded)
	}
	require.Less(t, time.Since(begin), 5*oneBcrypt, "%d authentications, one bcrypt takes %v", n, oneBcrypt)
}
