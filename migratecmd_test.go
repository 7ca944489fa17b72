package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

// runMigrate runs `hellogw migrate ARGS…` in-process: the exit code,
// standard output and standard error.
func runMigrate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncbuf.Buffer
	m := NewMain(&errOut)
	m.Stdout = &out
	code := m.Main(t.Context(), append([]string{"migrate"}, args...))
	return code, out.String(), errOut.String()
}

// TestMigrateUsage: -h on standard output; each mistake a line that says
// what is wrong, before any request is sent (the admin URL is a closed
// port: a request would fail otherwise).
func TestMigrateUsage(t *testing.T) {
	code, out, errOut := runMigrate(t, "-h")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut, "asked for: on standard output")
	assert.Contains(t, out, "usage: hellogw migrate COMMAND [flags]")
	assert.Contains(t, out, "-admin-url string")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "hellogw migrate: name a command: status, set, pause, resume, rollback or ramp\n"},
		{[]string{"promote"}, "hellogw migrate: unknown command \"promote\": the commands are status, set, pause, resume, rollback and ramp\n"},
		{[]string{"set"}, "hellogw migrate: set takes one weight, from 0 to 100\n"},
		{[]string{"set", "3O"}, "hellogw migrate: set 3O: the weight is a whole number from 0 to 100 (a percentage of callers)\n"},
		{[]string{"resume", "10", "20"}, "hellogw migrate: resume takes one weight, from 0 to 100\n"},
		{[]string{"pause", "10"}, "hellogw migrate: unexpected argument \"10\": pause takes none\n"},
	} {
		code, _, errOut := runMigrate(t, append(tc.args, "-admin-url", "http://127.0.0.1:1")...)
		assert.Equal(t, 1, code, tc.args)
		assert.True(t, strings.HasSuffix(errOut, tc.want), "%v: %q", tc.args, errOut)
	}
	code, _, errOut = runMigrate(t, "status", "-admin-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "hellogw migrate: is hellogw running with -admin-addr at http://127.0.0.1:1?")
}

// TestMigrateProblemEscaped: the problem detail of a refusal, printed on
// standard error, has its control characters escaped too, whatever server
// -admin-url names (played here by one that is not hellogw).
func TestMigrateProblemEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"status":409,"detail":"no\u001b[2J\u202e"}`)
	}))
	t.Cleanup(srv.Close)
	code, _, errOut := runMigrate(t, "rollback", "-admin-url", srv.URL)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `HTTP 409: no\u001b[2J\u202e`)
	assert.NotContains(t, errOut, "\x1b")
}
