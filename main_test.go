package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

func TestPublicURLFor(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:80":     "http://localhost:80",
		"[::]:8080":      "http://localhost:8080",
		"[::1]:9":        "http://[::1]:9",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		assert.Equal(t, want, publicURLFor("http", a), addr)
	}
}

func TestParseFlags(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		m := NewMain(&bytes.Buffer{})
		require.NoError(t, m.ParseFlags(nil))
		assert.Equal(t, "127.0.0.1:8080", m.Addr)
		assert.Equal(t, "", m.PublicURL)
	})
	t.Run("Env", func(t *testing.T) {
		t.Setenv("HELLOGW_ADDR", "127.0.0.1:9999")
		t.Setenv("HELLOGW_PUBLIC_URL", "https://gw.example.net")
		t.Setenv("HELLOGW_LOG_FORMAT", "json")
		m := NewMain(&bytes.Buffer{})
		require.NoError(t, m.ParseFlags(nil))
		assert.Equal(t, "127.0.0.1:9999", m.Addr)
		assert.Equal(t, "https://gw.example.net", m.PublicURL)
		assert.Equal(t, "json", m.LogFormat)
	})
	t.Run("FlagBeatsEnv", func(t *testing.T) {
		t.Setenv("HELLOGW_ADDR", "127.0.0.1:9999")
		m := NewMain(&bytes.Buffer{})
		require.NoError(t, m.ParseFlags([]string{"-addr", "127.0.0.1:1"}))
		assert.Equal(t, "127.0.0.1:1", m.Addr)
	})
	t.Run("ErrLogFormat", func(t *testing.T) {
		assert.ErrorContains(t, NewMain(&bytes.Buffer{}).ParseFlags([]string{"-log-format", "xml"}), "text or json")
	})
	t.Run("ErrTLSHalf", func(t *testing.T) {
		assert.ErrorContains(t, NewMain(&bytes.Buffer{}).ParseFlags([]string{"-tls-cert", "c.pem"}), "-tls-cert and -tls-key go together")
		t.Setenv("HELLOGW_TLS_CLIENT_CA", "ca.pem")
		assert.ErrorContains(t, NewMain(&bytes.Buffer{}).ParseFlags(nil), "-tls-client-ca needs -tls-cert and -tls-key")
	})
	t.Run("ErrArgument", func(t *testing.T) {
		assert.ErrorContains(t, NewMain(&bytes.Buffer{}).ParseFlags([]string{"extra"}), `unexpected argument "extra"`)
	})
}

func TestMainExitCodes(t *testing.T) {
	var out syncbuf.Buffer
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("greting: typo\n"), 0o600))

	assert.Equal(t, 2, NewMain(&out).Main(t.Context(), []string{"-nope"}))
	help := NewMain(&out)
	help.Stdout = &out
	assert.Equal(t, 0, help.Main(t.Context(), []string{"-h"}))
	db := filepath.Join(t.TempDir(), "hellogw.db")
	assert.Equal(t, 1, NewMain(&out).Main(t.Context(), []string{"-addr", "127.0.0.1:0", "-store", db, "-config", bad}))
	assert.Contains(t, out.String(), "hellogw: config "+bad+":1: greting: unknown key; did you mean greeting?\n", "a misspelt key is reported")
	noSecret := filepath.Join("testdata", "config", "missing-secret.yaml")
	assert.Equal(t, 1, NewMain(&out).Main(t.Context(), []string{"-addr", "127.0.0.1:0", "-store", db, "-config", noSecret}))
	assert.Contains(t, out.String(), "hellogw: config "+noSecret+":2: clients[0].secret: missing: give secret or secret_hash\n", "what oauth finds is put in the file's terms")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() { done <- NewMain(&out).Main(ctx, []string{"-addr", "127.0.0.1:0", "-store", db}) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "msg=listening") }, 10*time.Second, 10*time.Millisecond)
	cancel()
	assert.Equal(t, 0, <-done, "a signal drains and exits 0")
	assert.Contains(t, out.String(), "msg=stopped", "Close flushed the last lines")
}

func TestHashSecret(t *testing.T) {
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errOut syncbuf.Buffer
		m := NewMain(&errOut)
		m.Stdin, m.Stdout = strings.NewReader(stdin), &out
		code := m.Main(t.Context(), append([]string{"hash-secret"}, args...))
		return code, out.String(), errOut.String()
	}

	code, out, _ := run("demo-secret\n")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^\$2a\$10\$[./A-Za-z0-9]{53}\n$`, out, "the hash alone, to paste or pipe as it is")
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(out)), []byte("demo-secret")))

	code, out, _ = run("", "-generate")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	secret := strings.TrimPrefix(lines[0], "secret: ")
	assert.GreaterOrEqual(t, len(secret), 32)
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, secret, "URL-safe, so Basic auth encoded or raw agree")
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(strings.TrimPrefix(lines[1], "hash: ")), []byte(secret)))

	code, _, errOut := run("")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no secret on standard input")

	for _, help := range []string{"-h", "-help", "--help"} {
		code, out, errOut = run("", help)
		assert.Equal(t, 0, code, "%s asks for the usage: not a mistake", help)
		assert.Contains(t, out, "usage: hellogw hash-secret", "on standard output")
		assert.Contains(t, out, "-generate")
		assert.Empty(t, errOut)
	}
	code, out, errOut = run("", "-nope")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.True(t, strings.HasSuffix(errOut, "hellogw hash-secret: flag provided but not defined: -nope\n"), "the usage, then the mistake:\n%s", errOut)
}

// A shadow is recognised as one of the split's backends by what its URL
// names, not by its text.
func TestSameUpstream(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"http://127.0.0.1:9002", "http://127.0.0.1:9002/", true},
		{"http://localhost:9002", "http://127.0.0.1:9002", true},
		{"http://[::1]:9002/api", "http://LOCALHOST:9002/api/", true},
		{"HTTP://New.Example", "http://new.example:80", true},
		{"https://new.example/", "https://new.example:443", true},
		{"http://new.example/hello", "http://new.example/hello/", true},
		{"http://127.0.0.1:9002", "http://127.0.0.1:9003", false},
		{"http://new.example", "https://new.example", false},
		{"http://new.example/a", "http://new.example/b", false},
		{"http://new.example/?v=1", "http://new.example/?v=2", false},
		{"http://10.0.0.1:9002", "http://127.0.0.1:9002", false},
		{"http://new.example:8080", "http://old.example:8080", false},
		{"http://127.0.0.2:9000", "http://127.0.0.1:9000", false},
		{"http://a:x@new.example/", "http://b:y@new.example/", false},
		{"http://a:x@new.example/", "http://a:x@NEW.example:80", true},
		{"http://a@new.example/", "http://new.example/", false},
	} {
		assert.Equal(t, tc.same, sameUpstream("json", tc.a, "json", tc.b), "%s and %s", tc.a, tc.b)
	}
	assert.False(t, sameUpstream("json", "http://new.example", "soap", "http://new.example"), "another kind")
	assert.True(t, sameUpstream("local", "", "local", "http://ignored"), "local is local")
}
