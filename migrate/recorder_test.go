package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/migrate"
)

// t0 is the start of a minute, the tests' epoch.
var t0 = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

// callCtx is the context of a call in wire from an authenticated client
// (method set), or from addr when client is "".
func callCtx(wire, client, method, addr string) context.Context {
	c := gateway.Call{Wire: wire, RemoteAddr: addr}
	if client != "" {
		c.Authenticated = true
		c.Principal = gateway.Principal{ClientID: client, Method: method}
	}
	return gateway.WithCall(context.Background(), c)
}

var (
	timeout = &gateway.Error{Kind: gateway.KindTimeout, Message: "the backend did not answer in time"}
	invalid = &gateway.Error{Kind: gateway.KindInvalid, Message: "firstName is required"}
)

// TestRecorder runs each case on a fresh SQLite file and a fresh
// PostgreSQL schema.
func TestRecorder(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, open database)
	}{

		{"CountsByCallerWireAndSide", func(t *testing.T, open database) {
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
			soap := callCtx("soap11", "legacy-app", gateway.MethodWSSE, "10.0.0.1")
			clk.Add(10 * time.Second)
			rec.ObserveCall(soap, migrate.SideCurrent, 3*time.Millisecond, nil)
			rec.ObserveCall(soap, migrate.SideCurrent, 3*time.Millisecond, timeout)
			clk.Add(10 * time.Second)
			rec.ObserveCall(soap, migrate.SideNext, 3*time.Millisecond, invalid) // the caller's fault: no error
			json := callCtx("json", "", "", "192.0.2.7")
			rec.ObserveCall(json, migrate.SideNext, 1*time.Millisecond, nil)
			rec.ObserveCall(context.Background(), migrate.SideCurrent, 1*time.Millisecond, errors.New("not a gateway error"))
			// The caller hung up: a call, no error, and no latency of the backend's.
			rec.ObserveCall(json, migrate.SideNext, 900*time.Millisecond, context.Canceled)
			require.NoError(t, rec.Flush(ctx))

			traffic, err := rec.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{
				{Minute: t0, Wire: "json", Calls: 2},
				{Minute: t0, Wire: "soap11", Calls: 3, Errors: 1},
				{Minute: t0, Wire: migrate.WireUnknown, Calls: 1, Errors: 1},
			}, traffic)

			clients, omitted, err := rec.Clients(ctx, t0, 1000)
			require.NoError(t, err)
			assert.Zero(t, omitted)
			require.Len(t, clients, 3)
			// The SOAP caller first, with its last SOAP call.
			assert.Equal(t, migrate.ClientRow{Client: "legacy-app", Method: gateway.MethodWSSE,
				Wires: map[string]int64{"soap11": 3}, Sides: map[string]int64{migrate.SideCurrent: 2, migrate.SideNext: 1}, LastSeen: t0.Add(20 * time.Second), LastSOAP: t0.Add(20 * time.Second)}, clients[0])
			// Then the others, latest call first, then by name.
			assert.Equal(t, migrate.ClientRow{Client: "", Method: gateway.MethodNone,
				Wires: map[string]int64{migrate.WireUnknown: 1}, Sides: map[string]int64{migrate.SideCurrent: 1, migrate.SideNext: 0}, LastSeen: t0.Add(20 * time.Second)}, clients[1])
			assert.Equal(t, migrate.ClientRow{Client: "addr:192.0.2.7", Method: gateway.MethodNone,
				Wires: map[string]int64{"json": 2}, Sides: map[string]int64{migrate.SideCurrent: 0, migrate.SideNext: 2}, LastSeen: t0.Add(20 * time.Second)}, clients[2],
				"a JSON-only caller has no last SOAP call")

			lat, err := rec.Latency(ctx, t0, time.Minute)
			require.NoError(t, err)
			require.Len(t, lat, 2)
			assert.Equal(t, migrate.SideCurrent, lat[0].Side)
			assert.Equal(t, int64(3), lat[0].Count)
			assert.Equal(t, migrate.SideNext, lat[1].Side)
			assert.Equal(t, int64(2), lat[1].Count)
		}},
		{"FlushesAreCumulativeNotAdded", func(t *testing.T, open database) {
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
			c := callCtx("soap12", "app", gateway.MethodBearer, "")
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			require.NoError(t, rec.Flush(ctx))
			require.NoError(t, rec.Flush(ctx)) // nothing changed: nothing rewritten
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			require.NoError(t, rec.Flush(ctx))
			clk.Add(time.Minute) // the next minute: the first is final
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			require.NoError(t, rec.Flush(ctx))
			require.NoError(t, rec.Flush(ctx))

			traffic, err := rec.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{
				{Minute: t0, Wire: "soap12", Calls: 2},
				{Minute: t0.Add(time.Minute), Wire: "soap12", Calls: 1},
			}, traffic)
			since, err := rec.Traffic(ctx, t0.Add(time.Minute+30*time.Second), time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{{Minute: t0.Add(time.Minute), Wire: "soap12", Calls: 1}}, since,
				"since falls inside a minute: that minute is in, the ones before are out")
		}},
		{"NodesAreSummed", func(t *testing.T, open database) {
			clk := newClock(t0)
			a := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
			b := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "b", Now: clk.Now})
			c := callCtx("json", "app", gateway.MethodBearer, "")
			for range 3 {
				a.ObserveCall(c, migrate.SideNext, time.Millisecond, nil)
			}
			b.ObserveCall(c, migrate.SideNext, time.Millisecond, timeout)
			a.ObserveShadow(migrate.ShadowMatch)
			b.ObserveShadow(migrate.ShadowMismatch)
			b.ObserveShadow(migrate.ShadowError)
			require.NoError(t, a.Flush(ctx))
			require.NoError(t, b.Flush(ctx))

			traffic, err := b.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{{Minute: t0, Wire: "json", Calls: 4, Errors: 1}}, traffic)
			clients, _, err := a.Clients(ctx, t0, 1000)
			require.NoError(t, err)
			require.Len(t, clients, 1)
			assert.Equal(t, map[string]int64{"json": 4}, clients[0].Wires)
			assert.Equal(t, map[string]int64{migrate.SideCurrent: 0, migrate.SideNext: 4}, clients[0].Sides)
			shadow, err := a.ShadowResults(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.ShadowPoint{{Minute: t0, Match: 1, Mismatch: 1, Error: 1}}, shadow)
			lat, err := a.Latency(ctx, t0, time.Minute)
			require.NoError(t, err)
			require.Len(t, lat, 1)
			assert.Equal(t, int64(4), lat[0].Count)
		}},
		{"PercentilesOfTheMergedHistograms", func(t *testing.T, open database) {
			// 90 fast calls on one node, 10 slow ones on the other: the
			// merged p95 is the slow one's, which neither node's p95 nor
			// their average is.
			clk := newClock(t0)
			a := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
			b := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "b", Now: clk.Now})
			c := callCtx("json", "app", gateway.MethodBearer, "")
			for range 90 {
				a.ObserveCall(c, migrate.SideCurrent, 2*time.Millisecond, nil)
			}
			for range 10 {
				b.ObserveCall(c, migrate.SideCurrent, 80*time.Millisecond, nil)
			}
			require.NoError(t, a.Flush(ctx))
			require.NoError(t, b.Flush(ctx))
			lat, err := a.Latency(ctx, t0, time.Minute)
			require.NoError(t, err)
			require.Len(t, lat, 1)
			assert.Equal(t, int64(100), lat[0].Count)
			assert.InEpsilon(t, 2.0, lat[0].P50MS, 0.19, "p50 %v ms", lat[0].P50MS)
			assert.InEpsilon(t, 80.0, lat[0].P95MS, 0.19, "p95 %v ms", lat[0].P95MS)
			assert.InDelta(t, 9.8, lat[0].MeanMS, 0.001)
		}},
		{"CallersPastTheLimitAreOther", func(t *testing.T, open database) {
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now, MaxCallers: 2})
			for _, addr := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.1"} {
				rec.ObserveCall(callCtx("json", "", "", addr), migrate.SideCurrent, time.Millisecond, nil)
			}
			clk.Add(time.Minute) // a new minute, a new allowance
			rec.ObserveCall(callCtx("json", "", "", "192.0.2.4"), migrate.SideCurrent, time.Millisecond, nil)
			got := jsonCallsByClient(t, rec)
			assert.Equal(t, map[string]int64{"addr:192.0.2.1": 2, "addr:192.0.2.2": 1, migrate.OtherCallers: 2, "addr:192.0.2.4": 1}, got)
		}},
		{"DistinctCallersAreBoundedOverTheRetention", func(t *testing.T, open database) {
			// Addresses that change every minute: past MaxDistinctCallers
			// the new ones are other, minute after minute, until the sweep
			// forgets the callers past the retention.
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now, MaxDistinctCallers: 2, Retention: time.Hour})
			call := func(addr string) {
				rec.ObserveCall(callCtx("json", "", "", addr), migrate.SideCurrent, time.Millisecond, nil)
			}
			for i := range 5 {
				call(fmt.Sprint("192.0.2.", i))
				call("192.0.2.0") // known: kept apart, every minute
				clk.Add(time.Minute)
			}
			got := jsonCallsByClient(t, rec)
			assert.Equal(t, map[string]int64{"addr:192.0.2.0": 6, "addr:192.0.2.1": 1, migrate.OtherCallers: 3}, got)

			clk.Add(time.Hour) // all five minutes past the retention
			_, err := rec.Sweep(ctx)
			require.NoError(t, err)
			call("192.0.2.9")
			require.NoError(t, rec.Flush(ctx))
			clients, _, err := rec.Clients(ctx, clk.Now().Add(-time.Minute), 1000)
			require.NoError(t, err)
			require.Len(t, clients, 1)
			assert.Equal(t, "addr:192.0.2.9", clients[0].Client, "the callers past the retention are forgotten: room again")
		}},
		{"ClientsAreCutInTheStore", func(t *testing.T, open database) {
			// The first limit callers in the report's order, SOAP callers
			// first however long ago; the others counted.
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
			rec.ObserveCall(callCtx("soap11", "old-soap", gateway.MethodWSSE, ""), migrate.SideCurrent, time.Millisecond, nil)
			rec.ObserveCall(callCtx("soap12", "old-soap", gateway.MethodWSSE, ""), migrate.SideNext, time.Millisecond, nil)
			for i := range 4 {
				clk.Add(time.Minute)
				rec.ObserveCall(callCtx("json", fmt.Sprint("json-", i), gateway.MethodBearer, ""), migrate.SideCurrent, time.Millisecond, nil)
			}
			require.NoError(t, rec.Flush(ctx))
			clients, omitted, err := rec.Clients(ctx, t0, 3)
			require.NoError(t, err)
			assert.Equal(t, int64(2), omitted)
			require.Len(t, clients, 3)
			assert.Equal(t, "old-soap", clients[0].Client)
			assert.Equal(t, map[string]int64{"soap11": 1, "soap12": 1}, clients[0].Wires, "every row of a caller kept")
			assert.Equal(t, "json-3", clients[1].Client, "then the latest call first")
			assert.Equal(t, "json-2", clients[2].Client)
		}},
		{"UnflushedMinutesAreBounded", func(t *testing.T, open database) {
			// The store unreachable for 70 minutes: the node holds the
			// latest 60, and says what it dropped.
			clk := newClock(t0)
			db := migrated(t, open)
			var logged strings.Builder
			rec := migrate.NewRecorder(db, migrate.RecorderConfig{Node: "a", Now: clk.Now,
				Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			_, err := db.ExecContext(ctx, `ALTER TABLE migration_traffic RENAME TO migration_traffic_away`)
			require.NoError(t, err)
			c := callCtx("json", "app", gateway.MethodBearer, "")
			for range 70 {
				rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
				require.Error(t, rec.Flush(ctx))
				clk.Add(time.Minute)
			}
			_, err = db.ExecContext(ctx, `ALTER TABLE migration_traffic_away RENAME TO migration_traffic`)
			require.NoError(t, err)
			require.NoError(t, rec.Flush(ctx))
			traffic, err := rec.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			require.Len(t, traffic, 60)
			assert.Equal(t, t0.Add(10*time.Minute), traffic[0].Minute, "the oldest ten minutes dropped")
			assert.Equal(t, 10, strings.Count(logged.String(), "a minute of counts is dropped unflushed"), "%s", logged.String())
			assert.Contains(t, logged.String(), "dropped_minutes=10")
			assert.Equal(t, 10.0, testutil.ToFloat64(rec), "hellogw_migration_report_dropped_minutes_total")
		}},
		{"FailedFlushKeepsTheCounts", func(t *testing.T, open database) {
			clk := newClock(t0)
			db := migrated(t, open)
			rec := migrate.NewRecorder(db, migrate.RecorderConfig{Node: "a", Now: clk.Now})
			c := callCtx("soap11", "app", gateway.MethodBasic, "")
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			_, err := db.ExecContext(ctx, `ALTER TABLE migration_traffic RENAME TO migration_traffic_away`)
			require.NoError(t, err)
			require.Error(t, rec.Flush(ctx))
			clk.Add(time.Minute) // the failed minute is over, yet not forgotten
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			require.Error(t, rec.Flush(ctx))
			_, err = db.ExecContext(ctx, `ALTER TABLE migration_traffic_away RENAME TO migration_traffic`)
			require.NoError(t, err)
			require.NoError(t, rec.Flush(ctx))
			traffic, err := rec.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{
				{Minute: t0, Wire: "soap11", Calls: 1},
				{Minute: t0.Add(time.Minute), Wire: "soap11", Calls: 1},
			}, traffic)
		}},
		{"SweepDeletesRowsPastRetention", func(t *testing.T, open database) {
			clk := newClock(t0)
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now, Retention: time.Hour})
			c := callCtx("json", "app", gateway.MethodBearer, "")
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			rec.ObserveShadow(migrate.ShadowMatch)
			require.NoError(t, rec.Flush(ctx))
			clk.Add(30 * time.Minute)
			rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
			require.NoError(t, rec.Flush(ctx))
			n, err := rec.Sweep(ctx)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing is past the retention yet")
			clk.Add(45 * time.Minute) // the first minute is now 75 minutes old, the second 45
			n, err = rec.Sweep(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(3), n, "the first minute's traffic, latency and shadow rows")
			traffic, err := rec.Traffic(ctx, t0, time.Minute)
			require.NoError(t, err)
			assert.Equal(t, []migrate.TrafficPoint{{Minute: t0.Add(30 * time.Minute), Wire: "json", Calls: 1}}, traffic)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { forEachDatabase(t, tc.run) })
	}
}

