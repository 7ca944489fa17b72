package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// performUsage lists the flows `hellogw perform` plays.
const performUsage = `usage: hellogw perform authorization-code [flags]

Plays an OAuth client against a running hellogw, as "hydra perform" does: it
listens for the redirect on a loopback port, prints the address to open in a
browser, exchanges the code (PKCE S256, state checked), and prints the tokens
and a curl command that calls sayHello with the access token.`

// perform is `hellogw perform FLOW [flags]`.
func (m *Main) perform(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(m.logOut, performUsage)
		if len(args) == 0 {
			return errors.New("name a flow: authorization-code")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "authorization-code":
		return m.performAuthorizationCode(ctx, args[1:])
	default:
		return fmt.Errorf("unknown flow %q: the flow is authorization-code", args[0])
	}
}

// authCodeFlow is what performAuthorizationCode is asked to do.
type authCodeFlow struct {
	endpoint     string
	clientID     string
	clientSecret string
	scope        string
	port         int
	open         bool
	timeout      time.Duration
}

func (m *Main) performAuthorizationCode(ctx context.Context, args []string) error {
	var f authCodeFlow
	fs := flag.NewFlagSet("hellogw perform authorization-code", flag.ContinueOnError)
	fs.SetOutput(m.logOut)
	fs.StringVar(&f.endpoint, "endpoint", "http://127.0.0.1:8080", "the gateway's base URL: where its /.well-known/oauth-authorization-server is")
	fs.StringVar(&f.clientID, "client-id", "demo-app", "the OAuth client (default: the example config's)")
	fs.StringVar(&f.clientSecret, "client-secret", env("HELLOGW_CLIENT_SECRET", "demo-secret"), "the client's secret (default: the example config's) [HELLOGW_CLIENT_SECRET]")
	fs.StringVar(&f.scope, "scope", "hello", "the scopes to ask for, space-separated")
	fs.IntVar(&f.port, "port", 0, "the loopback port to receive the redirect on (default: a free one); the client must have http://127.0.0.1:PORT/callback registered, any port being fine for a loopback URI (RFC 8252 §7.3)")
	fs.BoolVar(&f.open, "open", false, "also open the address in a browser (xdg-open, or $BROWSER)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for the redirect")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), performUsage)
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f.run(ctx, m.Stdout)
}

// metadata is the part of the RFC 8414 authorization server metadata the
// client needs.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
}

// discover reads the server's metadata (RFC 8414 §3).
func discover(ctx context.Context, endpoint string) (metadata, error) {
	var md metadata
	u := strings.TrimRight(endpoint, "/") + "/.well-known/oauth-authorization-server"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return md, fmt.Errorf("-endpoint: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return md, fmt.Errorf("is hellogw running at %s? %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return md, fmt.Errorf("%s answered HTTP %d: is it a hellogw?", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
		return md, fmt.Errorf("%s: not OAuth metadata: %w", u, err)
	}
	if md.AuthorizationEndpoint == "" || md.TokenEndpoint == "" {
		return md, fmt.Errorf("%s names no authorization or token endpoint", u)
	}
	return md, nil
}

// callback is what the redirect brought: a code, or the server's error.
type callback struct {
	code string
	err  error
}

func (f authCodeFlow) run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	md, err := discover(ctx, f.endpoint)
	if err != nil {
		return err
	}
	// RFC 8252 §7.3: a loopback redirect on an IP literal, not "localhost".
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.port)))
	if err != nil {
		return fmt.Errorf("-port: %w", err)
	}
	redirect := "http://" + ln.Addr().String() + "/callback"
	conf := &oauth2.Config{
		ClientID:     f.clientID,
		ClientSecret: f.clientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  redirect,
		Scopes:       strings.Fields(f.scope),
	}
	state := randomString()
	verifier := oauth2.GenerateVerifier() // RFC 7636 §4.1
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	done := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(state, md.Issuer, done), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer func() {
		// Shutdown waits for the callback page to be written and flushed
		// before the listener goes away.
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(out, "Open this address in a browser, log in and approve:\n\n  %s\n\n", authURL)
	fmt.Fprintf(out, "Waiting for the redirect to %s ...\n", redirect)
	if f.open {
		if err := openBrowser(authURL); err != nil {
			fmt.Fprintf(out, "(could not open a browser: %s; open the address yourself)\n", clean(err.Error()))
		}
	}
	var cb callback
	select {
	case cb = <-done:
	case <-ctx.Done():
		return fmt.Errorf("no redirect within %s: %w", f.timeout, ctx.Err())
	}
	if cb.err != nil {
		return cb.err
	}
	tok, err := conf.Exchange(ctx, cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return exchangeError(err)
	}
	printTokens(out, tok, f.endpoint)
	return nil
}

