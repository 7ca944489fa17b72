package gateway_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/wsdl"
)

const publicURL = gwtest.PublicURL

// newGateway and do: see gwtest.
var (
	newGateway = gwtest.NewGateway
	do         = gwtest.Do
)

type problem struct {
	Type, Title, Detail string
	Status              int
	RequestID           string `json:"request_id"`
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem {
	t.Helper()
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	assert.Equal(t, w.Code, p.Status)
	assert.Equal(t, http.StatusText(w.Code), p.Title)
	assert.Equal(t, w.Header().Get("X-Request-Id"), p.RequestID)
	return p
}

func gzipped(s string) *bytes.Buffer {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return &b
}

func TestJSON(t *testing.T) {
	g := newGateway(t)
	for _, tc := range []struct {
		desc, path, contentType, body, want string
	}{
		{"OK", "/sayHello", "application/json", `{"firstName":"Ada"}`, `{"greeting":"Hello, Ada!"}`},
		{"OKBaseURL", "/SayHello/sayHello", "application/json; charset=utf-8", `{"firstName":"Ada"}`, `{"greeting":"Hello, Ada!"}`},
		{"OKPortAddress", "/SayHello/", "application/json", `{"firstName":"Ada"}`, `{"greeting":"Hello, Ada!"}`},
		{"OKVendorJSON", "/sayHello", "application/vnd.hello+json", `{"firstName":"Ada"}`, `{"greeting":"Hello, Ada!"}`},
		{"OKTricky", "/sayHello", "application/json", `{"firstName":"O'Brien <&> \"名前\" 😀"}`, `{"greeting":"Hello, O'Brien <&> \"名前\" 😀!"}`},
		{"OKEscapes", "/sayHello", "application/json", `{"firstName":"\u00e9\n\ud83d\ude00"}`, `{"greeting":"Hello, é\n😀!"}`},
		{"OKUnknownFieldsIgnored", "/sayHello", "application/json", `{"firstName":"Ada","lastName":"Lovelace"}`, `{"greeting":"Hello, Ada!"}`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			w := do(g, "POST", tc.path, tc.contentType, strings.NewReader(tc.body))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.JSONEq(t, tc.want, w.Body.String())
		})
	}
}

func TestJSONErrors(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) { c.MaxBody = 64 })
	for _, tc := range []struct {
		desc, contentType, body string
		headers                 []string
		status                  int
		detail                  string
	}{
		{"ErrContentType", "text/plain", `{"firstName":"Ada"}`, nil, 415, "this Content-Type is not supported; send application/json"},
		{"ErrNoContentType", "", `{"firstName":"Ada"}`, nil, 415, "send application/json"},
		{"ErrNotJSON", "application/json", `firstName=Ada`, nil, 400, "the body is not valid JSON"},
		{"ErrTrailingData", "application/json", `{"firstName":"Ada"} {}`, nil, 400, "the body is not valid JSON"},
		{"ErrTruncated", "application/json", `{"firstName":"Ada"`, nil, 400, "the body is not valid JSON"},
		{"ErrArray", "application/json", `["Ada"]`, nil, 400, "the body must be a JSON object"},
		{"ErrNumber", "application/json", `{"firstName":42}`, nil, 400, "firstName must be a string"},
		{"ErrObject", "application/json", `{"firstName":{"a":1}}`, nil, 400, "firstName must be a string"},
		{"ErrMissing", "application/json", `{}`, nil, 400, "firstName is required"},
		{"ErrNull", "application/json", `{"firstName":null}`, nil, 400, "firstName is required"},
		{"ErrEmpty", "application/json", `{"firstName":""}`, nil, 400, "firstName must not be empty"},
		{"ErrInvalidUTF8", "application/json", "{\"firstName\":\"A\xffa\"}", nil, 400, "the body is not valid UTF-8"},
		{"ErrLoneSurrogate", "application/json", `{"firstName":"\ud800"}`, nil, 400, "the body is not valid JSON"},
		{"ErrDuplicateName", "application/json", `{"firstName":"Ada","firstName":"Eve"}`, nil, 400, "the body names a member twice"},
		{"ErrControlChar", "application/json", `{"firstName":"A\u0001"}`, nil, 400, "U+0001"},
		{"ErrTooLarge", "application/json", `{"firstName":"` + strings.Repeat("a", 100) + `"}`, nil, 413, "larger than the limit of 64 bytes"},
		{"ErrEncoding", "application/json", `{"firstName":"Ada"}`, []string{"Content-Encoding", "br"}, 415, "this Content-Encoding is not supported"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			w := do(g, "POST", "/sayHello", tc.contentType, strings.NewReader(tc.body), tc.headers...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			p := decodeProblem(t, w)
			assert.Contains(t, p.Detail, tc.detail)
			assert.NotRegexp(t, `json:|jsontext:|unmarshal|Go `, p.Detail, "the detail speaks a library's language")
			assert.Equal(t, "about:blank", p.Type)
		})
	}
}

