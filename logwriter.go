package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them out at least every interval,
// so that a busy gateway makes one write(2) per batch of request lines
// rather than one per request, the largest fixed cost of a local sayHello
// after parsing. Lines can be lost only if the process is killed outright
// (SIGKILL) within an interval; Close flushes. zap's BufferedWriteSyncer
// does the same, but zap is a whole logging stack to take on for 40 lines
// beside log/slog.
type logWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	lw := &logWriter{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go lw.flushEvery(interval)
	return lw
}

// Write implements io.Writer. slog handlers write one whole line per call.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

func (lw *logWriter) flushEvery(interval time.Duration) {
	defer close(lw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			lw.flush()
		case <-lw.stop:
			lw.flush()
			return
		}
	}
}

func (lw *logWriter) flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	_ = lw.w.Flush() // stderr is all there is to report a failure to
}

// Close stops the flusher and writes out what is buffered.
func (lw *logWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