// callbackHandler answers the redirect on /callback. Anything else that
// reaches the loopback port (a favicon, a stray or forged redirect with the
// wrong state) is answered and ignored, so it cannot end the flow; the
// first redirect with the right state ends it, with a code or an error.
func callbackHandler(state, issuer string, done chan<- callback) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// RFC 6749 §10.12: not the answer to our request.
			callbackPage(w, http.StatusBadRequest, "This is not the answer to the request hellogw perform made (the state does not match). Still waiting.")
			return
		}
		// RFC 9207 §2.4: the answer names the server we asked.
		if iss := q.Get("iss"); iss != "" && issuer != "" && iss != issuer {
			callbackPage(w, http.StatusBadRequest, "This answer comes from another authorization server. Still waiting.")
			return
		}
		var cb callback
		switch code, e := q.Get("code"), q.Get("error"); {
		case e != "":
			cb.err = fmt.Errorf("the server refused: %s", describe(e, q.Get("error_description")))
			callbackPage(w, http.StatusOK, "The server refused: "+clean(e)+". You can close this window.")
		case code == "":
			cb.err = errors.New("the redirect carries neither a code nor an error")
			callbackPage(w, http.StatusBadRequest, "The redirect carries neither a code nor an error.")
		default:
			cb.code = code
			callbackPage(w, http.StatusOK, "Approved. hellogw perform exchanges the code; you can close this window.")
		}
		// Written and flushed before the flow goes on to stop the listener.
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case done <- cb:
		default: // a second good redirect after the first: nothing to do
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	return mux
}

var callbackTmpl = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>hellogw perform</title>
<p id="result">{{.}}</p></html>
`))

func callbackPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = callbackTmpl.Execute(w, msg)
}

// exchangeError says why the token endpoint refused, in its RFC 6749 §5.2
// terms when it gave them.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return fmt.Errorf("the token endpoint refused the code: %s", describe(re.ErrorCode, re.ErrorDescription))
	}
	if re != nil && re.Response != nil {
		return fmt.Errorf("the token endpoint answered HTTP %d", re.Response.StatusCode)
	}
	return fmt.Errorf("exchanging the code: %s", clean(err.Error()))
}

func describe(code, description string) string {
	if description == "" {
		return clean(code)
	}
	return clean(code) + " (" + clean(description) + ")"
}

// printTokens prints the token response and a curl command that calls
// sayHello with the access token.
func printTokens(out io.Writer, tok *oauth2.Token, endpoint string) {
	fmt.Fprintln(out)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(out, "%-14s %s\n", k+":", clean(v))
		}
	}
	row("access_token", tok.AccessToken)
	row("token_type", tok.TokenType)
	if !tok.Expiry.IsZero() {
		row("expires", tok.Expiry.Format(time.RFC3339))
	}
	if s, ok := tok.Extra("scope").(string); ok {
		row("scope", s)
	}
	row("refresh_token", tok.RefreshToken)
	fmt.Fprintf(out, "\nCall sayHello with it:\n\n  curl -s %s -H %s -H 'Content-Type: application/json' -d '{\"firstName\":\"Ada\"}'\n",
		shellQuote(strings.TrimRight(endpoint, "/")+"/sayHello"), shellQuote("Authorization: Bearer "+clean(tok.AccessToken)))
}

// clean drops control and format characters (terminal escapes, carriage
// returns, bidi overrides) from what the server said, before it reaches
// the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// randomString is 128 bits for the state parameter (RFC 6749 §10.10).
func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// openBrowser opens u with $BROWSER, else xdg-open.
func openBrowser(u string) error {
	cmd := exec.Command(env("BROWSER", "xdg-open"), u)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // the browser outlives us or not; either is fine
	return nil
}
