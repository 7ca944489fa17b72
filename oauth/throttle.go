package oauth

import (
	"sync"
	"time"
)

// Throttling of failed authentication. RFC 6749 §2.3.1: "the authorization
// server MUST protect any endpoint utilizing it against brute force attacks";
// RFC 6819 §5.1.4.2.3 suggests limiting attempts. Failed logins use the same
// mechanism with their own keys.
//
// Failures are counted per client id and per remote address in fixed windows:
// after throttleLimit failures a key is refused with 429 and Retry-After until
// its window ends. The window is short, so an attacker who spends a client's
// budget only keeps the real client out for at most throttleWindow, while
// guessing stays capped at throttleLimit tries per window and key.
const (
	throttleLimit  = 10
	throttleWindow = 30 * time.Second
)

type throttle struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	start    time.Time
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, entries: make(map[string]*throttleEntry)}
}

// retryAfter returns how long the first blocked key among keys stays blocked,
// or 0 if none is.
func (t *throttle) retryAfter(keys ...string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		e := t.entries[k]
		if e == nil || e.failures < throttleLimit {
			continue
		}
		if left := e.start.Add(throttleWindow).Sub(now); left > wait {
			wait = left
		}
	}
	return wait
}

// fail counts one failure against each key.
func (t *throttle) fail(keys ...string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) > 4096 {
		for k, e := range t.entries {
			if now.Sub(e.start) >= throttleWindow {
				delete(t.entries, k)
			}
		}
	}
	for _, k := range keys {
		e := t.entries[k]
		if e == nil || now.Sub(e.start) >= throttleWindow {
			e = &throttleEntry{start: now}
			t.entries[k] = e
		}
		e.failures++
	}
}
