package migrate

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The latency histogram has fixed logarithmic buckets, four per doubling,
// so that histograms of any node and minute merge by adding counts and a
// percentile read from the merge is within a bucket's width (19 %) of the
// true one. Bucket i holds durations in (histBase·2^((i-1)/4), histBase·2^(i/4)];
// bucket 0 everything up to histBase, the last everything above.
//
// Hand-written rather than HdrHistogram or Prometheus' native histograms:
// the store keeps the counts as text (migration_latency.buckets) that both
// SQL dialects hold and any node can merge, and the whole of it is a log
// and a sum.
const (
	histBase    = 16 * time.Microsecond
	histPerStep = 4  // buckets per doubling
	histBuckets = 89 // 16µs·2^(88/4) ≈ 67 s: past any backend timeout
)

// histogram counts durations in the fixed buckets.
type histogram struct {
	counts [histBuckets]int64
	count  int64
	sumUS  int64 // microseconds, for the mean
}

// bucketOf returns the index of the bucket that holds d.
func bucketOf(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(histPerStep * math.Log2(float64(d)/float64(histBase))))
	return min(i, histBuckets-1)
}

// upperBound is the largest duration bucket i holds (the last has none:
// its lower bound is returned).
func upperBound(i int) float64 {
	return float64(histBase) * math.Exp2(float64(min(i, histBuckets-2))/histPerStep)
}

func (h *histogram) observe(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.count++
	h.sumUS += d.Microseconds()
}

// add merges o into h.
func (h *histogram) add(o *histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.count += o.count
	h.sumUS += o.sumUS
}

// quantile returns the duration below which a fraction q of the
// observations fall, interpolating geometrically inside the bucket that
// holds it (linearly in bucket 0, which starts at 0); 0 when h is empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	var seen float64
	for i, n := range h.counts {
		if n == 0 || seen+float64(n) < rank {
			seen += float64(n)
			continue
		}
		f := (rank - seen) / float64(n)
		hi := upperBound(i)
		switch i {
		case 0:
			return time.Duration(f * hi)
		case histBuckets - 1:
			return time.Duration(hi) // unbounded: say at least this
		}
		lo := upperBound(i - 1)
		return time.Duration(lo * math.Pow(hi/lo, f))
	}
	return time.Duration(upperBound(histBuckets - 1))
}

// text is the counts as stored: decimal, comma separated, without the
// trailing zeros.
func (h *histogram) text() string {
	last := len(h.counts) - 1
	for last >= 0 && h.counts[last] == 0 {
		last--
	}
	var b strings.Builder
	for i := 0; i <= last; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(h.counts[i], 10))
	}
	return b.String()
}

// addText merges counts stored by text into h (count and sum are kept
// in columns of their own). Unreadable or extra fields are an error:
// another version's layout must not be merged as if it were this one.
func (h *histogram) addText(s string) error {
	if s == "" {
		return nil
	}
	fields := strings.Split(s, ",")
	if len(fields) > histBuckets {
		return errBuckets
	}
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return errBuckets
		}
		h.counts[i] += n
	}
	return nil
}
