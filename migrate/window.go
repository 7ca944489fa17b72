package migrate

import (
	"sync"
	"time"
)

// Counts are what a node saw of the next backend over its sliding window.
type Counts struct {
	Calls       int64 `json:"calls"`       // calls the next backend answered or failed
	Errors      int64 `json:"errors"`      // of those, the ones it failed (Failed)
	Comparisons int64 `json:"comparisons"` // shadow comparisons of its greetings
	Mismatches  int64 `json:"mismatches"`  // of those, the ones that differed
}

func (c *Counts) add(o Counts) {
	c.Calls += o.Calls
	c.Errors += o.Errors
	c.Comparisons += o.Comparisons
	c.Mismatches += o.Mismatches
}

// window is a sliding window of Counts: a ring of one-second buckets, each
// reset when the ring comes round to it again.
type window struct {
	mu      sync.Mutex
	buckets []windowBucket
}

type windowBucket struct {
	sec int64 // the Unix second the counts are of
	Counts
}

func newWindow(d time.Duration) *window {
	return &window{buckets: make([]windowBucket, max(int((d+time.Second-1)/time.Second), 1))}
}

// add adds o to the bucket of now.
func (w *window) add(now time.Time, o Counts) {
	sec := now.Unix()
	w.mu.Lock()
	b := &w.buckets[sec%int64(len(w.buckets))]
	if b.sec != sec {
		*b = windowBucket{sec: sec}
	}
	b.add(o)
	w.mu.Unlock()
}

// sum returns the counts of the window that ends at now.
func (w *window) sum(now time.Time) Counts { return w.sumSince(now, time.Time{}) }

// sumSince returns the counts of the window that ends at now, of the
// seconds after the one of since only: a bucket holds a whole second, and
// the second since falls in may hold calls from before it.
func (w *window) sumSince(now, since time.Time) Counts {
	oldest := max(now.Unix()-int64(len(w.buckets)), since.Unix())
	var c Counts
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.buckets {
		if b := &w.buckets[i]; b.sec > oldest {
			c.add(b.Counts)
		}
	}
	return c
}

// reset forgets everything counted.
func (w *window) reset() {
	w.mu.Lock()
	clear(w.buckets)
	w.mu.Unlock()
}
