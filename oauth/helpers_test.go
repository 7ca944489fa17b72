package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
	"gopkg.in/yaml.v3"

	"github.com/hellogw/hellogw/internal/syncbuf"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/postgres"
	"github.com/hellogw/hellogw/oauth/sqlite"
)

func init() { gin.SetMode(gin.TestMode) }

// Values from testdata/oauth/config.yaml.
const (
	demoID       = "demo-app"
	demoSecret   = "demo-secret"
	demoRedirect = "http://127.0.0.1:9999/callback"
	otherID      = "other-app"
	otherSecret  = "other-secret"
)

// clock is a settable time source for oauth.Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is an OAuth server on a real SQLite file behind httptest.NewServer.
type env struct {
	srv   *oauth.Server
	ts    *httptest.Server
	store interface {
		oauth.Store
		Close() error
	}
	path  string // the SQLite file, or a postgres:// URL
	clock *clock
	reg   *prometheus.Registry
	cfg   oauth.Config
	// handler is the gin engine behind ts.
	handler http.Handler
	logs    *syncbuf.Buffer // the server's JSON log
}

// loadConfig reads testdata/oauth/config.yaml.
func loadConfig(tb testing.TB) oauth.Config {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "oauth", "config.yaml"))
	require.NoError(tb, err)
	var cfg oauth.Config
	require.NoError(tb, yaml.Unmarshal(raw, &cfg))
	return cfg
}

// newEnv starts a server with the test config, changed by edit if not nil,
// on a new SQLite file.
func newEnv(tb testing.TB, edit func(*oauth.Config)) *env {
	tb.Helper()
	return newEnvAt(tb, filepath.Join(tb.TempDir(), "oauth.db"), edit)
}

// newEnvAt is newEnv on the store at path: an SQLite file or a postgres:// URL.
func newEnvAt(tb testing.TB, path string, edit func(*oauth.Config)) *env {
	tb.Helper()
	e := &env{clock: &clock{t: time.Now()}, reg: prometheus.NewRegistry(), path: path, logs: &syncbuf.Buffer{}}
	cfg := loadConfig(tb)
	cfg.Now = e.clock.Now
	if edit != nil {
		edit(&cfg)
	}
	e.cfg = cfg
	e.start(tb)
	return e
}

// start opens the store, builds the server and serves it on a new engine.
func (e *env) start(tb testing.TB) {
	tb.Helper()
	engine := gin.New()
	e.handler = engine
	e.ts = httptest.NewServer(engine)
	tb.Cleanup(e.ts.Close)
	var err error
	if strings.HasPrefix(e.path, "postgres://") {
		e.store, err = postgres.Open(context.Background(), e.path)
	} else {
		e.store, err = sqlite.Open(context.Background(), e.path)
	}
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = e.store.Close() })
	cfg := e.cfg
	cfg.Issuer = e.ts.URL
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv, err = oauth.NewServer(cfg, e.store, logger, e.reg)
	require.NoError(tb, err)
	e.srv.Register(engine)
}

// restart stops the server and the store and starts them again on the same
// SQLite file, as a process restart would.
func (e *env) restart(tb testing.TB) {
	tb.Helper()
	e.ts.Close()
	require.NoError(tb, e.store.Close())
	e.reg = prometheus.NewRegistry()
	e.start(tb)
}

// oauth2Config is golang.org/x/oauth2's view of a client of e.
func (e *env) oauth2Config(id, secret, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: id, ClientSecret: secret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.ts.URL + oauth.AuthorizePath, TokenURL: e.ts.URL + oauth.TokenPath},
	}
}

// ctx carries the test server's HTTP client for golang.org/x/oauth2.
func (e *env) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.ts.Client())
}

