package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

func TestLogWriterFlushesOnItsOwn(t *testing.T) {
	var out syncbuf.Buffer
	lw := newLogWriter(&out, 10*time.Millisecond)
	defer lw.Close()
	_, err := lw.Write([]byte("line\n"))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return out.String() == "line\n" }, 5*time.Second, 5*time.Millisecond)
}

// recordingWriter keeps every write(2) the log writer makes, and blocks
// each one until gate lets it through, when gate is set.
type recordingWriter struct {
	mu     sync.Mutex
	writes [][]byte
	gate   chan struct{}
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recordingWriter) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(bytes.Join(r.writes, nil))
}

// TestLogWriterKeepsEveryLine: lines from many goroutines, past flushSize
// several times over, all come out once Close returns, whole, each
// goroutine's in its order, in batches of whole lines rather than one
// write each.
func TestLogWriterKeepsEveryLine(t *testing.T) {
	var out recordingWriter
	lw := newLogWriter(&out, time.Hour) // only size and Close flush
	const writers, lines = 8, 4000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lw, "g=%d i=%d %s\n", g, i, strings.Repeat("x", 40))
			}
		})
	}
	wg.Wait()
	require.NoError(t, lw.Close())

	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.all(), "\n"), "\n")
	require.Len(t, got, writers*lines)
	for _, l := range got {
		var g, i int
		_, err := fmt.Sscanf(l, "g=%d i=%d", &g, &i)
		require.NoError(t, err, "a line cut or mixed: %q", l)
		require.Equal(t, next[g], i, "goroutine %d's lines out of order", g)
		next[g]++
	}
	assert.Less(t, len(out.writes), writers*lines/100, "one write per batch")
	for _, w := range out.writes {
		require.True(t, bytes.HasSuffix(w, []byte("\n")), "a write(2) ends inside a line: another process's output could land in it")
	}
}

// TestLogWriterDoesNotWaitForTheOutput: while the output blocks, Writes
// still return at once, up to maxBuffered bytes waiting; the lines come
// out when it unblocks.
func TestLogWriterDoesNotWaitForTheOutput(t *testing.T) {
	out := recordingWriter{gate: make(chan struct{})}
	lw := newLogWriter(&out, time.Millisecond)
	line := []byte(strings.Repeat("y", 99) + "\n")
	n := 0
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for ; n*len(line) < maxBuffered/2; n++ {
			_, _ = lw.Write(line)
		}
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Write waited for a blocked output")
	}
	close(out.gate)
	require.NoError(t, lw.Close())
	assert.Equal(t, strings.Repeat(string(line), n), out.all())
}

// TestLogWriterAfterClose: a line written after Close goes out at once,
// after everything before it.
func TestLogWriterAfterClose(t *testing.T) {
	var out recordingWriter
	lw := newLogWriter(&out, time.Hour)
	_, _ = lw.Write([]byte("before\n"))
	require.NoError(t, lw.Close())
	_, _ = lw.Write([]byte("after\n"))
	assert.Equal(t, "before\nafter\n", out.all())
	require.NoError(t, lw.Close(), "a second Close does nothing")
}
