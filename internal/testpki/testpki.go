// Package testpki makes throwaway certificate authorities and certificates
// for tests: TLS servers, client certificates (RFC 8705), expired and
// self-signed ones. Keys are ECDSA P-256: fast to generate.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Options shape a certificate. The zero value is a client certificate
// valid from an hour ago for a day.
type Options struct {
	// Subject is the subject DN, as an RDN sequence in certificate order
	// (so that DC, UID and emailAddress can be set); empty: CN=test.
	Subject pkix.RDNSequence
	// Server makes a server certificate for 127.0.0.1 and localhost.
	Server bool
	// NotBefore and NotAfter default to an hour ago and a day ahead.
	NotBefore, NotAfter time.Time
}

// NewCA returns a self-signed CA certificate named cn.
func NewCA(tb testing.TB, cn string) *Cert {
	tb.Helper()
	tmpl := template(Options{Subject: pkix.RDNSequence{{{Type: OIDCommonName, Value: cn}}}})
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = nil
	return sign(tb, tmpl, nil)
}

// Issue returns a certificate signed by ca.
func (ca *Cert) Issue(tb testing.TB, o Options) *Cert {
	tb.Helper()
	return sign(tb, template(o), ca)
}

// SelfSigned returns a self-signed client (or server) certificate.
func SelfSigned(tb testing.TB, o Options) *Cert {
	tb.Helper()
	return sign(tb, template(o), nil)
}

// Attribute types for Options.Subject, among them those of Active
// Directory style subjects that pkix.Name has no field for.
var (
	OIDCommonName         = asn1.ObjectIdentifier{2, 5, 4, 3}
	OIDOrganization       = asn1.ObjectIdentifier{2, 5, 4, 10}
	OIDOrganizationalUnit = asn1.ObjectIdentifier{2, 5, 4, 11}
	OIDDomainComponent    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	OIDUserID             = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	OIDEmailAddress       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

func template(o Options) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if len(o.Subject) == 0 {
		o.Subject = pkix.RDNSequence{{{Type: OIDCommonName, Value: "test"}}}
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{ExtraNames: flatten(o.Subject)},
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if o.Server {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		t.DNSNames = []string{"localhost"}
		t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	return t
}

// flatten turns an RDN sequence into ExtraNames, which crypto/x509 writes
// as given, one attribute per RDN, in order.
func flatten(seq pkix.RDNSequence) []pkix.AttributeTypeAndValue {
	var out []pkix.AttributeTypeAndValue
	for _, set := range seq {
		out = append(out, set...)
	}
	return out
}

func sign(tb testing.TB, tmpl *x509.Certificate, parent *Cert) *Cert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &Cert{Cert: cert, Key: key}
}

// Pool returns a pool holding c.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// TLS returns c as a tls.Certificate.
func (c *Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// Thumbprint is the SHA-256 of the certificate's DER, in hex.
func (c *Cert) Thumbprint() string {
	sum := sha256.Sum256(c.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// CertPEM is the certificate in PEM.
func (c *Cert) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM is the private key in PKCS #8 PEM.
func (c *Cert) KeyPEM(tb testing.TB) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WriteFiles writes name.crt, name.key and name.pem (both, as PHP's
// local_cert wants) into dir and returns their paths.
func (c *Cert) WriteFiles(tb testing.TB, dir, name string) (certFile, keyFile, bothFile string) {
	tb.Helper()
	certFile, keyFile, bothFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pem")
	key := c.KeyPEM(tb)
	for f, b := range map[string][]byte{certFile: c.CertPEM(), keyFile: key, bothFile: append(c.CertPEM(), key...)} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return certFile, keyFile, bothFile
}
