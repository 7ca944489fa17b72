package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/internal/flatlog"
	"github.com/hellogw/hellogw/internal/reqlog"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-Id"

// reqState is what a request's handlers tell the observe middleware, in
// one pooled struct rather than gin's Keys map, which costs a map and a
// boxed value per note on every request. It reaches the handlers as the
// gin.ResponseWriter they write to (see stateOf): gin.Context has no other
// per-request field to carry it.
type reqState struct {
	gin.ResponseWriter
	id     string
	wire   string
	err    *Error
	client string // the authenticated client id, "" when none
	method string // how the caller authenticated (MethodBearer…), "" when it did not
}

// Unwrap returns the writer beneath, for http.ResponseController, as gin's
// own writer does.
func (s *reqState) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var statePool = sync.Pool{New: func() any { return new(reqState) }}

// stateOf returns the request's state. Outside observe (a handler called
// on its own) there is none, and notes go nowhere.
func stateOf(c *gin.Context) *reqState {
	if s, ok := c.Writer.(*reqState); ok {
		return s
	}
	return &reqState{}
}

// requestIDOf returns the request's id.
func requestIDOf(c *gin.Context) string { return stateOf(c).id }

// noteWire records which wire format the request spoke.
func noteWire(c *gin.Context, wire string) { stateOf(c).wire = wire }

// noteCaller records who the caller proved to be, and how.
func noteCaller(c *gin.Context, client, method string) {
	st := stateOf(c)
	st.client, st.method = client, method
}

// noteError records the error a request ended in, for its log line and
// the outcome label.
func noteError(c *gin.Context, err *Error) { stateOf(c).err = err }

// observe gives each request an id, and when it is done writes its one log
// line and its metrics. Probes (/healthz, /readyz, /metrics) log at debug
// level so that a scraper does not drown the log.
func (g *Gateway) observe(c *gin.Context) {
	start := time.Now()
	st := statePool.Get().(*reqState)
	idValue := requestID(c.Request.Header[HeaderRequestID])
	*st = reqState{ResponseWriter: c.Writer, id: idValue[0]}
	// Assigned: the key is canonical already, which Header.Set would check again.
	c.Writer.Header()[HeaderRequestID] = idValue
	c.Writer = st

	c.Next()

	c.Writer = st.ResponseWriter
	id, wire, err, client, method := st.id, st.wire, st.err, st.client, st.method
	*st = reqState{}
	statePool.Put(st)
	end := time.Now()
	elapsed := end.Sub(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	if wire == "" {
		wire = "http"
	}
	outcome, level, errMsg := "ok", slog.LevelInfo, ""
	if err != nil {
		outcome, errMsg = err.Kind.String(), err.Message
		if !err.Kind.clientFault() {
			level = slog.LevelWarn
		}
	} else if n, ok := reqlog.Get(c); ok {
		// Another package's handler (the OAuth server's) said why.
		outcome, errMsg = n.Outcome, n.Message
		if c.Writer.Status() >= 500 {
			level = slog.LevelWarn
		}
	} else if c.Writer.Status() >= 400 {
		outcome = "http_" + strconv.Itoa(c.Writer.Status())
	}
	switch route {
	case "/healthz", "/readyz", "/metrics":
		if c.Writer.Status() < 400 { // probes and scrapes are noise; their refusals are not
			level = slog.LevelDebug
		}
	}
	if method == "" {
		method = MethodNone
	}
	g.metrics.observe(route, wire, outcome, client, method, elapsed)
	// The record goes to the handler directly: Logger.LogAttrs would read
	// the clock again and call runtime.Callers for a source no handler
	// here writes.
	h := g.log.Handler()
	if !h.Enabled(c, level) {
		return
	}
	var buf [12]slog.Attr // on the stack: a log line costs no slice allocation
	attrs := append(buf[:0],
		slog.String("request_id", id),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path), // never the query: it can hold codes
		slog.Int("status", c.Writer.Status()),
		slog.String("wire", wire),
		slog.String("outcome", outcome),
		slog.Duration("duration", elapsed),
		slog.String("remote", g.remote(c)),
		slog.String("auth", method),
	)
	if client != "" {
		attrs = append(attrs, slog.String("client", client))
	}
	if errMsg != "" {
		attrs = append(attrs, slog.String("error", errMsg))
	}
	// A log line that cannot be written has nowhere to be reported.
	if fh, ok := h.(*flatlog.Handler); ok {
		// By its parts: no Record, whose attributes past the fifth are a
		// slice allocated per line. A concrete call, so that attrs stays
		// on the stack.
		_ = fh.HandleAttrs(c, end, level, "request", attrs...)
		return
	}
	r := slog.NewRecord(end, level, "request", 0)
	r.AddAttrs(attrs...)
	_ = h.Handle(c, r)
}

// Request ids: a caller's own id when it looks like one, else this
// process's random prefix and a counter, unique across nodes and cheap.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return hex.EncodeToString(b) + "-"
}

// requestID takes the values of the request's X-Request-Id header and
// returns the id as the answer's header value: the caller's own slice, or
// a new id made in one allocation, its text and the slice together.
func requestID(given []string) []string {
	if len(given) > 0 && validRequestID(given[0]) {
		return given[:1:1] // capacity 1: an Add to the answer's header copies it
	}
	// 13 bytes of prefix, at most 13 base-36 digits.
	v := new(struct {
		value [1]string
		text  [32]byte
	})
	b := strconv.AppendUint(append(v.text[:0], idPrefix...), idCounter.Add(1), 36)
	v.value[0] = unsafe.String(&v.text[0], len(b)) // v.text is not written again
	return v.value[:]
}

// validRequestID accepts 1 to 128 characters of [A-Za-z0-9._:-]: enough for
// UUIDs and trace ids, too little to smuggle anything into a log line.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// remote is the caller's address for the log line: gin's ClientIP when
// proxies are trusted (it reads X-Forwarded-For from them), else the
// connection's address as Go's listener wrote it, which ClientIP would
// only parse and print again, two allocations for the same text.
func (g *Gateway) remote(c *gin.Context) string {
	if g.trustsProxies {
		return c.ClientIP()
	}
	return c.RemoteIP()
}
