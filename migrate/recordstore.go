package migrate

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hellogw/hellogw/internal/sqldb"
)

var errBuckets = errors.New("migration_latency: buckets of an unknown layout")

// Flush writes the counts of the minutes changed since the last flush to
// the store, as this node's rows, in one transaction. Should it fail, the
// counts stay in memory for the next one.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	s, current := r.take()
	if len(s.taken) == 0 {
		r.flushed(s, current, true)
		return nil
	}
	err := r.db.InTx(ctx, func(tx *sql.Tx) error { return r.write(ctx, tx, s) })
	r.flushed(s, current, err == nil)
	if err != nil {
		return fmt.Errorf("migrate: flush: %w", err)
	}
	return nil
}

// write upserts s as this node's rows. The counts are cumulative for the
// minute, so a row rewritten replaces what an earlier flush wrote.
func (r *Recorder) write(ctx context.Context, tx *sql.Tx, s snapshot) error {
	for _, t := range s.traffic {
		if _, err := tx.ExecContext(ctx, `INSERT INTO migration_traffic
			(minute, node, client, method, wire, side, calls, errors, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (minute, node, client, method, wire, side) DO UPDATE
			SET calls = excluded.calls, errors = excluded.errors, last_seen = excluded.last_seen`,
			t.minute, r.node, t.client, t.method, t.wire, t.side, t.calls, t.errors, t.lastSeen); err != nil {
			return err
		}
	}
	for _, l := range s.latency {
		if _, err := tx.ExecContext(ctx, `INSERT INTO migration_latency
			(minute, node, side, count, sum_us, buckets) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (minute, node, side) DO UPDATE
			SET count = excluded.count, sum_us = excluded.sum_us, buckets = excluded.buckets`,
			l.minute, r.node, l.side, l.h.count, l.h.sumUS, l.h.text()); err != nil {
			return err
		}
	}
	for _, sh := range s.shadow {
		if _, err := tx.ExecContext(ctx, `INSERT INTO migration_shadow
			(minute, node, matches, mismatches, errors) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (minute, node) DO UPDATE
			SET matches = excluded.matches, mismatches = excluded.mismatches, errors = excluded.errors`,
			sh.minute, r.node, sh.match, sh.mismatch, sh.errors); err != nil {
			return err
		}
	}
	return nil
}

// reportTables are the tables Sweep trims.
var reportTables = []string{"migration_traffic", "migration_latency", "migration_shadow"}

