package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCert is a throwaway certificate and its key, made with crypto/x509
// for one test.
type testCert struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// newTestCA makes a self-signed CA certificate named cn.
func newTestCA(t testing.TB, cn string) *testCert {
	t.Helper()
	return makeCert(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"hellogw tests"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil)
}

// serverCert issues a server certificate for 127.0.0.1 and localhost.
func (ca *testCert) serverCert(t testing.TB) *testCert {
	t.Helper()
	return makeCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
}

// clientCert issues a client certificate with the given subject; with a
// nil ca it is self-signed (RFC 8705 §2.2).
func (ca *testCert) clientCert(t testing.TB, subject pkix.Name) *testCert {
	t.Helper()
	return makeCert(t, &x509.Certificate{
		Subject:     subject,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca)
}

// makeCert fills in the serial and validity of tmpl and signs it with
// parent, or with its own new key when parent is nil.
func makeCert(t testing.TB, tmpl *x509.Certificate, parent *testCert) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	require.NoError(t, err)
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCert{Cert: cert, Key: key}
}

// certPEM is the certificate in PEM.
func (c *testCert) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// keyPEM is the private key in PEM (PKCS #8).
func (c *testCert) keyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// writeFiles writes the certificate and key as cert.pem and key.pem into
// dir, replacing what is there, and returns their paths.
func (c *testCert) writeFiles(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, c.certPEM(), 0o600))
	require.NoError(t, os.WriteFile(keyFile, c.keyPEM(t), 0o600))
	return certFile, keyFile
}

// tlsCert is the certificate as a client presents it.
func (c *testCert) tlsCert() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// pool is a CertPool holding just this certificate.
func (c *testCert) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}
