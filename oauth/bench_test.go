package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// benchEnv is a server whose demo-app secret is hashed at the default bcrypt
// cost, as `hellogw hash-secret` makes it.
func benchEnv(tb testing.TB) *env {
	tb.Helper()
	h, err := oauth.HashSecret(demoSecret)
	require.NoError(tb, err)
	return newEnv(tb, func(c *oauth.Config) { c.Clients[0].SecretHash = h })
}

// cpuTime is the user plus system CPU time of the process.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	require.NoError(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serve sends a token request for demo-app straight to the gin engine,
// without a network, and returns the body of the 200 answer.
func (e *env) serve(tb testing.TB, form string) string {
	req := httptest.NewRequest(http.MethodPost, oauth.TokenPath, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoID, demoSecret)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// BenchmarkTokenEndpoint measures grants per second and CPU per grant of the
// token endpoint, client authentication (bcrypt cost 10 secret) and SQLite
// store included. The budget is 1 ms of CPU per grant.
func BenchmarkTokenEndpoint(b *testing.B) {
	report := func(b *testing.B, cpu time.Duration) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/grant")
	}
	b.Run("refresh_token", func(b *testing.B) {
		e := benchEnv(b)
		refresh := e.tokens(b, e.newGrant(b, "hello")).RefreshToken
		b.ResetTimer()
		start := cpuTime(b)
		for range b.N {
			body := e.serve(b, formOf("grant_type", "refresh_token", "refresh_token", refresh))
			refresh = jsonBody(b, body)["refresh_token"].(string)
		}
		b.StopTimer()
		report(b, cpuTime(b)-start)
	})
	b.Run("authorization_code", func(b *testing.B) {
		e := benchEnv(b)
		grants := make([]grant, b.N)
		for i := range grants {
			grants[i] = e.newGrant(b, "hello")
		}
		b.ResetTimer()
		start := cpuTime(b)
		for _, g := range grants {
			e.serve(b, formOf("grant_type", "authorization_code", "code", g.code, "redirect_uri", demoRedirect, "code_verifier", g.verifier))
		}
		b.StopTimer()
		report(b, cpuTime(b)-start)
	})
}
