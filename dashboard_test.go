package main_test

// The migration report and its dashboard, end to end: real clients (zeep
// with WS-Security, SOAP 1.2 with HTTP Basic, JSON with a bearer token)
// call the real binary, whose split moves to a new backend that then fails
// and is rolled back; the report must say so, and real headless Chromium
// must draw every chart from that run's data. The Grafana dashboard's
// queries are checked against the same binary's /metrics.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hellogw/hellogw/internal/browsertest"
	"github.com/hellogw/hellogw/internal/gwtest"
)

// artifactsDir holds what the tests leave for a human to look at (the
// dashboard's screenshots); git ignores it.
const artifactsDir = "test-artifacts"

// dashboardConfig: two clients, the legacy backend a hellogw process, the
// new one (%[2]s) also the shadow, a rollback above 30 % errors.
const dashboardConfig = `
greeting: "Hello, {firstName}!"
sayhello:
  require_token: true
clients:
  - id: legacy-app
    secret: legacy-secret
    scopes: [hello]
    grant_types: [client_credentials]
    legacy: {basic: true, wsse: text}
  - id: new-app
    secret: new-secret
    scopes: [hello]
    grant_types: [client_credentials]
backend: {kind: json, url: %[1]q}
shadow: {kind: json, url: %[2]q}
migration:
  to: {kind: json, url: %[2]q}
  weight: 0
  rollback: {window: 5m, min_calls: 5, max_error_rate: 0.3, max_mismatch_rate: 0.9}
  poll: 200ms
`

// nextAPI is the new backend: a real JSON API that greets as the legacy
// one does, or (mode) with another word, or fails.
type nextAPI struct {
	URL  string
	mode atomic.Value // "ok", "wrong" or "failing"
}

func startNextAPI(t *testing.T) *nextAPI {
	t.Helper()
	n := &nextAPI{}
	n.mode.Store("ok")
	n.URL = gwtest.JSONAPI(t, func(name string) (string, int) {
		switch n.mode.Load() {
		case "failing":
			return "", http.StatusInternalServerError
		case "wrong":
			return "Hi " + name, 0
		}
		return "Hello, " + name + "!", 0
	})
	return n
}

// migrationRun drives the callers of the dashboard test and keeps what
// they saw, for the report to be checked against.
type migrationRun struct {
	t        *testing.T
	gw       *clientsGateway
	next     *nextAPI
	bearer   string // new-app's access token
	calls    map[string]int64
	errors   map[string]int64
	shadow   map[string]int64 // the results the shadow must have seen
	answered int64            // calls answered: each is compared in the background
}

// record notes a call in wire that was answered (ok) or failed, and the
// shadow result its comparison will have.
func (r *migrationRun) record(wire string, ok bool) {
	r.calls[wire]++
	if !ok {
		r.errors[wire]++
		return
	}
	r.answered++
	switch r.next.mode.Load() {
	case "ok":
		r.shadow["match"]++
	case "wrong":
		r.shadow["mismatch"]++
	default:
		r.shadow["error"]++
	}
}

// settle waits until the shadow has compared every answered call, so that
// the next backend's mode can change without changing a result.
func (r *migrationRun) settle() {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		var sum float64
		for _, res := range []string{"match", "mismatch", "error"} {
			sum += metric(r.t, r.gw.AdminURL, `hellogw_shadow_total{result="`+res+`"}`)
		}
		return sum == float64(r.answered)
	}, 10*time.Second, 20*time.Millisecond, "the shadow compares every answered call")
}

// zeep calls as legacy-app in SOAP 1.1 with a WS-Security UsernameToken.
func (r *migrationRun) zeep() {
	r.t.Helper()
	res := runClientCommand(r.t, nil, "/usr/bin/python3", "testdata/clients/zeep_wsse.py", r.gw.URL+"/SayHello/", "Ada", "legacy-app", "legacy-secret", "text")
	require.Equal(r.t, 0, res.code, "%s", res)
	require.Equal(r.t, "Hello, Ada!\n", res.stdout)
	r.record("soap11", true)
}

