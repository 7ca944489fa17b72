package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/internal/wsse"
)

// maxNonce bounds a UsernameToken's decoded Nonce: clients send 16 bytes.
const maxNonce = 256

// securityHeader is what a wsse:Security header block targeted at the
// gateway holds: a UsernameToken, or the §12 fault found reading it.
type securityHeader struct {
	token   wsse.UsernameToken
	expires string // the wsu:Timestamp's Expires, if any
	fault   *wsse.Fault
	detail  string // what is wrong, in the gateway's words, with fault
}

// securityHeaderName is wsse:Security, the one header block the gateway
// understands (WS-Security 1.1 §5): its mustUnderstand is honoured by
// checking the token, never faulted.
var securityHeaderName = xml.Name{Space: wsse.NS, Local: "Security"}

// readSecurityHeader reads the UsernameToken of a wsse:Security block. A
// block with nothing but a wsu:Timestamp is no credential: nil.
func readSecurityHeader(h *etree.Element) *securityHeader {
	var tokens, others int
	var ut, ts *etree.Element
	for _, c := range h.ChildElements() {
		switch {
		case c.Tag == "UsernameToken" && c.NamespaceURI() == wsse.NS:
			tokens++
			ut = c
		case c.Tag == "Timestamp" && c.NamespaceURI() == wsse.NSUtility:
			ts = c
		default:
			others++
		}
	}
	// Whatever else it holds (a BinarySecurityToken, a Signature) the
	// gateway cannot process, so it may not pass it over in silence.
	switch {
	case tokens > 1:
		return &securityHeader{fault: wsse.ErrInvalidSecurity, detail: "the Security header holds more than one UsernameToken"}
	case others > 0:
		return &securityHeader{fault: wsse.ErrUnsupportedSecurityToken, detail: "only a UsernameToken (and a Timestamp) is accepted in the Security header"}
	case tokens == 0:
		return nil
	}

	// UsernameToken Profile 1.1 §3.1: Username, Password (Type), Nonce
	// (EncodingType), wsu:Created; some early clients put Created in wsse.
	sec := &securityHeader{}
	if ts != nil {
		if e := ts.SelectElement("Expires"); e != nil && e.NamespaceURI() == wsse.NSUtility {
			sec.expires = strings.TrimSpace(e.Text())
		}
	}
	var user, pass, nonce, created *etree.Element
	for _, c := range ut.ChildElements() {
		switch ns := c.NamespaceURI(); {
		case c.Tag == "Username" && ns == wsse.NS:
			user = c
		case c.Tag == "Password" && ns == wsse.NS:
			pass = c
		case c.Tag == "Nonce" && ns == wsse.NS:
			nonce = c
		case c.Tag == "Created" && (ns == wsse.NSUtility || ns == wsse.NS):
			created = c
		}
	}
	if user == nil || pass == nil || strings.TrimSpace(user.Text()) == "" || pass.Text() == "" {
		return sec.fail(wsse.ErrInvalidSecurityToken, "the UsernameToken needs a Username and a Password")
	}
	sec.token.Username = strings.TrimSpace(user.Text())
	sec.token.Password = pass.Text()
	switch pass.SelectAttrValue("Type", "") {
	case "", wsse.PasswordText:
	case wsse.PasswordDigest:
		sec.token.Digest = true
		sec.token.Password = strings.TrimSpace(sec.token.Password)
	default:
		return sec.fail(wsse.ErrUnsupportedSecurityToken, "the Password Type is neither PasswordText nor PasswordDigest")
	}
	if nonce != nil {
		n, err := wsse.DecodeNonce(nonce.Text(), nonce.SelectAttrValue("EncodingType", ""))
		if err != nil {
			return sec.fail(wsse.AsFault(err), "the Nonce is not base64")
		}
		if len(n) > maxNonce {
			return sec.fail(wsse.ErrInvalidSecurityToken, "the Nonce is too long")
		}
		sec.token.Nonce = n
	}
	if created != nil {
		sec.token.Created = strings.TrimSpace(created.Text())
	}
	if sec.token.Digest && (sec.token.Nonce == nil || sec.token.Created == "") {
		return sec.fail(wsse.ErrInvalidSecurityToken, "a PasswordDigest needs a Nonce and a Created")
	}
	// UsernameToken Profile 1.1 §3.1 has receivers keep used nonces only
	// for the freshness window of their Created, and recommends refusing a
	// token that does not use both. A Nonce without a Created could be
	// replayed once it left the store, so it is refused. The token is
	// unacceptable as sent, whatever its password: InvalidSecurityToken
	// (SOAP Message Security 1.1 §12), as for an unreadable Created, not
	// FailedAuthentication, which would say the password was checked.
	if sec.token.Nonce != nil && sec.token.Created == "" {
		return sec.fail(wsse.ErrInvalidSecurityToken, "a Nonce needs a Created, which bounds how long it is kept")
	}
	return sec
}