func TestBodyLimit(t *testing.T) {
	g := newGateway(t, func(c *gateway.Config) { c.MaxBody = 1024 })
	big := `{"firstName":"` + strings.Repeat("a", 2000) + `"}`

	t.Run("ErrContentLengthRefusedUnread", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/sayHello", &failingReader{})
		req.ContentLength = 4096
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		assert.Equal(t, 413, w.Code)
	})
	t.Run("ErrChunked", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/sayHello", io.MultiReader(strings.NewReader(big)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		assert.Equal(t, 413, w.Code)
	})
	t.Run("OKGzip", func(t *testing.T) {
		w := do(g, "POST", "/sayHello", "application/json", gzipped(`{"firstName":"Ada"}`), "Content-Encoding", "gzip")
		require.Equal(t, 200, w.Code, w.Body.String())
		assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, w.Body.String())
	})
	t.Run("ErrGzipBomb", func(t *testing.T) {
		body := gzipped(big) // small on the wire, over the limit unpacked
		require.Less(t, body.Len(), 1024)
		w := do(g, "POST", "/sayHello", "application/json", body, "Content-Encoding", "gzip")
		assert.Equal(t, 413, w.Code)
	})
	t.Run("ErrGzipCorrupt", func(t *testing.T) {
		w := do(g, "POST", "/sayHello", "application/json", strings.NewReader("not gzip"), "Content-Encoding", "gzip")
		assert.Equal(t, 400, w.Code)
		assert.Contains(t, decodeProblem(t, w).Detail, "gzip")
	})
	t.Run("ErrSOAPTooLarge", func(t *testing.T) {
		w := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11(strings.Repeat("a", 2000))))
		assert.Equal(t, 500, w.Code)
		f := decodeFault(t, w)
		assert.Equal(t, "Client", f.code)
		assert.Contains(t, f.reason, "larger than the limit of 1024 bytes")
	})
}

// failingReader fails the test's request if the gateway reads it.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("body was read") }

func TestWSDL(t *testing.T) {
	g := newGateway(t)
	for _, path := range []string{"/SayHello/?wsdl", "/SayHello?wsdl", "/SayHello/?WSDL"} {
		t.Run(path, func(t *testing.T) {
			w := do(g, "GET", path, "", nil)
			require.Equal(t, 200, w.Code)
			assert.Equal(t, "text/xml; charset=utf-8", w.Header().Get("Content-Type"))
			b, err := wsdl.Parse(w.Body.Bytes())
			require.NoError(t, err)
			assert.Equal(t, publicURL+"/SayHello/", b.Location)
		})
	}
	t.Run("ErrNoQuery", func(t *testing.T) {
		w := do(g, "GET", "/SayHello/", "", nil)
		assert.Equal(t, 400, w.Code)
		assert.Contains(t, decodeProblem(t, w).Detail, "?wsdl")
	})
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	g := newGateway(t)
	w := do(g, "GET", "/openapi.json", "", nil)
	require.Equal(t, 200, w.Code)
	var doc struct {
		OpenAPI string
		Servers []struct{ URL string }
		Paths   map[string]map[string]any
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3."), doc.OpenAPI)
	require.Len(t, doc.Servers, 1)
	assert.Equal(t, publicURL, doc.Servers[0].URL)

	// Every documented operation answers as documented…
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			w := do(g, strings.ToUpper(method), path, "application/json", strings.NewReader(`{"firstName":"Ada"}`))
			assert.Equal(t, 200, w.Code, "%s %s", method, path)
			assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, w.Body.String())
		}
	}
	// …and every JSON route is documented.
	for _, r := range g.JSONRoutes() {
		assert.True(t, documented[r], "route %s is not in openapi.json", r)
	}
	assert.Len(t, documented, len(g.JSONRoutes()))
}

