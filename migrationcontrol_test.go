package main_test

// End-to-end tests of migration control (README "Migration control"): two
// hellogw binaries on one PostgreSQL database split their callers between
// the local core and a real HTTP JSON upstream, and `hellogw migrate`
// changes the weight through the admin routes.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/pgtest"
)

// newAPI is the backend being migrated to: a real HTTP JSON API answering
// "New, NAME!", or HTTP 503 while failing is set.
func newAPI(t *testing.T, failing *atomic.Bool) string {
	t.Helper()
	return gwtest.JSONAPI(t, func(name string) (string, int) {
		if failing.Load() {
			return "", http.StatusServiceUnavailable
		}
		return "New, " + name + "!", 0
	})
}

// sayHelloFrom calls sayHello as the caller at addr (X-Forwarded-For, the
// gateway trusting 127.0.0.1 as a proxy) and returns the status and greeting.
func sayHelloFrom(t *testing.T, gwURL, addr string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, gwURL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Greeting string `json:"greeting"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Greeting
}

// migrateCLI runs `hellogw migrate ARGS…`.
func migrateCLI(t *testing.T, args ...string) clientResult {
	t.Helper()
	return runClientCommand(t, nil, append([]string{hellogwBinary(t), "migrate"}, args...)...)
}

// weightOf reads hellogw_migration_weight from a node's /metrics.
func weightOf(t *testing.T, g *clientsGateway) int {
	t.Helper()
	resp, err := http.Get(g.AdminURL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "hellogw_migration_weight "); ok {
			w, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return w
		}
	}
	t.Fatalf("no hellogw_migration_weight in /metrics")
	return 0
}

func TestMigrationControl(t *testing.T) {
	var failing atomic.Bool
	cfg := writeConfig(t, `
trusted_proxies: [127.0.0.1]
clients:
`+adminClients+`
migration:
  to: {kind: json, url: %q, breaker: {failures: 1000}}
  weight: 0
  ramp: {steps: [10, 20], pause: 1h}
  rollback: {window: 5s, min_calls: 10, max_error_rate: 0.2}
  poll: 300ms`, newAPI(t, &failing))
	store := pgtest.Schema(t)
	a := startClientsGateway(t, "-config", cfg, "-store", store)
	b := startClientsGateway(t, "-config", cfg, "-store", store)

	t.Run("SetAtOneNodeTheOtherAgrees", func(t *testing.T) {
		res := migrateCLI(t, "set", "30", "-admin-url", a.AdminURL, "-reason", "first step")
		require.Equal(t, 0, res.code, "%s", res)
		assert.Equal(t, "weight 30%, running\nreason: first step\n", res.stdout)
		start := time.Now()
		require.Eventually(t, func() bool { return weightOf(t, b) == 30 }, 2*time.Second, 20*time.Millisecond)
		t.Logf("b had the weight after %v", time.Since(start))
	})
	t.Run("ShareAt30", func(t *testing.T) {
		// 1,000 callers through b, each twice: about 30 % on the new
		// backend, each caller on one side.
		next := 0
		for i := range 1000 {
			addr := fmt.Sprintf("10.1.%d.%d", i/256, i%256)
			var first string
			for call := range 2 {
				status, greeting := sayHelloFrom(t, b.URL, addr)
				require.Equal(t, http.StatusOK, status)
				if call == 0 {
					first = greeting
				}
				require.Equal(t, first, greeting, "caller %s changed sides", addr)
			}
			if first == "New, Ada!" {
				next++
			} else {
				require.Equal(t, "Hello, Ada!", first)
			}
		}
		assert.InDelta(t, 300, next, 40)
	})
	t.Run("ErrRefusals", func(t *testing.T) {
		res := migrateCLI(t, "resume", "-admin-url", a.AdminURL)
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stderr, "HTTP 409: the migration is running: there is nothing to resume")
		res = migrateCLI(t, "set", "130", "-admin-url", a.AdminURL)
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stderr, "the weight is a whole number from 0 to 100")
		// The public port without a token: refused, and said how to fix it.
		res = migrateCLI(t, "rollback", "-admin-url", a.URL)
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stderr, "HTTP 401: this route needs a bearer token with the admin scope (give -admin-url")
		assert.Equal(t, 30, weightOf(t, a), "nothing changed")
	})
	top := t // the restarted node outlives the subtest
	t.Run("TokenOnThePublicPort", func(t *testing.T) {
		token := func(id, secret string) string {
			conf := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: a.URL + "/odfksdlfksld345345fdgdfg3453"}
			tok, err := conf.Token(t.Context())
			require.NoError(t, err)
			return tok.AccessToken
		}
		res := migrateCLI(t, "set", "35", "-admin-url", a.URL, "-token", token("batch-job", "batch-secret"))
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stderr, "HTTP 403: the access token does not have the admin scope")
		res = runClientCommand(t, []string{"HELLOGW_ADMIN_TOKEN=" + token("prometheus", "prometheus-secret")},
			hellogwBinary(t), "migrate", "set", "35", "-admin-url", a.URL)
		require.Equal(t, 0, res.code, "%s", res)
		assert.Equal(t, "weight 35%, running\nreason: hellogw migrate set 35\n", res.stdout)
		res = migrateCLI(t, "set", "30", "-admin-url", a.AdminURL)
		require.Equal(t, 0, res.code, "%s", res)
	})
	t.Run("RestartKeepsTheWeight", func(t *testing.T) {
		b.Stop()
		b = startClientsGateway(top, "-config", cfg, "-store", store)
		assert.Equal(t, 30, weightOf(t, b))
	})
	t.Run("FailingBackendRollsBackBothNodes", func(t *testing.T) {
		failing.Store(true)
		start := time.Now()
		errs := 0
		for i := 0; weightOf(t, a) != 0 || weightOf(t, b) != 0; i++ {
			require.Less(t, time.Since(start), 5*time.Second, "not rolled back within the window")
			for _, g := range []*clientsGateway{a, b} {
				if status, _ := sayHelloFrom(t, g.URL, fmt.Sprintf("10.2.%d.%d", i/256, i%256)); status != http.StatusOK {
					errs++
				}
			}
		}
		t.Logf("both nodes at weight 0 after %v and %d client errors", time.Since(start), errs)
		// Each node's window lets at most min_calls errors through, and a
		// call or two in flight.
		assert.LessOrEqual(t, errs, 2*(10+2))
		for i := range 50 {
			status, greeting := sayHelloFrom(t, b.URL, fmt.Sprintf("10.3.0.%d", i))
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "Hello, Ada!", greeting)
		}
		// The weight goes to 0 the moment a node's window trips; the
		// store's record and its log line follow.
		assert.Eventually(t, func() bool {
			return strings.Contains(a.logs()+b.logs(), `"msg":"migration rolled back","reason":"error rate`)
		}, 5*time.Second, 10*time.Millisecond, "no rollback in the logs")
	})
	t.Run("ResumeIsDeliberate", func(t *testing.T) {
		failing.Store(false)
		time.Sleep(time.Second)
		assert.Equal(t, 0, weightOf(t, b), "no node resumes by itself")
		res := migrateCLI(t, "-admin-url", b.AdminURL, "resume", "-reason", "fixed")
		require.Equal(t, 0, res.code, "%s", res)
		assert.Equal(t, "weight 30%, running\nreason: fixed\n", res.stdout)
		// A ramp never moves callers back: at 30 no step is above.
		res = migrateCLI(t, "ramp", "-admin-url", b.AdminURL)
		assert.Equal(t, 1, res.code, "%s", res)
		assert.Contains(t, res.stderr, "HTTP 409: no ramp step is above the weight: the weight is 30 %, the steps are [10 20]", "%s", res)
		res = migrateCLI(t, "set", "5", "-admin-url", b.AdminURL)
		require.Equal(t, 0, res.code, "%s", res)
		res = migrateCLI(t, "ramp", "-admin-url", b.AdminURL, "-json")
		require.Equal(t, 0, res.code, "%s", res)
		var st map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &st), "%s", res)
		assert.Equal(t, 10.0, st["weight"])
		assert.Equal(t, 0.0, st["ramp_step"])
	})
	t.Run("Status", func(t *testing.T) {
		res := migrateCLI(t, "status", "-admin-url", b.AdminURL) // b made the last change: a learns of it within poll
		require.Equal(t, 0, res.code, "%s", res)
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		require.GreaterOrEqual(t, len(lines), 4, "%s", res.stdout)
		assert.Regexp(t, `^weight 10%, running, ramp_step 0 \(next not before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$`, lines[0])
		assert.Equal(t, "reason: hellogw migrate ramp", lines[1])
		assert.Regexp(t, `^window of this node: \d+ calls of the new backend, \d+ errors; 0 shadow comparisons, 0 mismatches$`, lines[2])
		// The history, newest first: the ramp, the resume, the rollback
		// with its reason, the sets.
		assert.Regexp(t, `^\S+  api +ramp +5% ->  10%  hellogw migrate ramp \(ramp_step 0 of steps \[10 20\], 1h0m0s each\) \(`, lines[3])
		assert.Regexp(t, `  rollback rollback  30% ->   0%  error rate \d\.\d\d > 0\.20 over 5s \(\d+ of \d+ calls\) \(`, res.stdout)
	})
	t.Run("StartUpLineNamesTheRamp", func(t *testing.T) {
		c := startClientsGateway(t, "-config", cfg, "-store", store)
		assert.Regexp(t, `"msg":"migration","node":"[^"]+","weight":10,"state":"running","current":"local","next":"json http://127\.0\.0\.1:\d+","ramp_step":0,"ramp_steps":\[10,20\]}`, c.logs())
	})
}

