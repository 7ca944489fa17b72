package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

// inProcess is a gateway run by Main in this process, logging JSON.
type inProcess struct {
	URL  string
	out  *syncbuf.Buffer
	stop func() // drains and stops it (the test's cleanup calls it too)
}

// startInProcess runs Main with args plus JSON logs and a fresh store on a
// free port unless args say otherwise, until the test ends; it returns once
// the gateway logs "listening".
func startInProcess(t *testing.T, args ...string) *inProcess {
	t.Helper()
	g := &inProcess{out: &syncbuf.Buffer{}}
	args = append([]string{"-addr", "127.0.0.1:0", "-log-format", "json", "-store", filepath.Join(t.TempDir(), "hellogw.db")}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- NewMain(g.out).Main(ctx, args) }()
	var once sync.Once
	g.stop = func() {
		once.Do(func() {
			cancel()
			assert.Equal(t, 0, <-done)
		})
	}
	t.Cleanup(g.stop)
	require.Eventually(t, func() bool {
		for _, l := range g.lines() {
			if l["msg"] == "listening" {
				g.URL = "http://" + l["addr"].(string)
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no listening line:\n%s", g.out)
	return g
}

// lines are the JSON log lines so far.
func (g *inProcess) lines() []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(g.out.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// requestLine waits for the log line of the request to path.
func (g *inProcess) requestLine(t *testing.T, path string) map[string]any {
	t.Helper()
	var got map[string]any
	require.Eventually(t, func() bool {
		for _, l := range g.lines() {
			if l["msg"] == "request" && l["path"] == path {
				got = l
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "no request line for %s:\n%s", path, g.out)
	return got
}

// TestJSONLogs: durations are seconds, and a token endpoint error logs its
// OAuth error code and description, not just the HTTP status.
func TestJSONLogs(t *testing.T) {
	g := startInProcess(t, "-config", filepath.Join("examples", "oauth.yaml"))

	resp, err := http.Get(g.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Post(g.URL+"/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(t, err)
	resp.Body.Close()
	line := g.requestLine(t, "/sayHello")
	d, ok := line["duration"].(float64)
	require.True(t, ok, "duration is a number: %v", line)
	assert.Greater(t, d, 0.0)
	assert.Less(t, d, 5.0, "seconds, not nanoseconds: %v", d)

	resp, err = http.PostForm(g.URL+"/odfksdlfksld345345fdgdfg3453", url.Values{
		"grant_type": {"password"}, "client_id": {"demo-app"}, "client_secret": {"demo-secret"},
	})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	line = g.requestLine(t, "/odfksdlfksld345345fdgdfg3453")
	assert.Equal(t, "unsupported_grant_type", line["outcome"], "%v", line)
	assert.NotEmpty(t, line["error"], "the error_description: %v", line)

	// Every duration, not only the request's: the drain timeout is logged
	// as 10 (seconds), not 10000000000.
	g.stop()
	var timeout any
	for _, l := range g.lines() {
		if l["msg"] == "shutting down" {
			timeout = l["timeout"]
		}
	}
	assert.Equal(t, 10.0, timeout)
}
