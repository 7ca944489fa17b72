package gateway

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// clients are the client ids that may be labels: the configured
	// ones. Any other value would let callers grow the series unbounded.
	clients map[string]bool

	// series caches each label tuple's counter and histogram, so that a
	// request costs a map lookup rather than WithLabelValues' hashing,
	// label checks and vector lookup, twice. The labels are bounded (routes,
	// wire formats, outcomes, configured clients, methods), and so is the
	// cache: past maxSeries tuples, WithLabelValues is called as before.
	mu     sync.RWMutex
	series map[seriesKey]*series

	// last holds, in a slot per route, the series its last request used:
	// the next request on a route nearly always has the same labels, and
	// comparing five strings (the same constants, equal at their first
	// pointer) costs less than hashing them for the map, under its lock.
	last [8]atomic.Pointer[series]
}

// maxSeries bounds the series cache.
const maxSeries = 1024

type seriesKey struct{ route, wire, outcome, client, method string }

type series struct {
	key      seriesKey
	requests prometheus.Counter
	latency  prometheus.Observer
}

// otherClient is the client label of a caller that is no configured
// client; "" is that of a caller that did not authenticate.
const otherClient = "other"

func newMetrics(reg prometheus.Registerer, clients map[string]bool) (*metrics, error) {
	m := &metrics{
		clients: clients,
		series:  make(map[seriesKey]*series),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_requests_total",
			Help: "HTTP requests by route, wire format (soap11, soap12, json, wsdl, http), outcome (ok or the error kind), " +
				"client (a configured client id, or empty) and authentication method (bearer, basic, wsse, mtls, none).",
		}, []string{"route", "wire", "outcome", "client", "method"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hellogw_request_duration_seconds",
			Help: "Time from the request's arrival to its last byte handed to the connection, by route and wire format.",
			// 50µs to ~13s: a local sayHello takes tens of microseconds,
			// a bridged one up to the upstream timeout.
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14),
		}, []string{"route", "wire"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route, wire, outcome, client, method string, d time.Duration) {
	if client != "" && !m.clients[client] {
		client = otherClient
	}
	s := m.seriesFor(seriesKey{route, wire, outcome, client, method})
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}

func (m *metrics) seriesFor(k seriesKey) *series {
	last := &m.last[uintptr(unsafe.Pointer(unsafe.StringData(k.route)))>>4%uintptr(len(m.last))]
	if s := last.Load(); s != nil && s.key == k {
		return s
	}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		s = &series{
			key:      k,
			requests: m.requests.WithLabelValues(k.route, k.wire, k.outcome, k.client, k.method),
			latency:  m.latency.WithLabelValues(k.route, k.wire),
		}
		m.mu.Lock()
		if len(m.series) < maxSeries {
			m.series[k] = s
		}
		m.mu.Unlock()
	}
	last.Store(s)
	return s
}
