package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

const oauthTestConfig = `
sayhello:
  require_token: true
clients:
  - id: demo-app
    name: Demo App
    secret: demo-secret
    redirect_uris: ["http://127.0.0.1:9999/callback"]
    scopes: ["hello"]
users:
  - username: alice
    password: alice-password
`

// TestOAuthBinary drives the real binary with the real golang.org/x/oauth2
// client: login and consent as a browser would post them, the code
// exchanged with a PKCE verifier, sayHello protected on both wire formats,
// then a restart on the same SQLite file: tokens still valid, refresh
// works, the used code is still used and its replay revokes the chain.
func TestOAuthBinary(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hellogw.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(oauthTestConfig), 0o600))
	db := filepath.Join(dir, "state", "hellogw.db")
	gw := startClientsGateway(t, "-config", cfgPath, "-store", db)

	var meta map[string]any
	getJSON(t, gw.URL+"/.well-known/oauth-authorization-server", &meta)
	assert.Equal(t, gw.URL, meta["issuer"])
	assert.Equal(t, gw.URL+"/odfksdlfksld345345fdgdfg3453", meta["token_endpoint"])

	conf := oauthConfig(gw.URL)
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, conf.AuthCodeURL("st-42", oauth2.S256ChallengeOption(verifier)))
	ctx := t.Context()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.Type())
	assert.NotEmpty(t, tok.RefreshToken)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)

	// Protected sayHello: refused without a token, served with one.
	assertSayHello(t, gw.URL, "", http.StatusUnauthorized)
	assertSayHello(t, gw.URL, "not-a-token", http.StatusUnauthorized)
	assertSayHello(t, gw.URL, tok.AccessToken, http.StatusOK)

	// Restart on the same SQLite file.
	gw.Stop()
	gw = startClientsGateway(t, "-config", cfgPath, "-store", db)
	conf = oauthConfig(gw.URL)
	assertSayHello(t, gw.URL, tok.AccessToken, http.StatusOK)

	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute) // make the TokenSource refresh
	fresh, err := conf.TokenSource(ctx, &stale).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, fresh.AccessToken)
	assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "refresh tokens rotate")
	assertSayHello(t, gw.URL, fresh.AccessToken, http.StatusOK)

	// The code was used before the restart: a replay is refused and
	// revokes every token issued from it.
	_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var rerr *oauth2.RetrieveError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, "invalid_grant", rerr.ErrorCode)
	assertSayHello(t, gw.URL, fresh.AccessToken, http.StatusUnauthorized)
	assertSayHello(t, gw.URL, tok.AccessToken, http.StatusUnauthorized)
}

func oauthConfig(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     "demo-app",
		ClientSecret: "demo-secret",
		RedirectURL:  "http://127.0.0.1:9999/callback",
		Scopes:       []string{"hello"},
		Endpoint: oauth2.Endpoint{
			AuthURL:  base + "/authorize",
			TokenURL: base + "/odfksdlfksld345345fdgdfg3453",
		},
	}
}

// authorize logs alice in and approves, as a browser posting the forms
// would, and returns the code from the redirect.
func authorize(t *testing.T, authURL string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	page := fetch(t, browser, http.MethodGet, authURL, nil)
	login := hiddenFields(t, page)
	login.Set("username", "alice")
	login.Set("password", "alice-password")
	consent := fetch(t, browser, http.MethodPost, formAction(t, authURL, page), login)
	assert.Contains(t, consent, "Demo App", "the consent page names the client")
	approve := hiddenFields(t, consent)
	approve.Set("decision", "allow")

	resp, err := browser.PostForm(formAction(t, authURL, consent), approve)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "a 303 after the POST")
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9999", loc.Host)
	assert.Equal(t, "st-42", loc.Query().Get("state"))
	require.NotEmpty(t, loc.Query().Get("code"))
	return loc.Query().Get("code")
}

func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther { // post, redirect, get
		next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return fetch(t, c, http.MethodGet, next.String(), nil)
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	return string(b)
}

// hiddenFields returns the hidden inputs of the page's first form: the
// CSRF token and whatever else the server carries between steps.
func hiddenFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	eachElement(t, page, func(n *html.Node) {
		if n.Data == "input" && attrOf(n, "type") == "hidden" {
			v.Add(attrOf(n, "name"), attrOf(n, "value"))
		}
	})
	require.NotEmpty(t, v, "no hidden fields (CSRF token) in:\n%s", page)
	return v
}

func formAction(t *testing.T, current, page string) string {
	t.Helper()
	action := ""
	eachElement(t, page, func(n *html.Node) {
		if n.Data == "form" && action == "" {
			action = attrOf(n, "action")
		}
	})
	ref, err := url.Parse(action)
	require.NoError(t, err)
	cur, err := url.Parse(current)
	require.NoError(t, err)
	return cur.ResolveReference(ref).String()
}

func eachElement(t *testing.T, page string, f func(*html.Node)) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err)
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			f(n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func getJSON(t *testing.T, target string, v any) {
	t.Helper()
	resp, err := http.Get(target)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// assertSayHello calls sayHello in JSON and in SOAP with the bearer token
// (none when empty) and checks both answer with status.
func assertSayHello(t *testing.T, base, token string, status int) {
	t.Helper()
	for _, call := range []struct{ path, contentType, body string }{
		{"/sayHello", "application/json", `{"firstName":"Ada"}`},
		{"/SayHello/", "text/xml; charset=utf-8", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></s:Body></s:Envelope>`},
	} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+call.path, strings.NewReader(call.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", call.contentType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, status, resp.StatusCode, "%s: %s", call.path, b)
		if status == http.StatusOK {
			assert.Contains(t, string(b), "Hello, Ada!")
		} else if token == "" {
			// RFC 6750 §3.1: no credentials, no error code.
			assert.Equal(t, `Bearer realm="hellogw"`, resp.Header.Get("WWW-Authenticate"))
		} else {
			assert.Equal(t, `Bearer realm="hellogw", error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// The config's throttle section reaches the running server: with
// pair_limit 3, the fourth wrong secret from one address is refused
// unchecked, and so is the right one after it (README "Throttling").
func TestThrottleFromConfig(t *testing.T) {
	gw := startClientsGateway(t, "-config", writeConfig(t, "%s\nthrottle: {pair_limit: 3, window: 1m}", oauthTestConfig))
	var got []int
	for i := range 5 {
		got = append(got, introspectAs(t, gw.URL, "demo-app", "wrong-"+strconv.Itoa(i)))
	}
	assert.Equal(t, []int{401, 401, 401, 429, 429}, got)
	assert.Equal(t, http.StatusTooManyRequests, introspectAs(t, gw.URL, "demo-app", "demo-secret"), "the right secret, from the same address")
}
