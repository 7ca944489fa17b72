package main

import (
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them out from a goroutine of its
// own, when flushSize bytes are waiting or every interval, so that a busy
// gateway makes one write(2) per batch of request lines rather than one per
// request, and no request waits for one: a request only appends its line
// to memory, while the batch before it is being written from another
// buffer. Each Write's bytes go out whole, in order, in one write(2).
// Lines are lost only if the process is killed outright (SIGKILL) before
// they are written; Close writes out the rest, and later Writes are
// written at once. If the output cannot keep up (a stalled pipe), Writes
// wait once maxBuffered bytes are waiting rather than drop lines. zap's
// BufferedWriteSyncer does the same, but zap is a whole logging stack to
// take on for this beside log/slog.
type logWriter struct {
	w io.Writer

	mu     sync.Mutex
	buf    []byte     // waiting to be written
	spare  []byte     // the other buffer, written out or idle
	room   *sync.Cond // on mu: buf was taken, there is room again
	closed bool

	wmu   sync.Mutex    // held while a batch is taken and written: batches go out in order
	kick  chan struct{} // buf reached flushSize
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

const (
	flushSize   = 64 << 10 // bytes that start a write before the interval is over
	maxBuffered = 1 << 20  // bytes past which Write waits for the output
)

func newLogWriter(w io.Writer, interval time.Duration) *logWriter {
	lw := &logWriter{
		w:    w,
		buf:  make([]byte, 0, flushSize+4<<10),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	lw.room = sync.NewCond(&lw.mu)
	go lw.flushEvery(interval)
	return lw
}

// Write implements io.Writer. slog handlers write one whole line per call.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	for !lw.closed && len(lw.buf) >= maxBuffered {
		lw.room.Wait()
	}
	if lw.closed {
		lw.mu.Unlock()
		lw.wmu.Lock() // after Close's last batch
		defer lw.wmu.Unlock()
		return lw.w.Write(p)
	}
	lw.buf = append(lw.buf, p...)
	if len(lw.buf) >= flushSize {
		select {
		case lw.kick <- struct{}{}:
		default: // a write is asked for already
		}
	}
	lw.mu.Unlock()
	return len(p), nil
}

func (lw *logWriter) flushEvery(interval time.Duration) {
	defer close(lw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-lw.kick:
		case <-lw.stop:
			lw.flush()
			return
		}
		lw.flush()
	}
}

// flush writes out what is waiting, from the caller's goroutine, while
// Writes go on into the other buffer.
func (lw *logWriter) flush() {
	lw.wmu.Lock()
	defer lw.wmu.Unlock()
	lw.mu.Lock()
	b := lw.buf
	lw.buf, lw.spare = lw.spare[:0], nil
	lw.room.Broadcast()
	lw.mu.Unlock()
	if len(b) > 0 {
		_, _ = lw.w.Write(b) // stderr is all there is to report a failure to
	}
	lw.mu.Lock()
	if cap(b) <= 2*maxBuffered { // keep no buffer a stall grew huge
		lw.spare = b[:0]
	}
	lw.mu.Unlock()
}

// Close stops the flusher and writes out what is buffered; later Writes
// are written at once, after it.
func (lw *logWriter) Close() error {
	lw.close.Do(func() {
		close(lw.stop)
		<-lw.done
		lw.wmu.Lock()
		defer lw.wmu.Unlock()
		lw.mu.Lock()
		b := lw.buf // written since the flusher's last batch
		lw.buf, lw.closed = nil, true
		lw.room.Broadcast()
		lw.mu.Unlock()
		if len(b) > 0 {
			_, _ = lw.w.Write(b)
		}
	})
	return nil
}
