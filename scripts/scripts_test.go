// Package scripts_test runs the shell scripts make uses, for real: the
// throwaway PostgreSQL of scripts/postgres.sh and the tracked-output check of
// scripts/check-tracked.sh.
package scripts_test

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pgRun starts `postgres.sh run bash -c script` and returns the command, the
// folder and the address of the server it started (script must first print
// $HELLOGW_PG_DIR and $HELLOGW_TEST_POSTGRES_URL on one line).
func pgRun(t *testing.T, script string) (cmd *exec.Cmd, dir, addr string) {
	t.Helper()
	cmd = exec.Command("./postgres.sh", "run", "bash", "-c", `echo "$HELLOGW_PG_DIR $HELLOGW_TEST_POSTGRES_URL"; `+script)
	cmd.Env = append(os.Environ(), "HELLOGW_PG_DIR=", "HELLOGW_PG_PORT=") // a fresh server, whatever the caller's
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "postgres.sh run printed nothing (is postgresql installed? scripts/deps.sh test installs it)")
	dir, rawURL, ok := strings.Cut(strings.TrimSpace(line), " ")
	require.True(t, ok, "%q", line)
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname(), "loopback only")
	require.NotEqual(t, "54329", u.Port(), "a free port, not the old fixed one")
	return cmd, dir, u.Host
}

// assertGone checks that nothing is left of a server: no folder, nobody
// listening on its address.
func assertGone(t *testing.T, dir, addr string) {
	t.Helper()
	_, err := os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the per-run folder is deleted")
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	assert.Error(t, err, "nothing listens on %s any more", addr)
}

func TestPostgresRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// script runs with the server up; end finishes the run from outside.
		script string
		end    func(*exec.Cmd)
		status int
	}{
		{name: "success", script: "exit 0", status: 0},
		{name: "failure", script: "exit 3", status: 3},
		{name: "interrupt", script: "sleep 60", end: func(c *exec.Cmd) { _ = c.Process.Signal(os.Interrupt) }, status: 130},
		{name: "terminate", script: "sleep 60", end: func(c *exec.Cmd) { _ = c.Process.Signal(syscall.SIGTERM) }, status: 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd, dir, addr := pgRun(t, tc.script)
			if tc.end != nil {
				conn, err := net.DialTimeout("tcp", addr, time.Second)
				require.NoError(t, err, "the server listens while the command runs")
				conn.Close()
				tc.end(cmd)
			}
			err := cmd.Wait()
			var exit *exec.ExitError
			if tc.status == 0 {
				require.NoError(t, err)
			} else {
				require.True(t, errors.As(err, &exit), "%v", err)
				assert.Equal(t, tc.status, exit.ExitCode())
			}
			assertGone(t, dir, addr)
		})
	}
}

// TestPostgresOutage stops and starts the server as the outage tests do (via
// HELLOGW_PG_DIR): it comes back on the same address with its data.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cmd, dir, addr := pgRun(t, `./postgres.sh stop
		(exec 3<>"/dev/tcp/127.0.0.1/$(cat "$HELLOGW_PG_DIR/port")") 2>/dev/null && exit 10
		./postgres.sh start | grep -qF "$HELLOGW_TEST_POSTGRES_URL" || exit 11
		test -s "$HELLOGW_PG_DIR/data/PG_VERSION" || exit 12`)
	require.NoError(t, cmd.Wait(), "stopped: nobody listens (10); started: the same URL (11), the same data (12)")
	assertGone(t, dir, addr)
}

func TestPostgresNeedsDir(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("./postgres.sh", "stop")
	cmd.Env = append(os.Environ(), "HELLOGW_PG_DIR=")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "set HELLOGW_PG_DIR to the folder that start printed")
}

func TestCheckTracked(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("./check-tracked.sh", "..").CombinedOutput()
	require.NoError(t, err, "this repository tracks build output:\n%s", out)

	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is needed to build a binary to track")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		out, err := c.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	git("init", "-q")
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(repo, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	// What must pass: source, and large text is only refused over the limit.
	write("main.go", []byte("package main\n\nfunc main() {}\n"))
	write("testdata/small.txt", bytes.Repeat([]byte("text\n"), 1000))
	build := exec.Command("go", "build", "-o", filepath.Join(repo, "hellogw"), ".")
	build.Dir = repo
	build.Env = append(os.Environ(), "GO111MODULE=off", "CGO_ENABLED=0")
	out, err = build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	binary := bytes.Repeat([]byte{0, 1, 2, 3}, 60*1024)
	refused := map[string]string{
		"hellogw":                   "an executable or object file",
		"gateway/gateway.test":      "a compiled file, by its name",
		"coverage.out":              "a coverage or profile file",
		"cpu.prof":                  "a coverage or profile file",
		"web/node_modules/x/a.js":   "node_modules",
		"data/hellogw.db":           "a database",
		"testdata/big.bin":          "240 KB, not text, over the 200 KB limit",
		"testdata/envelope-1mb.xml": "1024 KB of text, over the 200 KB limit: generate it at test time",
	}
	write("gateway/gateway.test", []byte("x"))
	write("coverage.out", []byte("mode: set\n"))
	write("cpu.prof", []byte("x"))
	write("web/node_modules/x/a.js", []byte("x"))
	write("data/hellogw.db", []byte("x"))
	write("testdata/big.bin", binary)
	write("testdata/envelope-1mb.xml", bytes.Repeat([]byte("<a/>"), 256*1024))
	git("add", "-f", ".")

	c := exec.Command("./check-tracked.sh", repo)
	out, err = c.CombinedOutput()
	require.Error(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	assert.Len(t, lines, len(refused), "%s", out)
	for name, why := range refused {
		assert.Contains(t, string(out), "tracked build output: "+name+": "+why+" (git rm --cached it, and ignore it in .gitignore)")
	}
	assert.NotContains(t, string(out), "main.go")
	assert.NotContains(t, string(out), "small.txt")
}
