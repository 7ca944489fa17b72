package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// throttleIncrement returns an UpdateThrottle function that adds one to the
// count of every record, and reports the counts it saw to seen.
func throttleIncrement(seen func(counts []int64)) func([]oauth.ThrottleRecord) []oauth.ThrottleRecord {
	return func(recs []oauth.ThrottleRecord) []oauth.ThrottleRecord {
		counts := make([]int64, len(recs))
		for i := range recs {
			counts[i] = recs[i].Count
			recs[i].Count++
			recs[i].ExpiresAt = base.Add(time.Hour)
		}
		seen(counts)
		return recs
	}
}

func testThrottle(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		want := oauth.ThrottleRecord{Count: 3, WindowStart: base, NextSlot: base.Add(time.Second), KnownUntil: base.Add(time.Hour), ExpiresAt: base.Add(2 * time.Hour)}
		require.NoError(t, s.UpdateThrottle(ctx, []string{"b", "a"}, func(recs []oauth.ThrottleRecord) []oauth.ThrottleRecord {
			assert.Equal(t, []oauth.ThrottleRecord{{}, {}}, recs, "missing records read as zero")
			recs[0] = want
			return recs
		}))
		require.NoError(t, s.UpdateThrottle(ctx, []string{"a", "b"}, func(recs []oauth.ThrottleRecord) []oauth.ThrottleRecord {
			assert.Equal(t, oauth.ThrottleRecord{}, recs[0], "record a was left as it was")
			got := recs[1]
			assert.Equal(t, want.Count, got.Count)
			for _, pair := range [][2]time.Time{{want.WindowStart, got.WindowStart}, {want.NextSlot, got.NextSlot}, {want.KnownUntil, got.KnownUntil}, {want.ExpiresAt, got.ExpiresAt}} {
				assert.True(t, pair[0].Equal(pair[1]), "%v, want %v (to the nanosecond)", pair[1], pair[0])
			}
			return recs
		}))
	})
	// Concurrent updates of overlapping keys, in different orders, take
	// turns: no update is lost, none deadlocks.
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		const n = 24
		errs := Concurrently(n, func(i int) error {
			keys := []string{"x", "y"}
			if i%2 == 1 {
				keys = []string{"y", "x"}
			}
			return s.UpdateThrottle(ctx, keys, throttleIncrement(func([]int64) {}))
		})
		for i, err := range errs {
			require.NoError(t, err, "#%d", i)
		}
		require.NoError(t, s.UpdateThrottle(ctx, []string{"x", "y"}, throttleIncrement(func(counts []int64) {
			assert.Equal(t, []int64{n, n}, counts)
		})))
	})
	t.Run("Sweep", func(t *testing.T) {
		s := newStore(t)
		set := func(key string, expires time.Time) {
			require.NoError(t, s.UpdateThrottle(ctx, []string{key}, func(recs []oauth.ThrottleRecord) []oauth.ThrottleRecord {
				recs[0] = oauth.ThrottleRecord{Count: 1, WindowStart: base, ExpiresAt: expires}
				return recs
			}))
		}
		set("dead", base.Add(-time.Second))
		set("live", base.Add(time.Second))
		n, err := s.Sweep(ctx, base)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		require.NoError(t, s.UpdateThrottle(ctx, []string{"dead", "live"}, func(recs []oauth.ThrottleRecord) []oauth.ThrottleRecord {
			assert.Zero(t, recs[0].Count, "swept")
			assert.Equal(t, int64(1), recs[1].Count, "kept")
			return recs
		}))
	})
}
