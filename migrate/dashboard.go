package migrate

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed" // the page's template and style
	"encoding/base64"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/gateway"
)

var (
	//go:embed web/dashboard.html
	dashboardHTML string
	//go:embed web/dashboard.css
	dashboardCSS string

	// dashboardPage is parsed on the first view, not at start: a parsed
	// template is some 1,500 live objects, and the collector marks every
	// live object in every cycle, so a gateway whose dashboard nobody
	// opens should not pay for it on every request (README, Performance).
	dashboardPage = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("dashboard").Funcs(template.FuncMap{
			"when": when, "wireName": wireName, "pct": pct,
			"add":       func(a, b int) int { return a + b },
			"add64":     func(a, b int64) int64 { return a + b },
			"mul100":    func(v float64) float64 { return 100 * v },
			"stateName": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
			"sides":     sidesOf,
		}).Parse(dashboardHTML))
	})
	// dashboardStyle is the CSP hash-source (W3C CSP Level 3, §2.3.1) of the
	// page's one inline style.
	dashboardStyle = "'sha256-" + base64.StdEncoding.EncodeToString(sha256Sum(dashboardCSS)) + "'"
)

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// dashboard is what web/dashboard.html sees.
type dashboard struct {
	*Report
	CSS     template.CSS
	Ranges  []rangeLink
	Wires   []string // the wire formats of the range, in wireOrder
	Weight  *chart
	Traffic *chart
	Shadow  *chart
	Latency *chart
	Totals  []wireTotal
	Agree   ShadowPoint // the range's shadow results, summed
	// Callers are the first maxTableRows of the report's clients, and
	// MoreCallers how many more callers the range has: those the JSON
	// report lists past them, and those it leaves out.
	Callers     []ClientRow
	MoreCallers int64
	ReportQuery string // "?since=…" of the request, or ""
	ClientLimit int    // the callers the JSON report lists at most
}

// maxTableRows bounds the callers the page lists: a crowd of unauthenticated
// addresses must not make a page too long to load.
const maxTableRows = 200

type rangeLink struct {
	Label, Query string
	Current      bool
}

// wireTotal is one wire format's calls over the range.
type wireTotal struct {
	Wire          string
	Calls, Errors int64
	Share         float64 // of all calls, in percent
}

// ranges are the dashboard's range links (?since=).
var ranges = []struct{ label, since string }{{"15 minutes", "15m"}, {"1 hour", "1h"}, {"6 hours", "6h"}, {"24 hours", "24h"}, {"7 days", "168h"}}

// wireOrder is the order wire formats are stacked and listed in; others
// follow, by name.
var wireOrder = []string{"soap11", "soap12", "json", WireUnknown}

func wireName(w string) string {
	switch w {
	case "soap11":
		return "SOAP 1.1"
	case "soap12":
		return "SOAP 1.2"
	case "json":
		return "JSON"
	}
	return w
}

// wireClass is the CSS class of a wire format's colour.
func wireClass(w string) string {
	if i := slices.Index(wireOrder, w); i >= 0 {
		return fmt.Sprintf("w%d", i)
	}
	return "wx"
}

func wireRank(w string) int {
	if i := slices.Index(wireOrder, w); i >= 0 {
		return i
	}
	return len(wireOrder)
}

// when shows a time to the second, in UTC; "never" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Short shows a time briefly, for tables: the time of day when it is of
// the report's day, else the date too; "never" for the zero time.
func (d *dashboard) Short(t time.Time) string {
	switch {
	case t.IsZero():
		return "never"
	case t.UTC().Format(time.DateOnly) == d.Until.UTC().Format(time.DateOnly):
		return t.UTC().Format(time.TimeOnly)
	}
	return t.UTC().Format("Jan 2 15:04")
}

// sideCell is the Side cell of a caller: which backend its calls went to,
// their numbers, and the same in words.
type sideCell struct{ Label, Counts, Title string }

// sidesOf says which backends a caller's calls went to: "current", "new"
// or "both", with the calls to each.
func sidesOf(sides map[string]int64) sideCell {
	cur, next := sides[SideCurrent], sides[SideNext]
	title := fmt.Sprintf("%d calls to the current backend, %d to the new", cur, next)
	switch {
	case next == 0:
		return sideCell{"current", fmt.Sprint(cur), title}
	case cur == 0:
		return sideCell{"new", fmt.Sprint(next), title}
	}
	return sideCell{"both", fmt.Sprintf("%d / %d", cur, next), title}
}

// pct is part of whole in percent, to one decimal; "–" of nothing.
func pct(part, whole int64) string {
	if whole == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(part)/float64(whole))
}

