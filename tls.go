package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/hellogw/hellogw/gateway"
)

// tlsFiles serves HTTPS from the PEM files of -tls-cert, -tls-key and
// -tls-client-ca, and re-reads them when told to (SIGHUP): each handshake
// takes whichever tls.Config was loaded last (GetConfigForClient over an
// atomically swapped pointer), so connections already open keep theirs and
// a failed reload leaves the last good one in place.
type tlsFiles struct {
	cert, key, clientCA string
	current             atomic.Pointer[tls.Config]
}

var _ gateway.ClientCertVerifier = (*tlsFiles)(nil)

// loadTLS reads the files once; an error means the server must not start.
func loadTLS(cert, key, clientCA string) (*tlsFiles, error) {
	f := &tlsFiles{cert: cert, key: key, clientCA: clientCA}
	return f, f.reload()
}

// reload re-reads the files and, only if all of them are good, makes them
// the ones new handshakes use.
func (f *tlsFiles) reload() error {
	pair, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return fmt.Errorf("-tls-cert %s / -tls-key %s: %w: give a PEM certificate chain and its private key", f.cert, f.key, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		// A config from GetConfigForClient does not get the ALPN list that
		// http.Server.ServeTLS adds to its own: offer HTTP/2 here
		// (RFC 9113 §3.2).
		NextProtos: []string{"h2", "http/1.1"},
	}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return fmt.Errorf("-tls-client-ca: %w: give a PEM file of CA certificates", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-tls-client-ca %s: no PEM certificate in it: give a PEM file of CA certificates", f.clientCA)
		}
		// Ask for a client certificate without verifying it in the
		// handshake: a self-signed one (RFC 8705 §2.2) must get through,
		// and a bad one must get a 401 from the gateway, not a reset. The
		// CA's subject names still go out in the CertificateRequest
		// (RFC 8446 §4.2.4, RFC 5246 §7.4.4), which Go clients need before
		// they send a certificate; crypto/tls verifies only from
		// VerifyClientCertIfGiven up. VerifyClientCert checks the chain
		// after the handshake.
		cfg.ClientAuth = tls.RequestClientCert
		cfg.ClientCAs = pool
	}
	f.current.Store(cfg)
	return nil
}

// serverConfig is the http.Server's TLSConfig.
func (f *tlsFiles) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return f.current.Load(), nil
		},
	}
}

// VerifyClientCert implements gateway.ClientCertVerifier against the
// -tls-client-ca bundle loaded last (RFC 8705 §2.1): chain[0] must chain
// to it through chain[1:] and be valid for client authentication now.
func (f *tlsFiles) VerifyClientCert(chain []*x509.Certificate) error {
	pool := f.current.Load().ClientCAs
	if pool == nil {
		return errors.New("no -tls-client-ca is configured")
	}
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err
}
