package migrate_test

import (
	"context"
	"fmt"

	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/migrate"
)

// reportNode is a node's split, controller and recorder, with its report
// served over HTTP.
type reportNode struct {
	*node
	rec *migrate.Recorder
	url string
}

func startReportNode(t *testing.T, open database, next *upstream, cfg migrate.ControllerConfig) *reportNode {
	t.Helper()
	return startReportNodeWith(t, open, next, cfg, migrate.RecorderConfig{})
}

// startReportNodeWith is startReportNode whose recorder has rcfg.
func startReportNodeWith(t *testing.T, open database, next *upstream, cfg migrate.ControllerConfig, rcfg migrate.RecorderConfig) *reportNode {
	t.Helper()
	rcfg.Node = "n1"
	rec := migrate.NewRecorder(migrated(t, open), rcfg)
	cfg.Node, cfg.Observers = "n1", []migrate.CallObserver{rec}
	n := startNode(t, open, next.backend, cfg)
	gin.SetMode(gin.ReleaseMode)
	routes := gin.New()
	migrate.NewReporter(n.ctrl, rec, nil).Register(routes)
	srv := httptest.NewServer(routes)
	t.Cleanup(srv.Close)
	return &reportNode{node: n, rec: rec, url: srv.URL}
}

// call says hello through the node's split as the caller of ctx.
func (n *reportNode) call(t *testing.T, ctx context.Context) error {
	t.Helper()
	_, err := n.split.SayHelloContext(ctx, new("Ada"))
	return err
}

// get returns the status, content type and body of GET url.
func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// TestReport drives callers through a real split whose new backend fails
// and rolls back, and reads the report's JSON.
func TestReport(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		next := newUpstream(t)
		n := startReportNode(t, open, next, migrate.ControllerConfig{MinCalls: 4, MaxErrorRate: 0.5, Window: time.Minute})
		soap := callCtx("soap11", "legacy-app", gateway.MethodWSSE, "")
		json12 := callCtx("json", "", "", "192.0.2.7")
		for range 3 {
			require.NoError(t, n.call(t, soap))
			require.NoError(t, n.call(t, json12))
		}
		_, err := n.ctrl.SetWeight(t.Context(), 100, "all to next")
		require.NoError(t, err)
		require.NoError(t, n.call(t, soap)) // on next, answered
		next.failing.Store(true)
		for range 3 { // the window then holds 4 calls, 3 failed: above 0.5
			require.Error(t, n.call(t, json12))
		}
		eventually(t, 5*time.Second, func() bool { return n.ctrl.State().Status == migrate.RolledBack }, "no rollback")

		status, ctype, body := get(t, n.url+migrate.PathReport)
		require.Equal(t, http.StatusOK, status, "%s", body)
		assert.Equal(t, "application/json", ctype)
		var r migrate.Report
		require.NoError(t, json.Unmarshal(body, &r), "%s", body)

		assert.Equal(t, migrate.RolledBack, r.State.Status)
		assert.Equal(t, 0, r.State.Weight)
		require.Len(t, r.History, 3, "config, set, rollback")
		assert.Equal(t, migrate.ActionRollback, r.History[0].Action, "newest first")
		assert.Equal(t, 100, r.History[0].From)
		assert.Contains(t, r.History[0].Reason, "error rate")
		assert.Equal(t, migrate.ActionSet, r.History[1].Action)
		assert.Equal(t, 4, r.Config.MinCalls)
		assert.Equal(t, time.Minute, r.Config.Window)
		assert.Equal(t, time.Minute, r.Step)
		assert.True(t, r.Since.Before(r.Until))

		var calls, errs map[string]int64 = map[string]int64{}, map[string]int64{}
		for _, p := range r.Traffic {
			calls[p.Wire] += p.Calls
			errs[p.Wire] += p.Errors
		}
		assert.Equal(t, map[string]int64{"soap11": 4, "json": 6}, calls)
		assert.Equal(t, map[string]int64{"soap11": 0, "json": 3}, errs)

		require.Len(t, r.Clients, 2)
		assert.Equal(t, "legacy-app", r.Clients[0].Client, "the SOAP caller first")
		assert.Equal(t, gateway.MethodWSSE, r.Clients[0].Method)
		assert.False(t, r.Clients[0].LastSOAP.IsZero())
		assert.Equal(t, "addr:192.0.2.7", r.Clients[1].Client)
		assert.True(t, r.Clients[1].LastSOAP.IsZero())
		// legacy-app: 3 calls before the weight went to 100, 1 after; the
		// address: 3 before, 3 after (failed).
		assert.Equal(t, map[string]int64{migrate.SideCurrent: 3, migrate.SideNext: 1}, r.Clients[0].Sides)
		assert.Equal(t, map[string]int64{migrate.SideCurrent: 3, migrate.SideNext: 3}, r.Clients[1].Sides)

		sides := map[string]int64{}
		for _, p := range r.Latency {
			sides[p.Side] += p.Count
			assert.LessOrEqual(t, p.P50MS, p.P95MS)
		}
		assert.Equal(t, map[string]int64{migrate.SideCurrent: 6, migrate.SideNext: 4}, sides)
		assert.Equal(t, []migrate.ShadowPoint{}, r.Shadow, "no shadow configured")
	})
}