// soap12 calls as legacy-app in SOAP 1.2 (PHP's SoapClient's envelope) with HTTP Basic.
func (r *migrationRun) soap12() {
	r.t.Helper()
	env, err := os.ReadFile("testdata/envelopes/php-soap12-ada.xml")
	require.NoError(r.t, err)
	req, err := http.NewRequest(http.MethodPost, r.gw.URL+"/SayHello/", bytes.NewReader(env))
	require.NoError(r.t, err)
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="sayHello"`)
	req.SetBasicAuth("legacy-app", "legacy-secret")
	status, body := do(r.t, req)
	require.Contains(r.t, []int{http.StatusOK, http.StatusInternalServerError}, status, "%s", body)
	ok := status == http.StatusOK
	if ok {
		require.Contains(r.t, body, "Hello, Ada!")
	}
	r.record("soap12", ok)
}

// json calls as new-app in JSON with its bearer token; ok says whether
// the call must be answered.
func (r *migrationRun) json() bool {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.gw.URL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(r.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.bearer)
	status, body := do(r.t, req)
	ok := status == http.StatusOK
	if ok {
		require.Contains(r.t, body, `"Hello, Ada!"`)
	} else {
		require.GreaterOrEqual(r.t, status, 500, "%s", body)
	}
	r.record("json", ok)
	return ok
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// dashboardReport is the part of GET /admin/migration the test reads.
type dashboardReport struct {
	State struct {
		Weight int    `json:"weight"`
		Status string `json:"state"`
	} `json:"state"`
	History []struct {
		At     time.Time `json:"at"`
		Action string    `json:"action"`
		Actor  string    `json:"actor"`
		From   int       `json:"from_weight"`
		To     int       `json:"to_weight"`
		Reason string    `json:"reason"`
	} `json:"history"`
	Traffic []struct {
		Minute time.Time `json:"minute"`
		Wire   string    `json:"wire"`
		Calls  int64     `json:"calls"`
		Errors int64     `json:"errors"`
	} `json:"traffic"`
	Clients []struct {
		Client   string           `json:"client"`
		Method   string           `json:"method"`
		Wires    map[string]int64 `json:"wires"`
		Sides    map[string]int64 `json:"sides"`
		LastSeen time.Time        `json:"last_seen"`
		LastSOAP time.Time        `json:"last_soap"`
	} `json:"clients"`
	Latency []struct {
		Minute time.Time `json:"minute"`
		Side   string    `json:"side"`
		Count  int64     `json:"count"`
		P50    float64   `json:"p50_ms"`
		P95    float64   `json:"p95_ms"`
	} `json:"latency"`
	Shadow []struct {
		Minute   time.Time `json:"minute"`
		Match    int64     `json:"match"`
		Mismatch int64     `json:"mismatch"`
		Error    int64     `json:"error"`
	} `json:"shadow"`
}

func getReport(t *testing.T, url string) dashboardReport {
	t.Helper()
	var r dashboardReport
	require.NoError(t, json.Unmarshal(getBody(t, url), &r))
	return r
}

// TestMigrationDashboard is the whole story of issue #11's report.
func TestMigrationDashboard(t *testing.T) {
	requireClientTool(t, "python3-zeep", "/usr/bin/python3", "-c", "import zeep")
	legacy := startClientsGateway(t, "-config", writeConfig(t, `greeting: "Hello, {firstName}!"`))
	next := startNextAPI(t)
	gw := startClientsGateway(t, "-config", writeConfig(t, dashboardConfig, legacy.URL, next.URL),
		"-store", filepath.Join(t.TempDir(), "hellogw.db"))
	conf := clientcredentials.Config{ClientID: "new-app", ClientSecret: "new-secret", TokenURL: gw.URL + "/odfksdlfksld345345fdgdfg3453"}
	tok, err := conf.Token(t.Context())
	require.NoError(t, err)
	run := &migrationRun{t: t, gw: gw, next: next, bearer: tok.AccessToken,
		calls: map[string]int64{}, errors: map[string]int64{}, shadow: map[string]int64{}}

	// Everyone on the legacy backend; the new one agrees, then does not.
	for range 2 {
		run.zeep()
	}
	for range 3 {
		run.soap12()
		require.True(t, run.json())
	}
	run.settle()
	next.mode.Store("wrong")
	for range 3 {
		require.True(t, run.json())
	}
	run.settle()
	next.mode.Store("ok")

	// Everyone to the new backend, which then fails: rolled back.
	weight(t, gw.AdminURL, `{"weight": 100, "reason": "all callers to the new service"}`)
	for range 3 {
		run.soap12()
		require.True(t, run.json())
	}
	run.settle()
	next.mode.Store("failing")
	require.Eventually(t, func() bool {
		run.json()
		return getReport(t, gw.AdminURL+"/admin/migration").State.Status == "rolled_back"
	}, 20*time.Second, 10*time.Millisecond, "the failing new backend is rolled back")
	require.True(t, run.json(), "after the rollback, the legacy backend answers")
	run.settle()

	// Admin routes only: on the public port, the report needs an admin token.
	resp, err := http.Get(gw.URL + "/admin/migration/dashboard")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	report := getReport(t, gw.AdminURL+"/admin/migration?since=10m") // as the dashboard below
	t.Run("Report", func(t *testing.T) { checkReport(t, run, report) })
	t.Run("Dashboard", func(t *testing.T) { checkDashboard(t, gw.AdminURL, run, report) })
	t.Run("Grafana", func(t *testing.T) { checkGrafana(t, gw.AdminURL) })
	t.Run("MigrateStatus", func(t *testing.T) {
		// `hellogw migrate status` reads the report.
		res := runClientCommand(t, nil, hellogwBinary(t), "migrate", "status", "-admin-url", gw.AdminURL)
		require.Equal(t, 0, res.code, "%s", res)
		assert.Contains(t, res.stdout, "weight 0%, rolled back")
		assert.Regexp(t, `rollback +rollback +100% ->   0%  error rate`, res.stdout)
	})
}

// weight sets the weight through the admin API.
func weight(t *testing.T, adminURL, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, adminURL+"/admin/migration/weight", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	status, out := do(t, req)
	require.Equal(t, http.StatusOK, status, "%s", out)
}

// checkReport compares the report with what the callers saw.
func checkReport(t *testing.T, run *migrationRun, r dashboardReport) {
	assert.Equal(t, 0, r.State.Weight)
	require.Len(t, r.History, 3, "config, set, rollback")
	assert.Equal(t, []string{"rollback", "set", "set"}, []string{r.History[0].Action, r.History[1].Action, r.History[2].Action})
	assert.Equal(t, "rollback", r.History[0].Actor)
	assert.Equal(t, 100, r.History[0].From)
	assert.Contains(t, r.History[0].Reason, "error rate")
	assert.Equal(t, "all callers to the new service", r.History[1].Reason)

	calls, errs := map[string]int64{}, map[string]int64{}
	for _, p := range r.Traffic {
		calls[p.Wire] += p.Calls
		errs[p.Wire] += p.Errors
	}
	assert.Equal(t, run.calls, calls)
	for w := range run.calls {
		assert.Equal(t, run.errors[w], errs[w], "errors of %s", w)
	}

	type who struct{ client, method string }
	clients, sides := map[who]map[string]int64{}, map[who]map[string]int64{}
	for _, c := range r.Clients {
		clients[who{c.Client, c.Method}] = c.Wires
		sides[who{c.Client, c.Method}] = c.Sides
		assert.False(t, c.LastSeen.IsZero())
		assert.Equal(t, c.Client == "legacy-app", !c.LastSOAP.IsZero(), "%s %s: last SOAP call %v", c.Client, c.Method, c.LastSOAP)
	}
	assert.Equal(t, map[who]map[string]int64{
		{"legacy-app", "wsse"}:  {"soap11": run.calls["soap11"]},
		{"legacy-app", "basic"}: {"soap12": run.calls["soap12"]},
		{"new-app", "bearer"}:   {"json": run.calls["json"]},
	}, clients)
	// zeep called at weight 0 only; SOAP 1.2 3 times at 0, 3 at 100; JSON
	// on both sides, at least the 3 calls at 100 and the failed ones on the new.
	assert.Equal(t, map[string]int64{"current": 2, "next": 0}, sides[who{"legacy-app", "wsse"}])
	assert.Equal(t, map[string]int64{"current": 3, "next": 3}, sides[who{"legacy-app", "basic"}])
	bearer := sides[who{"new-app", "bearer"}]
	assert.Equal(t, run.calls["json"], bearer["current"]+bearer["next"])
	assert.GreaterOrEqual(t, bearer["next"], 3+run.errors["json"])
	assert.GreaterOrEqual(t, bearer["current"], int64(7))

	latency := map[string]int64{}
	for _, p := range r.Latency {
		latency[p.Side] += p.Count
		assert.Positive(t, p.P50)
		assert.LessOrEqual(t, p.P50, p.P95)
	}
	assert.Equal(t, run.calls["soap11"]+run.calls["soap12"]+run.calls["json"], latency["current"]+latency["next"])
	assert.Positive(t, latency["next"])

	shadow := map[string]int64{}
	for _, p := range r.Shadow {
		shadow["match"] += p.Match
		shadow["mismatch"] += p.Mismatch
		shadow["error"] += p.Error
	}
	assert.Equal(t, run.shadow, shadow)
}

// svgDatum is a data shape of a chart, as the browser has it.
type svgDatum struct {
	Series string  `json:"series"`
	T      string  `json:"t"`
	Value  float64 `json:"value"`
	Class  string  `json:"class"`
	Title  string  `json:"title"`
	Height float64 `json:"height"` // on screen, of a bar
}

// visibility is what visibleJS finds of the elements a selector matches.
type visibility struct {
	Text     string   `json:"text"` // of the first
	Problems []string `json:"problems"`
}

// visibleJS checks that every element a selector matches (one at least)
// is inside the window and inside every ancestor that clips, and that no
// text overflows it.
const visibleJS = `(sel) => {
	const els = [...document.querySelectorAll(sel)], problems = [];
	if (!els.length) return {text: '', problems: ['no element']};
	for (const e of els) {
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5) problems.push('outside the window: ' + r.left + '..' + r.right);
		if (e.scrollWidth > e.clientWidth + 1) problems.push('text overflows: ' + e.scrollWidth + ' > ' + e.clientWidth);
		for (let a = e.parentElement; a; a = a.parentElement) {
			if (getComputedStyle(a).overflowX === 'visible') continue;
			const ar = a.getBoundingClientRect();
			if (r.left < ar.left - 0.5 || r.right > ar.right + 0.5) problems.push('clipped by ' + a.tagName + '.' + a.className);
		}
	}
	return {text: els[0].textContent.trim(), problems};
}`

// chartData reads the data shapes of the chart with the given id.
const chartData = `(id) => [...document.querySelectorAll('#chart-' + id + ' [data-series][data-t]')].map(e => ({
	series: e.dataset.series, t: e.dataset.t, value: +e.dataset.value, class: e.getAttribute('class'),
	title: e.querySelector('title').textContent, height: e.getBoundingClientRect().height}))`

// checkDashboard loads the dashboard in Chromium and compares every chart
// with the report it was drawn from.
func checkDashboard(t *testing.T, adminURL string, run *migrationRun, r dashboardReport) {
	ctx := browsertest.New(t, 90*time.Second)
	var mu sync.Mutex
	var requests, problems []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, fmt.Sprintf("console %s: %v", e.Type, e.Args))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		}
	}))
	// chromedp enables the Network, Log and Runtime domains of the tab.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900),
		// The last ten minutes: the run's minute is a bar of a tenth of the chart.
		chromedp.Navigate(adminURL+"/admin/migration/dashboard?since=10m"),
		chromedp.WaitVisible(chromedp.CSS("#chart-traffic"))))

	data := func(id string) []svgDatum {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]svgDatum](`(`+chartData+`)(`+fmt.Sprintf("%q", id)+`)`))
		require.NoError(t, err)
		return out
	}

	t.Run("Traffic", func(t *testing.T) {
		got := data("traffic")
		want := map[[2]string]float64{}
		for _, p := range r.Traffic {
			want[[2]string{p.Minute.UTC().Format(time.RFC3339), p.Wire}] = float64(p.Calls)
		}
		drawn := map[[2]string]float64{}
		var scale float64 // pixels per call: one for every bar
		for _, d := range got {
			drawn[[2]string{d.T, d.Series}] = d.Value
			assert.Contains(t, d.Title, fmt.Sprintf("%v calls", d.Value))
			if scale == 0 {
				scale = d.Height / d.Value
			}
			assert.InDelta(t, scale, d.Height/d.Value, scale*0.1+0.5/d.Value, "bar %s %s is drawn to the chart's scale", d.T, d.Series)
		}
		assert.Equal(t, want, drawn)
	})
	t.Run("Weight", func(t *testing.T) {
		got := data("weight")
		require.Len(t, got, len(r.History))
		for i, d := range got { // oldest first, the history newest first
			ev := r.History[len(r.History)-1-i]
			assert.Equal(t, ev.Action, d.Series)
			assert.Equal(t, float64(ev.To), d.Value)
			assert.Equal(t, ev.At.UTC().Format(time.RFC3339), d.T)
			assert.Equal(t, ev.Action == "rollback", strings.Contains(d.Class, "rollback"), "only rollbacks are marked as such: %q", d.Class)
		}
		assert.Contains(t, got[len(got)-1].Title, "error rate", "the rollback's reason is in its title")
	})
	t.Run("Shadow", func(t *testing.T) {
		got := map[[2]string]float64{}
		for _, d := range data("shadow") {
			got[[2]string{d.T, d.Series}] = d.Value
		}
		want := map[[2]string]float64{}
		for _, p := range r.Shadow {
			m := p.Minute.UTC().Format(time.RFC3339)
			for series, n := range map[string]int64{"match": p.Match, "mismatch": p.Mismatch, "error": p.Error} {
				if n > 0 {
					want[[2]string{m, series}] = float64(n)
				}
			}
		}
		assert.Equal(t, want, got)
	})
	t.Run("Latency", func(t *testing.T) {
		got := map[string][]float64{}
		for _, d := range data("latency") {
			got[d.Series] = append(got[d.Series], d.Value)
		}
		want := map[string][]float64{}
		for _, p := range r.Latency {
			want[p.Side+" p50"] = append(want[p.Side+" p50"], p.P50)
			want[p.Side+" p95"] = append(want[p.Side+" p95"], p.P95)
		}
		require.Contains(t, want, "next p95")
		assert.Equal(t, want, got)
	})
	t.Run("ClientsTable", func(t *testing.T) {
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
			`[...document.querySelectorAll('#clients tbody tr')].map(tr => [tr.className, ...[...tr.cells].map(c => c.textContent.trim())])`))
		require.NoError(t, err)
		headers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#clients thead th')].map(th => th.textContent)`))
		require.NoError(t, err)
		assert.Equal(t, []string{"Client", "Auth", "Side", "Last SOAP call", "Last call", "SOAP 1.1", "SOAP 1.2", "JSON"}, headers)
		got, side := map[string][]string{}, map[string]string{}
		for _, row := range rows {
			isSOAP := row[1] == "legacy-app"
			assert.Equal(t, isSOAP, row[0] == "soap", "SOAP callers are marked: %q", row)
			assert.Equal(t, !isSOAP, row[4] == "never", "new-app never called in SOAP: %q", row)
			got[row[1]+" "+row[2]] = row[6:]
			side[row[1]+" "+row[2]] = row[3]
		}
		assert.Equal(t, map[string][]string{
			"legacy-app wsse":  {fmt.Sprint(run.calls["soap11"]), "0", "0"},
			"legacy-app basic": {"0", fmt.Sprint(run.calls["soap12"]), "0"},
			"new-app bearer":   {"0", "0", fmt.Sprint(run.calls["json"])},
		}, got)
		wantSide := map[string]string{}
		for _, c := range r.Clients {
			wantSide[c.Client+" "+c.Method] = fmt.Sprintf("both %d / %d", c.Sides["current"], c.Sides["next"])
		}
		wantSide["legacy-app wsse"] = "current 2"
		assert.Equal(t, wantSide, side)
		assert.Equal(t, "new-app", rows[len(rows)-1][1], "the SOAP callers come first")
	})
	t.Run("Accessible", func(t *testing.T) {
		labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg')].map(s =>
			s.getAttribute('role') + ': ' + s.getAttribute('aria-labelledby').split(' ').map(id => document.getElementById(id).textContent).join(' / '))`))
		require.NoError(t, err)
		require.Len(t, labels, 4)
		for _, l := range labels {
			assert.Regexp(t, `^img: \S.+ / \S.+`, l)
		}
	})

	require.NoError(t, os.MkdirAll(artifactsDir, 0o755))
	for _, width := range []int64{1366, 390} {
		t.Run(fmt.Sprintf("Width%d", width), func(t *testing.T) {
			require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Reload(),
				chromedp.WaitVisible(chromedp.CSS("#chart-traffic"))))
			type layout struct {
				Page  float64 `json:"page"`
				View  float64 `json:"view"`
				Chart float64 `json:"chart"`
				Label float64 `json:"label"`
			}
			l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](`({page: document.documentElement.scrollWidth, view: window.innerWidth,
				chart: document.querySelector('#chart-traffic').getBoundingClientRect().width,
				label: document.querySelector('#chart-traffic text').getBoundingClientRect().height})`))
			require.NoError(t, err)
			assert.LessOrEqual(t, l.Page, l.View, "no sideways scrolling of the page")
			// The Side column and the history's rollback reason and node are
			// on screen, not clipped by their table or card.
			for _, sel := range []string{"#clients td.side", "#history tr.rollback td.reason", "#history tr.rollback td.node"} {
				v, err := chromedp.Run(ctx, chromedp.Evaluate[visibility](`(`+visibleJS+`)(`+fmt.Sprintf("%q", sel)+`)`))
				require.NoError(t, err)
				assert.Empty(t, v.Problems, "%s: %q", sel, v.Text)
				if strings.HasSuffix(sel, "reason") {
					assert.Equal(t, r.History[0].Reason, v.Text, "the whole reason")
					assert.Regexp(t, `\(\d+ of \d+ calls\)$`, v.Text)
				}
			}
			assert.Greater(t, l.Chart, 0.7*math.Min(l.View, 700), "charts use the width")
			assert.GreaterOrEqual(t, l.Label, 11.0, "axis labels are readable")
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: a PNG
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(artifactsDir, fmt.Sprintf("migration-dashboard-%d.png", width)), png, 0o644))
		})
	}

	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, problems, "console errors and warnings")
	require.NotEmpty(t, requests)
	for _, u := range requests {
		assert.True(t, strings.HasPrefix(u, adminURL+"/"), "a request to %s, not the gateway", u)
	}
}

// promqlWords are the words of the dashboard's queries that are no metric:
// PromQL's functions, aggregations and keywords, and Grafana's variables.
var promqlWords = map[string]bool{
	"sum": true, "max": true, "min": true, "avg": true, "count": true, "by": true, "without": true,
	"rate": true, "increase": true, "histogram_quantile": true, "changes": true, "and": true, "or": true, "unless": true,
}

var (
	// promqlStrip removes what holds no metric name: label matchers,
	// grouping labels, range selectors, strings, Grafana's variables.
	promqlStrip = regexp.MustCompile(`\{[^}]*\}|\b(by|without)\s*\([^)]*\)|\[[^\]]*\]|"[^"]*"|\$\w+|\$\{[^}]*\}`)
	promqlIdent = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
)

