package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/memo"
)

// tlsFiles serves HTTPS from the PEM files of -tls-cert, -tls-key and
// -tls-client-ca, and re-reads them when told to (SIGHUP): each handshake
// takes whichever tls.Config was loaded last (GetConfigForClient over an
// atomically swapped pointer), so connections already open keep theirs and
// a failed reload leaves the last good one in place.
type tlsFiles struct {
	cert, key, clientCA string
	current             atomic.Pointer[tlsLoaded]
	now                 func() time.Time // time.Now; tests move it
}

// tlsLoaded is what one reload makes: the server's config, and the client
// chains verified against its CA bundle, which a new bundle starts without.
type tlsLoaded struct {
	cfg      *tls.Config
	verified *memo.Map[[sha256.Size]byte, validity] // see VerifyClientCert
}

var _ gateway.ClientCertVerifier = (*tlsFiles)(nil)

// loadTLS reads the files once; an error means the server must not start.
func loadTLS(cert, key, clientCA string) (*tlsFiles, error) {
	f := &tlsFiles{cert: cert, key: key, clientCA: clientCA, now: time.Now}
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
	f.current.Store(&tlsLoaded{cfg: cfg, verified: memo.New[[sha256.Size]byte, validity](maxVerifiedChains)})
	return nil
}

// serverConfig is the http.Server's TLSConfig.
func (f *tlsFiles) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return f.current.Load().cfg, nil
		},
	}
}

// VerifyClientCert implements gateway.ClientCertVerifier against the
// -tls-client-ca bundle loaded last (RFC 8705 §2.1): chain[0] must chain
// to it through chain[1:] and be valid for client authentication now.
//
// A chain that verified is remembered with that bundle, so that a
// client's requests on a keep-alive connection, and its next connections,
// do not each pay for a chain verification: ~85 µs for an ECDSA P-256
// chain on the benchmark machine, five times a whole sayHello call
// (BenchmarkVerifyClientCert). crypto/tls verifies once per handshake,
// but the gateway verifies after it (see reload), per request. What is
// remembered is the chain as presented and the period in which every
// certificate of the path found to the bundle is valid: the same chain
// against the same bundle verifies the same way for as long as that
// period lasts, since x509 checks nothing else that changes (it does no
// revocation). Only successes are remembered, so a refused chain is
// checked afresh each time; a reload starts with none.
func (f *tlsFiles) VerifyClientCert(chain []*x509.Certificate) error {
	loaded := f.current.Load()
	pool := loaded.cfg.ClientCAs
	if pool == nil {
		return errors.New("no -tls-client-ca is configured")
	}
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	now := f.now()
	key := chainKey(chain)
	if p, ok := loaded.verified.Get(key); ok && p.holds(now) {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		CurrentTime:   now,
	})
	if err != nil {
		return err
	}
	loaded.verified.Put(key, validityOf(chains[0]))
	return nil
}

// validity is the period in which every certificate of a path is valid,
// in Unix seconds (certificates' times are whole seconds, and some run to
// the year 9999, past what nanoseconds can count): no pointer for the
// collector to follow in a map of thousands of them.
type validity struct{ notBefore, notAfter int64 }

// maxVerifiedChains bounds the chains remembered per bundle, at 48 bytes
// (key and period) an entry plus the map's own.
const maxVerifiedChains = 4096

func validityOf(path []*x509.Certificate) validity {
	p := validity{notBefore: path[0].NotBefore.Unix(), notAfter: path[0].NotAfter.Unix()}
	for _, c := range path[1:] {
		p.notBefore = max(p.notBefore, c.NotBefore.Unix())
		p.notAfter = min(p.notAfter, c.NotAfter.Unix())
	}
	return p
}

// holds reports whether now is in the period; in its last second it says
// no, and x509 decides.
func (p validity) holds(now time.Time) bool {
	n := now.Unix()
	return p.notBefore <= n && n < p.notAfter
}

// chainKey is the SHA-256 of a chain's certificates, each after its length,
// so that no two different chains have the same bytes to hash.
func chainKey(chain []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, c := range chain {
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
