package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hellogw/hellogw/internal/browsertest"
)

// The tests that run the real binary share one build of it: linking it
// once per started process cost seconds each on the 2-core machine.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// hellogwBinary builds bin/hellogw once per test run, into a folder that
// TestMain removes, and returns its path.
func hellogwBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "hellogw-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "hellogw")
		binary.out, binary.err = exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("go build: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}