// browser is an HTTP client with cookies that stops at redirects away from
// the test server, like a user agent whose next stop is the client.
func (e *env) browser(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(tb, err)
	host := strings.TrimPrefix(e.ts.URL, "http://")
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// form is an HTML form found in a page.
type form struct {
	action string
	values url.Values // hidden inputs
}

// parseForm returns the first form of an HTML page and its hidden inputs.
func parseForm(tb testing.TB, body string) form {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(tb, err)
	var f *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := func(k string) string {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch {
			case n.Data == "form" && f == nil:
				f = &form{action: attr("action"), values: url.Values{}}
			case n.Data == "input" && f != nil && attr("type") == "hidden":
				f.values.Add(attr("name"), attr("value"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	require.NotNil(tb, f, "no form in page:\n%s", body)
	return *f
}

// readBody returns the body of resp and closes it.
func readBody(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	require.NoError(tb, resp.Body.Close())
	return string(b)
}

// post submits values to the form's action.
func (e *env) post(tb testing.TB, c *http.Client, f form, extra url.Values) *http.Response {
	tb.Helper()
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	for k, vs := range extra {
		v[k] = vs
	}
	resp, err := c.PostForm(e.ts.URL+f.action, v)
	require.NoError(tb, err)
	return resp
}

// login opens authURL in browser c and signs in as alice; it returns the
// consent page.
func (e *env) login(tb testing.TB, c *http.Client, authURL string) string {
	tb.Helper()
	resp, err := c.Get(authURL)
	require.NoError(tb, err)
	page := readBody(tb, resp)
	require.Equal(tb, http.StatusOK, resp.StatusCode, page)
	resp = e.post(tb, c, parseForm(tb, page), url.Values{"username": {"alice"}, "password": {"alice-password"}})
	page = readBody(tb, resp)
	require.Equal(tb, http.StatusOK, resp.StatusCode, page)
	require.Contains(tb, page, `value="allow"`, "consent page expected")
	return page
}

// approve submits a consent page with decision and returns the redirect.
func (e *env) approve(tb testing.TB, c *http.Client, consentPage, decision string) *url.URL {
	tb.Helper()
	resp := e.post(tb, c, parseForm(tb, consentPage), url.Values{"decision": {decision}})
	readBody(tb, resp)
	require.Equal(tb, http.StatusSeeOther, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(tb, err)
	return loc
}

// authorize runs the whole browser part and returns the redirect to the client.
func (e *env) authorize(tb testing.TB, authURL string) *url.URL {
	tb.Helper()
	c := e.browser(tb)
	return e.approve(tb, c, e.login(tb, c, authURL), "allow")
}

// grant is a fresh authorization for demo-app: a code with its PKCE verifier.
type grant struct {
	code, verifier string
}

// newGrant authorizes demo-app with PKCE S256 and the given scopes.
func (e *env) newGrant(tb testing.TB, scopes ...string) grant {
	tb.Helper()
	verifier := oauth2.GenerateVerifier()
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect, scopes...)
	loc := e.authorize(tb, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	code := loc.Query().Get("code")
	require.NotEmpty(tb, code, "redirect %s", loc)
	return grant{code: code, verifier: verifier}
}

// tokens exchanges g through golang.org/x/oauth2.
func (e *env) tokens(tb testing.TB, g grant) *oauth2.Token {
	tb.Helper()
	tok, err := e.oauth2Config(demoID, demoSecret, demoRedirect).Exchange(e.ctx(), g.code, oauth2.VerifierOption(g.verifier))
	require.NoError(tb, err)
	return tok
}

// tokenRequest is a raw request to the token endpoint (or another form endpoint).
type tokenRequest struct {
	path        string // default oauth.TokenPath
	form        string // raw body
	basic       string // "id:secret" as sent, before base64; empty: none
	contentType string // default application/x-www-form-urlencoded
	from        string // the client address, sent as X-Forwarded-For; empty: the loopback peer
}

// do sends r and returns the response with its body read.
func (e *env) do(tb testing.TB, r tokenRequest) (*http.Response, string) {
	tb.Helper()
	path := r.path
	if path == "" {
		path = oauth.TokenPath
	}
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(r.form))
	require.NoError(tb, err)
	ct := r.contentType
	if ct == "" {
		ct = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", ct)
	if r.basic != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.basic)))
	}
	if r.from != "" {
		req.Header.Set("X-Forwarded-For", r.from) // gin.New trusts every proxy
	}
	resp, err := e.ts.Client().Do(req)
	require.NoError(tb, err)
	return resp, readBody(tb, resp)
}

// jsonBody decodes a JSON object.
func jsonBody(tb testing.TB, body string) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal([]byte(body), &m), body)
	return m
}

// formOf builds a form body.
func formOf(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}
