package migrate

import (
	"context"
	"log/slog"
	"sync"
	"time"

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

	flushMu sync.Mutex // one flush at a time
	mu      sync.Mutex
	minutes map[int64]*minute // by the minute's start, Unix nanoseconds
}

var (
	_ CallObserver   = (*Recorder)(nil)
	_ ShadowObserver = (*Recorder)(nil)
)

// trafficKey is one row of migration_traffic, less minute and node.
type trafficKey struct{ client, method, wire, side string }

type traffic struct {
	calls, errors int64
	lastSeen      int64 // Unix nanoseconds
}

// shadowCounts is a minute of shadow results.
type shadowCounts struct{ match, mismatch, errors int64 }

// minute is what one node saw in one minute.
type minute struct {
	traffic map[trafficKey]*traffic
	latency map[string]*histogram // by side
	shadow  shadowCounts
	dirty   bool // changed since the last flush
}

// NewRecorder returns a Recorder that flushes to db, whose schema is
// migrated (OpenStore).
func NewRecorder(db *sqldb.DB, cfg RecorderConfig) *Recorder {
	r := &Recorder{
		db:        db,
		node:      cfg.Node,
		retention: cfg.Retention,
		now:       cfg.Now,
		log:       cfg.Logger,
		minutes:   map[int64]*minute{},
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
		m = &minute{traffic: map[trafficKey]*traffic{}, latency: map[string]*histogram{}}
		r.minutes[k] = m
	}
	m.dirty = true
	return m
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
		t = &traffic{}
		m.traffic[k] = t
	}
	t.calls++
	if failed {
		t.errors++
	}
	t.lastSeen = now.UnixNano()
	h := m.latency[side]
	if h == nil {
		h = &histogram{}
		m.latency[side] = h
	}
	h.observe(elapsed)
}

// ObserveShadow records a shadow comparison's result: ShadowMatch,
// ShadowMismatch or ShadowError.
func (r *Recorder) ObserveShadow(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.at(r.now())
	switch result {
	case ShadowMatch:
		m.shadow.match++
	case ShadowMismatch:
		m.shadow.mismatch++
	default:
		m.shadow.errors++
	}
}

// snapshot is the rows of the minutes changed since the last flush.
type snapshot struct {
	traffic []trafficRow
	latency []latencyRow
	shadow  []shadowRow
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

// take copies the minutes changed since the last flush and marks them
// clean; it returns them, their keys and the current minute.
func (r *Recorder) take() (s snapshot, taken []int64, current int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	current = minuteOf(r.now())
	for k, m := range r.minutes {
		if !m.dirty {
			continue
		}
		for tk, t := range m.traffic {
			s.traffic = append(s.traffic, trafficRow{k, tk, *t})
		}
		for side, h := range m.latency {
			s.latency = append(s.latency, latencyRow{k, side, *h})
		}
		if m.shadow != (shadowCounts{}) {
			s.shadow = append(s.shadow, shadowRow{k, m.shadow})
		}
		m.dirty = false
		taken = append(taken, k)
	}
	return s, taken, current
}

// flushed settles a flush of what take returned: once stored, the minutes
// before current are final (a call recorded after take falls into current
// or later) and are forgotten; when the flush failed, the taken minutes
// are marked changed again, for the next flush.
func (r *Recorder) flushed(taken []int64, current int64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		for _, k := range taken {
			r.minutes[k].dirty = true
		}
		return
	}
	for k, m := range r.minutes {
		if k < current && !m.dirty {
			delete(r.minutes, k)
		}
	}
}