// TestReportStateWithHistory: a node whose poll has not yet seen another
// node's change reports the stored state, the one its history ends in,
// not the state it last polled.
func TestReportStateWithHistory(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		next := newUpstream(t)
		a := startNode(t, open, next.backend, migrate.ControllerConfig{Node: "a", Poll: time.Hour})
		b := startReportNode(t, open, next, migrate.ControllerConfig{Poll: time.Hour})
		_, err := a.ctrl.SetWeight(t.Context(), 40, "on node a")
		require.NoError(t, err)
		require.Equal(t, 0, b.ctrl.State().Weight, "b has not polled yet")

		status, _, body := get(t, b.url+migrate.PathReport)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var r migrate.Report
		require.NoError(t, json.Unmarshal(body, &r), "%s", body)
		require.NotEmpty(t, r.History)
		assert.Equal(t, 40, r.History[0].To)
		assert.Equal(t, 40, r.State.Weight, "the state agrees with the history")
		assert.Equal(t, "on node a", r.State.Reason)
	})
}

// TestRegisterAbsent: on a gateway without a migration, the report's and
// the control's paths say why they are not there.
func TestRegisterAbsent(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	routes := gin.New()
	migrate.RegisterAbsent(routes)
	srv := httptest.NewServer(routes)
	t.Cleanup(srv.Close)
	for _, path := range []string{migrate.PathReport, migrate.PathDashboard} {
		status, ctype, body := get(t, srv.URL+path)
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.Equal(t, "application/problem+json", ctype, path)
		assert.Contains(t, string(body), "no migration section", path)
	}
	resp, err := http.Post(srv.URL+migrate.PathPause, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(body), "no migration section")
}

// TestReportSince: ?since= takes a duration or an RFC 3339 time, and the
// step grows with the range; anything else is a problem.
func TestReportSince(t *testing.T) {
	n := startReportNode(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{})
	for _, tc := range []struct {
		since string
		step  time.Duration
		back  time.Duration
	}{
		{"", time.Minute, time.Hour},
		{"15m", time.Minute, 15 * time.Minute},
		{"2h", time.Minute, 2 * time.Hour},
		{"24h", 15 * time.Minute, 24 * time.Hour},
		{"168h", 2 * time.Hour, 168 * time.Hour},
		{time.Now().Add(-6 * time.Hour).UTC().Format(time.RFC3339), 5 * time.Minute, 6 * time.Hour},
		// Before the retention (168h by default): from now − retention.
		{"1000000h", 2 * time.Hour, 168 * time.Hour},
		{"2000h", 2 * time.Hour, 168 * time.Hour},
		{"1970-01-01T00:00:00Z", 2 * time.Hour, 168 * time.Hour},
		{"1678-01-01T00:00:00Z", 2 * time.Hour, 168 * time.Hour},
	} {
		t.Run("OK"+tc.since, func(t *testing.T) {
			status, _, body := get(t, n.url+migrate.PathReport+"?since="+tc.since)
			require.Equal(t, http.StatusOK, status, "%s", body)
			var r migrate.Report
			require.NoError(t, json.Unmarshal(body, &r))
			assert.Equal(t, tc.step, r.Step)
			assert.WithinDuration(t, r.Until.Add(-tc.back), r.Since, tc.step, "since is the start of its step")
		})
	}
	for _, tc := range []struct{ since, says string }{
		{"yesterday", "since must be"}, {"-1h", "since must be"}, {"0s", "since must be"},
		{time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "since must be"},
		// Times Unix nanoseconds cannot hold.
		{"1677-01-01T00:00:00Z", "outside the years 1678 to 2262"},
		{"0001-01-01T00:00:00Z", "outside the years 1678 to 2262"},
		{"2261-01-01T00:00:00Z", "since must be"},
		{"2263-01-01T00:00:00Z", "outside the years 1678 to 2262"},
	} {
		t.Run("ErrBadSince"+tc.since, func(t *testing.T) {
			for _, path := range []string{migrate.PathReport, migrate.PathDashboard} {
				status, ctype, body := get(t, n.url+path+"?since="+tc.since)
				assert.Equal(t, http.StatusBadRequest, status, "%s %s", path, body)
				assert.Equal(t, "application/problem+json", ctype)
				assert.Contains(t, string(body), tc.says)
			}
		})
	}
}

