package gateway

import "crypto/x509"

// ClientCertVerifier decides whether a TLS client certificate chains to the
// configured client CA (-tls-client-ca; RFC 8705 §2.1 PKI method). The
// handshake only asks for certificates and never verifies them, so that a
// self-signed one (RFC 8705 §2.2) arrives and a bad one is refused with a
// 401 rather than a reset; this is the verification, after the handshake.
// main satisfies it with the CA bundle it loaded last.
type ClientCertVerifier interface {
	// VerifyClientCert returns nil when chain[0] chains to a configured CA
	// through chain[1:] (as in tls.ConnectionState.PeerCertificates) and
	// may be used for client authentication now, else why not.
	VerifyClientCert(chain []*x509.Certificate) error
}
