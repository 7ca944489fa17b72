package oauth_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// benchEnv is a server whose demo-app secret is hashed at the default bcrypt
// cost, as `hellogw hash-secret` makes it, on the store at path (an SQLite
// file or a postgres:// URL).
func benchEnv(tb testing.TB, path string) *env {
	tb.Helper()
	h, err := oauth.HashSecret(demoSecret)
	require.NoError(tb, err)
	return newEnvAt(tb, path, func(c *oauth.Config) { c.Clients[0].SecretHash = h })
}

// benchStores are the stores BenchmarkTokenEndpoint measures: an SQLite
// file, and PostgreSQL when HELLOGW_TEST_POSTGRES_URL names one.
func benchStores(b *testing.B) map[string]string {
	stores := map[string]string{"sqlite": filepath.Join(b.TempDir(), "oauth.db")}
	if u := os.Getenv("HELLOGW_TEST_POSTGRES_URL"); u != "" {
		stores["postgres"] = u
	} else {
		b.Log("PostgreSQL not measured: HELLOGW_TEST_POSTGRES_URL is not set")
	}
	return stores
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
// token endpoint, client authentication (bcrypt cost 10 secret, the attempt
// counted in the store and taken back: see throttle.go) and the store
// included. The budget is 1 ms of CPU per grant. The CPU is this
// process's: PostgreSQL's own is not in it.
func BenchmarkTokenEndpoint(b *testing.B) {
	report := func(b *testing.B, cpu time.Duration) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/grant")
	}
	for name, path := range benchStores(b) {
		b.Run(name+"/refresh_token", func(b *testing.B) {
			e := benchEnv(b, path)
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
		b.Run(name+"/authorization_code", func(b *testing.B) {
			e := benchEnv(b, path)
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
}
