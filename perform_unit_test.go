package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

// The mistakes; -h is in TestPerformMessages.
func TestPerformUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"perform"}, 1, "hellogw perform: name a flow: authorization-code"},
		{[]string{"perform", "implicit"}, 1, `hellogw perform: unknown flow "implicit": the flow is authorization-code`},
		{[]string{"perform", "authorization-code", "extra"}, 1, `hellogw perform: unexpected argument "extra"`},
	} {
		var out syncbuf.Buffer
		assert.Equal(t, tc.code, NewMain(&out).Main(t.Context(), tc.args), "%v", tc.args)
		assert.Contains(t, out.String(), tc.want, "%v", tc.args)
	}
}

// perform runs Main's perform subcommand with args against a gateway and
// returns its exit code, standard output and standard error; cancel, if
// not nil, is called once the flow waits for the redirect.
func runPerform(t *testing.T, ctx context.Context, cancel func(), args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncbuf.Buffer
	m := NewMain(&errOut)
	m.Stdout = &out
	if cancel != nil {
		go func() {
			for !strings.Contains(out.String(), "Waiting for the redirect") {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
	}
	code := m.Main(ctx, append([]string{"perform"}, args...))
	return code, out.String(), errOut.String()
}

func TestPerformMessages(t *testing.T) {
	example := startInProcess(t, "-config", filepath.Join("examples", "oauth.yaml"))

	t.Run("Interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		code, _, errOut := runPerform(t, ctx, cancel, "authorization-code", "-endpoint", example.URL)
		assert.Equal(t, 130, code)
		assert.Equal(t, "hellogw perform: interrupted\n", errOut)
	})
	t.Run("Timeout", func(t *testing.T) {
		code, _, errOut := runPerform(t, t.Context(), nil, "authorization-code", "-endpoint", example.URL, "-timeout", "1s")
		assert.Equal(t, 1, code)
		assert.Equal(t, "hellogw perform: no redirect within 1s: log in and approve in the browser sooner, or give a longer -timeout\n", errOut)
	})
	t.Run("UnknownClient", func(t *testing.T) {
		// `make run`: the embedded defaults register no client. perform
		// says so at once instead of waiting for a redirect that the
		// error page never makes.
		bare := startInProcess(t)
		start := time.Now()
		code, out, errOut := runPerform(t, t.Context(), nil, "authorization-code", "-endpoint", bare.URL, "-port", "0")
		assert.Equal(t, 1, code)
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.Regexp(t, `^hellogw perform: the gateway refuses this sign-in outright \(Unknown application\): it must know -client-id demo-app, with http://127\.0\.0\.1:\d+/callback among its redirect URIs; `+"`make run` serves no clients, `make example` serves demo-app\n$", errOut)
		assert.NotContains(t, out, "Open this address", "nothing to open")
	})
	t.Run("Help", func(t *testing.T) {
		for _, args := range [][]string{{"-h"}, {"authorization-code", "-h"}} {
			code, out, errOut := runPerform(t, t.Context(), nil, args...)
			assert.Equal(t, 0, code, args)
			assert.Empty(t, errOut, "asked for: on standard output")
			assert.Contains(t, out, "usage: hellogw perform authorization-code [flags]")
			for _, flag := range []string{"-endpoint", "-client-id", "-client-secret", "-scope", "-port", "-open", "-timeout"} {
				assert.Regexp(t, `(?m)^  `+flag+`( |$)`, out, "%v lists %s", args, flag)
			}
			assert.NotContains(t, out, "(default: the example", "the default is said once, by flag")
		}
	})
}

// $BROWSER is a command with arguments, %s standing for the address; a
// browser command that fails, even after starting, is reported.
func TestOpenBrowser(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "browser")
	got := filepath.Join(dir, "args")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > "+got+"\n"), 0o700))
	const u = "http://127.0.0.1:8080/authorize?client_id=demo-app"
	for browser, want := range map[string]string{
		script + " --new-window":        "--new-window " + u,
		script + " --url=%s --private":  "--url=" + u + " --private",
		"no-such-browser-xyz:" + script: u,
	} {
		exited, err := openBrowser(browser, u)
		require.NoError(t, err, browser)
		require.NoError(t, <-exited, browser)
		b, err := os.ReadFile(got)
		require.NoError(t, err)
		assert.Equal(t, want+"\n", string(b), browser)
	}

	exited, err := openBrowser("false", u)
	require.NoError(t, err, "it starts")
	var ee *exec.ExitError
	assert.True(t, errors.As(<-exited, &ee), "and its failure is reported")
	_, err = openBrowser("no-such-browser-xyz", u)
	assert.Error(t, err)
}

// pageHeading reads HTML, not XML: void elements, HTML's entities, a style
// sheet, markup in the heading, and the title when there is no h1.
func TestPageHeading(t *testing.T) {
	for page, want := range map[string]string{
		`<!doctype html><html lang="en"><meta charset="utf-8"><title>T</title><style>a > b { color: red }</style><body><main><h1>Unknown application</h1></main>`: "Unknown application",
		`<!DOCTYPE html><HTML><HEAD><TITLE>Fallback</TITLE><BODY><P>no heading<br>here`:                                                                           "Fallback",
		`<title>x</title><h1>  Caf&eacute; &amp; <em>bar</em> &#39;s  </h1>`:                                                                                      "Café &",
		`<h1></h1><p>nothing`: "",
		`not html at all`:     "",
	} {
		assert.Equal(t, want, pageHeading(strings.NewReader(page)), page)
	}
}

// A refusal from a page that is not the gateway's (a proxy's, with a script
// encoding/xml cannot read) is told by its status.
func TestProbeForeignPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<html><head><script>if (a < b) {}</script></head><body><h1>Nope</h1></body></html>`))
	}))
	defer srv.Close()
	err := probe(t.Context(), srv.URL+"/authorize", "demo-app", "http://127.0.0.1:1/callback")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refuses this sign-in outright (400 Bad Request)")
}