// TestRecorderConcurrentFlushes records from many goroutines while flushes
// run and minutes turn: every call is in the store once.
func TestRecorderConcurrentFlushes(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		ctx := context.Background()
		clk := newClock(t0)
		rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				c := callCtx("json", fmt.Sprint("client-", g), gateway.MethodBearer, "")
				for i := range 500 {
					rec.ObserveCall(c, migrate.SideNext, time.Millisecond, nil)
					if i%100 == 0 {
						clk.Add(20 * time.Second)
					}
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for flushing := true; flushing; {
			select {
			case <-done:
				flushing = false
			default:
			}
			require.NoError(t, rec.Flush(ctx))
		}
		require.NoError(t, rec.Flush(ctx))
		traffic, err := rec.Traffic(ctx, t0, time.Minute)
		require.NoError(t, err)
		var total int64
		for _, p := range traffic {
			total += p.Calls
		}
		assert.Equal(t, int64(8*500), total)
		assert.Greater(t, len(traffic), 5, "the calls spread over several minutes")
	})
}

// TestRecorderSteps reads minutes merged into longer steps: counts are
// summed, latency histograms merged before the percentiles are read.
func TestRecorderSteps(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		ctx := context.Background()
		clk := newClock(t0)
		rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "a", Now: clk.Now})
		c := callCtx("soap11", "app", gateway.MethodWSSE, "")
		for i := range 10 { // one call a minute, t0 to t0+9m; the slow ones in the second step
			d := time.Millisecond
			if i >= 5 {
				d = 40 * time.Millisecond
			}
			rec.ObserveCall(c, migrate.SideCurrent, d, nil)
			rec.ObserveShadow(migrate.ShadowMatch)
			require.NoError(t, rec.Flush(ctx))
			clk.Add(time.Minute)
		}
		step := 5 * time.Minute
		traffic, err := rec.Traffic(ctx, t0.Add(2*time.Minute), step)
		require.NoError(t, err)
		assert.Equal(t, []migrate.TrafficPoint{
			{Minute: t0, Wire: "soap11", Calls: 5},
			{Minute: t0.Add(step), Wire: "soap11", Calls: 5},
		}, traffic, "since inside a step: the whole step is in")
		shadow, err := rec.ShadowResults(ctx, t0, step)
		require.NoError(t, err)
		assert.Equal(t, []migrate.ShadowPoint{{Minute: t0, Match: 5}, {Minute: t0.Add(step), Match: 5}}, shadow)
		lat, err := rec.Latency(ctx, t0, step)
		require.NoError(t, err)
		require.Len(t, lat, 2)
		assert.Equal(t, t0.Add(step), lat[1].Minute)
		assert.Equal(t, int64(5), lat[1].Count)
		assert.InEpsilon(t, 1.0, lat[0].P95MS, 0.19)
		assert.InEpsilon(t, 40.0, lat[1].P50MS, 0.19)
	})
}