// Sweep deletes the rows of every node whose minute ended more than the
// retention ago, and returns how many. One node sweeps at a time: a node
// that finds the sweep lock taken skips the round (returning 0), since the
// node holding it deletes the same rows. Each node forgets the callers
// whose last call is past the retention, as their rows go.
func (r *Recorder) Sweep(ctx context.Context) (int64, error) {
	before := r.now().Add(-r.retention).UnixNano()
	r.forget(before)
	var total int64
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		if ok, err := r.db.TryLock(ctx, tx, "hellogw.migrate.sweep"); err != nil || !ok {
			return err
		}
		for _, table := range reportTables {
			n, err := sqldb.Affected(tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE minute < $1`, before))
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migrate: sweep: %w", err)
	}
	return total, nil
}

// Run flushes every interval, and sweeps every hour, until ctx ends, then
// flushes once more. Failures are logged, and the counts wait in memory
// for the next flush.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastSweep time.Time
	for {
		select {
		case <-ctx.Done():
			// The last counts of a node shutting down: a short grace.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := r.Flush(fctx); err != nil {
				r.log.Warn("migration report flush", "node", r.node, "err", err)
			}
			return
		case <-tick.C:
		}
		if err := r.Flush(ctx); err != nil {
			r.log.Warn("migration report flush", "node", r.node, "err", err)
		}
		if now := r.now(); now.Sub(lastSweep) >= time.Hour {
			lastSweep = now
			if _, err := r.Sweep(ctx); err != nil {
				r.log.Warn("migration report sweep", "node", r.node, "err", err)
			}
		}
	}
}

// stepNanos is step in whole minutes (at least one), in nanoseconds.
func stepNanos(step time.Duration) int64 {
	return max(step.Truncate(time.Minute), time.Minute).Nanoseconds()
}

// binOf is the start of the step holding t, in Unix nanoseconds: every
// minute of that step is in.
func binOf(t time.Time, step time.Duration) int64 {
	return t.UnixNano() / stepNanos(step) * stepNanos(step)
}

// TrafficPoint is a step of calls in one wire format, all nodes and
// sides summed.
type TrafficPoint struct {
	Minute time.Time `json:"minute"`
	Wire   string    `json:"wire"`
	Calls  int64     `json:"calls"`
	Errors int64     `json:"errors"`
}

// ClientRow is one caller (client, or address) with one authentication
// method since the report's start: its calls by wire format and by side
// (SideCurrent and SideNext, both always there), when it last called, and
// when it last called in SOAP (zero: not since the start).
type ClientRow struct {
	Client   string           `json:"client"`
	Method   string           `json:"method"`
	Wires    map[string]int64 `json:"wires"`
	Sides    map[string]int64 `json:"sides"`
	LastSeen time.Time        `json:"last_seen"`
	LastSOAP time.Time        `json:"last_soap,omitzero"`
}

// LatencyPoint is a step of one side's latencies, all nodes merged.
type LatencyPoint struct {
	Minute time.Time `json:"minute"`
	Side   string    `json:"side"`
	Count  int64     `json:"count"`
	P50MS  float64   `json:"p50_ms"`
	P95MS  float64   `json:"p95_ms"`
	MeanMS float64   `json:"mean_ms"`
}

// ShadowPoint is a step of shadow results, all nodes summed.
type ShadowPoint struct {
	Minute   time.Time `json:"minute"`
	Match    int64     `json:"match"`
	Mismatch int64     `json:"mismatch"`
	Error    int64     `json:"error"`
}

// Traffic returns the calls per step (whole minutes, from the Unix epoch)
// and wire format since since, in time order.
func (r *Recorder) Traffic(ctx context.Context, since time.Time, step time.Duration) ([]TrafficPoint, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT minute / $2 * $2 AS bin, wire, CAST(SUM(calls) AS BIGINT), CAST(SUM(errors) AS BIGINT)
		FROM migration_traffic WHERE minute >= $1 GROUP BY bin, wire ORDER BY bin, wire`, binOf(since, step), stepNanos(step))
	if err != nil {
		return nil, fmt.Errorf("migrate: traffic: %w", err)
	}
	return collect(rows, "traffic", func(p *TrafficPoint) []any { return []any{nanosTo{&p.Minute}, &p.Wire, &p.Calls, &p.Errors} })
}

// Clients returns the first limit callers since since, in the order of
// the report: those that called in SOAP most recently first, then the
// others by their last call; and how many callers of the range are left
// out past limit.
func (r *Recorder) Clients(ctx context.Context, since time.Time, limit int) ([]ClientRow, int64, error) {
	// The callers are ranked and cut in the store, COUNT(*) OVER () read
	// before the LIMIT, so that neither the store nor the gateway handles
	// more than limit callers, however many addresses called.
	rows, err := r.db.QueryContext(ctx, `WITH callers AS (
			SELECT client, method, COUNT(*) OVER () AS total
			FROM migration_traffic WHERE minute >= $1 GROUP BY client, method
			ORDER BY MAX(CASE WHEN wire LIKE 'soap%' THEN last_seen ELSE 0 END) DESC, MAX(last_seen) DESC, client, method
			LIMIT $2)
		SELECT t.client, t.method, t.wire, t.side, CAST(SUM(t.calls) AS BIGINT), MAX(t.last_seen), c.total
		FROM migration_traffic t JOIN callers c ON c.client = t.client AND c.method = t.method
		WHERE t.minute >= $1 GROUP BY t.client, t.method, t.wire, t.side, c.total`, minuteOf(since), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("migrate: clients: %w", err)
	}
	defer rows.Close()
	byKey := map[callerKey]*ClientRow{}
	var total int64
	for rows.Next() {
		var k callerKey
		var wire, side string
		var calls, last int64
		if err := rows.Scan(&k.client, &k.method, &wire, &side, &calls, &last, &total); err != nil {
			return nil, 0, fmt.Errorf("migrate: clients: %w", err)
		}
		c := byKey[k]
		if c == nil {
			c = &ClientRow{Client: k.client, Method: k.method, Wires: map[string]int64{},
				Sides: map[string]int64{SideCurrent: 0, SideNext: 0}}
			byKey[k] = c
		}
		c.Wires[wire] += calls
		c.Sides[side] += calls
		t := time.Unix(0, last).UTC()
		if t.After(c.LastSeen) {
			c.LastSeen = t
		}
		if strings.HasPrefix(wire, "soap") && t.After(c.LastSOAP) {
			c.LastSOAP = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("migrate: clients: %w", err)
	}
	out := make([]ClientRow, 0, len(byKey))
	for _, c := range byKey {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ClientRow) int {
		return cmp.Or(b.LastSOAP.Compare(a.LastSOAP), b.LastSeen.Compare(a.LastSeen),
			cmp.Compare(a.Client, b.Client), cmp.Compare(a.Method, b.Method))
	})
	return out, total - int64(len(out)), nil
}

// Latency returns each side's latencies per step since since, the
// histograms of the step's minutes and of every node merged before the
// percentiles are read, in time order.
func (r *Recorder) Latency(ctx context.Context, since time.Time, step time.Duration) ([]LatencyPoint, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT minute / $2 * $2, side, count, sum_us, buckets FROM migration_latency
		WHERE minute >= $1`, binOf(since, step), stepNanos(step))
	if err != nil {
		return nil, fmt.Errorf("migrate: latency: %w", err)
	}
	defer rows.Close()
	type key struct {
		minute int64
		side   string
	}
	merged := map[key]*histogram{}
	for rows.Next() {
		var k key
		var h histogram
		var buckets string
		if err := rows.Scan(&k.minute, &k.side, &h.count, &h.sumUS, &buckets); err != nil {
			return nil, fmt.Errorf("migrate: latency: %w", err)
		}
		if err := h.addText(buckets); err != nil {
			return nil, fmt.Errorf("migrate: latency: %w", err)
		}
		if m := merged[k]; m != nil {
			m.add(&h)
		} else {
			merged[k] = &h
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: latency: %w", err)
	}
	keys := slices.SortedFunc(maps.Keys(merged), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.minute, b.minute), cmp.Compare(a.side, b.side))
	})
	out := make([]LatencyPoint, 0, len(keys))
	for _, k := range keys {
		h := merged[k]
		out = append(out, LatencyPoint{
			Minute: time.Unix(0, k.minute).UTC(),
			Side:   k.side,
			Count:  h.count,
			P50MS:  ms(h.quantile(0.50)),
			P95MS:  ms(h.quantile(0.95)),
			MeanMS: float64(h.sumUS) / 1000 / float64(max(h.count, 1)),
		})
	}
	return out, nil
}

// ShadowResults returns the shadow's results per step since since, in
// time order.
func (r *Recorder) ShadowResults(ctx context.Context, since time.Time, step time.Duration) ([]ShadowPoint, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT minute / $2 * $2 AS bin, CAST(SUM(matches) AS BIGINT), CAST(SUM(mismatches) AS BIGINT),
		CAST(SUM(errors) AS BIGINT) FROM migration_shadow WHERE minute >= $1 GROUP BY bin ORDER BY bin`, binOf(since, step), stepNanos(step))
	if err != nil {
		return nil, fmt.Errorf("migrate: shadow: %w", err)
	}
	return collect(rows, "shadow", func(p *ShadowPoint) []any { return []any{nanosTo{&p.Minute}, &p.Match, &p.Mismatch, &p.Error} })
}

// collect scans rows into a slice of T, dest naming the columns'
// destinations in a T.
func collect[T any](rows *sql.Rows, what string, dest func(*T) []any) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var p T
		if err := rows.Scan(dest(&p)...); err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", what, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: %s: %w", what, err)
	}
	return out, nil
}

// nanosTo scans a time stored as Unix nanoseconds into t, in UTC.
type nanosTo struct{ t *time.Time }

// Scan implements sql.Scanner.
func (n nanosTo) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("a time of Unix nanoseconds: got %T", src)
	}
	*n.t = time.Unix(0, v).UTC()
	return nil
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
