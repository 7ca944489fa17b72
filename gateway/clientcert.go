package gateway

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// TLS client certificates as credentials: RFC 8705 §2.1 (PKI: a subject DN
// under a configured CA) and §2.2 (self-signed: the certificate's SHA-256
// thumbprint). The TLS server only asks for a certificate; it is verified
// here, after the handshake, so that a self-signed one arrives at all and
// a bad one is answered 401 rather than with a reset connection.

// Headers a trusted TLS-terminating proxy forwards the client's
// certificate in (RFC 9440 §2).
const (
	headerClientCert      = "Client-Cert"
	headerClientCertChain = "Client-Cert-Chain"
)

// clientCertificate returns the certificate the caller presented and the
// intermediates it sent. From a trusted proxy only the Client-Cert header
// counts, never the proxy's own handshake certificate; from anyone else
// only the handshake. ok is false when there is none; err is a malformed
// header.
func (g *Gateway) clientCertificate(c *gin.Context) (cert *x509.Certificate, inter []*x509.Certificate, ok bool, err error) {
	if g.prot.fromProxy(c.Request.RemoteAddr) {
		v := c.GetHeader(headerClientCert)
		if v == "" {
			return nil, nil, false, nil
		}
		if cert, err = parseSFCert(v); err != nil {
			return nil, nil, true, err
		}
		if chain := c.GetHeader(headerClientCertChain); chain != "" {
			for _, item := range strings.Split(chain, ",") {
				ic, err := parseSFCert(item)
				if err != nil {
					return nil, nil, true, err
				}
				inter = append(inter, ic)
			}
		}
		return cert, inter, true, nil
	}
	if tls := c.Request.TLS; tls != nil && len(tls.PeerCertificates) > 0 {
		return tls.PeerCertificates[0], tls.PeerCertificates[1:], true, nil
	}
	return nil, nil, false, nil
}

// fromProxy reports whether the peer address is a trusted proxy.
func (p *protection) fromProxy(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	return slices.ContainsFunc(p.proxies, func(pfx netip.Prefix) bool { return pfx.Contains(addr) })
}

// parseSFCert reads an RFC 9440 certificate: a Structured Field Byte
// Sequence (RFC 8941 §3.3.5), ":" base64 DER ":".
func parseSFCert(v string) (*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
		return nil, errors.New("not a byte sequence")
	}
	der, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
	if err != nil {
		return nil, errors.New("not base64")
	}
	return x509.ParseCertificate(der)
}

// certificate authenticates the caller by its client certificate:
// first by thumbprint (§2.2), then by subject DN under the client CAs
// (§2.1). No certificate is no credential.
func (g *Gateway) certificate(c *gin.Context) (Principal, *Error) {
	cert, inter, ok, err := g.clientCertificate(c)
	switch {
	case !ok:
		return Principal{}, errNoCredentials
	case err != nil:
		return g.refused(c, "", MethodMTLS, refusedMalformed, nil, "the forwarded client certificate is malformed")
	}
	now := time.Now()
	if lc := g.prot.byPrint[sha256.Sum256(cert.Raw)]; lc != nil {
		// A pinned certificate is trusted as itself, but not past its
		// validity period.
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return g.refused(c, lc.ID, MethodMTLS, refusedExpired, nil, "the client certificate is expired or not yet valid")
		}
		return Principal{ClientID: lc.ID, Scopes: lc.Scopes, Method: MethodMTLS}, nil
	}
	if len(g.prot.byDN) > 0 && g.prot.certs.VerifyClientCert(append([]*x509.Certificate{cert}, inter...)) == nil {
		if lc := g.prot.clientOfSubject(cert.RawSubject); lc != nil {
			return Principal{ClientID: lc.ID, Scopes: lc.Scopes, Method: MethodMTLS}, nil
		}
	}
	return g.refused(c, "", MethodMTLS, refusedUnknownClient, nil, "the client certificate is not registered to any client")
}

// clientOfSubject returns the first client whose DN matches the subject
// raw (its DER), or nil. The answer is remembered: parsing a subject and
// comparing it with every configured DN costs ~3.5 µs and 31 allocations,
// and the answer depends on nothing but the subject and the DNs, which do
// not change while the gateway runs. Only subjects of chains that
// verified reach it.
func (p *protection) clientOfSubject(raw []byte) *legacyClient {
	if lc, ok := p.subjects.Get(string(raw)); ok {
		return lc
	}
	var lc *legacyClient
	var subject pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &subject); err == nil {
		for _, c := range p.byDN {
			if c.dn.Matches(subject) {
				lc = c
				break
			}
		}
	}
	p.subjects.Put(string(raw), lc)
	return lc
}

// ParseThumbprint reads a SHA-256 certificate thumbprint: hex, with or
// without colons (as `openssl x509 -fingerprint -sha256` prints it, its
// "sha256 Fingerprint=" prefix included), or base64url (RFC 8705 §3.1's
// x5t#S256).
func ParseThumbprint(s string) ([32]byte, error) {
	var sum [32]byte
	s = strings.TrimSpace(s)
	if _, after, ok := strings.Cut(s, "="); ok && strings.Contains(strings.ToLower(s), "fingerprint") {
		s = strings.TrimSpace(after)
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "sha256:"), "SHA256:")
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) != len(sum) {
		return sum, errors.New("want the SHA-256 of the certificate, in hex or base64url")
	}
	copy(sum[:], b)
	return sum, nil
}

// DN is a parsed distinguished name: RDNs in the order written, each a
// set of attributes with normalised values.
type DN [][]dnAttr

