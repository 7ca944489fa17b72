package oauth

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the OAuth counters exported on /metrics.
type metrics struct {
	grants      *prometheus.CounterVec
	authFailure *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		grants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_oauth_grants_total",
			Help: "Token endpoint requests by grant type and outcome (success or the RFC 6749 §5.2 error code).",
		}, []string{"grant_type", "outcome"}),
		authFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_oauth_client_auth_failures_total",
			Help: "Failed client authentications by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.grants, m.authFailure} {
		if err := reg.Register(c); err != nil {
			return m, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
