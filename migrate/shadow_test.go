package migrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/syncbuf"
	"github.com/hellogw/hellogw/migrate"
	"github.com/hellogw/hellogw/wsdl"
)

// fakeService is a gen.Hello_PortType whose answer is a function.
type fakeService struct {
	SayHelloFn func(ctx context.Context, firstName *string) (*string, error)
}

var _ gen.Hello_PortType = (*fakeService)(nil)

func (f *fakeService) SayHello(n *string) (*string, error) {
	return f.SayHelloContext(context.Background(), n)
}

func (f *fakeService) SayHelloContext(ctx context.Context, n *string) (*string, error) {
	return f.SayHelloFn(ctx, n)
}

func coreWith(tb testing.TB, template string) *gateway.Core {
	tb.Helper()
	c, err := gateway.NewCore(template)
	require.NoError(tb, err)
	return c
}

type shadowReport struct {
	Results map[string]uint64
	Dropped uint64
	Samples []migrate.ShadowSample
}

// newShadowGateway serves a Shadow of primary and secondary behind the
// router, with GET /admin/shadow, and returns what it logs and counts.
func newShadowGateway(t *testing.T, primary, secondary gen.Hello_PortType, cfg migrate.ShadowConfig) (*gateway.Gateway, *migrate.Shadow, *syncbuf.Buffer, *prometheus.Registry) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	reg := prometheus.NewRegistry()
	cfg.Logger, cfg.Registerer = slog.New(slog.NewTextHandler(logs, nil)), reg
	s, err := migrate.NewShadow(primary, secondary, cfg)
	require.NoError(t, err)
	g := newGateway(t, func(c *gateway.Config) { c.Service, c.Registry, c.Logger = s, reg, cfg.Logger })
	g.Routes().GET("/admin/shadow", s.ServeAdmin)
	return g, s, logs, reg
}

func adminReport(t *testing.T, g *gateway.Gateway) shadowReport {
	t.Helper()
	w := do(g, "GET", "/admin/shadow", "", nil)
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var r shadowReport
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
	return r
}

// counter returns the value of a counter in reg, selected by its name
// and, for a vector, its one label's value; -1 when there is none.
func counter(reg *prometheus.Registry, name, label string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if l := m.GetLabel(); len(l) == 0 || l[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func shadowCount(reg *prometheus.Registry, result string) float64 {
	return counter(reg, "hellogw_shadow_total", result)
}

func sayJSON(t *testing.T, g *gateway.Gateway, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"firstName": name})
	w := do(g, "POST", "/sayHello", "application/json", bytes.NewReader(body))
	require.Equal(t, 200, w.Code, w.Body.String())
	var r struct{ Greeting string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &r))
	return r.Greeting
}

func TestShadowMatch(t *testing.T) {
	g, s, logs, reg := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), coreWith(t, gateway.DefaultTemplate), migrate.ShadowConfig{})
	for range 3 {
		assert.Equal(t, "Hello, "+trickyName+"!", sayJSON(t, g, trickyName))
	}
	s.Wait()
	assert.Equal(t, 3.0, shadowCount(reg, "match"))
	assert.Equal(t, 0.0, shadowCount(reg, "mismatch"))
	r := adminReport(t, g)
	assert.Equal(t, uint64(3), r.Results["match"])
	assert.Empty(t, r.Samples, "matches are counted, not sampled")
	assert.NotContains(t, logs.String(), "msg=\"shadow")
}

func TestShadowMismatch(t *testing.T) {
	g, s, logs, reg := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), coreWith(t, "Hi {firstName}."), migrate.ShadowConfig{Samples: 2})
	for _, name := range []string{"Ada", "Bob", trickyName} {
		assert.Equal(t, "Hello, "+name+"!", sayJSON(t, g, name), "the client gets the primary's answer")
		s.Wait() // in order, so that the samples' order is known
	}
	assert.Equal(t, 3.0, shadowCount(reg, "mismatch"))
	r := adminReport(t, g)
	assert.Equal(t, uint64(3), r.Results["mismatch"])
	require.Len(t, r.Samples, 2, "a bounded sample: the latest two")
	for _, smp := range r.Samples {
		assert.Equal(t, "mismatch", smp.Result)
		assert.Equal(t, "Hello, {firstName}!", smp.Primary)
		assert.Equal(t, "Hi {firstName}.", smp.Secondary)
		assert.Empty(t, smp.FirstName)
	}
	assert.True(t, r.Samples[0].Time.After(r.Samples[1].Time) || r.Samples[0].Time.Equal(r.Samples[1].Time), "newest first")
	assert.Contains(t, logs.String(), "shadow mismatch")
	for _, name := range []string{"Ada", "Bob", "O'Brien", "名前"} {
		assert.NotContains(t, logs.String(), name, "names are not logged unless configured")
		assert.NotContains(t, do(g, "GET", "/admin/shadow", "", nil).Body.String(), name)
	}

	t.Run("LogNames", func(t *testing.T) {
		g, s, logs, _ := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), coreWith(t, "Hi {firstName}."), migrate.ShadowConfig{LogNames: true})
		sayJSON(t, g, "Ada")
		s.Wait()
		smp := adminReport(t, g).Samples[0]
		assert.Equal(t, "Ada", smp.FirstName)
		assert.Equal(t, "Hi Ada.", smp.Secondary)
		assert.Contains(t, logs.String(), "first_name=Ada")
	})
}

