package oauth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageHeaders: the login page refuses framing, sends no Referer, is not
// cached and sets a safe session cookie.
func TestPageHeaders(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := e.browser(t).Get(e.authQuery())
	require.NoError(t, err)
	body := readBody(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h := resp.Header
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, h.Get("Content-Security-Policy"), "form-action 'self' http://127.0.0.1:9999")
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite)
	assert.Contains(t, body, `name="username"`)
	assert.Contains(t, body, `name="password"`)
	assert.Contains(t, body, `<label for="username">`)
	assert.Contains(t, body, `name="csrf"`)
	assert.NotContains(t, body, "<script")
	assert.NotRegexp(t, `(src|href)=`, body, "no external assets")
}