// xLabels matches a label of a chart's time axis.
var xLabels = regexp.MustCompile(`<text x="([0-9.]+)" y="222" text-anchor="middle">([^<]*)</text>`)

// TestDashboardLongRange: however long the range (a year's retention
// here), each chart's time axis has a handful of labels, far enough apart
// not to overlap at a phone's width, and the page stays small.
func TestDashboardLongRange(t *testing.T) {
	n := startReportNodeWith(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{}, migrate.RecorderConfig{Retention: 8760 * time.Hour})
	n.rec.ObserveCall(callCtx("soap11", "app", gateway.MethodWSSE, ""), migrate.SideCurrent, time.Millisecond, nil)
	for _, tc := range []struct {
		since string
		back  time.Duration
	}{
		{"168h", 168 * time.Hour}, {"500h", 500 * time.Hour}, {"2000h", 2000 * time.Hour},
		{"1000000h", 8760 * time.Hour}, // the retention
	} {
		t.Run(tc.since, func(t *testing.T) {
			status, _, body := get(t, n.url+migrate.PathDashboard+"?since="+tc.since)
			require.Equal(t, http.StatusOK, status, "%s", body)
			assert.Less(t, len(body), 64<<10, "page size")
			charts := strings.Split(string(body), "<svg ")[1:]
			require.Len(t, charts, 3, "weight, traffic, latency (no shadow)")
			for _, svg := range charts {
				labels := xLabels.FindAllStringSubmatch(svg, -1)
				assert.GreaterOrEqual(t, len(labels), 3, "%s", svg[:40])
				assert.LessOrEqual(t, len(labels), 7, "%v", labels)
				for i := 1; i < len(labels); i++ {
					x0, err := strconv.ParseFloat(labels[i-1][1], 64)
					require.NoError(t, err)
					x1, err := strconv.ParseFloat(labels[i][1], 64)
					require.NoError(t, err)
					// "Dec 17" is some 40 units wide at the charts' font size.
					assert.GreaterOrEqual(t, x1-x0, 55.0, "labels %v", labels)
				}
			}
			_, _, js := get(t, n.url+migrate.PathReport+"?since="+tc.since)
			var r migrate.Report
			require.NoError(t, json.Unmarshal(js, &r))
			assert.WithinDuration(t, r.Until.Add(-tc.back), r.Since, r.Step, "since, from the retention at most")
			assert.LessOrEqual(t, r.Until.Sub(r.Since)/r.Step, time.Duration(121), "steps of %v", r.Step)
		})
	}
}

