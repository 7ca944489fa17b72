package migrate

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"

	"github.com/hellogw/hellogw/gateway"
)

// Paths of the report, on the admin surface only (main's admin guard).
const (
	PathReport    = "/admin/migration"
	PathDashboard = "/admin/migration/dashboard"
)

// DefaultReportRange is how far back a report looks without ?since=.
const DefaultReportRange = time.Hour

// historyLimit bounds the events a report lists.
const historyLimit = 500

// maxPoints bounds the steps of a chart: a longer range gets longer steps.
const maxPoints = 120

// clientLimit bounds the callers a report lists; Report.ClientsOmitted
// counts the others.
const clientLimit = 1000

// Report is the body of GET /admin/migration, and what the dashboard
// draws: the state and settings of the migration, this node's sliding
// window, the history, and per step since Since the traffic by wire
// format, the callers, both sides' latencies and the shadow's results.
type Report struct {
	State   State            `json:"state"` // as stored, when History was read
	Config  ControllerConfig `json:"config"`
	Window  Counts           `json:"window"` // this node's
	History []Event          `json:"history"`
	Since   time.Time        `json:"since"`             // the start of the first step
	Until   time.Time        `json:"until"`             // when the report was made
	Step    time.Duration    `json:"step,format:units"` // of the series below
	Traffic []TrafficPoint   `json:"traffic"`
	Clients []ClientRow      `json:"clients"`
	// ClientsOmitted counts the callers of the range past the first
	// clientLimit of Clients' order.
	ClientsOmitted int64          `json:"clients_omitted"`
	Latency        []LatencyPoint `json:"latency"`
	Shadow         []ShadowPoint  `json:"shadow"`
}

// Reporter serves the report and the dashboard of a node.
type Reporter struct {
	control  *Controller
	recorder *Recorder
	log      *slog.Logger
}

// NewReporter returns the Reporter of a node: the state, settings, window
// and history come from control, the counts from recorder (flushed first,
// so that the node's latest calls are in).
func NewReporter(control *Controller, recorder *Recorder, log *slog.Logger) *Reporter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{control: control, recorder: recorder, log: log}
}

// Register adds GET PathReport and PathDashboard to routes. They are
// operator routes: register them only where main's admin guard covers
// every /admin/ path.
func (rp *Reporter) Register(routes gin.IRoutes) {
	routes.GET(PathReport, rp.serveJSON)
	routes.GET(PathDashboard, rp.serveDashboard)
}

// RegisterAbsent adds, for a gateway whose config has no migration
// section, the report's and the control's paths to routes, each answering
// a 404 problem (RFC 9457) that says why, rather than the bare "no such
// resource" of a path nobody serves.
func RegisterAbsent(routes gin.IRoutes) {
	absent := func(c *gin.Context) {
		gateway.WriteProblem(c, &gateway.Error{Kind: gateway.KindNotFound,
			Message: "this gateway's config has no migration section: add one (README \"Migration control\") and restart the gateway"})
	}
	routes.GET(PathReport, absent)
	routes.GET(PathDashboard, absent)
	routes.PUT(PathWeight, absent)
	for _, p := range []string{PathPause, PathResume, PathRollback, PathRamp} {
		routes.POST(p, absent)
	}
}

// errSince is a ?since= that is neither a time nor a duration, or a time
// not in the past.
var errSince = errors.New(`since must be an RFC 3339 time in the past ("2026-12-07T06:00:00Z") or a duration back from now ("24h")`)

// parseSince reads ?since=: an RFC 3339 time, or a duration back from now;
// empty means DefaultReportRange back. No row is kept past retention, so
// an earlier start is moved up to now − retention.
func parseSince(s string, now time.Time, retention time.Duration) (time.Time, error) {
	earliest := now.Add(-retention)
	if s == "" {
		return now.Add(-DefaultReportRange), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		// The store keeps times as Unix nanoseconds: years 1678 to 2262.
		if t.Before(time.Unix(0, math.MinInt64)) || t.After(time.Unix(0, math.MaxInt64)) {
			return time.Time{}, errors.New("since is a time outside the years 1678 to 2262 a report can hold")
		}
		if !t.Before(now) {
			return time.Time{}, errSince
		}
		return later(t, earliest), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return time.Time{}, errSince
	}
	return later(now.Add(-d), earliest), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// stepFor returns the shortest round step that draws since to now in at
// most maxPoints steps.
func stepFor(since, now time.Time) time.Duration {
	return roundUp(now.Sub(since) / maxPoints)
}

// build makes the report of the range since to now.
func (rp *Reporter) build(ctx context.Context, since, now time.Time) (*Report, error) {
	now = now.UTC()
	step := stepFor(since, now)
	r := &Report{
		Config: rp.control.Config(),
		Window: rp.control.Window(),
		Since:  time.Unix(0, binOf(since, step)).UTC(),
		Until:  now,
		Step:   step,
	}
	if err := rp.recorder.Flush(ctx); err != nil {
		return nil, err
	}
	// The state as stored, read with the history rather than the state
	// this node last polled: the two agree, whatever the poll.
	var err error
	if r.State, r.History, err = rp.control.store.StateAndEvents(ctx, r.Since, historyLimit); err != nil {
		return nil, err
	}
	if r.Traffic, err = rp.recorder.Traffic(ctx, r.Since, step); err != nil {
		return nil, err
	}
	if r.Clients, r.ClientsOmitted, err = rp.recorder.Clients(ctx, r.Since, clientLimit); err != nil {
		return nil, err
	}
	if r.Latency, err = rp.recorder.Latency(ctx, r.Since, step); err != nil {
		return nil, err
	}
	if r.Shadow, err = rp.recorder.ShadowResults(ctx, r.Since, step); err != nil {
		return nil, err
	}
	if r.History == nil {
		r.History = []Event{}
	}
	return r, nil
}

// report answers a request with its report, or with a problem and nil.
func (rp *Reporter) report(c *gin.Context) *Report {
	now := time.Now()
	since, err := parseSince(c.Query("since"), now, rp.recorder.retention)
	if err != nil {
		gateway.WriteProblem(c, &gateway.Error{Kind: gateway.KindInvalid, Message: err.Error()})
		return nil
	}
	r, err := rp.build(c.Request.Context(), since, now)
	if err != nil {
		rp.log.ErrorContext(c, "migration report", "request_id", c.Writer.Header().Get("X-Request-Id"), "err", err)
		gateway.WriteProblem(c, &gateway.Error{Kind: gateway.KindUnavailable, Message: "the migration report cannot be read from the store right now"})
		return nil
	}
	return r
}

// serveJSON answers GET PathReport.
func (rp *Reporter) serveJSON(c *gin.Context) {
	r := rp.report(c)
	if r == nil {
		return
	}
	body, err := json.Marshal(r, json.Deterministic(true))
	if err != nil {
		gateway.WriteProblem(c, &gateway.Error{Kind: gateway.KindInternal, Message: "internal error"})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", body)
}
