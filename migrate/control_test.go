package migrate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/pgtest"
	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/migrate"
)

// TestControl drives the control routes over HTTP: each change answers the
// new state, each refusal a problem with its status.
func TestControl(t *testing.T) {
	_, next := newCores(t)
	n := startNode(t, sqliteFile(t), next, migrate.ControllerConfig{Weight: 10, RampSteps: []int{20, 100}, RampPause: 1 << 40})
	srv := controlServer(t, n.ctrl, 0)
	for _, tc := range []struct {
		description  string
		method, path string
		body         string
		status       int
		check        func(t *testing.T, m map[string]any)
	}{
		{"SetWeight", http.MethodPut, migrate.PathWeight, `{"weight": 30, "reason": "first step"}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, 30.0, m["weight"])
			assert.Equal(t, "running", m["state"])
			assert.Equal(t, "first step", m["reason"])
			assert.Equal(t, 30, n.split.Weight())
		}},
		{"ErrNoWeight", http.MethodPut, migrate.PathWeight, `{"reason": "x"}`, 400, nil},
		{"ErrWeightRange", http.MethodPut, migrate.PathWeight, `{"weight": 101}`, 400, nil},
		{"ErrUnknownMember", http.MethodPut, migrate.PathWeight, `{"weigth": 5}`, 400, nil},
		{"ErrNotJSON", http.MethodPut, migrate.PathWeight, `weight=5`, 400, nil},
		{"ErrResumeRunning", http.MethodPost, migrate.PathResume, ``, 409, nil},
		{"ErrPauseTakesNoWeight", http.MethodPost, migrate.PathPause, `{"weight": 3}`, 400, nil},
		{"Pause", http.MethodPost, migrate.PathPause, ``, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, "paused", m["state"])
			assert.Equal(t, "(no reason given)", m["reason"])
		}},
		{"Rollback", http.MethodPost, migrate.PathRollback, `{"reason": "latency"}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, 0.0, m["weight"])
			assert.Equal(t, "rolled_back", m["state"])
			assert.Equal(t, 30.0, m["resume_weight"])
			assert.Equal(t, 0, n.split.Weight())
		}},
		{"ErrPauseRolledBack", http.MethodPost, migrate.PathPause, ``, 409, nil},
		{"ResumeAt", http.MethodPost, migrate.PathResume, `{"weight": 15}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, 15.0, m["weight"])
			assert.Equal(t, "running", m["state"])
			assert.NotContains(t, m, "resume_weight", "only a rolled-back migration has one")
		}},
		{"LongestReason", http.MethodPost, migrate.PathPause, `{"reason": "` + strings.Repeat("é", migrate.MaxReason) + `"}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, "paused", m["state"])
		}},
		{"ResumeUnicode", http.MethodPost, migrate.PathResume, `{"reason": "grün ✓ 日本"}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, "grün ✓ 日本", m["reason"])
		}},
		{"Ramp", http.MethodPost, migrate.PathRamp, `{}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, 20.0, m["weight"])
			assert.Equal(t, 0.0, m["ramp_step"])
			assert.NotEmpty(t, m["next_step_at"])
		}},
		// A ramp starts at the first step above the weight: at 20 (the
		// first step) it goes on to 100, never back.
		{"RampAbove", http.MethodPost, migrate.PathRamp, `{}`, 200, func(t *testing.T, m map[string]any) {
			assert.Equal(t, 100.0, m["weight"])
			assert.Equal(t, 1.0, m["ramp_step"])
			assert.NotContains(t, m, "next_step_at", "the last step")
		}},
		{"ErrRampNoStepAbove", http.MethodPost, migrate.PathRamp, `{}`, 409, func(t *testing.T, m map[string]any) {
			assert.Equal(t, "no ramp step is above the weight: the weight is 100 %, the steps are [20 100]; `hellogw migrate set` (PUT /admin/migration/weight) sets any weight", m["detail"])
			assert.Equal(t, 100, n.split.Weight())
		}},
		{"ErrMethod", http.MethodGet, migrate.PathRamp, ``, 405, nil},
		{"ErrReasonTooLong", http.MethodPost, migrate.PathRollback, `{"reason": "` + strings.Repeat("é", migrate.MaxReason+1) + `"}`, 400, nil},
		{"ErrReason64KiB", http.MethodPost, migrate.PathRollback, `{"reason": "` + strings.Repeat("x", 64<<10-20) + `"}`, 400, nil},
		{"ErrReasonESC", http.MethodPost, migrate.PathRollback, `{"reason": "\u001b[2Jall clear"}`, 400, nil},
		{"ErrReasonNewline", http.MethodPost, migrate.PathRollback, `{"reason": "one\ntwo"}`, 400, nil},
		{"ErrReasonBidiOverride", http.MethodPost, migrate.PathRollback, `{"reason": "\u202efixed"}`, 400, nil},
		{"ErrReasonC1", http.MethodPost, migrate.PathRollback, `{"reason": "\u009b2J"}`, 400, nil},
		{"ErrNoRoute", http.MethodPost, migrate.PathRamp + "x", `{}`, 404, nil},
	} {
		t.Run(tc.description, func(t *testing.T) {
			status, ct, m := control(t, srv, tc.method, tc.path, "application/json", tc.body)
			require.Equal(t, tc.status, status, "%v", m)
			if status != 200 {
				assertProblem(t, status, ct, m)
				if tc.check != nil {
					tc.check(t, m)
				}
				return
			}
			assert.Equal(t, "application/json", ct)
			tc.check(t, m)
		})
	}
	events, err := n.ctrl.History(t.Context(), time.Time{}, 100)
	require.NoError(t, err)
	assert.Len(t, events, 9) // config, set, pause, rollback, resume, pause, resume, ramp, ramp
}

