package main_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/xmlflood"
)

// TestHEAD checks that every GET route of the running binary answers HEAD
// as GET without the content (RFC 9110 §9.3.2): same status, same
// Content-Type, no body.
func TestHEAD(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "hellogw.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(oauthTestConfig), 0o600))
	gw := startClientsGateway(t, "-config", cfgPath, "-store", filepath.Join(dir, "hellogw.db"))

	authorize := "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {"http://127.0.0.1:9999/callback"},
		"scope": {"hello"}, "state": {"s"}, "code_challenge": {"E9Melhoe2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}.Encode()
	for _, path := range []string{
		"/SayHello/?wsdl", "/SayHello?wsdl", "/healthz", "/readyz", "/openapi.json",
		"/.well-known/oauth-authorization-server", "/metrics", authorize,
	} {
		t.Run(path, func(t *testing.T) {
			base := gw.URL
			if path == "/metrics" {
				base = gw.AdminURL // on -addr it needs an admin token (admin_test.go)
			}
			get, err := http.Get(base + path)
			require.NoError(t, err)
			getBody, _ := io.ReadAll(get.Body)
			get.Body.Close()
			require.Equal(t, http.StatusOK, get.StatusCode)
			require.NotEmpty(t, getBody)

			head, err := http.Head(base + path)
			require.NoError(t, err)
			headBody, _ := io.ReadAll(head.Body)
			head.Body.Close()
			assert.Equal(t, http.StatusOK, head.StatusCode)
			assert.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
			assert.Empty(t, headBody)
		})
	}
}

// TestXMLFloodMemory sends the running binary 40 adversarial 1 MiB
// envelopes at once, three rounds, each refused as a Client fault, while
// normal calls keep answering; the process's peak resident memory stays
// under 256 MiB. `make bench` prints the figure (scripts/xmlflood).
func TestXMLFloodMemory(t *testing.T) {
	gw := startClientsGateway(t, "-store", filepath.Join(t.TempDir(), "hellogw.db"))
	res, err := xmlflood.Run(t.Context(), gw.URL, 1<<20, 40, 3)
	require.NoError(t, err)
	assert.Equal(t, map[int]int{http.StatusInternalServerError: 120}, res.Statuses, "every adversarial envelope is a fault")
	assert.Positive(t, res.Normal, "normal calls answer during the flood")
	peak, err := xmlflood.PeakRSS(gw.Process.Pid)
	require.NoError(t, err)
	t.Logf("peak RSS %.1f MiB; %d normal calls answered, the slowest in %v", float64(peak)/(1<<20), res.Normal, res.Slowest)
	assert.Less(t, peak, int64(256<<20), "peak RSS")
}