func TestShadowError(t *testing.T) {
	dead, err := migrate.NewJSONBackend(sayHelloOp(t), migrate.UpstreamConfig{URL: gwtest.ClosedURL(t)})
	require.NoError(t, err)
	g, s, logs, reg := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), dead, migrate.ShadowConfig{})
	w := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Ada")))
	require.Equal(t, 200, w.Code, "a dead shadow is never seen by the client: %s", w.Body)
	assert.Equal(t, "Hello, Ada!", greetingOf(t, w))
	s.Wait()
	assert.Equal(t, 1.0, shadowCount(reg, "error"))
	r := adminReport(t, g)
	require.Len(t, r.Samples, 1)
	assert.Equal(t, "error", r.Samples[0].Result)
	assert.Contains(t, r.Samples[0].Error, "cannot be reached")
	assert.Contains(t, logs.String(), "shadow error")
}

// TestShadowSlow checks that a slow secondary delays no answer, and that
// past MaxInFlight requests are dropped rather than queued.
func TestShadowSlow(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	slow := &fakeService{SayHelloFn: func(ctx context.Context, n *string) (*string, error) {
		started.Done()
		<-release
		return n, nil
	}}
	g, s, _, reg := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), slow, migrate.ShadowConfig{MaxInFlight: 2})
	start := time.Now()
	for range 5 {
		assert.Equal(t, "Hello, Ada!", sayJSON(t, g, "Ada"))
	}
	assert.Less(t, time.Since(start), time.Second, "the client never waits for the shadow")
	started.Wait()
	assert.Equal(t, 3.0, counter(reg, "hellogw_shadow_dropped_total", ""))
	assert.Equal(t, uint64(3), adminReport(t, g).Dropped)
	close(release)
	s.Wait()
	assert.Equal(t, 2.0, shadowCount(reg, "mismatch"), "the fake answers the name itself")
}

// TestShadowPrimaryFails checks that a failing primary is what the client
// gets, and that the secondary is not asked.
func TestShadowPrimaryFails(t *testing.T) {
	called := false
	secondary := &fakeService{SayHelloFn: func(context.Context, *string) (*string, error) { called = true; return nil, nil }}
	g, s, _, _ := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), secondary, migrate.ShadowConfig{})
	w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":""}`))
	assert.Equal(t, 400, w.Code)
	s.Wait()
	assert.False(t, called)
}

// TestShadowRequestID checks that the secondary gets the request's
// context values (the request id) but not its end.
func TestShadowRequestID(t *testing.T) {
	got := make(chan context.Context, 1)
	secondary := &fakeService{SayHelloFn: func(ctx context.Context, n *string) (*string, error) { got <- ctx; return n, nil }}
	g, s, _, _ := newShadowGateway(t, coreWith(t, gateway.DefaultTemplate), secondary, migrate.ShadowConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, "POST", "/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "req-7")
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	require.Equal(t, 200, w.Code)
	cancel() // as net/http does when the handler returns
	sctx := <-got
	assert.Equal(t, "req-7", gateway.RequestIDFrom(sctx))
	assert.NoError(t, sctx.Err(), "the shadow call outlives the request")
	s.Wait()
}

// TestShadowOtherSide: the shadow of a split whose shadow is one of its
// backends asks, for each call, the backend that did not answer, never the
// one that did, as the real upstreams' request counts show. The client
// gets the answering side's greeting without waiting for the other side.
func TestShadowOtherSide(t *testing.T) {
	current, next := newUpstream(t), newUpstream(t)
	current.word.Store(new("current"))
	split := migrate.NewSplit(current.backend, next.backend)
	reg := prometheus.NewRegistry()
	// The shadow's own clients of the two services (as main makes them).
	binding, err := wsdl.Parse(wsdl.Document())
	require.NoError(t, err)
	op, err := binding.SoleOperation()
	require.NoError(t, err)
	var sides migrate.OtherSide
	sides.Current, err = migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: current.url, Timeout: time.Second})
	require.NoError(t, err)
	sides.Next, err = migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: next.url, Timeout: time.Second})
	require.NoError(t, err)
	s, err := migrate.NewShadow(split, nil, migrate.ShadowConfig{OtherSide: &sides, Registerer: reg})
	require.NoError(t, err)
	for _, tc := range []struct {
		weight   int
		greeting string
		slow     *upstream // the side that does not answer, made slow
	}{{100, "next x", current}, {0, "current x", next}} {
		split.SetWeight(tc.weight)
		tc.slow.delay.Store(int64(600 * time.Millisecond)) // within the backend's timeout of 1s
		askedCurrent, askedNext := current.asked.Load(), next.asked.Load()
		start := time.Now()
		greeting, err := s.SayHelloContext(callerCtx(0, 0), new("x"))
		took := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, tc.greeting, *greeting)
		assert.Less(t, took, 300*time.Millisecond, "weight %d: the client waits for one side only", tc.weight)
		s.Wait()
		tc.slow.delay.Store(0)
		assert.Equal(t, int64(1), current.asked.Load()-askedCurrent, "weight %d: the current backend, asked once", tc.weight)
		assert.Equal(t, int64(1), next.asked.Load()-askedNext, "weight %d: the next backend, asked once", tc.weight)
	}
	// Each greeting compared with the other side's, not with itself.
	assert.Equal(t, 2.0, shadowCount(reg, "mismatch"))
	assert.Equal(t, 0.0, shadowCount(reg, "match"))

	_, err = migrate.NewShadow(split, next.backend, migrate.ShadowConfig{OtherSide: &sides})
	require.Error(t, err, "a secondary besides the other side")
	_, err = migrate.NewShadow(next.backend, nil, migrate.ShadowConfig{OtherSide: &sides})
	require.Error(t, err, "no split")
}