type dnAttr struct {
	oid   string // dotted
	value string // normalised: see normDNValue
}

// dnTypes are the attribute type names of RFC 4514 §3 and those openssl
// prints (DC, UID and emailAddress, as Active Directory certificates
// carry), mapped to their OIDs.
var dnTypes = map[string]string{
	"cn": "2.5.4.3", "sn": "2.5.4.4", "serialnumber": "2.5.4.5", "c": "2.5.4.6",
	"l": "2.5.4.7", "st": "2.5.4.8", "s": "2.5.4.8", "street": "2.5.4.9",
	"o": "2.5.4.10", "ou": "2.5.4.11", "title": "2.5.4.12", "postalcode": "2.5.4.17",
	"gn": "2.5.4.42", "givenname": "2.5.4.42", "initials": "2.5.4.43",
	"dnqualifier": "2.5.4.46", "pseudonym": "2.5.4.65", "organizationidentifier": "2.5.4.97",
	"dc": "0.9.2342.19200300.100.1.25", "uid": "0.9.2342.19200300.100.1.1",
	"emailaddress": "1.2.840.113549.1.9.1", "email": "1.2.840.113549.1.9.1", "e": "1.2.840.113549.1.9.1",
}

// ParseDN reads a subject DN in the forms users copy: RFC 4514
// ("CN=svc,OU=Apps,DC=example,DC=com"), openssl's default print
// ("subject=DC = com, DC = example, OU = Apps, CN = svc") and its old
// one-line form ("/DC=com/DC=example/OU=Apps/CN=svc"). The first lists the
// RDNs last to first and the others first to last, so matches accepts
// either order (see Matches). Hand-written: no Go library in reach reads all three or
// maps openssl's names (emailAddress, UID) to their OIDs.
func ParseDN(s string) (DN, error) {
	s = strings.TrimSpace(s)
	if len(s) > 8 && strings.EqualFold(s[:8], "subject=") {
		s = strings.TrimSpace(s[8:])
	}
	sep := []byte{',', ';'}
	if strings.HasPrefix(s, "/") {
		s, sep = s[1:], []byte{'/'}
	}
	var dn DN
	for _, rdnText := range splitUnescaped(s, sep) {
		var rdn []dnAttr
		for _, av := range splitUnescaped(rdnText, []byte{'+'}) {
			typ, val, ok := strings.Cut(av, "=")
			typ = strings.TrimSpace(typ)
			if !ok || typ == "" {
				return nil, fmt.Errorf("%q is not type=value", strings.TrimSpace(av))
			}
			oid, err := dnType(typ)
			if err != nil {
				return nil, err
			}
			v, err := unescapeDNValue(strings.TrimSpace(val))
			if err != nil {
				return nil, err
			}
			rdn = append(rdn, dnAttr{oid: oid, value: normDNValue(v)})
		}
		dn = append(dn, sortRDN(rdn))
	}
	if len(dn) == 0 {
		return nil, errors.New("empty")
	}
	return dn, nil
}

func dnType(t string) (string, error) {
	if oid, ok := dnTypes[strings.ToLower(t)]; ok {
		return oid, nil
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "OID."), "oid.")
	for _, part := range strings.Split(t, ".") {
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return "", fmt.Errorf("unknown attribute type %q; use a name such as CN, O, OU, DC, UID, emailAddress, or a dotted OID", t)
		}
	}
	return t, nil
}

// splitUnescaped splits s at any of seps not escaped by a backslash nor
// inside double quotes (as openssl quotes values with a comma).
func splitUnescaped(s string, seps []byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && slices.Contains(seps, s[i]):
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if strings.TrimSpace(s[start:]) != "" || len(parts) > 0 {
		parts = append(parts, s[start:])
	}
	return parts
}

// unescapeDNValue undoes RFC 4514 §2.4 escapes: \ followed by a special
// character, or by two hex digits (a byte of UTF-8).
func unescapeDNValue(v string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' { // RFC 1779 quoting, as old tools print
		v = v[1 : len(v)-1]
	}
	if strings.HasPrefix(v, "#") {
		return "", errors.New("BER-encoded (#hex) values are not supported; write the value as text")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			n, _ := strconv.ParseUint(v[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		if i+1 == len(v) {
			return "", errors.New("a value ends in a lone backslash")
		}
		i++
		b.WriteByte(v[i])
	}
	return b.String(), nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// normDNValue prepares a value for comparison as RFC 4518 does for the
// string types DNs use, in short: insignificant spaces removed, runs of
// spaces folded, case ignored (caseIgnoreMatch, and caseIgnoreIA5Match for
// DC and emailAddress).
func normDNValue(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}

func sortRDN(rdn []dnAttr) []dnAttr {
	slices.SortFunc(rdn, func(a, b dnAttr) int {
		if c := strings.Compare(a.oid, b.oid); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	return rdn
}

// Matches reports whether a certificate's subject is this DN, its RDNs
// written in either order.
func (dn DN) Matches(subject pkix.RDNSequence) bool {
	if len(subject) != len(dn) {
		return false
	}
	cert := make(DN, len(subject))
	for i, set := range subject {
		for _, atv := range set {
			s, ok := atv.Value.(string)
			if !ok {
				return false
			}
			cert[i] = append(cert[i], dnAttr{oid: atv.Type.String(), value: normDNValue(s)})
		}
		sortRDN(cert[i])
	}
	reversed := slices.Clone(cert)
	slices.Reverse(reversed)
	eq := func(a, b []dnAttr) bool { return slices.Equal(a, b) }
	return slices.EqualFunc(dn, cert, eq) || slices.EqualFunc(dn, reversed, eq)
}