// serveDashboard answers GET PathDashboard: the report as a page of its
// own, charts drawn here as inline SVG, no script, nothing loaded from
// elsewhere.
func (rp *Reporter) serveDashboard(c *gin.Context) {
	r := rp.report(c)
	if r == nil {
		return
	}
	d := newDashboard(r, c.Query("since"))
	var buf bytes.Buffer
	if err := dashboardPage().Execute(&buf, d); err != nil {
		rp.log.ErrorContext(c, "migration dashboard", "err", err)
		gateway.WriteProblem(c, &gateway.Error{Kind: gateway.KindInternal, Message: "internal error"})
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+dashboardStyle+"; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// newDashboard computes the page of r; since is the request's ?since=.
func newDashboard(r *Report, since string) *dashboard {
	d := &dashboard{Report: r, CSS: template.CSS(dashboardCSS), ClientLimit: clientLimit}
	if since != "" {
		d.ReportQuery = "?since=" + url.QueryEscape(since)
	}
	if since == "" {
		since = "1h"
	}
	for _, rg := range ranges {
		d.Ranges = append(d.Ranges, rangeLink{Label: rg.label, Query: rg.since, Current: rg.since == since})
	}
	seen := map[string]bool{}
	for _, p := range r.Traffic {
		seen[p.Wire] = true
	}
	for _, c := range r.Clients {
		for w := range c.Wires {
			seen[w] = true
		}
	}
	d.Wires = slices.SortedFunc(maps.Keys(seen), func(a, b string) int { return cmp.Or(cmp.Compare(wireRank(a), wireRank(b)), cmp.Compare(a, b)) })
	d.Callers = r.Clients[:min(len(r.Clients), maxTableRows)]
	d.MoreCallers = int64(len(r.Clients)-len(d.Callers)) + r.ClientsOmitted
	d.Weight = weightChart(r)
	d.Traffic, d.Totals = trafficChart(r, d.Wires)
	d.Shadow, d.Agree = shadowChart(r)
	d.Latency = latencyChart(r)
	return d
}

// chartEnd is where the charts' time axis ends: the end of the step that
// holds the report's time, so that the current step's bar is whole.
func chartEnd(r *Report) time.Time {
	steps := (r.Until.Sub(r.Since) + r.Step - 1) / r.Step
	return r.Since.Add(steps * r.Step)
}

// hm shows a time of day, for titles.
func hm(t time.Time) string { return t.UTC().Format("15:04") }

// weightChart draws the weight over the range as steps, every change
// marked, rollbacks larger.
func weightChart(r *Report) *chart {
	c := newChart("weight", "Weight to the new backend",
		"The share of callers sent to the new backend over time, in percent; each change is a point, rollbacks are red.",
		r.Since, chartEnd(r), 100, percent)
	events := slices.Clone(r.History)
	slices.Reverse(events) // oldest first
	w := r.State.Weight
	if len(events) > 0 {
		w = events[0].From
	}
	ts, vs := []time.Time{r.Since}, []float64{float64(w)}
	for _, ev := range events {
		ts, vs = append(ts, ev.At, ev.At), append(vs, float64(w), float64(ev.To))
		w = ev.To
		class, radius := "event", 4.0
		if ev.Action == ActionRollback {
			class, radius = "event rollback", 7
		}
		c.point(ev.At, float64(ev.To), radius, class, ev.Action, fmt.Sprint(ev.To),
			fmt.Sprintf("%s %s by %s: %d %% → %d %%. %s", hm(ev.At), ev.Action, ev.Actor, ev.From, ev.To, ev.Reason))
	}
	ts, vs = append(ts, r.Until), append(vs, float64(w))
	c.line(ts, vs, r.Until.Sub(r.Since), "weight", "weight")
	c.Legend = []legendItem{{"weight", "weight"}, {"event", "change"}, {"event rollback", "rollback"}}
	return c
}

// trafficChart stacks each step's calls by wire format, and totals them.
func trafficChart(r *Report, wires []string) (*chart, []wireTotal) {
	byStep := map[time.Time]map[string]TrafficPoint{}
	totals := map[string]*wireTotal{}
	var all int64
	for _, p := range r.Traffic {
		if byStep[p.Minute] == nil {
			byStep[p.Minute] = map[string]TrafficPoint{}
		}
		byStep[p.Minute][p.Wire] = p
		if totals[p.Wire] == nil {
			totals[p.Wire] = &wireTotal{Wire: p.Wire}
		}
		totals[p.Wire].Calls += p.Calls
		totals[p.Wire].Errors += p.Errors
		all += p.Calls
	}
	var yMax float64
	for _, ps := range byStep {
		var sum int64
		for _, p := range ps {
			sum += p.Calls
		}
		yMax = max(yMax, float64(sum))
	}
	c := newChart("traffic", "Calls by wire format",
		fmt.Sprintf("Calls per %s, stacked by wire format.", stepWords(r.Step)), r.Since, chartEnd(r), yMax, count)
	if len(r.Traffic) == 0 {
		c.Empty = "No calls in this range."
	}
	step := r.Step
	for _, t := range slices.SortedFunc(maps.Keys(byStep), time.Time.Compare) {
		var lo float64
		for _, w := range wires {
			p, ok := byStep[t][w]
			if !ok {
				continue
			}
			hi := lo + float64(p.Calls)
			c.bar(t, step, lo, hi, wireClass(w), w, fmt.Sprint(p.Calls),
				fmt.Sprintf("%s %s: %d calls, %d errors", hm(t), wireName(w), p.Calls, p.Errors))
			lo = hi
		}
	}
	var out []wireTotal
	for _, w := range wires {
		if t := totals[w]; t != nil {
			t.Share = 100 * float64(t.Calls) / float64(max(all, 1))
			out = append(out, *t)
			c.Legend = append(c.Legend, legendItem{wireClass(w), wireName(w)})
		}
	}
	return c, out
}

// shadowChart shows each step's shadow results as shares of a full bar,
// so that agreement reads the same at any volume.
func shadowChart(r *Report) (*chart, ShadowPoint) {
	c := newChart("shadow", "Shadow agreement",
		fmt.Sprintf("Per %s, the share of shadow comparisons whose greetings matched, differed, or failed.", stepWords(r.Step)),
		r.Since, chartEnd(r), 100, percent)
	var sum ShadowPoint
	step := r.Step
	for _, p := range r.Shadow {
		sum.Match, sum.Mismatch, sum.Error = sum.Match+p.Match, sum.Mismatch+p.Mismatch, sum.Error+p.Error
		total := p.Match + p.Mismatch + p.Error
		if total == 0 {
			continue
		}
		var lo float64
		for _, part := range []struct {
			series string
			n      int64
		}{{"match", p.Match}, {"mismatch", p.Mismatch}, {"error", p.Error}} {
			if part.n == 0 {
				continue
			}
			hi := lo + 100*float64(part.n)/float64(total)
			c.bar(p.Minute, step, lo, hi, "sh-"+part.series, part.series, fmt.Sprint(part.n),
				fmt.Sprintf("%s: %d of %d comparisons %s", hm(p.Minute), part.n, total, part.series))
			lo = hi
		}
	}
	if len(c.Bars) == 0 {
		c.Empty = "No shadow comparisons in this range."
	}
	c.Legend = []legendItem{{"sh-match", "match"}, {"sh-mismatch", "mismatch"}, {"sh-error", "error"}}
	return c, sum
}

// latencyChart draws both sides' p50 and p95 per step, one colour a side.
func latencyChart(r *Report) *chart {
	var yMax float64
	for _, p := range r.Latency {
		yMax = max(yMax, p.P95MS)
	}
	c := newChart("latency", "Latency of each backend, in milliseconds",
		fmt.Sprintf("Per %s, the median (p50, solid) and 95th percentile (p95, dashed) latency of the current and the new backend, in milliseconds.", stepWords(r.Step)),
		r.Since, chartEnd(r), yMax, millis)
	if len(r.Latency) == 0 {
		c.Empty = "No calls in this range."
	}
	for _, side := range []string{SideCurrent, SideNext} {
		var ts []time.Time
		var p50, p95 []float64
		for _, p := range r.Latency {
			if p.Side != side {
				continue
			}
			ts, p50, p95 = append(ts, p.Minute), append(p50, p.P50MS), append(p95, p.P95MS)
		}
		if len(ts) == 0 {
			continue
		}
		for _, q := range []struct {
			name string
			vs   []float64
		}{{"p50", p50}, {"p95", p95}} {
			class, series := "s-"+side+" "+q.name, side+" "+q.name
			// Points sit in the middle of their step.
			mid := make([]time.Time, len(ts))
			for i, t := range ts {
				mid[i] = t.Add(r.Step / 2)
				c.point(mid[i], q.vs[i], 3, class, series, num(q.vs[i]),
					fmt.Sprintf("%s %s backend %s: %s ms", hm(t), side, q.name, num(q.vs[i])))
			}
			c.line(mid, q.vs, r.Step, class, series)
			c.Legend = append(c.Legend, legendItem{class, side + " " + q.name})
		}
	}
	return c
}

// stepWords says a step in words: "minute", "5 minutes", "hour".
func stepWords(s time.Duration) string {
	switch {
	case s == time.Minute:
		return "minute"
	case s == time.Hour:
		return "hour"
	case s == 24*time.Hour:
		return "day"
	case s%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", s/(24*time.Hour))
	case s%time.Hour == 0:
		return fmt.Sprintf("%d hours", s/time.Hour)
	default:
		return fmt.Sprintf("%d minutes", s/time.Minute)
	}
}
