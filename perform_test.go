package main_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/browsertest"
	"github.com/hellogw/hellogw/internal/gwtest"
)

// performRun is a running `hellogw perform authorization-code`.
type performRun struct {
	cmd      *exec.Cmd
	authURL  string // the address it asks to open
	redirect string // where it waits for the redirect
	mu       sync.Mutex
	out      bytes.Buffer // all of its standard output
	done     chan error
}

func (p *performRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits for the process to exit and returns its error.
func (p *performRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("hellogw perform did not exit; it printed:\n%s", p.output())
		return nil
	}
}

// startPerform runs the real binary's perform subcommand against endpoint
// and reads, from what it prints, the address to open and the redirect URI.
func startPerform(t *testing.T, endpoint string) *performRun {
	t.Helper()
	p := &performRun{done: make(chan error, 1)}
	p.cmd = exec.Command(hellogwBinary(t), "perform", "authorization-code", "-endpoint", endpoint, "-timeout", "90s")
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })

	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			switch {
			case strings.HasPrefix(line, "  http"):
				p.authURL = strings.TrimSpace(line)
			case strings.HasPrefix(line, "Waiting for the redirect to "):
				p.redirect = strings.TrimSuffix(strings.TrimPrefix(line, "Waiting for the redirect to "), " ...")
				close(found)
			}
			p.mu.Unlock()
		}
		err := p.cmd.Wait()
		if err != nil {
			err = &performError{err, stderr.String()}
		}
		p.done <- err
	}()
	select {
	case <-found:
	case err := <-p.done:
		t.Fatalf("hellogw perform exited early: %v\n%s", err, p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("hellogw perform printed no address to open:\n%s", p.output())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	require.True(t, strings.HasPrefix(p.authURL, endpoint+"/authorize?"), "%q", p.authURL)
	for _, param := range []string{"code_challenge_method=S256", "code_challenge=", "state=", "redirect_uri=", "client_id=demo-app", "scope=hello"} {
		assert.Contains(t, p.authURL, param)
	}
	assert.Regexp(t, `^http://127\.0\.0\.1:[0-9]+/callback$`, p.redirect)
	return p
}

type performError struct {
	err    error
	stderr string
}

func (e *performError) Error() string { return e.err.Error() + ": " + e.stderr }

// login logs alice in on the authorize page the browser shows, and answers
// the consent page with decision.
func login(t *testing.T, ctx context.Context, authURL, decision string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "alice-password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=`+decision+`]`)),
		chromedp.Click(chromedp.CSS(`button[value=`+decision+`]`)),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	require.NoError(t, err)
	return text
}

// TestPerformAuthorizationCode plays the README walkthrough: the gateway on
// the example config, `hellogw perform authorization-code`, a real browser
// logging in, and the curl it prints, which must get a greeting.
func TestPerformAuthorizationCode(t *testing.T) {
	example, err := filepath.Abs("examples/oauth.yaml")
	require.NoError(t, err)
	gw := startClientsGateway(t, "-config", example, "-store", filepath.Join(t.TempDir(), "hellogw.db"))

	resp, err := http.Post(gw.URL+"/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the example config asks for a token")

	t.Run("Allow", func(t *testing.T) {
		p := startPerform(t, gw.URL)

		// What else reaches the loopback port does not end the flow.
		for u, want := range map[string]int{
			p.redirect + "?state=forged&code=stolen":                     http.StatusBadRequest,
			p.redirect + "?state=forged&error=access_denied":             http.StatusBadRequest,
			strings.TrimSuffix(p.redirect, "/callback") + "/favicon.ico": http.StatusNotFound,
		} {
			resp, err := http.Get(u)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode, "%s: %s", u, body)
		}

		ctx := browsertest.New(t, 90*time.Second)
		assert.Contains(t, login(t, ctx, p.authURL, "allow"), "Approved", "the callback page reaches the browser before the listener stops")
		require.NoError(t, p.wait(t), "%s", p.output())

		out := p.output()
		assert.Regexp(t, `(?m)^access_token: +\S+$`, out)
		assert.Regexp(t, `(?m)^token_type: +Bearer$`, out)
		assert.Regexp(t, `(?m)^scope: +hello$`, out)
		assert.Regexp(t, `(?m)^refresh_token: +\S+$`, out)
		var curl string
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "  curl ") {
				curl = strings.TrimSpace(line)
			}
		}
		require.NotEmpty(t, curl, "a curl command:\n%s", out)
		got, err := exec.Command("sh", "-c", curl).CombinedOutput()
		require.NoError(t, err, "%s: %s", curl, got)
		assert.Equal(t, `{"greeting":"Hello, Ada!"}`, strings.TrimSpace(string(got)))
	})

	t.Run("Deny", func(t *testing.T) {
		p := startPerform(t, gw.URL)
		ctx := browsertest.New(t, 90*time.Second)
		assert.Contains(t, login(t, ctx, p.authURL, "deny"), "The server refused: access_denied")
		err := p.wait(t)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "hellogw perform: the server refused: access_denied")
		assert.NotContains(t, p.output(), "curl", "no token, no curl")
	})

	t.Run("NoServer", func(t *testing.T) {
		down := gwtest.ClosedURL(t)
		out, err := exec.Command(hellogwBinary(t), "perform", "authorization-code", "-endpoint", down).CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(out), "hellogw perform: is hellogw running at "+down+"?")
	})
}
