package migrate

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{histBase, 0},
		{histBase + 1, 1},
		{2 * histBase, histPerStep},       // an upper bound is in its bucket
		{2*histBase + 1, histPerStep + 1}, // just past it, the next
		{time.Duration(upperBound(40)), 40},
		{time.Duration(upperBound(40)) + 1, 41},
		{time.Hour, histBuckets - 1}, // past the last bound
	} {
		assert.Equal(t, tc.want, bucketOf(tc.d), "bucketOf(%v)", tc.d)
	}
}

// TestQuantileAccuracy compares the percentiles read from a histogram with
// the exact ones of the durations it counted, spread over four decades.
func TestQuantileAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	ds := make([]time.Duration, 10000)
	for i := range ds {
		ds[i] = time.Duration(float64(100*time.Microsecond) * math.Pow(10, 4*rng.Float64())) // 100µs to 1s
		h.observe(ds[i])
	}
	slices.Sort(ds)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		exact, read := ds[int(q*float64(len(ds)))-1], h.quantile(q)
		assert.InEpsilon(t, float64(exact), float64(read), 0.19, "q%v: exact %v, read %v", q, exact, read)
	}
}

// TestHistogramText: the stored text round-trips, merging adds, and a
// layout this version did not write is refused.
func TestHistogramText(t *testing.T) {
	var a, b histogram
	a.observe(time.Millisecond)
	a.observe(3 * time.Second)
	b.observe(time.Millisecond)
	assert.Len(t, strings.Split(a.text(), ","), bucketOf(3*time.Second)+1, "no trailing zeros")
	var merged histogram
	require.NoError(t, merged.addText(a.text()))
	require.NoError(t, merged.addText(b.text()))
	require.NoError(t, merged.addText(""))
	want := histogram{}
	want.counts[bucketOf(time.Millisecond)] = 2
	want.counts[bucketOf(3*time.Second)] = 1
	assert.Equal(t, want.counts, merged.counts)
	for _, bad := range []string{"1,x", "-1", "1,,2", "0" + strings.Repeat(",0", histBuckets)} {
		assert.ErrorIs(t, merged.addText(bad), errBuckets, "%q", bad)
	}
	var empty histogram
	assert.Equal(t, "", empty.text())
	assert.Zero(t, empty.quantile(0.5))
}
