package migrate_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/pgtest"
	"github.com/hellogw/hellogw/internal/syncbuf"
	"github.com/hellogw/hellogw/migrate"
	"github.com/hellogw/hellogw/wsdl"
)

// upstream is a real HTTP JSON API answering "next NAME" (or another word
// than next, once said), or failing with HTTP 500 while failing is set,
// after delay; asked counts the requests it got.
type upstream struct {
	failing atomic.Bool
	word    atomic.Pointer[string]
	delay   atomic.Int64 // nanoseconds
	asked   atomic.Int64
	url     string
	backend gen.Hello_PortType
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.word.Store(new("next"))
	u.url = gwtest.JSONAPI(t, func(name string) (string, int) {
		u.asked.Add(1)
		time.Sleep(time.Duration(u.delay.Load()))
		if u.failing.Load() {
			return "", http.StatusInternalServerError
		}
		return *u.word.Load() + " " + name, 0
	})
	binding, err := wsdl.Parse(wsdl.Document())
	require.NoError(t, err)
	op, err := binding.SoleOperation()
	require.NoError(t, err)
	u.backend, err = migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: u.url, Timeout: time.Second})
	require.NoError(t, err)
	return u
}

// node is one gateway node's migration: its split and its controller,
// running until the test ends (or stop).
type node struct {
	split *migrate.Split
	ctrl  *migrate.Controller
	reg   *prometheus.Registry
	stop  func()
}

func startNode(t *testing.T, open database, next gen.Hello_PortType, cfg migrate.ControllerConfig) *node {
	t.Helper()
	store := mustOpenStore(t, open)
	current, _ := newCores(t)
	n := &node{reg: prometheus.NewRegistry()}
	if cfg.Node == "" {
		cfg.Node = t.Name()
	}
	if cfg.Poll == 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	cfg.Registerer = n.reg
	var err error
	n.ctrl, err = migrate.NewController(context.Background(), store, current, next, cfg)
	require.NoError(t, err)
	n.split = n.ctrl.Split()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.ctrl.Run(ctx) }()
	n.stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(n.stop)
	return n
}

// eventually waits up to within for cond, polling.
func eventually(t *testing.T, within time.Duration, cond func() bool, msg string, args ...any) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("not within %v: "+msg, append([]any{within}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// TestControllerNodesAgree: two nodes on one PostgreSQL database; a weight
// set at one is the other's within two seconds, and a node that restarts
// (with another weight in its config) keeps it.
func TestControllerNodesAgree(t *testing.T) {
	open := postgresSchema(t)
	_, next := newCores(t)
	cfg := migrate.ControllerConfig{Weight: 5, Poll: time.Second}
	a := startNode(t, open, next, withNode(cfg, "a"))
	b := startNode(t, open, next, withNode(cfg, "b"))
	assert.Equal(t, 5, b.split.Weight())

	st, err := a.ctrl.SetWeight(t.Context(), 40, "test")
	require.NoError(t, err)
	assert.Equal(t, 40, st.Weight)
	assert.Equal(t, 40, a.split.Weight(), "the node that changed it applies it at once")
	took := eventually(t, 2*time.Second, func() bool { return b.split.Weight() == 40 }, "b's weight is %d", b.split.Weight())
	t.Logf("b had the weight after %v", took)
	assert.Equal(t, 40.0, metric(t, b.reg, "hellogw_migration_weight"))

	b.stop()
	cfg.Weight = 70
	b = startNode(t, open, next, withNode(cfg, "b"))
	assert.Equal(t, 40, b.split.Weight(), "after a restart, the stored weight, not the config's")

	events, err := b.ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, migrate.Event{ID: events[0].ID, At: events[0].At, Node: "a", Actor: migrate.ActorAPI, Action: migrate.ActionSet, From: 5, To: 40, Reason: "test"}, events[0])
	assert.Equal(t, migrate.ActorConfig, events[1].Actor)
}

func TestControllerRestartSQLite(t *testing.T) {
	open := sqliteFile(t)
	_, next := newCores(t)
	n := startNode(t, open, next, migrate.ControllerConfig{Weight: 0})
	_, err := n.ctrl.SetWeight(t.Context(), 25, "test")
	require.NoError(t, err)
	n.stop()
	n = startNode(t, open, next, migrate.ControllerConfig{Weight: 90})
	assert.Equal(t, 25, n.split.Weight())
	assert.Equal(t, 25, n.ctrl.State().Weight)
}

// TestControllerWarnsOfConfigWeight: a config whose weight differs from
// the stored one is ignored, and said so at start-up (WARN), naming both
// weights and how to change the stored one.
func TestControllerWarnsOfConfigWeight(t *testing.T) {
	open := sqliteFile(t)
	_, next := newCores(t)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	n := startNode(t, open, next, migrate.ControllerConfig{Weight: 10, Logger: logger})
	_, err := n.ctrl.SetWeight(t.Context(), 40, "test")
	require.NoError(t, err)
	n.stop()
	assert.NotContains(t, logs.String(), "level=WARN", "the first start stores the config's weight")

	n = startNode(t, open, next, migrate.ControllerConfig{Weight: 30, Logger: logger})
	assert.Equal(t, 40, n.split.Weight())
	assert.Contains(t, logs.String(), "level=WARN msg=\"migration.weight in the config is 30, but the store holds weight 40, which stands: `hellogw migrate set 30` changes it\" config_weight=30 store_weight=40 state=running\n")
}

func withNode(cfg migrate.ControllerConfig, name string) migrate.ControllerConfig {
	cfg.Node = name
	return cfg
}

// metric returns the value of the series of name with the given label
// values (name=value pairs), from a counter or gauge of reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, want := range labels {
					k, v, _ := strings.Cut(want, "=")
					if l.GetName() == k && l.GetValue() != v {
						continue series
					}
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s%v", name, labels)
	return 0
}

