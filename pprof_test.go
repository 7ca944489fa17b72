package main_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPprof: -pprof serves Go's profiles on the admin listener, and only
// there; without -admin-addr it is refused.
func TestPprof(t *testing.T) {
	gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"), "-pprof")
	for url, want := range map[string]int{
		gw.AdminURL + "/debug/pprof/cmdline":   http.StatusOK,
		gw.AdminURL + "/debug/pprof/heap":      http.StatusOK,
		gw.AdminURL + "/metrics":               http.StatusOK,
		gw.URL + "/debug/pprof/cmdline":        http.StatusNotFound,
		gw.AdminURL + "/debug/pprofx/anything": http.StatusNotFound,
	} {
		resp, err := http.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, url)
	}
	out, err := exec.Command(hellogwBinary(t), "-pprof").CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "-pprof needs -admin-addr")
}
