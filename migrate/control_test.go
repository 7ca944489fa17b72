package migrate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/migrate"
)

// TestControl drives the control routes over HTTP: each change answers the
// new state, each refusal a problem with its status.
func TestControl(t *testing.T) {
	_, next := newCores(t)
	n := startNode(t, sqliteFile(t), next, migrate.ControllerConfig{Weight: 10, RampSteps: []int{20, 100}, RampPause: 1 << 40})
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	migrate.RegisterControl(e, n.ctrl)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	do := func(t *testing.T, method, path, body string) (int, string, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
		return resp.StatusCode, resp.Header.Get("Content-Type"), m
	}
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
		{"ErrMethod", http.MethodGet, migrate.PathRamp, ``, 404, nil},
	} {
		t.Run(tc.description, func(t *testing.T) {
			if tc.status == 404 { // gin's own answer, not JSON
				resp, err := http.Get(srv.URL + tc.path)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, 404, resp.StatusCode)
				return
			}
			status, ct, m := do(t, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status, "%v", m)
			if status != 200 {
				assert.Equal(t, "application/problem+json", ct)
				assert.Equal(t, float64(status), m["status"])
				assert.NotEmpty(t, m["detail"])
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
	assert.Len(t, events, 7) // config, set, pause, rollback, resume, ramp, ramp
}