// TestReportManyCallers: the report lists the first 1,000 callers, SOAP
// callers first, and counts the others; the page says how many more.
func TestReportManyCallers(t *testing.T) {
	// Room for them all in one minute's rows.
	n := startReportNodeWith(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{}, migrate.RecorderConfig{MaxCallers: 2000})
	n.rec.ObserveCall(callCtx("soap11", "legacy-app", gateway.MethodWSSE, ""), migrate.SideCurrent, time.Millisecond, nil)
	for i := range 1004 {
		n.rec.ObserveCall(callCtx("json", "", "", fmt.Sprintf("10.0.%d.%d", i/256, i%256)), migrate.SideCurrent, time.Millisecond, nil)
	}
	status, _, body := get(t, n.url+migrate.PathReport)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var r migrate.Report
	require.NoError(t, json.Unmarshal(body, &r))
	require.Len(t, r.Clients, 1000)
	assert.Equal(t, int64(5), r.ClientsOmitted)
	assert.Equal(t, "legacy-app", r.Clients[0].Client, "the SOAP caller first, though it called first")
	assert.Contains(t, string(body), `"clients_omitted":5`)

	status, _, body = get(t, n.url+migrate.PathDashboard)
	require.Equal(t, http.StatusOK, status, "%s", body)
	page := string(body)
	assert.Contains(t, page, `<td>legacy-app</td>`)
	assert.Contains(t, page, `id="more-callers">805 more callers, further down this order`)
	assert.Contains(t, page, `lists the first 1000 callers, and counts the others in <code>clients_omitted</code> (5)`)
}

// TestDashboardWithoutCalls: a node that has served nothing yet shows its
// state and says that there is nothing to draw, with no script at all.
func TestDashboardWithoutCalls(t *testing.T) {
	n := startReportNode(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{Weight: 25, MaxErrorRate: 0.1})
	status, ctype, body := get(t, n.url+migrate.PathDashboard)
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, "text/html; charset=utf-8", ctype)
	page := string(body)
	assert.Contains(t, page, `<strong id="weight">25 %</strong>`)
	assert.Contains(t, page, `id="chart-traffic-empty">No calls in this range.`)
	assert.Contains(t, page, `id="chart-shadow-empty">No shadow comparisons in this range.`)
	assert.Contains(t, page, `id="chart-weight"`, "the weight is drawn even without calls")
	assert.Contains(t, page, `<a href="?since=15m">15 minutes</a><a href="?since=1h" aria-current="page">1 hour</a>`, "the ranges, the default current")
	assert.Contains(t, page, "Rolls back above 10.0 % errors, once the window holds 20 calls")
	assert.NotContains(t, page, "<script")
}

// TestDashboardManyCallers: the page lists the latest callers only, and
// says how many more the JSON report has.
func TestDashboardManyCallers(t *testing.T) {
	n := startReportNode(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{})
	for i := range 205 {
		n.rec.ObserveCall(callCtx("json", "", "", fmt.Sprintf("10.0.%d.%d", i/256, i%256)), migrate.SideCurrent, time.Millisecond, nil)
	}
	status, _, body := get(t, n.url+migrate.PathDashboard+"?since=2h")
	require.Equal(t, http.StatusOK, status, "%s", body)
	page := string(body)
	assert.Equal(t, 200, strings.Count(page, "<td>addr:10.0."), "rows")
	assert.Contains(t, page, `id="more-callers">5 more callers`)
	assert.Contains(t, page, `href="../migration?since=2h"`)
}

// TestDashboardRamp: a running ramp is shown with its step and when the
// next may come; its start is a point of the weight chart.
func TestDashboardRamp(t *testing.T) {
	n := startReportNode(t, sqliteFile(t), newUpstream(t), migrate.ControllerConfig{RampSteps: []int{5, 25, 50}, RampPause: 10 * time.Minute})
	st, err := n.ctrl.Ramp(t.Context(), "start the ramp")
	require.NoError(t, err)
	status, _, body := get(t, n.url+migrate.PathDashboard)
	require.Equal(t, http.StatusOK, status, "%s", body)
	page := string(body)
	assert.Contains(t, page, `<strong id="weight">5 %</strong>`)
	assert.Contains(t, page, `<p id="ramp">Ramp step 1 of 3 (5 %, 25 %, 50 %); the next step comes no earlier than <time datetime="`+
		st.NextStepAt.UTC().Format(time.RFC3339)+`">`)
	assert.Contains(t, page, `data-series="ramp" data-t="`)
	assert.Contains(t, page, `start the ramp`)
}
