// Package browsertest gives tests a real headless Chromium: one browser per
// test binary, started on first use, and a fresh browser context (its own
// cookies and storage, like a private window) for each test.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds a Chromium binary: $HELLOGW_CHROMIUM, else chromium on PATH.
// The browser tests are part of the contract, so a missing browser fails
// them rather than skipping them.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HELLOGW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is required for the browser tests: install it (Debian: apt-get install chromium; make test does) or set HELLOGW_CHROMIUM to its path")
	return ""
}

var shared struct {
	once    sync.Once
	browser context.Context // the first tab: it owns the browser process
	err     error
	dir     string
}

// start launches the shared browser. It lives as long as the test binary:
// Close stops it, and should the binary die first, the kernel kills it
// (chromedp starts it with Pdeathsig on Linux).
func start(path string) {
	dir, err := os.MkdirTemp("", "hellogw-chromium-")
	if err != nil {
		shared.err = err
		return
	}
	shared.dir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
	}
	alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, _ := chromedp.NewContext(alloc)
	// Do with no actions starts the browser.
	shared.err = chromedp.Do(browser)
	shared.browser = browser
}

// New returns a context for a new tab, in a browser context of its own, of
// the shared browser; the tab closes when the test ends, or after timeout.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := Path(t)
	shared.once.Do(func() { start(path) })
	if shared.err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, shared.err)
	}
	ctx, cancel := chromedp.NewContext(shared.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// Close stops the shared browser and removes its profile; call it from
// TestMain after m.Run, so that no Chromium outlives the tests.
func Close() {
	if shared.browser != nil {
		_ = chromedp.Cancel(shared.browser)
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}
