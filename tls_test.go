package main_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/testpki"
)

// TestTLS drives the binary over HTTPS with certificates made for the test:
// HTTP/2 is negotiated, the public URL in the WSDL and the OAuth metadata
// is https, a client certificate is asked for with the client CA's name
// but not verified in the handshake (a self-signed one gets through), and
// SIGHUP swaps the server certificate while an open keep-alive connection
// keeps working; a failed reload keeps the last good certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "hellogw test server CA")
	clientCA := testpki.NewCA(t, "hellogw test client CA")
	first := ca.Issue(t, testpki.Options{Server: true})
	certFile, keyFile, _ := first.WriteFiles(t, dir, "server")
	caFile := filepath.Join(dir, "client-ca.pem")
	require.NoError(t, os.WriteFile(caFile, clientCA.CertPEM(), 0o600))

	// acceptable records the CA names of each CertificateRequest; the
	// client answers with a self-signed certificate whatever they are.
	var acceptable [][]byte
	selfSigned := testpki.NewCA(t, "self-signed client").TLS()
	newClient := func() *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			ForceAttemptHTTP2: true,
			TLSClientConfig: &tls.Config{
				RootCAs: ca.Pool(),
				GetClientCertificate: func(req *tls.CertificateRequestInfo) (*tls.Certificate, error) {
					acceptable = req.AcceptableCAs
					return &selfSigned, nil
				},
			},
		}}
	}
	client := newClient()
	gw := startGateway(t, client, "-tls-cert", certFile, "-tls-key", keyFile, "-tls-client-ca", caFile,
		"-store", filepath.Join(dir, "hellogw.db"))
	require.True(t, strings.HasPrefix(gw.URL, "https://127.0.0.1:"), gw.URL)

	var servedBy *x509.Certificate
	var reused bool
	get := func(t *testing.T, c *http.Client, path string) string {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, gw.URL+path, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, "HTTP/2.0", resp.Proto, "HTTP/2 is negotiated")
		servedBy = resp.TLS.PeerCertificates[0]
		return string(body)
	}

	t.Run("PublicURL", func(t *testing.T) {
		meta := get(t, client, "/.well-known/oauth-authorization-server")
		assert.Contains(t, meta, `"issuer":"`+gw.URL+`"`)
		assert.Contains(t, meta, `"token_endpoint":"`+gw.URL+`/odfksdlfksld345345fdgdfg3453"`)
		assert.Contains(t, get(t, client, "/SayHello/?wsdl"), `location="`+gw.URL+`/SayHello/"`)
	})
	t.Run("ClientCertificateAsked", func(t *testing.T) {
		// The handshake above sent a self-signed certificate and was not
		// refused; the request named the client CA.
		require.Len(t, acceptable, 1)
		assert.True(t, bytes.Equal(clientCA.Cert.RawSubject, acceptable[0]), "the CertificateRequest names the client CA")
	})
	t.Run("ReloadOnSIGHUP", func(t *testing.T) {
		get(t, client, "/readyz") // a keep-alive connection, open through the reload
		assert.True(t, servedBy.Equal(first.Cert))

		second := ca.Issue(t, testpki.Options{Server: true})
		second.WriteFiles(t, dir, "server")
		newClientCA := testpki.NewCA(t, "hellogw test client CA 2")
		require.NoError(t, os.WriteFile(caFile, newClientCA.CertPEM(), 0o600))
		require.NoError(t, gw.Process.Signal(syscall.SIGHUP))
		waitLog(t, gw, `"msg":"tls reloaded"`, 1)

		get(t, client, "/readyz")
		assert.True(t, reused, "the open connection is kept")
		assert.True(t, servedBy.Equal(first.Cert), "on the certificate it was opened with")
		get(t, newClient(), "/readyz")
		assert.True(t, servedBy.Equal(second.Cert), "a new connection gets the new certificate")
		require.Len(t, acceptable, 1)
		assert.True(t, bytes.Equal(newClientCA.Cert.RawSubject, acceptable[0]), "and the new client CA's name")

		// A broken key file: the reload fails, says why, and the last good
		// certificate is still served.
		require.NoError(t, os.WriteFile(keyFile, []byte("not a key"), 0o600))
		require.NoError(t, gw.Process.Signal(syscall.SIGHUP))
		waitLog(t, gw, `"msg":"tls reload failed; still serving the files loaded before"`, 1)
		get(t, newClient(), "/readyz")
		assert.True(t, servedBy.Equal(second.Cert))
		get(t, client, "/readyz")
		assert.True(t, reused && servedBy.Equal(first.Cert), "the first connection still works")
	})
}

// waitLog waits until the gateway has logged a line containing fragment
// at least n times.
func waitLog(t *testing.T, gw *clientsGateway, fragment string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Count(gw.logs(), fragment) >= n }, 10*time.Second, 20*time.Millisecond,
		"no log line with %s", fragment)
}

// Without TLS files SIGHUP does not end the process (Go's default for the
// signal): operators and logrotate send it expecting a reload, and the
// gateway says there is nothing to reload and keeps serving.
func TestSIGHUPWithoutTLS(t *testing.T) {
	gw := startClientsGateway(t)
	require.NoError(t, gw.Process.Signal(syscall.SIGHUP))
	waitLog(t, gw, `"msg":"SIGHUP: nothing to reload: only the TLS files of -tls-cert, -tls-key and -tls-client-ca are re-read on SIGHUP; a changed config file needs a restart"`, 1)
	resp, err := http.Get(gw.URL + "/readyz")
	require.NoError(t, err, "still serving after SIGHUP")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// The cleanup's SIGTERM checks that it still exits 0.
}
