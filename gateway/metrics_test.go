package gateway

import (
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSeriesCacheBounded: the series cache stops growing at maxSeries,
// and every request is still counted under its own labels past it.
func TestSeriesCacheBounded(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry(), map[string]bool{"app": true})
	if err != nil {
		t.Fatal(err)
	}
	n := maxSeries + 10
	for range 2 {
		for i := range n {
			m.observe("/r", "json", "o"+strconv.Itoa(i), "app", MethodBearer, 0)
		}
	}
	if len(m.series) != maxSeries {
		t.Errorf("%d series cached, want %d", len(m.series), maxSeries)
	}
	for _, i := range []int{0, maxSeries - 1, maxSeries, n - 1} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("/r", "json", "o"+strconv.Itoa(i), "app", MethodBearer)); got != 2 {
			t.Errorf("outcome o%d counted %v times, want 2", i, got)
		}
	}
	if got := testutil.CollectAndCount(m.latency); got != 1 {
		t.Errorf("%d latency series, want 1", got)
	}
}