func (s *securityHeader) fail(f *wsse.Fault, detail string) *securityHeader {
	s.fault, s.detail = f, detail
	return s
}

// securityFault is a 401 SOAP fault with a WS-Security §12 code.
func securityFault(f *wsse.Fault, detail string) *Error {
	return &Error{Kind: KindUnauthorized, Subcode: f.Code, Message: f.Reason + ": " + detail}
}

// usernameToken authenticates a WS-Security UsernameToken (UsernameToken
// Profile 1.1) as the client whose id is its Username, for clients
// allowed that password type. Every refusal is counted by the throttle.
func (g *Gateway) usernameToken(c *gin.Context, sec *securityHeader) (Principal, *Error) {
	if sec.fault != nil {
		return g.refused(c, "", MethodWSSE, refusedMalformed, securityFault(sec.fault, sec.detail), "")
	}
	tok := sec.token
	id := tok.Username
	failed := securityFault(wsse.ErrFailedAuthentication, "the UsernameToken is not accepted")
	mode := WSSEText
	if tok.Digest {
		mode = WSSEDigest
	}
	lc := g.prot.clients[id]
	switch {
	case lc == nil:
		return g.refused(c, id, MethodWSSE, refusedUnknownClient, failed, "")
	case lc.WSSE != mode:
		return g.refused(c, id, MethodWSSE, refusedNotAllowed, failed, "")
	}
	now := time.Now()
	if err := tok.CheckFresh(now, g.prot.WSSEWindow); err != nil {
		detail, reason := "its Created is outside the freshness window", refusedExpired
		if !errors.Is(err, wsse.ErrMessageExpired) {
			detail, reason = "its Created is not a dateTime with a time zone", refusedMalformed
		}
		return g.refused(c, id, MethodWSSE, reason, securityFault(wsse.AsFault(err), detail), "")
	}
	// SOAP Message Security 1.1 §10: a message past its Timestamp's
	// Expires is refused, allowing the window for clock skew.
	if sec.expires != "" {
		expires, err := wsse.ParseCreated(sec.expires)
		switch {
		case err != nil:
			return g.refused(c, id, MethodWSSE, refusedMalformed, securityFault(wsse.ErrInvalidSecurity, "the Timestamp's Expires is not a dateTime with a time zone"), "")
		case now.After(expires.Add(g.prot.WSSEWindow)):
			return g.refused(c, id, MethodWSSE, refusedExpired, securityFault(wsse.ErrMessageExpired, "its Timestamp has expired"), "")
		}
	}

	ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
	defer cancel()
	var p Principal
	var err error
	if tok.Digest {
		p, err = g.prot.Clients.AuthenticateClientProof(ctx, id, c.ClientIP(), func() bool { return tok.Matches(lc.DigestSecret) })
	} else {
		p, err = g.prot.Clients.AuthenticateClient(ctx, id, tok.Password, c.ClientIP())
	}
	if err != nil || tok.Nonce == nil {
		return g.clientResult(c, id, p, err, MethodWSSE, badSecret, failed, "")
	}

	// A nonce is accepted once (UsernameToken Profile 1.1 §4), on every
	// node: it is kept in the store until its Created leaves the window,
	// after which the freshness check refuses a replay. Only a token that
	// proved the secret gets this far, so nobody else fills the table.
	expires := now
	if created, err := wsse.ParseCreated(tok.Created); err == nil && created.After(now) {
		expires = created
	}
	switch err := g.prot.Nonces.UseNonce(ctx, nonceKey(id, tok.Nonce), expires.Add(g.prot.WSSEWindow)); {
	case errors.Is(err, ErrNonceUsed):
		g.log.WarnContext(c, "authentication failed: a nonce used before", "request_id", requestIDOf(c),
			"method", MethodWSSE, "client", id, "remote", c.ClientIP())
		return Principal{}, securityFault(wsse.ErrFailedAuthentication, "its Nonce was used before")
	case err != nil:
		return Principal{}, g.storeFailed(c, err)
	}
	p.Method = MethodWSSE
	return p, nil
}

// nonceKey is what the store keeps of a nonce: a hash, so that its size
// does not depend on the caller's, scoped to the client.
func nonceKey(clientID string, nonce []byte) string {
	h := sha256.New()
	h.Write([]byte(clientID))
	h.Write([]byte{0})
	h.Write(nonce)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
