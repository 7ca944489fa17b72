package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/flatlog"
)

// benchmarkPost measures one request through the whole router: middleware,
// codec, core, response. The baseline is a bare handler writing a constant
// body, so the two numbers compare in the same run.
func benchmarkPost(b *testing.B, h http.Handler, path, contentType, body string, headers ...string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkBaseline(b *testing.B) {
	body := []byte(`{"greeting":"Hello, Ada!"}`)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	benchmarkPost(b, bare, "/sayHello", "application/json", `{"firstName":"Ada"}`)
}

// withLogs logs as in production with -log-format json, one line per
// request through internal/flatlog, to nowhere.
func withLogs(c *gateway.Config) { c.Logger = slog.New(flatlog.NewJSONSecondsHandler(io.Discard, nil)) }

func BenchmarkJSON(b *testing.B) {
	benchmarkPost(b, newGateway(b, withLogs), "/sayHello", "application/json", `{"firstName":"Ada"}`)
}

func BenchmarkSOAP11(b *testing.B) {
	benchmarkPost(b, newGateway(b, withLogs), "/SayHello/", "text/xml; charset=utf-8", envelope11("Ada"), "SOAPAction", `"sayHello"`)
}

func BenchmarkSOAP12(b *testing.B) {
	benchmarkPost(b, newGateway(b, withLogs), "/SayHello/", `application/soap+xml; charset=utf-8; action="sayHello"`, envelope12("Ada"))
}
