package migrate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A chart is an SVG drawing computed here and written by the dashboard's
// template: shapes with their coordinates in the viewBox, each data shape
// carrying its series, time and value (data-series, data-t, data-value)
// and a <title> a pointer or a screen reader shows. Hand-written rather
// than a charting library: the page must work without JavaScript and
// load nothing from outside, and these are bars and lines on a time axis.
type chart struct {
	ID, Title, Desc string
	W, H            float64 // the viewBox
	Left, Right     float64 // the plot area, in viewBox units
	Top, Bottom     float64
	XTicks, YTicks  []tick
	Bars            []shape
	Lines           []polyline
	Points          []shape
	Legend          []legendItem
	Empty           string  // said instead of the chart when there is nothing to draw
	LabelX, LabelY  float64 // where the y labels end, and the x labels sit

	since, until time.Time
	yMax         float64
}

// Sizes of every chart: a viewBox that stays readable scaled down to a
// phone's width and up to half a laptop's.
const (
	chartW      = 520
	chartH      = 230
	chartLeft   = 72
	chartRight  = 488
	chartTop    = 14
	chartBottom = 196
)

type tick struct {
	Pos   float64
	Label string
}

// shape is a bar (X, Y, W, H) or a point (X, Y, R) of one datum.
type shape struct {
	X, Y, W, H, R float64
	Class         string
	Series        string
	T             string // RFC 3339
	Value         string
	Title         string
}

type polyline struct {
	Points string
	Class  string
	Series string
}

type legendItem struct{ Class, Label string }

// newChart returns an empty chart of the time range since to until whose
// values go from 0 to yMax (made round), labelled by unit.
func newChart(id, title, desc string, since, until time.Time, yMax float64, unit func(float64) string) *chart {
	c := &chart{ID: id, Title: title, Desc: desc, W: chartW, H: chartH,
		Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom, LabelX: chartLeft - 6, LabelY: chartH - 8,
		since: since, until: until}
	stepY := niceStep(yMax / 4)
	c.yMax = stepY * math.Max(1, math.Ceil(yMax/stepY))
	for i := 0.0; i*stepY <= c.yMax+stepY/2; i++ {
		v := math.Round(i*stepY*1e6) / 1e6 // 0.6, not 0.6000000000000001
		c.YTicks = append(c.YTicks, tick{Pos: c.y(v), Label: unit(v)})
	}
	c.XTicks = timeTicks(since, until, c.x)
	return c
}

// x is the horizontal position of t.
func (c *chart) x(t time.Time) float64 {
	span := c.until.Sub(c.since)
	if span <= 0 {
		return c.Left
	}
	f := float64(t.Sub(c.since)) / float64(span)
	return round1(c.Left + math.Min(math.Max(f, 0), 1)*(c.Right-c.Left))
}

// y is the vertical position of v.
func (c *chart) y(v float64) float64 {
	return round1(c.Bottom - math.Min(v/c.yMax, 1)*(c.Bottom-c.Top))
}

// bar adds a bar over [t, t+step) from value lo to hi.
func (c *chart) bar(t time.Time, step time.Duration, lo, hi float64, class, series, value, title string) {
	x0, x1 := c.x(t), c.x(t.Add(step))
	w := math.Max(x1-x0-1, 1) // a gap between neighbours
	c.Bars = append(c.Bars, shape{X: x0, Y: c.y(hi), W: round1(w), H: round1(c.y(lo) - c.y(hi)),
		Class: class, Series: series, T: rfc3339(t), Value: value, Title: title})
}

// point adds a point at t, v.
func (c *chart) point(t time.Time, v, r float64, class, series, value, title string) {
	c.Points = append(c.Points, shape{X: c.x(t), Y: c.y(v), R: r, Class: class, Series: series, T: rfc3339(t), Value: value, Title: title})
}

// line adds polylines through the (t, v) pairs, in time order: one for
// each run whose neighbours are at most gap apart, so that no line is
// drawn across a time without data.
func (c *chart) line(ts []time.Time, vs []float64, gap time.Duration, class, series string) {
	var b strings.Builder
	for i := range ts {
		if i > 0 && ts[i].Sub(ts[i-1]) > gap {
			c.Lines = append(c.Lines, polyline{Points: b.String(), Class: class, Series: series})
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s,%s", num(c.x(ts[i])), num(c.y(vs[i])))
	}
	c.Lines = append(c.Lines, polyline{Points: b.String(), Class: class, Series: series})
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// roundSteps are the round lengths of time up to a day, shortest first.
var roundSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// roundUp rounds d up to a round length of time: one of roundSteps, or
// beyond a day 1, 2 or 5 times a power of ten days.
func roundUp(d time.Duration) time.Duration {
	for _, s := range roundSteps {
		if d <= s {
			return s
		}
	}
	return time.Duration(niceStep(math.Ceil(float64(d)/float64(24*time.Hour)))) * 24 * time.Hour
}

// maxTimeTicks bounds the labels of a time axis: "Dec 17" at every sixth
// of the axis leaves room between them, scaled down to a phone's width.
const maxTimeTicks = 6

// timeTicks labels since to until with at most maxTimeTicks (+1) round
// times, a step of ceil(span / maxTimeTicks) rounded up.
func timeTicks(since, until time.Time, x func(time.Time) float64) []tick {
	span := until.Sub(since)
	step := roundUp((span + maxTimeTicks - 1) / maxTimeTicks)
	layout := "15:04"
	if span > 24*time.Hour { // whole days: "Dec 7" is as long as a phone allows
		layout, step = "Jan 2", max(step, 24*time.Hour)
	}
	var ticks []tick
	for t := since.Truncate(step); !t.After(until); t = t.Add(step) {
		if !t.Before(since) {
			ticks = append(ticks, tick{Pos: x(t), Label: t.UTC().Format(layout)})
		}
	}
	return ticks
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// num writes v briefly: no exponent, no trailing zeros.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// count labels a value of calls.
func count(v float64) string { return num(v) }

// percent labels a percentage.
func percent(v float64) string { return num(v) + "%" }

// millis labels a duration in milliseconds; the unit is in the chart's
// title (" ms" does not fit a phone's width beside "12.5").
func millis(v float64) string { return num(v) }