// TestMigrationShadowIsTheNewBackend: with the shadow and migration.to the
// same service, the shadow never asks the backend that answered: a caller
// on the new side is compared with the current backend, one on the current
// side with the new one. Each real upstream counts the requests it got:
// one per call, never two at one and none at the other.
func TestMigrationShadowIsTheNewBackend(t *testing.T) {
	var currentAsked, nextAsked atomic.Int64
	current := gwtest.JSONAPI(t, func(name string) (string, int) { currentAsked.Add(1); return "Hello, " + name + "!", 0 })
	next := gwtest.JSONAPI(t, func(name string) (string, int) { nextAsked.Add(1); return "New, " + name + "!", 0 })
	cfg := writeConfig(t, `
trusted_proxies: [127.0.0.1]
backend: {kind: json, url: %[1]q}
shadow: {kind: json, url: %[2]q}
migration:
  to: {kind: json, url: %[2]q}
  weight: 100
  poll: 200ms`, current, next)
	gw := startClientsGateway(t, "-config", cfg, "-store", filepath.Join(t.TempDir(), "hellogw.db"))
	// The start-up line names both services (scheme://host only).
	assert.Regexp(t, `"msg":"migration","node":"[^"]+-[a-z0-9]{6}","weight":100,"state":"running","current":"json http://127\.0\.0\.1:\d+","next":"json http://127\.0\.0\.1:\d+"}`, gw.logs())

	status, greeting := sayHelloFrom(t, gw.URL, "10.9.0.1")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "New, Ada!", greeting, "weight 100: the new backend answers")
	waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="mismatch"}`, 1)
	assert.Equal(t, int64(1), nextAsked.Load(), "the new backend: asked once, by the split")
	assert.Equal(t, int64(1), currentAsked.Load(), "the current backend: asked by the shadow")

	res := migrateCLI(t, "set", "0", "-admin-url", gw.AdminURL)
	require.Equal(t, 0, res.code, "%s", res)
	status, greeting = sayHelloFrom(t, gw.URL, "10.9.0.1")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Hello, Ada!", greeting, "weight 0: the current backend answers")
	waitMetric(t, gw.AdminURL, `hellogw_shadow_total{result="mismatch"}`, 2)
	assert.Equal(t, int64(2), currentAsked.Load())
	assert.Equal(t, int64(2), nextAsked.Load(), "the new backend: asked by the shadow")
	assert.Equal(t, 0.0, metric(t, gw.AdminURL, `hellogw_shadow_total{result="match"}`), "no greeting compared with itself")
}
