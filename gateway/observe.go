package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/internal/reqlog"
)

// Keys of what a request's handlers tell the observe middleware.
const (
	keyRequestID = "hellogw.request_id"
	keyWire      = "hellogw.wire"
	keyError     = "hellogw.error"
)

// headerRequestID carries the request id in and out.
const headerRequestID = "X-Request-Id"

// noteWire records which wire format the request spoke.
func noteWire(c *gin.Context, wire string) { c.Set(keyWire, wire) }

// noteError records the error a request ended in, for its log line and
// the outcome label.
func noteError(c *gin.Context, err *Error) { c.Set(keyError, err) }

// observe gives each request an id, and when it is done writes its one log
// line and its metrics. Probes (/healthz, /readyz, /metrics) log at debug
// level so that a scraper does not drown the log.
func (g *Gateway) observe(c *gin.Context) {
	start := time.Now()
	id := requestID(c.GetHeader(headerRequestID))
	c.Set(keyRequestID, id)
	c.Header(headerRequestID, id)

	c.Next()

	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	wire := c.GetString(keyWire)
	if wire == "" {
		wire = "http"
	}
	outcome, level, errMsg := "ok", slog.LevelInfo, ""
	if err, ok := c.Get(keyError); ok {
		e := err.(*Error)
		outcome, errMsg = e.Kind.String(), e.Message
		if !e.Kind.clientFault() {
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
		level = slog.LevelDebug
	}
	client, method := c.GetString(keyClient), c.GetString(keyMethod)
	if method == "" {
		method = MethodNone
	}
	g.metrics.observe(route, wire, outcome, client, method, elapsed)
	if !g.log.Enabled(c, level) {
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
		slog.String("remote", c.ClientIP()),
		slog.String("auth", method),
	)
	if client != "" {
		attrs = append(attrs, slog.String("client", client))
	}
	if errMsg != "" {
		attrs = append(attrs, slog.String("error", errMsg))
	}
	g.log.LogAttrs(c, level, "request", attrs...)
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

func requestID(given string) string {
	if validRequestID(given) {
		return given
	}
	return idPrefix + strconv.FormatUint(idCounter.Add(1), 36)
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