// controlServer serves the control routes of c as main does: on the routes
// of a real gateway (its request ids, problems, 404 and 405, and
// storeTimeout, 0 for the default, as every request's deadline).
func controlServer(t *testing.T, c *migrate.Controller, storeTimeout time.Duration) *httptest.Server {
	t.Helper()
	g := gwtest.NewGateway(t, func(cfg *gateway.Config) { cfg.StoreTimeout = storeTimeout })
	migrate.RegisterControl(g.Routes(), c)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv
}

// control sends a control request with a body of contentType (none when
// "") and returns the status, the content type and the JSON answer.
func control(t *testing.T, srv *httptest.Server, method, path, contentType, body string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	return resp.StatusCode, resp.Header.Get("Content-Type"), m
}

// assertProblem checks a refusal: a problem (RFC 9457) with its status and
// the request id, as the gateway answers every refusal.
func assertProblem(t *testing.T, status int, contentType string, m map[string]any) {
	t.Helper()
	assert.Equal(t, "application/problem+json", contentType)
	assert.Equal(t, float64(status), m["status"])
	assert.NotEmpty(t, m["detail"])
	assert.NotEmpty(t, m["request_id"])
}

// TestControlStoreDown: a change the store cannot take is 503, and the
// split keeps its weight.
func TestControlStoreDown(t *testing.T) {
	_, next := newCores(t)
	var db *sqldb.DB
	open := sqliteFile(t)
	n := startNode(t, func(tb testing.TB) *sqldb.DB { db = open(tb); return db }, next, migrate.ControllerConfig{Weight: 10})
	srv := controlServer(t, n.ctrl, 0)
	require.NoError(t, db.Close())
	status, ct, m := control(t, srv, http.MethodPut, migrate.PathWeight, "application/json", `{"weight": 50}`)
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", m)
	assertProblem(t, status, ct, m)
	assert.Contains(t, m["detail"], "the migration's store cannot be reached")
	assert.Equal(t, 10, n.split.Weight())
}

// TestControlStoreHangs: a store that stops answering (a PostgreSQL table
// another session holds locked) fails a change at the gateway's
// StoreTimeout with 503, rather than hanging it.
func TestControlStoreHangs(t *testing.T) {
	_, next := newCores(t)
	url := pgtest.Schema(t)
	n := startNode(t, postgresAt(url), next, migrate.ControllerConfig{Weight: 10})
	srv := controlServer(t, n.ctrl, 300*time.Millisecond)
	locker := postgresAt(url)(t)
	tx, err := locker.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	_, err = tx.ExecContext(t.Context(), "LOCK TABLE migration_state IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	start := time.Now()
	status, ct, m := control(t, srv, http.MethodPost, migrate.PathRollback, "application/json", ``)
	took := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", m)
	assertProblem(t, status, ct, m)
	assert.Less(t, took, 3*time.Second, "the change waits for StoreTimeout, no longer")
	require.NoError(t, tx.Rollback())
	st, err := n.ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	assert.Len(t, st, 1, "the rollback is not in the history: only the config's weight")
}

// TestControlContentType: a control request must say it is JSON, even
// with an empty body: what a page of another site can send without a CORS
// preflight (a form, text/plain, or no body and no type) is refused with
// 415 and changes nothing.
func TestControlContentType(t *testing.T) {
	_, next := newCores(t)
	n := startNode(t, sqliteFile(t), next, migrate.ControllerConfig{Weight: 10})
	srv := controlServer(t, n.ctrl, 0)
	for _, tc := range []struct {
		description    string
		path, ct, body string
	}{
		{"EmptyForm", migrate.PathRollback, "application/x-www-form-urlencoded", ``},
		{"TextPlainJSON", migrate.PathResume, "text/plain", `{"weight":100,"reason":"="}` + "\r\n"},
		{"Multipart", migrate.PathRamp, "multipart/form-data; boundary=x", "--x--\r\n"},
		{"NoType", migrate.PathRollback, "", ``},
		{"NotAMediaType", migrate.PathRollback, "json", ``},
	} {
		t.Run(tc.description, func(t *testing.T) {
			status, ct, m := control(t, srv, http.MethodPost, tc.path, tc.ct, tc.body)
			require.Equal(t, http.StatusUnsupportedMediaType, status, "%v", m)
			assertProblem(t, status, ct, m)
			assert.Equal(t, 10, n.split.Weight())
		})
	}
	t.Run("JSONWithCharsetEmptyBody", func(t *testing.T) {
		status, _, m := control(t, srv, http.MethodPost, migrate.PathRollback, "application/json; charset=utf-8", ``)
		require.Equal(t, http.StatusOK, status, "%v", m)
		assert.Equal(t, "rolled_back", m["state"])
	})
}