func TestHealth(t *testing.T) {
	var dbDown bool
	g := newGateway(t, func(c *gateway.Config) {
		c.Ready = func(context.Context) error {
			if dbDown {
				return errors.New("db down")
			}
			return nil
		}
	})
	assert.Equal(t, 200, do(g, "GET", "/healthz", "", nil).Code)
	assert.Equal(t, 200, do(g, "GET", "/readyz", "", nil).Code)

	dbDown = true
	w := do(g, "GET", "/readyz", "", nil)
	assert.Equal(t, 503, w.Code)
	assert.NotContains(t, w.Body.String(), "db down", "readiness details stay in the log")
	assert.Equal(t, 200, do(g, "GET", "/healthz", "", nil).Code, "liveness does not depend on dependencies")

	dbDown = false
	g.SetReady(false)
	assert.Equal(t, 503, do(g, "GET", "/readyz", "", nil).Code, "draining")
}

func TestNotFoundAndMethod(t *testing.T) {
	g := newGateway(t)
	w := do(g, "GET", "/nope", "", nil)
	assert.Equal(t, 404, w.Code)
	decodeProblem(t, w)

	w = do(g, "DELETE", "/sayHello", "", nil)
	assert.Equal(t, 405, w.Code)
	decodeProblem(t, w)
}

func TestRequestID(t *testing.T) {
	g := newGateway(t)
	w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "X-Request-Id", "trace-42.a:b_c")
	assert.Equal(t, "trace-42.a:b_c", w.Header().Get("X-Request-Id"))

	w = do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{}`), "X-Request-Id", "bad id\n{}")
	id := w.Header().Get("X-Request-Id")
	assert.NotEqual(t, "bad id\n{}", id)
	assert.NotEmpty(t, id)
	assert.Equal(t, id, decodeProblem(t, w).RequestID)

	other := do(g, "GET", "/healthz", "", nil).Header().Get("X-Request-Id")
	assert.NotEqual(t, id, other, "ids are unique")
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := newGateway(t, func(c *gateway.Config) { c.Registry = reg })
	for range 3 {
		do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	}
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{}`))
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Ada")))
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("")))

	w := do(g, "GET", "/metrics", "", nil)
	require.Equal(t, 200, w.Code)
	text := w.Body.String()
	for _, want := range []string{
		`hellogw_requests_total{client="",method="none",outcome="ok",route="/sayHello",wire="json"} 3`,
		`hellogw_requests_total{client="",method="none",outcome="invalid",route="/sayHello",wire="json"} 1`,
		`hellogw_requests_total{client="",method="none",outcome="ok",route="/SayHello/",wire="soap11"} 1`,
		`hellogw_requests_total{client="",method="none",outcome="invalid",route="/SayHello/",wire="soap11"} 1`,
		`hellogw_request_duration_seconds_count{route="/sayHello",wire="json"} 4`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}
	n, err := testutil.GatherAndCount(reg, "hellogw_requests_total")
	require.NoError(t, err)
	assert.Equal(t, 5, n, "one series per route, wire and outcome: four above, and the scrape")
}

func TestLogsOneLinePerRequestWithoutTheName(t *testing.T) {
	var buf bytes.Buffer
	g := newGateway(t, func(c *gateway.Config) { c.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Zebedee"}`), "X-Request-Id", "r1")
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Zebedee")), "X-Request-Id", "r2")
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11(strings.Repeat("Zebedee", 200))), "X-Request-Id", "r3")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	assert.NotContains(t, buf.String(), "Zebedee", "the caller's name is not logged")
	for i, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		assert.Equal(t, "request", rec["msg"])
		assert.Equal(t, []string{"r1", "r2", "r3"}[i], rec["request_id"])
	}
	var last map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &last))
	assert.Equal(t, "invalid", last["outcome"])
	assert.Equal(t, "soap11", last["wire"])
	assert.Contains(t, last["error"], "1400 characters long")
}

func TestNewRequiresServiceAndBinding(t *testing.T) {
	_, err := gateway.New(gateway.Config{})
	assert.ErrorContains(t, err, "Service and Binding are required")
}
