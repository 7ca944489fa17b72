package oauth_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// TestClientAuthThrottle: failed client authentication is throttled per client
// and per address with 429 and Retry-After (RFC 6749 §2.3.1), and only for a
// short window.
func TestClientAuthThrottle(t *testing.T) {
	e := newEnv(t, nil)
	introspect := func(basic string) *http.Response {
		resp, _ := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: basic, form: "token=x"})
		return resp
	}
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, introspect(demoID+":wrong-"+strconv.Itoa(i)).StatusCode)
	}
	for name, basic := range map[string]string{"SameClient": demoBasic, "OtherClientSameAddress": otherID + ":" + otherSecret} {
		t.Run(name, func(t *testing.T) {
			resp := introspect(basic)
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			require.NoError(t, err)
			assert.True(t, secs > 0 && secs <= 30, "Retry-After %d", secs)
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		})
	}
	// The token endpoint shares the budget.
	resp, body := e.do(t, tokenRequest{basic: demoBasic, form: formOf("grant_type", "refresh_token", "refresh_token", "x")})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	assert.Equal(t, "invalid_client", jsonBody(t, body)["error"])

	e.clock.Advance(30 * time.Second)
	assert.Equal(t, http.StatusOK, introspect(demoBasic).StatusCode, "the window is over")

	assert.Equal(t, 10.0, counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "introspect", "reason", "bad_secret"))
	assert.Equal(t, 2.0, counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "introspect", "reason", "throttled"))
}
