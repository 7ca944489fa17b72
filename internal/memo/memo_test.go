package memo_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hellogw/hellogw/internal/memo"
)

func TestMap(t *testing.T) {
	m := memo.New[int, string](3)
	_, ok := m.Get(1)
	assert.False(t, ok)
	for i := range 3 {
		m.Put(i, string(rune('a'+i)))
	}
	m.Put(1, "B") // a known key replaces its value; nothing is forgotten
	assert.Equal(t, 3, m.Len())
	v, ok := m.Get(1)
	assert.True(t, ok)
	assert.Equal(t, "B", v)

	m.Put(9, "z") // full: everything else is forgotten
	assert.Equal(t, 1, m.Len())
	_, ok = m.Get(0)
	assert.False(t, ok)
	v, _ = m.Get(9)
	assert.Equal(t, "z", v)
}

// Run with -race: Gets and Puts from many goroutines at once.
func TestMapConcurrent(t *testing.T) {
	m := memo.New[int, int](100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				m.Put(g*1000+i, i)
				m.Get(i)
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, m.Len(), 100)
}
