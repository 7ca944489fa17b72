package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_requests_total",
			Help: "HTTP requests by route, wire format (soap11, soap12, json, wsdl, http) and outcome (ok or the error kind).",
		}, []string{"route", "wire", "outcome"}),
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

func (m *metrics) observe(route, wire, outcome string, d time.Duration) {
	m.requests.WithLabelValues(route, wire, outcome).Inc()
	m.latency.WithLabelValues(route, wire).Observe(d.Seconds())
}