// budget is the most errors a node's clients may see before its window
// calls for a rollback, after ok good calls of the next backend in the
// window: the first count of errors e that makes both e+ok >= minCalls
// and e/(e+ok) > rate.
func budget(ok, minCalls int, rate float64) int {
	e := 0
	for e+ok < minCalls || float64(e)/float64(e+ok) <= rate {
		e++
	}
	return e
}

// TestControllerRollbackOnErrors: two nodes on one PostgreSQL database
// send a share of their callers to a real upstream, which starts failing.
// Both nodes are at weight 0 within the window, their clients saw no more
// errors than the window lets through, and the history holds one rollback
// with its reason.
func TestControllerRollbackOnErrors(t *testing.T) {
	up := newUpstream(t)
	testRollback(t, rollbackCase{
		cfg: migrate.ControllerConfig{Weight: 50, Window: 4 * time.Second, MinCalls: 10, MaxErrorRate: 0.25, Poll: time.Second},
		up:  up,
		// A client sees an error for each failed call of the next side.
		good:   func(greeting string, err error) bool { return err == nil && greeting == "next x" },
		bad:    func(_ string, err error) bool { return err != nil },
		breaks: func() { up.failing.Store(true) },
		reason: `^error rate \d\.\d\d > 0\.25 over 4s \(\d+ of \d+ calls\)$`,
		metric: migrate.ReasonErrorRate,
	})
}

// TestControllerRollbackOnMismatches: the same with the shadow: the next
// backend, shadowing the split, agrees with the current one, then starts
// answering wrong greetings (no errors). The mismatches roll the
// migration back; the wrong greetings clients got from the next side are
// within the window's budget of mismatches.
func TestControllerRollbackOnMismatches(t *testing.T) {
	up := newUpstream(t)
	up.word.Store(new("current"))
	testRollback(t, rollbackCase{
		cfg: migrate.ControllerConfig{Weight: 30, Window: 4 * time.Second, MinCalls: 10, MaxErrorRate: 0.25,
			MaxMismatchRate: 0.2, Poll: time.Second},
		up:     up,
		shadow: true,
		good:   func(greeting string, err error) bool { return err == nil && greeting == "current x" },
		bad:    func(greeting string, err error) bool { return err != nil || greeting == "wrong x" },
		breaks: func() { up.word.Store(new("wrong")) },
		reason: `^mismatch rate \d\.\d\d > 0\.20 over 4s \(\d+ of \d+ comparisons\)$`,
		metric: migrate.ReasonMismatchRate,
	})
}

