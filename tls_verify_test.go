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
	assert.Len(t, f.current.Load().verified.periods, 1, "the refused chain is not remembered")

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
		assert.Empty(t, f.current.Load().verified.periods)
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

// verifiedChains holds at most maxVerifiedChains chains.
func TestVerifiedChainsBounded(t *testing.T) {
	leaf := testpki.SelfSigned(t, testpki.Options{}).Cert
	key := func(i int) (k [sha256.Size]byte) {
		k[0], k[1] = byte(i), byte(i>>8)
		return k
	}
	var v verifiedChains
	for i := range maxVerifiedChains + 1 {
		v.add(key(i), []*x509.Certificate{leaf})
	}
	assert.Len(t, v.periods, 1, "full: started again")
	assert.True(t, v.holds(key(maxVerifiedChains), time.Now()))
	assert.False(t, v.holds(key(0), time.Now()))
}

// BenchmarkVerifyClientCert is a CA-issued client chain checked the first
// time (x509's chain verification) and then from what is remembered.
func BenchmarkVerifyClientCert(b *testing.B) {
	ca := testpki.NewCA(b, "client CA")
	f, _ := clientCAFiles(b, ca)
	chain := []*x509.Certificate{ca.Issue(b, testpki.Options{}).Cert}
	b.Run("FirstTime", func(b *testing.B) {
		v := &f.current.Load().verified
		for b.Loop() {
			v.mu.Lock()
			v.periods = nil
			v.mu.Unlock()
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
