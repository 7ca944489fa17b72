package migrate

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/sqldb"
)

// Wire formats as the recorder keys them: the gateway's (gateway.Call.Wire),
// and WireUnknown for a call made outside a gateway request.
const WireUnknown = "unknown"

// DefaultRetention is how long the store keeps traffic rows when
// RecorderConfig.Retention is zero.
const DefaultRetention = 168 * time.Hour

// RecorderConfig configures a Recorder.
type RecorderConfig struct {
	// Node names this node's rows in the store; every node of one store
	// needs a name of its own, and a node a new one at each start (its
	// counts start from zero again).
	Node string
	// Retention: rows older than this are swept. Zero means DefaultRetention.
	Retention time.Duration
	// Now is the clock; nil means time.Now. Tests replace it.
	Now func() time.Time
	// Logger receives the failures of Run's flushes and sweeps. Nil discards.
	Logger *slog.Logger
	// MaxCallers bounds the rows (caller, method, wire format and side) a
	// node keeps of a minute: callers that come later in the minute are
	// counted under the client OtherCallers, so that a crowd of
	// unauthenticated addresses cannot swell the store. Zero means
	// DefaultMaxCallers.
	MaxCallers int
	// MaxDistinctCallers bounds the callers (client and authentication
	// method) a node keeps apart over the retention: a caller new to the
	// node once it knows that many is counted under OtherCallers, so that
	// addresses that change every minute cannot fill the store minute
	// after minute. A caller is forgotten at the hourly sweep once its last
	// call is past the retention. Zero means DefaultMaxDistinctCallers.
	MaxDistinctCallers int
}

// Recorder counts, per minute, the calls a split sees, by caller (client
// and authentication method), wire format and side, their errors and
// latencies, and the shadow's results, for the migration report. Counts
// live in memory until Flush writes them to the store; each node writes
// only rows of its own name, holding the cumulative counts of each minute,
// so a flush repeated is harmless and the report sums the nodes.
type Recorder struct {
	node      string
	retention time.Duration
	now       func() time.Time
	db        *sqldb.DB
	log       *slog.Logger
	maxRows   int
	maxKnown  int

	flushMu sync.Mutex // one flush at a time
	mu      sync.Mutex
	minutes map[int64]*minute // by the minute's start, Unix nanoseconds
	// known are the callers this node keeps apart, with the minute of
	// their last call (Unix nanoseconds); at most maxKnown.
	known map[callerKey]int64
	// dropped counts the minutes dropped unflushed since the start.
	dropped int64
}

// droppedMinutes describes the one metric the Recorder collects.
var droppedMinutes = prometheus.NewDesc("hellogw_migration_report_dropped_minutes_total",
	"Minutes of migration report counts this node dropped unflushed: its store was unreachable for longer than the 60 minutes it holds.",
	nil, nil)

// Describe and Collect make a Recorder the prometheus.Collector of
// hellogw_migration_report_dropped_minutes_total.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) { ch <- droppedMinutes }

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	n := r.dropped
	r.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(droppedMinutes, prometheus.CounterValue, float64(n))
}

// callerKey is a caller as the report lists it.
type callerKey struct{ client, method string }

var (
	_ CallObserver         = (*Recorder)(nil)
	_ ShadowObserver       = (*Recorder)(nil)
	_ prometheus.Collector = (*Recorder)(nil)
)

// trafficKey is one row of migration_traffic, less minute and node.
type trafficKey struct{ client, method, wire, side string }

type traffic struct {
	calls, errors int64
	lastSeen      int64 // Unix nanoseconds
}

// shadowCounts is a minute of shadow results.
type shadowCounts struct{ match, mismatch, errors int64 }

// minute is what one node saw in one minute. Each row says whether it
// changed since the last flush: a flush writes only those.
type minute struct {
	traffic map[trafficKey]*row[traffic]
	latency map[string]*row[histogram] // by side
	shadow  row[shadowCounts]
}