type rollbackCase struct {
	cfg       migrate.ControllerConfig
	up        *upstream
	shadow    bool                                  // serve a Shadow of the split and up
	good, bad func(greeting string, err error) bool // what a client got
	breaks    func()                                // the next backend starts misbehaving
	reason    string                                // the history's reason, a regexp
	metric    string                                // hellogw_migration_rollbacks_total's reason
}

func testRollback(t *testing.T, tc rollbackCase) {
	open := postgresSchema(t)
	nodes := []*node{startNode(t, open, tc.up.backend, withNode(tc.cfg, "a")), startNode(t, open, tc.up.backend, withNode(tc.cfg, "b"))}
	services := make([]gen.Hello_PortType, len(nodes))
	for i, n := range nodes {
		services[i] = n.split
		if tc.shadow {
			shadow, err := migrate.NewShadow(n.split, tc.up.backend, migrate.ShadowConfig{Observers: []migrate.ShadowObserver{n.ctrl}})
			require.NoError(t, err)
			t.Cleanup(shadow.Wait)
			services[i] = shadow
		}
	}

	// Each node's clients: one at a time, a new caller each call.
	type tally struct{ good, bad atomic.Int64 }
	tallies := make([]tally, len(nodes))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i, svc := range services {
		wg.Go(func() {
			for call := 0; ctx.Err() == nil; call++ {
				greeting, err := svc.SayHelloContext(callerCtx(2*(call%5000), 0), new("x"))
				var g string
				if greeting != nil {
					g = *greeting
				}
				switch {
				case tc.bad(g, err):
					tallies[i].bad.Add(1)
				case tc.good(g, err):
					tallies[i].good.Add(1)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	defer func() { cancel(); wg.Wait() }()
	eventually(t, 5*time.Second, func() bool { return tallies[0].good.Load() >= 5 && tallies[1].good.Load() >= 5 }, "the backends answer")

	goodBefore := []int64{tallies[0].good.Load(), tallies[1].good.Load()}
	tc.breaks()
	took := eventually(t, tc.cfg.Window, func() bool { return nodes[0].split.Weight() == 0 && nodes[1].split.Weight() == 0 },
		"weights %d and %d", nodes[0].split.Weight(), nodes[1].split.Weight())
	t.Logf("both nodes at weight 0 %v after the next backend began misbehaving", took)
	time.Sleep(300 * time.Millisecond) // calls after the rollback: none may be bad
	cancel()
	wg.Wait()

	for i, n := range nodes {
		// The window holds at most the good calls made before the
		// trouble began (goodBefore bounds them) and the bad ones since.
		limit := budget(int(goodBefore[i]), tc.cfg.MinCalls, max(tc.cfg.MaxErrorRate, tc.cfg.MaxMismatchRate)) + 2 // +2: calls in flight as the rollback is decided
		bad := tallies[i].bad.Load()
		t.Logf("node %d: %d bad answers seen by clients, %d good before; budget %d", i, bad, goodBefore[i], limit)
		assert.LessOrEqual(t, bad, int64(limit), "node %d", i)
		st := n.ctrl.State()
		assert.Equal(t, migrate.RolledBack, st.Status)
		assert.Equal(t, tc.cfg.Weight, st.ResumeWeight)
	}
	events, err := nodes[0].ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, events, 2, "the config's, and one rollback: %+v", events)
	rb := events[0]
	assert.Equal(t, migrate.ActorRollback, rb.Actor)
	assert.Equal(t, migrate.ActionRollback, rb.Action)
	assert.Equal(t, tc.cfg.Weight, rb.From)
	assert.Equal(t, 0, rb.To)
	assert.Regexp(t, tc.reason, rb.Reason)
	rollbacks := metric(t, nodes[0].reg, "hellogw_migration_rollbacks_total", "reason="+tc.metric) +
		metric(t, nodes[1].reg, "hellogw_migration_rollbacks_total", "reason="+tc.metric)
	assert.Equal(t, 1.0, rollbacks, "one rollback, counted by the node that recorded it")

	// Resuming is deliberate: the weight before the rollback comes back
	// only when asked.
	st, err := nodes[1].ctrl.Resume(t.Context(), nil, "fixed")
	require.NoError(t, err)
	assert.Equal(t, tc.cfg.Weight, st.Weight)
	assert.Equal(t, migrate.Running, st.Status)
}

// TestControllerRollbackUnrecorded: a node whose store takes no writes
// (its role may not update the state, reads still work) for longer than
// the window keeps sending no one to the failing backend, although the
// store still says 50 and the window has emptied, and records the
// rollback once it can; then it follows the store again.
func TestControllerRollbackUnrecorded(t *testing.T) {
	connURL := pgtest.Schema(t)
	open := postgresAt(connURL)
	up := newUpstream(t)
	n := startNode(t, open, up.backend, migrate.ControllerConfig{Weight: 50, Window: 2 * time.Second, MinCalls: 5, MaxErrorRate: 0.2, Poll: 100 * time.Millisecond})
	pgtest.Exec(t, connURL, `REVOKE UPDATE ON migration_state FROM CURRENT_USER`)
	up.failing.Store(true)
	for i := 0; n.split.Weight() != 0; i++ {
		require.Less(t, i, 2000, "no rollback")
		_, _ = n.split.SayHelloContext(callerCtx(2*i, 0), new("x"))
		time.Sleep(time.Millisecond)
	}
	time.Sleep(3 * time.Second) // thirty polls, each reading weight 50; the window empties
	assert.Equal(t, migrate.Counts{}, n.ctrl.Window())
	assert.Equal(t, 0, n.split.Weight(), "held at 0 while the rollback is not recorded")
	assert.Equal(t, 0.0, metric(t, n.reg, "hellogw_migration_weight"), "the gauge says what the split does")
	st, err := mustOpenStore(t, open).State(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 50, st.Weight)

	pgtest.Exec(t, connURL, `GRANT UPDATE ON migration_state TO CURRENT_USER`)
	eventually(t, 2*time.Second, func() bool { return n.ctrl.State().Status == migrate.RolledBack }, "state %+v", n.ctrl.State())
	assert.Equal(t, 0, n.split.Weight())
	events, err := n.ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, migrate.ActorRollback, events[0].Actor)
	assert.Equal(t, 1.0, metric(t, n.reg, "hellogw_migration_rollbacks_total", "reason="+migrate.ReasonErrorRate))

	// The node follows the store again: an operator's weight, set at
	// another node, applies here.
	up.failing.Store(false)
	other := startNode(t, open, up.backend, withNode(migrate.ControllerConfig{}, "other"))
	_, err = other.ctrl.SetWeight(t.Context(), 30, "operator")
	require.NoError(t, err)
	eventually(t, 2*time.Second, func() bool { return n.split.Weight() == 30 }, "weight %d", n.split.Weight())
	assert.Equal(t, 30.0, metric(t, n.reg, "hellogw_migration_weight"))
}

// TestControllerRollbackStoreHangs: the store stops answering (a lock
// here, a partition in life) before the new backend fails. The calls that
// find the error rate too high send no one to it from then on: the
// rollback does not wait for the store, and no store call hangs the node.
func TestControllerRollbackStoreHangs(t *testing.T) {
	connURL := pgtest.Schema(t)
	open := postgresAt(connURL)
	up := newUpstream(t)
	var logs syncbuf.Buffer
	n := startNode(t, open, up.backend, migrate.ControllerConfig{Weight: 100, Window: 4 * time.Second, MinCalls: 5, MaxErrorRate: 0.2, Poll: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tx, err := open(t).BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(t.Context(), `LOCK TABLE migration_state IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the polls block on the lock
	up.failing.Store(true)
	errs := 0
	for i := range 200 {
		if _, err := n.split.SayHelloContext(callerCtx(2*i, 0), new("x")); err != nil {
			errs++
		}
	}
	t.Logf("%d of 200 callers got errors", errs)
	assert.Equal(t, 0, n.split.Weight(), "the split stops sending callers to the failing backend")
	assert.LessOrEqual(t, errs, 5, "no more errors than min_calls")
	// Each visit to the store gives up after a quarter of the window.
	eventually(t, 3*time.Second, func() bool { return strings.Contains(logs.String(), "context deadline exceeded") }, "logs: %s", &logs)
	assert.Equal(t, migrate.Running, n.ctrl.State().Status, "not recorded while the store hangs")

	require.NoError(t, tx.Rollback()) // the store answers again
	eventually(t, 3*time.Second, func() bool { return n.ctrl.State().Status == migrate.RolledBack }, "state %+v", n.ctrl.State())
	assert.Equal(t, 0, n.split.Weight())
}

// TestControllerCanceledCallers: callers that hang up are not failures of
// the new backend: ten of them at weight 100 roll nothing back, and the
// metric counts them apart.
func TestControllerCanceledCallers(t *testing.T) {
	up := newUpstream(t)
	up.delay.Store(int64(time.Second))
	n := startNode(t, sqliteFile(t), up.backend, migrate.ControllerConfig{Weight: 100, Window: 30 * time.Second, MinCalls: 5, MaxErrorRate: 0.2, Poll: 50 * time.Millisecond})
	for i := range 10 {
		ctx, hangUp := context.WithCancel(callerCtx(2*i, 0))
		time.AfterFunc(10*time.Millisecond, hangUp) // mid-call
		_, err := n.split.SayHelloContext(ctx, new("x"))
		require.ErrorIs(t, err, context.Canceled)
	}
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, migrate.Counts{}, n.ctrl.Window())
	assert.Equal(t, migrate.Running, n.ctrl.State().Status, "callers hanging up do not roll back")
	assert.Equal(t, 100, n.split.Weight())
	assert.Equal(t, 10.0, metric(t, n.reg, "hellogw_migration_calls_total", "side=next", "outcome=canceled"))
	assert.Equal(t, 0.0, metric(t, n.reg, "hellogw_migration_calls_total", "side=next", "outcome=error"))
}

// TestControllerResumeAfterRollbackAtZero: resume restores the weight
// before the last rollback, even when it was 0, not an older one's.
func TestControllerResumeAfterRollbackAtZero(t *testing.T) {
	_, next := newCores(t)
	n := startNode(t, sqliteFile(t), next, migrate.ControllerConfig{Weight: 50})
	ctx := t.Context()
	_, err := n.ctrl.Rollback(ctx, "first")
	require.NoError(t, err)
	_, err = n.ctrl.SetWeight(ctx, 0, "stop sending")
	require.NoError(t, err)
	st, err := n.ctrl.Rollback(ctx, "second, at 0")
	require.NoError(t, err)
	assert.Equal(t, 0, st.ResumeWeight)
	st, err = n.ctrl.Resume(ctx, nil, "resume")
	require.NoError(t, err)
	assert.Equal(t, 0, st.Weight, "the weight before the (second) rollback was 0")
}

// TestControllerWindowSlides: failures older than the window no longer
// count. Four failures (below min_calls), then, past the window, four good
// calls and one failure: a rate of 0.2, not above it. Counted together
// they would be 5 of 9 and a rollback.
func TestControllerWindowSlides(t *testing.T) {
	up := newUpstream(t)
	n := startNode(t, sqliteFile(t), up.backend, migrate.ControllerConfig{Weight: 100, Window: 2 * time.Second, MinCalls: 5, MaxErrorRate: 0.2, Poll: 50 * time.Millisecond})
	call := func(fail bool) {
		up.failing.Store(fail)
		_, err := n.split.SayHelloContext(callerCtx(0, 0), new("x"))
		require.Equal(t, fail, err != nil)
	}
	for range 4 {
		call(true)
	}
	assert.Equal(t, migrate.Counts{Calls: 4, Errors: 4}, n.ctrl.Window())
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, migrate.Counts{}, n.ctrl.Window())
	for range 4 {
		call(false)
	}
	call(true)
	time.Sleep(300 * time.Millisecond) // six polls
	assert.Equal(t, 100, n.split.Weight())
	assert.Equal(t, migrate.Running, n.ctrl.State().Status)
}

// traffic calls s in the background, a new caller every 2 ms, until the
// returned func is called.
func traffic(t *testing.T, s gen.Hello_PortType) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			_, _ = s.SayHelloContext(callerCtx(2*(i%5000), 0), new("x"))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

// TestControllerRamp: a ramp advances step by step on evidence (min_calls
// calls of the next backend since the step began, none calling for a
// rollback), never on an empty window; holds while paused; and a failing
// backend rolls it back and stops it.
func TestControllerRamp(t *testing.T) {
	up := newUpstream(t)
	const pause = 700 * time.Millisecond
	cfg := migrate.ControllerConfig{Window: 3 * time.Second, MinCalls: 5, MaxErrorRate: 0.2,
		RampSteps: []int{10, 50, 100}, RampPause: pause, Poll: 100 * time.Millisecond}
	n := startNode(t, sqliteFile(t), up.backend, cfg)
	ctx := t.Context()

	start := time.Now()
	st, err := n.ctrl.Ramp(ctx, "go")
	require.NoError(t, err)
	assert.Equal(t, 10, st.Weight)
	assert.Equal(t, 0, st.RampStep)
	time.Sleep(3 * pause)
	assert.Equal(t, 10, n.split.Weight(), "no calls, no evidence: the ramp holds")
	assert.Equal(t, migrate.Counts{}, n.ctrl.Window())

	stopTraffic := traffic(t, n.split)
	eventually(t, 5*time.Second, func() bool { return n.split.Weight() == 50 }, "weight %d", n.split.Weight())
	assert.GreaterOrEqual(t, time.Since(start), pause)
	stopTraffic()
	events, err := n.ctrl.History(ctx, time.Time{}, 1)
	require.NoError(t, err)
	assert.Regexp(t, `^ramp_step 1 of steps \[10 50 100\] after 700ms; the window of TestControllerRamp since the step began: ([5-9]|\d\d+) calls, 0 errors`, events[0].Reason)

	st, err = n.ctrl.Pause(ctx, "look")
	require.NoError(t, err)
	assert.Equal(t, migrate.Paused, st.Status)
	time.Sleep(2 * pause)
	assert.Equal(t, 50, n.split.Weight(), "a paused ramp holds")

	_, err = n.ctrl.Resume(ctx, nil, "go on")
	require.NoError(t, err)
	traffic(t, n.split)
	eventually(t, 5*time.Second, func() bool { return n.split.Weight() == 100 }, "weight %d", n.split.Weight())
	st = n.ctrl.State()
	assert.Equal(t, 2, st.RampStep)
	assert.True(t, st.NextStepAt.IsZero(), "the last step has no next")

	events, err = n.ctrl.History(ctx, time.Time{}, 10)
	require.NoError(t, err)
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Actor+"/"+ev.Action+fmt.Sprintf("/%d", ev.To))
	}
	assert.Equal(t, []string{"ramp/step/100", "api/resume/50", "api/pause/50", "ramp/step/50", "api/ramp/10", "config/set/0"}, actions)

	t.Run("FailingBackendStopsTheRamp", func(t *testing.T) {
		_, err := n.ctrl.SetWeight(ctx, 0, "start again")
		require.NoError(t, err)
		_, err = n.ctrl.Ramp(ctx, "again")
		require.NoError(t, err)
		up.failing.Store(true)
		defer up.failing.Store(false)
		// Every caller of the next side fails; the ramp must not advance.
		deadline := time.Now().Add(5 * time.Second)
		for i := 0; n.split.Weight() != 0; i++ {
			require.True(t, time.Now().Before(deadline), "no rollback after %d calls", i)
			_, _ = n.split.SayHelloContext(callerCtx(2*i, 0), new("x"))
			time.Sleep(time.Millisecond)
		}
		time.Sleep(2 * pause)
		st := n.ctrl.State()
		assert.Equal(t, migrate.RolledBack, st.Status)
		assert.Equal(t, 0, n.split.Weight())
	})
}

// TestControllerRampStepsStored: a ramp follows the steps it started with,
// which the store keeps: a node configured with other steps, or none,
// advances it to the stored next step (not to its own steps[i], nor
// freezing it), and says so in its log.
func TestControllerRampStepsStored(t *testing.T) {
	open := postgresSchema(t)
	up := newUpstream(t)
	const pause = 500 * time.Millisecond
	cfg := migrate.ControllerConfig{Window: 3 * time.Second, MinCalls: 5, MaxErrorRate: 0.2, RampPause: pause, Poll: 100 * time.Millisecond}
	// Node a starts the ramp and stops, as if its config had changed.
	a := startNode(t, open, up.backend, withNode(migrate.ControllerConfig{RampSteps: []int{10, 50}, RampPause: pause}, "a"))
	a.stop()

	for _, steps := range [][]int{nil, {20, 30, 40}} {
		t.Run(fmt.Sprint(steps), func(t *testing.T) {
			_, err := a.ctrl.SetWeight(t.Context(), 0, "from 0")
			require.NoError(t, err)
			st, err := a.ctrl.Ramp(t.Context(), "go")
			require.NoError(t, err)
			assert.Equal(t, []int{10, 50}, st.RampSteps)
			var logs syncbuf.Buffer
			c := cfg
			c.RampSteps, c.Logger = steps, slog.New(slog.NewTextHandler(&logs, nil))
			b := startNode(t, open, up.backend, withNode(c, "b"))
			assert.Equal(t, 10, b.split.Weight())
			eventually(t, 2*time.Second, func() bool { return strings.Contains(logs.String(), "the running ramp's steps are [10 50]") }, "logs: %s", &logs)
			traffic(t, b.split)
			eventually(t, 5*time.Second, func() bool { return b.split.Weight() == 50 }, "weight %d", b.split.Weight())
			st = b.ctrl.State()
			assert.Equal(t, 1, st.RampStep)
			assert.Equal(t, []int{10, 50}, st.RampSteps)
		})
	}
}

// TestControllerRampStepRace: two nodes whose windows both justify the
// next step advance it once: one event, one step, not two.
func TestControllerRampStepRace(t *testing.T) {
	open := postgresSchema(t)
	up := newUpstream(t)
	const pause = 500 * time.Millisecond
	cfg := migrate.ControllerConfig{Window: 3 * time.Second, MinCalls: 5, MaxErrorRate: 0.2,
		RampSteps: []int{10, 50, 100}, RampPause: pause, Poll: 20 * time.Millisecond}
	a := startNode(t, open, up.backend, withNode(cfg, "a"))
	b := startNode(t, open, up.backend, withNode(cfg, "b"))
	_, err := a.ctrl.Ramp(t.Context(), "go")
	require.NoError(t, err)
	eventually(t, 2*time.Second, func() bool { return b.split.Weight() == 10 }, "b at the first step")
	// Both windows fill before the pause ends: both nodes find the step
	// due at the same poll.
	stopA, stopB := traffic(t, a.split), traffic(t, b.split)
	eventually(t, 5*time.Second, func() bool { return a.split.Weight() == 50 && b.split.Weight() == 50 }, "a %d, b %d", a.split.Weight(), b.split.Weight())
	stopA()
	stopB()
	time.Sleep(100 * time.Millisecond)
	events, err := a.ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	var steps []string
	for _, ev := range events {
		if ev.Action == migrate.ActionStep {
			steps = append(steps, fmt.Sprintf("%s %d->%d", ev.Node, ev.From, ev.To))
		}
	}
	require.Len(t, steps, 1, "one step: %v", steps)
	assert.Regexp(t, `^[ab] 10->50$`, steps[0])
	assert.Equal(t, 1, a.ctrl.State().RampStep)
}

// TestControllerRequests: what each request does in each state, and what
// it refuses.
func TestControllerRequests(t *testing.T) {
	_, next := newCores(t)
	n := startNode(t, sqliteFile(t), next, migrate.ControllerConfig{Weight: 20})
	ctx := t.Context()

	_, err := n.ctrl.SetWeight(ctx, 101, "")
	require.ErrorIs(t, err, migrate.ErrInvalidWeight)
	_, err = n.ctrl.Ramp(ctx, "")
	require.ErrorIs(t, err, migrate.ErrNoRamp)
	_, err = n.ctrl.Resume(ctx, nil, "")
	require.ErrorIs(t, err, migrate.ErrRunning)

	st, err := n.ctrl.Rollback(ctx, "by hand")
	require.NoError(t, err)
	assert.Equal(t, migrate.RolledBack, st.Status)
	assert.Equal(t, 0, n.split.Weight())
	assert.Equal(t, 1.0, metric(t, n.reg, "hellogw_migration_rollbacks_total", "reason=api"))
	_, err = n.ctrl.Pause(ctx, "")
	require.ErrorIs(t, err, migrate.ErrRolledBack)
	again, err := n.ctrl.Rollback(ctx, "twice")
	require.NoError(t, err)
	assert.Equal(t, st.Version, again.Version, "a second rollback changes nothing")

	weight := 7
	_, err = n.ctrl.Resume(ctx, new(-1), "")
	require.ErrorIs(t, err, migrate.ErrInvalidWeight)
	st, err = n.ctrl.Resume(ctx, &weight, "carefully")
	require.NoError(t, err)
	assert.Equal(t, 7, st.Weight)
	assert.Equal(t, 7, n.split.Weight())

	st, err = n.ctrl.Pause(ctx, "hold")
	require.NoError(t, err)
	assert.Equal(t, migrate.Paused, st.Status)
	assert.Equal(t, 7, n.split.Weight(), "pausing keeps the weight")
	st, err = n.ctrl.SetWeight(ctx, 60, "set")
	require.NoError(t, err)
	assert.Equal(t, migrate.Running, st.Status)

	events, err := n.ctrl.History(ctx, time.Time{}, 100)
	require.NoError(t, err)
	assert.Len(t, events, 5) // config, rollback, resume, pause, set, and nothing for the refusals
}

// TestControllerResumeForgetsWindow: two nodes on one PostgreSQL database,
// each with a shadow of its split and the next backend. The shadow's
// mismatches roll the migration back, and it goes on finding them while
// rolled back. Once the backend is fixed and one node resumes, neither
// node counts them any more: the node that resumed at once, the other as
// its poll sees the resume. Else the next check rolls the fixed backend
// back again.
func TestControllerResumeForgetsWindow(t *testing.T) {
	open := postgresSchema(t)
	up := newUpstream(t)
	up.word.Store(new("wrong"))
	cfg := migrate.ControllerConfig{Weight: 50, Window: 10 * time.Second, MinCalls: 5, MaxMismatchRate: 0.2, Poll: 200 * time.Millisecond}
	nodes := []*node{startNode(t, open, up.backend, withNode(cfg, "a")), startNode(t, open, up.backend, withNode(cfg, "b"))}
	shadows := make([]*migrate.Shadow, len(nodes))
	for i, n := range nodes {
		var err error
		shadows[i], err = migrate.NewShadow(n.split, up.backend, migrate.ShadowConfig{Observers: []migrate.ShadowObserver{n.ctrl}})
		require.NoError(t, err)
		t.Cleanup(shadows[i].Wait)
	}
	calls := func(i int) {
		for c := range 12 { // fewer than the shadow's calls in flight: none dropped
			_, err := shadows[i].SayHelloContext(callerCtx(2*c, 0), new("x"))
			require.NoError(t, err)
		}
		shadows[i].Wait()
	}
	calls(1)
	for i, n := range nodes {
		eventually(t, 2*time.Second, func() bool { return n.ctrl.State().Status == migrate.RolledBack }, "node %d: %+v", i, n.ctrl.State())
	}
	// Rolled back, the shadow still compares (the current side's greetings
	// now), and still finds mismatches. Node b's window may also hold
	// comparisons of its first calls that landed after it recorded the
	// rollback (the split went to 0 at the fifth mismatch, the record
	// follows; the shadow compares after the caller has its answer).
	for i, n := range nodes {
		calls(i)
		w := n.ctrl.Window()
		assert.GreaterOrEqual(t, w.Mismatches, int64(12), "node %d: %+v", i, w)
		assert.LessOrEqual(t, w.Comparisons, int64(12*i+12), "node %d: %+v", i, w)
	}

	up.word.Store(new("current")) // fixed: it agrees with the current backend
	st, err := nodes[0].ctrl.Resume(t.Context(), nil, "fixed")
	require.NoError(t, err)
	assert.Equal(t, 50, st.Weight)
	assert.Equal(t, migrate.Counts{}, nodes[0].ctrl.Window(), "the node that resumed forgets at once")
	b := nodes[1]
	eventually(t, 2*time.Second, func() bool { return b.ctrl.State().Status == migrate.Running }, "b: %+v", b.ctrl.State())
	assert.Equal(t, migrate.Counts{}, b.ctrl.Window(), "the other node forgets when it sees the resume")

	time.Sleep(5 * cfg.Poll)
	for i, n := range nodes {
		assert.Equal(t, 50, n.split.Weight(), "node %d", i)
		assert.Equal(t, migrate.Running, n.ctrl.State().Status, "node %d", i)
	}
	events, err := b.ctrl.History(t.Context(), time.Time{}, 10)
	require.NoError(t, err)
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Node+"/"+ev.Action)
	}
	assert.Equal(t, []string{"a/resume", "b/rollback", "a/set"}, actions)
}
