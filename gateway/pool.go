package gateway

import (
	"bytes"
	"sync"

	"github.com/gin-gonic/gin"
)

// bufPool holds the buffers requests read their bodies into and write
// their answers from, 2 KiB to start with: a sayHello envelope and its
// answer fit.
var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 2<<10)) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

// putBuf returns b to the pool, unless a large body grew it: an idle
// pool would otherwise hold up to max_body_bytes per buffer.
func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufPool.Put(b)
	}
}

// Content-Type header values, built once: a header value is a []string,
// and gin's c.Data makes a new one (and boxes a render.Data) per response.
// net/http only reads them, and with cap 1 an Add would copy.
var (
	ctJSON    = []string{"application/json"}
	ctProblem = []string{"application/problem+json"}
)

// writeData answers with status, the Content-Type ct and body.
func writeData(c *gin.Context, status int, ct []string, body []byte) {
	c.Writer.Header()["Content-Type"] = ct
	c.Writer.WriteHeader(status)
	_, _ = c.Writer.Write(body) // a failed write is the client's loss; net/http logs nothing either
}

// paramsCache keeps the parameters of the Content-Types last seen: nearly
// every client sends one of a few, and mime.ParseMediaType allocates a map
// per call. The maps are shared, so read-only. Bounded: the header is the
// caller's to choose.
var paramsCache struct {
	sync.RWMutex
	m map[string]map[string]string
}

const maxCachedContentTypes = 64

// cachedMediaParams is mediaParams, remembered.
func cachedMediaParams(ct string) map[string]string {
	paramsCache.RLock()
	p, ok := paramsCache.m[ct]
	paramsCache.RUnlock()
	if ok {
		return p
	}
	p = mediaParams(ct)
	paramsCache.Lock()
	if paramsCache.m == nil {
		paramsCache.m = make(map[string]map[string]string)
	}
	if len(paramsCache.m) < maxCachedContentTypes {
		paramsCache.m[ct] = p
	}
	paramsCache.Unlock()
	return p
}
