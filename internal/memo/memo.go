// Package memo is a map of remembered answers that stays bounded: once it
// holds its maximum it forgets them all and starts again. Forgetting
// everything is crude, but the keys it is used for are ones verified
// clients bring, few and long-lived, so it refills at once, and a lookup
// needs no bookkeeping of which entry was used last.
package memo

import "sync"

// Map remembers at most max values by key; it is safe for concurrent use.
type Map[K comparable, V any] struct {
	max int
	mu  sync.RWMutex
	m   map[K]V
}

// New returns an empty Map that holds at most max values.
func New[K comparable, V any](max int) *Map[K, V] {
	return &Map[K, V]{max: max, m: make(map[K]V)}
}

// Get returns the value remembered for k, if any.
func (c *Map[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

// Put remembers v for k, forgetting every other value first when the map
// is full.
func (c *Map[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.m = make(map[K]V)
	}
	c.m[k] = v
}

// Len is the number of values remembered.
func (c *Map[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