// metricNames returns the metric names a PromQL expression uses: what is
// left of it, stripped of labels, ranges, strings and variables, that is no
// PromQL word or number. Hand-written: Prometheus' own parser comes with the
// whole Prometheus module, and these queries are simple.
func metricNames(expr string) []string {
	var names []string
	for _, id := range promqlIdent.FindAllString(promqlStrip.ReplaceAllString(expr, " "), -1) {
		if !promqlWords[id] {
			names = append(names, id)
		}
	}
	return names
}

// checkGrafana reads docs/grafana/hellogw-migration.json and checks that
// every metric its queries name is one the gateway exports.
func checkGrafana(t *testing.T, adminURL string) {
	raw, err := os.ReadFile("docs/grafana/hellogw-migration.json")
	require.NoError(t, err)
	var dash struct {
		UID         string `json:"uid"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct{ X, Y, W, H int }
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	assert.Equal(t, "hellogw-migration", dash.UID)

	exprs := []string{}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		assert.False(t, ids[p.ID], "panel id %d twice", p.ID)
		ids[p.ID] = true
		assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "%s fits Grafana's 24 columns", p.Title)
		if p.Type != "row" {
			assert.NotEmpty(t, p.Targets, "%s has a query", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, a := range dash.Annotations.List {
		if a.Expr != "" {
			exprs = append(exprs, a.Expr)
		}
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(getBody(t, adminURL+"/metrics")))
	require.NoError(t, err)
	exported := map[string]bool{}
	for name, f := range families {
		exported[name] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[name+suffix] = true
			}
		}
	}
	used := map[string]bool{}
	for _, e := range exprs {
		names := metricNames(e)
		assert.NotEmpty(t, names, "a query without a metric: %s", e)
		for _, n := range names {
			used[n] = true
			assert.True(t, exported[n], "%s is not in the gateway's /metrics (query %s)", n, e)
		}
	}
	for _, n := range []string{"hellogw_migration_weight", "hellogw_migration_calls_total", "hellogw_migration_call_duration_seconds_bucket",
		"hellogw_migration_rollbacks_total", "hellogw_migration_report_dropped_minutes_total", "hellogw_requests_total", "hellogw_shadow_total"} {
		assert.True(t, used[n], "the dashboard shows %s", n)
	}
	t.Logf("the dashboard's %d queries use %v", len(exprs), slices.Sorted(maps.Keys(used)))
}

// TestMetricNames checks the query reader on the dashboard's shapes, and
// that it cannot pass a query naming a metric it does not see.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`max(hellogw_migration_weight)`: {"hellogw_migration_weight"},
		`sum by (side, outcome) (rate(hellogw_migration_calls_total{outcome="error"}[$__rate_interval])) / sum by (side) (rate(hellogw_migration_calls_total[5m]))`: {
			"hellogw_migration_calls_total", "hellogw_migration_calls_total"},
		`histogram_quantile(0.95, sum by (le, side) (rate(x_seconds_bucket[$__rate_interval])))`: {"x_seconds_bucket"},
		// A function it does not know counts as a metric, and fails the check.
		`sum(increase(up[${__range}])) > 0 and on() vector(1)`: {"up", "on", "vector"},
	} {
		assert.Equal(t, want, metricNames(expr), "%s", expr)
	}
}

// TestMigrationAbsent: on a gateway whose config has no migration section,
// the report and the dashboard answer a problem that says so.
func TestMigrationAbsent(t *testing.T) {
	gw := startClientsGateway(t, "-config", writeConfig(t, `greeting: "Hello, {firstName}!"`))
	for _, path := range []string{"/admin/migration", "/admin/migration/dashboard"} {
		resp, err := http.Get(gw.AdminURL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), path)
		assert.Contains(t, string(body), "config has no migration section", path)
	}
}