// row is a row of the store as the recorder keeps it.
type row[T any] struct {
	v     T
	dirty bool // changed since the last flush
}

// OtherCallers is the client of the calls of callers past
// RecorderConfig.MaxCallers in a minute.
const OtherCallers = "other"

// DefaultMaxCallers is RecorderConfig.MaxCallers when zero.
const DefaultMaxCallers = 1000

// DefaultMaxDistinctCallers is RecorderConfig.MaxDistinctCallers when
// zero: some 1 MB of memory a node, and as many callers in its rows.
const DefaultMaxDistinctCallers = 10_000

// maxUnflushedMinutes bounds the minutes a node holds while its flushes
// fail (the store unreachable): past it the oldest minute is dropped,
// logged and counted (hellogw_migration_report_dropped_minutes_total), so that memory stays under some 60 × 1,000 rows
// however long the outage.
const maxUnflushedMinutes = 60

// NewRecorder returns a Recorder that flushes to db, whose schema is
// migrated (OpenStore).
func NewRecorder(db *sqldb.DB, cfg RecorderConfig) *Recorder {
	r := &Recorder{
		db:        db,
		node:      cfg.Node,
		retention: cfg.Retention,
		now:       cfg.Now,
		log:       cfg.Logger,
		maxRows:   cfg.MaxCallers,
		maxKnown:  cfg.MaxDistinctCallers,
		minutes:   map[int64]*minute{},
		known:     map[callerKey]int64{},
	}
	if r.maxRows <= 0 {
		r.maxRows = DefaultMaxCallers
	}
	if r.maxKnown <= 0 {
		r.maxKnown = DefaultMaxDistinctCallers
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.retention <= 0 {
		r.retention = DefaultRetention
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// minuteOf returns the start of the minute holding t, in Unix nanoseconds.
func minuteOf(t time.Time) int64 { return t.Truncate(time.Minute).UnixNano() }

// at returns the counts of the current minute; r.mu is held.
func (r *Recorder) at(now time.Time) *minute {
	k := minuteOf(now)
	m := r.minutes[k]
	if m == nil {
		if len(r.minutes) >= maxUnflushedMinutes {
			r.dropOldest()
		}
		m = &minute{traffic: map[trafficKey]*row[traffic]{}, latency: map[string]*row[histogram]{}}
		r.minutes[k] = m
	}
	return m
}

// dropOldest forgets the oldest minute held, whose counts no flush could
// write, and logs it; r.mu is held.
func (r *Recorder) dropOldest() {
	oldest := slices.Min(slices.Collect(maps.Keys(r.minutes)))
	var calls int64
	for _, t := range r.minutes[oldest].traffic {
		calls += t.v.calls
	}
	delete(r.minutes, oldest)
	r.dropped++
	r.log.Warn("migration report: the store has been unreachable too long, a minute of counts is dropped unflushed",
		"node", r.node, "minute", time.Unix(0, oldest).UTC(), "calls", calls, "dropped_minutes", r.dropped,
		"held_minutes", maxUnflushedMinutes)
}

// admit returns the client a caller's calls are counted under: its own
// when the node already keeps it apart or has room for it, else
// OtherCallers; r.mu is held.
func (r *Recorder) admit(k callerKey, now int64) string {
	if _, ok := r.known[k]; !ok && len(r.known) >= r.maxKnown {
		return OtherCallers
	}
	r.known[k] = now
	return k.client
}

// forget drops the callers whose last call is before before, as the
// sweep drops their rows.
func (r *Recorder) forget(before int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	maps.DeleteFunc(r.known, func(_ callerKey, last int64) bool { return last < before })
}

// callerOf returns the client, authentication method and wire format of
// the call in ctx: an authenticated caller by its client id, any other by
// its address ("addr:" and the address), as the split keys them.
func callerOf(ctx context.Context) (client, method, wire string) {
	c, ok := gateway.CallFrom(ctx)
	if !ok {
		return "", gateway.MethodNone, WireUnknown
	}
	if c.Authenticated {
		return c.Principal.ClientID, c.Principal.Method, c.Wire
	}
	return "addr:" + c.RemoteAddr, gateway.MethodNone, c.Wire
}

// ObserveCall implements CallObserver: it records a call the split sent
// to side (SideCurrent or SideNext), how long it took and how it ended.
// Only failures of the backend count as errors (Failed); a caller's
// invalid input does not.
func (r *Recorder) ObserveCall(ctx context.Context, side string, elapsed time.Duration, err error) {
	client, method, wire := callerOf(ctx)
	failed := Failed(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	m := r.at(now)
	k := trafficKey{client, method, wire, side}
	t := m.traffic[k]
	if t == nil {
		// A caller's first call of the minute: is it one the node keeps
		// apart, and is there a row left for it in this minute?
		k.client = r.admit(callerKey{client, method}, now.UnixNano())
		if len(m.traffic) >= r.maxRows {
			k.client = OtherCallers
		}
		t = m.traffic[k]
		if t == nil {
			t = &row[traffic]{}
			m.traffic[k] = t
		}
	}
	t.v.calls++
	if failed {
		t.v.errors++
	}
	t.v.lastSeen = now.UnixNano()
	t.dirty = true
	if errors.Is(err, context.Canceled) {
		return // the caller hung up: how long it waited says nothing of the backend
	}
	h := m.latency[side]
	if h == nil {
		h = &row[histogram]{}
		m.latency[side] = h
	}
	h.v.observe(elapsed)
	h.dirty = true
}

// ObserveShadow records a shadow comparison's result: ShadowMatch,
// ShadowMismatch or ShadowError.
func (r *Recorder) ObserveShadow(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sh := &r.at(r.now()).shadow
	switch result {
	case ShadowMatch:
		sh.v.match++
	case ShadowMismatch:
		sh.v.mismatch++
	default:
		sh.v.errors++
	}
	sh.dirty = true
}

// snapshot is the rows changed since the last flush.
type snapshot struct {
	traffic []trafficRow
	latency []latencyRow
	shadow  []shadowRow
	// taken are the dirty flags take cleared, to set again should the
	// flush fail.
	taken []*bool
}

type trafficRow struct {
	minute int64
	trafficKey
	traffic
}

type latencyRow struct {
	minute int64
	side   string
	h      histogram
}

type shadowRow struct {
	minute int64
	shadowCounts
}

// take copies the rows changed since the last flush and marks them clean;
// it returns them and the current minute.
func (r *Recorder) take() (s snapshot, current int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	current = minuteOf(r.now())
	for k, m := range r.minutes {
		for tk, t := range m.traffic {
			if t.dirty {
				s.traffic = append(s.traffic, trafficRow{k, tk, t.v})
				t.dirty = false
				s.taken = append(s.taken, &t.dirty)
			}
		}
		for side, h := range m.latency {
			if h.dirty {
				s.latency = append(s.latency, latencyRow{k, side, h.v})
				h.dirty = false
				s.taken = append(s.taken, &h.dirty)
			}
		}
		if m.shadow.dirty {
			s.shadow = append(s.shadow, shadowRow{k, m.shadow.v})
			m.shadow.dirty = false
			s.taken = append(s.taken, &m.shadow.dirty)
		}
	}
	return s, current
}

// flushed settles a flush of what take returned: once stored, the minutes
// before current are final (a call recorded after take falls into current
// or later) and are forgotten; when the flush failed, the rows taken are
// marked changed again, for the next flush.
func (r *Recorder) flushed(s snapshot, current int64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		for _, dirty := range s.taken {
			*dirty = true
		}
		return
	}
	for k := range r.minutes {
		if k < current {
			delete(r.minutes, k)
		}
	}
}