// TestRecorderRun: Run flushes every interval without being asked, and
// once more when its context ends.
func TestRecorderRun(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		reader := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: "reader"})
		calls := func() int64 {
			traffic, err := reader.Traffic(context.Background(), time.Now().Add(-time.Hour), time.Minute)
			require.NoError(t, err)
			var n int64
			for _, p := range traffic {
				n += p.Calls
			}
			return n
		}
		run := func(interval time.Duration) (*migrate.Recorder, func()) {
			rec := migrate.NewRecorder(migrated(t, open), migrate.RecorderConfig{Node: fmt.Sprint("every-", interval)})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); rec.Run(ctx, interval) }()
			return rec, func() { cancel(); <-done }
		}
		c := callCtx("json", "app", gateway.MethodBearer, "")

		rec, stop := run(50 * time.Millisecond)
		rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
		require.Eventually(t, func() bool { return calls() == 1 }, 5*time.Second, 10*time.Millisecond, "flushed by Run")
		stop()

		rec, stop = run(time.Hour) // no tick in this test
		rec.ObserveCall(c, migrate.SideCurrent, time.Millisecond, nil)
		assert.Equal(t, int64(1), calls())
		stop()
		assert.Equal(t, int64(2), calls(), "the last flush, when Run ends")
	})
}

// jsonCallsByClient flushes rec and returns its JSON calls since t0 by client.
func jsonCallsByClient(t *testing.T, rec *migrate.Recorder) map[string]int64 {
	t.Helper()
	require.NoError(t, rec.Flush(t.Context()))
	clients, _, err := rec.Clients(t.Context(), t0, 1000)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, c := range clients {
		got[c.Client] = c.Wires["json"]
	}
	return got
}
