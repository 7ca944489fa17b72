package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestSecureCookie: with an https issuer the session cookie is Secure.
func TestSecureCookie(t *testing.T) {
	e := newEnv(t, nil)
	cfg := loadConfig(t)
	cfg.Issuer = "https://gw.example"
	srv, err := oauth.NewServer(cfg, e.store, nil, nil)
	require.NoError(t, err)
	engine := gin.New()
	srv.Register(engine)
	rec := httptest.NewRecorder()
	engine.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, e.authQuery()[len(e.ts.URL):], nil))
	require.Equal(t, http.StatusOK, rec.Code)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].Secure)
	assert.True(t, cookies[0].HttpOnly)
}

// TestConsentSessionExpired: a consent form posted after the session ended
// shows the login page with a clear message and issues no code.
func TestConsentSessionExpired(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	consent := e.login(t, c, e.authQuery())
	e.clock.Advance(16 * time.Minute)
	resp := e.post(t, c, parseForm(t, consent), url.Values{"decision": {"allow"}})
	body := readBody(t, resp)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Contains(t, body, "Your session has expired. Please sign in again.")
	assert.Contains(t, body, `name="password"`)
}
