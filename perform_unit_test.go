package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

// What the server says reaches the terminal without control or format
// characters: no escape sequence can rewrite the screen or the curl line.
func TestPerformPrintsNoControlCharacters(t *testing.T) {
	assert.Equal(t, "[31mred[0m", clean("\x1b[31mred\x1b[0m"))
	assert.Equal(t, "ab", clean("a\r\nb"))
	assert.Equal(t, "evil.txt", clean("evil\u202e.txt"), "bidi override")
	assert.Equal(t, "José 名前", clean("José 名前"))

	tok := (&oauth2.Token{AccessToken: "tok\x1b]0;title\x07en", TokenType: "Bearer\r", RefreshToken: "re\x00fresh", Expiry: time.Unix(1795000000, 0)}).
		WithExtra(map[string]any{"scope": "hello\x1b[2J"})
	var out bytes.Buffer
	printTokens(&out, tok, "http://127.0.0.1:8080/")
	assert.NotRegexp(t, `[\x00-\x09\x0b-\x1f\x7f]`, out.String())
	assert.Contains(t, out.String(), "access_token:  tok]0;titleen\n")
	assert.Contains(t, out.String(), "scope:         hello[2J\n")
	assert.Contains(t, out.String(), `curl -s 'http://127.0.0.1:8080/sayHello' -H 'Authorization: Bearer tok]0;titleen'`)
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, `'it'\''s'`, shellQuote("it's"))
	assert.Equal(t, `'$(rm -rf ~)'`, shellQuote("$(rm -rf ~)"))
}

// The redirect handler ignores what is not the answer to its request, and
// ends the flow on the first one that is.
func TestCallbackHandler(t *testing.T) {
	done := make(chan callback, 1)
	h := callbackHandler("st", "http://issuer", done)
	get := func(target string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec.Code, rec.Body.String()
	}
	for _, tc := range []struct{ target, page string }{
		{"/callback?state=other&code=c", "the state does not match"},
		{"/callback?code=c", "the state does not match"},
		{"/callback?state=st&code=c&iss=http://evil", "another authorization server"},
	} {
		code, body := get(tc.target)
		assert.Equal(t, http.StatusBadRequest, code, tc.target)
		assert.Contains(t, body, tc.page, tc.target)
		assert.Len(t, done, 0, "%s must not end the flow", tc.target)
	}
	code, _ := get("/favicon.ico")
	assert.Equal(t, http.StatusNotFound, code)

	code, body := get("/callback?state=st&error=access_denied&error_description=no%1b[31m")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "The server refused: access_denied.")
	cb := <-done
	require.Error(t, cb.err)
	assert.Equal(t, "the server refused: access_denied (no[31m)", cb.err.Error())

	code, body = get("/callback?state=st&code=the-code&iss=http://issuer")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Approved")
	assert.Equal(t, callback{code: "the-code"}, <-done)
	_, body = get("/callback?state=st&code=again")
	assert.Contains(t, body, "Approved", "a second answer does not block")
	assert.True(t, strings.HasPrefix(body, "<!doctype html>"))
}

func TestPerformUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"perform"}, 1, "hellogw perform: name a flow: authorization-code"},
		{[]string{"perform", "implicit"}, 1, `hellogw perform: unknown flow "implicit": the flow is authorization-code`},
		{[]string{"perform", "-h"}, 0, "usage: hellogw perform authorization-code [flags]"},
		{[]string{"perform", "authorization-code", "-h"}, 0, "-client-secret string"},
		{[]string{"perform", "authorization-code", "extra"}, 1, `hellogw perform: unexpected argument "extra"`},
	} {
		var out syncbuf.Buffer
		assert.Equal(t, tc.code, NewMain(&out).Main(t.Context(), tc.args), "%v", tc.args)
		assert.Contains(t, out.String(), tc.want, "%v", tc.args)
	}
}
