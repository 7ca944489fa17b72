package main

import (
	"crypto/sha256"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/memo"
	"github.com/hellogw/hellogw/internal/testpki"
)

// clientCAFiles loads a server certificate and ca as -tls-client-ca, and
// returns the files and the CA file's path, for a reload to change.
func clientCAFiles(tb testing.TB, ca *testpki.Cert) (*tlsFiles, string) {
	tb.Helper()
	dir := tb.TempDir()
	certFile, keyFile, _ := testpki.NewCA(tb, "server CA").Issue(tb, testpki.Options{Server: true}).WriteFiles(tb, dir, "server")
	caFile := filepath.Join(dir, "client-ca.pem")
	require.NoError(tb, os.WriteFile(caFile, ca.CertPEM(), 0o600))
	f, err := loadTLS(certFile, keyFile, caFile)
	require.NoError(tb, err)
	return f, caFile
}

// A chain that verified is remembered with its CA bundle, for as long as
// every certificate of its path is valid; a refused chain is not, and a
// new bundle starts with none.
func TestVerifyClientCertRemembers(t *testing.T) {
	ca := testpki.NewCA(t, "client CA")
	f, caFile := clientCAFiles(t, ca)
	now := time.Now()
	f.now = func() time.Time { return now }
	chain := []*x509.Certificate{ca.Issue(t, testpki.Options{NotAfter: now.Add(time.Hour)}).Cert}
	stranger := []*x509.Certificate{testpki.SelfSigned(t, testpki.Options{}).Cert}

	require.NoError(t, f.VerifyClientCert(chain))
	require.Error(t, f.VerifyClientCert(stranger))
	assert.Equal(t, 1, f.current.Load().verified.Len(), "the refused chain is not remembered")

	// The bundle emptied behind the cache's back: only a remembered
	// chain can still pass, so this one is not verified again.
	loaded := f.current.Load()
	bundle := loaded.cfg.ClientCAs
	loaded.cfg.ClientCAs = x509.NewCertPool()
	assert.NoError(t, f.VerifyClientCert(chain), "remembered")
	assert.Error(t, f.VerifyClientCert(stranger))
	loaded.cfg.ClientCAs = bundle

	t.Run("PastItsValidity", func(t *testing.T) {
		f.now = func() time.Time { return now.Add(2 * time.Hour) }
		defer func() { f.now = func() time.Time { return now } }()
		assert.ErrorContains(t, f.VerifyClientCert(chain), "expired")
	})
	t.Run("NotYetValid", func(t *testing.T) {
		f.now = func() time.Time { return now.Add(-2 * time.Hour) } // the leaf's NotBefore is an hour ago
		defer func() { f.now = func() time.Time { return now } }()
		assert.Error(t, f.VerifyClientCert(chain))
	})
	t.Run("NewBundle", func(t *testing.T) {
		require.NoError(t, os.WriteFile(caFile, testpki.NewCA(t, "another client CA").CertPEM(), 0o600))
		require.NoError(t, f.reload())
		assert.Error(t, f.VerifyClientCert(chain), "the old bundle's chain is refused at once")
		assert.Zero(t, f.current.Load().verified.Len())
	})
}

// The chain's key covers every certificate and where one ends.
func TestChainKey(t *testing.T) {
	a, b := testpki.SelfSigned(t, testpki.Options{}).Cert, testpki.SelfSigned(t, testpki.Options{}).Cert
	keys := map[[sha256.Size]byte]bool{}
	for _, chain := range [][]*x509.Certificate{{a}, {b}, {a, b}, {b, a}, {a, a}} {
		keys[chainKey(chain)] = true
	}
	assert.Len(t, keys, 5)
	assert.Equal(t, chainKey([]*x509.Certificate{a, b}), chainKey([]*x509.Certificate{a, b}))
}

// A path's validity is the overlap of its certificates', in seconds, so a
// CA valid to the year 9999 is no trouble.
func TestValidityOf(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ca := testpki.NewCA(t, "forever CA")
	ca.Cert.NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	leaf := testpki.SelfSigned(t, testpki.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}).Cert
	p := validityOf([]*x509.Certificate{leaf, ca.Cert})
	assert.True(t, p.holds(now))
	assert.False(t, p.holds(now.Add(-time.Hour-time.Second)), "before the leaf")
	assert.False(t, p.holds(now.Add(time.Hour)), "the leaf's last second: x509 decides")
	assert.True(t, validityOf([]*x509.Certificate{ca.Cert}).holds(time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// BenchmarkVerifyClientCert is a CA-issued client chain checked the first
// time (x509's chain verification) and then from what is remembered.
func BenchmarkVerifyClientCert(b *testing.B) {
	ca := testpki.NewCA(b, "client CA")
	f, _ := clientCAFiles(b, ca)
	chain := []*x509.Certificate{ca.Issue(b, testpki.Options{}).Cert}
	b.Run("FirstTime", func(b *testing.B) {
		loaded := f.current.Load()
		for b.Loop() {
			loaded.verified = memo.New[[sha256.Size]byte, validity](maxVerifiedChains)
			if err := f.VerifyClientCert(chain); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Remembered", func(b *testing.B) {
		for b.Loop() {
			if err := f.VerifyClientCert(chain); err != nil {
				b.Fatal(err)
			}
		}
	})
}
