package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hellogw/hellogw/internal/browsertest"
)

// TestMain closes the one browser the tests of this package share.
func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// screenshot saves the page at the given width into $HELLOGW_SCREENSHOTS,
// if set, for a human to look at.
func screenshot(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	dir := os.Getenv("HELLOGW_SCREENSHOTS")
	if dir == "" {
		return
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644))
}

// TestBrowserLogin logs in and approves in a real browser, which must land on
// the client's redirect URI with a code that can be exchanged. It also
// proves the CSP lets the browser follow the redirect after the form POST.
func TestBrowserLogin(t *testing.T) {
	e := newEnv(t, nil)
	callbacks := make(chan url.Values, 1)
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			callbacks <- r.URL.Query()
		}
		fmt.Fprint(w, "<!doctype html><title>client</title><p id=done>done</p>")
	}))
	defer client.Close()
	// The registered URI is http://127.0.0.1:9999/callback; the loopback port may vary.
	redirect := client.URL + "/callback"
	conf := e.oauth2Config(demoID, demoSecret, redirect, "hello", "extra")
	verifier := oauth2.GenerateVerifier()
	ctx := browsertest.New(t, 90*time.Second)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	))
	for _, w := range []int64{390, 1280} {
		screenshot(t, ctx, "login", w)
	}
	// A wrong password first: the page says so.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert")),
	))
	alert, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".alert")))
	require.NoError(t, err)
	assert.Contains(t, alert, "incorrect")
	screenshot(t, ctx, "login-error", 390)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), "alice-password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
	))
	for _, w := range []int64{390, 1280} {
		screenshot(t, ctx, "consent", w)
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[value=allow]`)),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	))
	var got url.Values
	select {
	case got = <-callbacks:
	case <-ctx.Done():
		t.Fatal("the browser never reached the client's redirect URI")
	}
	assert.Equal(t, "browser-state", got.Get("state"))
	require.NotEmpty(t, got.Get("code"))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, redirect+"?")

	tok, err := conf.Exchange(e.ctx(), got.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NoError(t, e.srv.VerifyAccessToken(context.Background(), tok.AccessToken))
}

// TestBrowserRefusesFraming loads the login page in an iframe: the browser
// must refuse to render it (X-Frame-Options DENY, CSP frame-ancestors
// 'none'). A same-origin framer is used so the test can look into the
// frame; a page that allows framing is loaded the same way as a control.
func TestBrowserRefusesFraming(t *testing.T) {
	e := newEnv(t, nil)
	authPath := e.authQuery()[len(e.ts.URL):]
	framer := gin.New()
	framer.GET("/frame", func(c *gin.Context) {
		src := c.Query("src")
		c.Data(http.StatusOK, "text/html; charset=utf-8", fmt.Appendf(nil,
			`<!doctype html><title>framer</title><iframe id=f src=%q onload="document.title='loaded'"></iframe>`, src))
	})
	framer.GET("/plain", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(`<!doctype html><input name=password>`))
	})
	// Serve framer and authorization server from one origin.
	mux := http.NewServeMux()
	mux.Handle("/frame", framer)
	mux.Handle("/plain", framer)
	mux.Handle("/", e.handler)
	site := httptest.NewServer(mux)
	defer site.Close()
	ctx := browsertest.New(t, 90*time.Second)

	framed := func(src string) bool {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/frame?src="+url.QueryEscape(src))))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.title === 'loaded'`))
		require.NoError(t, err)
		visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`(() => { const d = document.getElementById('f').contentDocument; return !!(d && d.querySelector('input[name=password]')); })()`))
		require.NoError(t, err)
		return visible
	}
	require.True(t, framed("/plain"), "control: a page without protection renders in the frame")
	assert.False(t, framed(authPath), "the login page rendered inside a frame")
}
