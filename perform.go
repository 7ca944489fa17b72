package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/oauth"
)

// performUsage lists the flows `hellogw perform` plays.
const performUsage = `usage: hellogw perform authorization-code [flags]

Plays an OAuth client against a running hellogw, as "hydra perform" does: it
listens for the redirect on a loopback port, prints the address to open in a
browser, exchanges the code (PKCE S256, state checked), and prints the tokens
and a curl command that calls sayHello with the access token.`

// perform is `hellogw perform FLOW [flags]`.
func (m *Main) perform(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.logOut, performUsage)
		return errors.New("name a flow: authorization-code")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		// The one flow's usage, with its flags.
		return m.performAuthorizationCode(ctx, args[:1])
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
	fs.StringVar(&f.endpoint, "endpoint", "http://127.0.0.1:8080", "the gateway's base URL: where its /.well-known/oauth-authorization-server is")
	fs.StringVar(&f.clientID, "client-id", "demo-app", "the OAuth client, registered in the gateway's config (the default is examples/oauth.yaml's)")
	fs.StringVar(&f.clientSecret, "client-secret", env("HELLOGW_CLIENT_SECRET", "demo-secret"), "the client's secret [HELLOGW_CLIENT_SECRET]")
	fs.StringVar(&f.scope, "scope", "hello", "the scopes to ask for, space-separated")
	fs.IntVar(&f.port, "port", 0, "the loopback port to receive the redirect on (default: a free one); the client must have http://127.0.0.1:PORT/callback registered, any port being fine for a loopback URI (RFC 8252 §7.3)")
	fs.BoolVar(&f.open, "open", false, "also open the address in a browser: $BROWSER (a command, with arguments if need be; %s stands for the address, else it comes last), or xdg-open")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for the redirect (Ctrl-C stops waiting)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), performUsage)
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := m.parse(fs, args); err != nil {
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
	u := strings.TrimRight(endpoint, "/") + oauth.MetadataPath
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
	state := oauth.GenerateSecret()       // 256 bits (RFC 6749 §10.10)
	verifier := oauth2.GenerateVerifier() // RFC 7636 §4.1
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if err := probe(ctx, authURL, f.clientID, redirect); err != nil {
		_ = ln.Close()
		return err
	}

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
	var opened <-chan error // the browser command's exit, with -open
	if f.open {
		var err error
		if opened, err = openBrowser(os.Getenv("BROWSER"), authURL); err != nil {
			fmt.Fprintf(out, "(could not open a browser: %s; open the address yourself)\n", clean(err.Error()))
		}
	}
	var cb callback
	for waiting := true; waiting; {
		select {
		case cb = <-done:
			waiting = false
		case err := <-opened:
			opened = nil
			if err != nil {
				fmt.Fprintf(out, "(could not open a browser: %s; open the address yourself)\n", clean(err.Error()))
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("no redirect within %s: log in and approve in the browser sooner, or give a longer -timeout", f.timeout)
			}
			return ctx.Err() // interrupted: Main says so
		}
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

// probe asks the authorization endpoint for authURL before anyone opens
// it: a request it refuses outright (an unknown client, a redirect URI that
// is not registered) is shown as an error page, which a browser never
// leaves (RFC 6749 §4.1.2.1: no redirect), so waiting for the redirect
// would only wait for -timeout. The page's heading says what is wrong.
func probe(ctx context.Context, authURL, clientID, redirect string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("asking the authorization endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		return nil
	}
	why := clean(pageHeading(io.LimitReader(resp.Body, 1<<20)))
	if why == "" { // not the gateway's own page: a proxy's, say
		why = resp.Status
	}
	return fmt.Errorf("the gateway refuses this sign-in outright (%s): it must know -client-id %s, with %s among its redirect URIs; `make run` serves no clients, `make example` serves demo-app",
		why, clientID, redirect)
}

// pageHeading is the text of an HTML page's first h1, with its title as a
// fallback. encoding/xml's documented HTML mode (not strict, HTML's void
// elements and entities) reads the gateway's own pages well enough for one
// heading, and keeps golang.org/x/net/html out of the binary: its entity
// table would be live heap that every garbage collection of a serving
// gateway marks (README, Performance, "The tail"). HTML it cannot read (a
// script with a "<" in it, stray end tags) gives what was read before, or
// "": the caller says the status then.
func pageHeading(r io.Reader) string {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var in, title string
	for {
		tok, err := d.Token()
		if err != nil {
			return title
		}
		switch t := tok.(type) {
		case xml.StartElement:
			in = strings.ToLower(t.Name.Local)
		case xml.EndElement:
			in = ""
		case xml.CharData:
			text := strings.TrimSpace(string(t))
			switch {
			case in == "h1" && text != "":
				return text
			case in == "title" && title == "":
				title = text
			}
		}
	}
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

// openBrowser opens u with browser, the value of $BROWSER: a command with
// its arguments, %s standing for u (else u comes last), or several such
// commands separated by colons, the first that starts being used (the
// convention of sensible-browser and Python's webbrowser). Without one it
// runs xdg-open. The channel gets the command's exit, an error if it
// failed: xdg-open fails after starting when it finds no browser.
func openBrowser(browser, u string) (<-chan error, error) {
	if strings.TrimSpace(browser) == "" {
		browser = "xdg-open"
	}
	var err error
	for _, command := range strings.Split(browser, ":") {
		args := strings.Fields(command)
		if len(args) == 0 {
			continue
		}
		placed := false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], placed = strings.ReplaceAll(a, "%s", u), true
			}
		}
		if !placed {
			args = append(args, u)
		}
		cmd := exec.Command(args[0], args[1:]...)
		if err = cmd.Start(); err != nil {
			continue
		}
		exited := make(chan error, 1)
		go func() {
			if err := cmd.Wait(); err != nil {
				exited <- fmt.Errorf("%s: %w", args[0], err)
			}
			close(exited)
		}()
		return exited, nil
	}
	return nil, err
}
