package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hellogw/hellogw/internal/memo"
)

// Who a caller is, and how it proved it: sayhello.require_token and the
// legacy credentials of SPEC "Protection" and "Legacy credentials".

// TokenVerifier checks OAuth bearer access tokens for sayHello. The OAuth
// server satisfies it (through main, so that neither package imports the
// other).
type TokenVerifier interface {
	// VerifyAccessToken returns the token's client, user and scopes for a
	// valid access token, an error wrapping ErrInvalidToken for an
	// unknown, expired or revoked one, and any other error when it cannot
	// tell (its store is down).
	VerifyAccessToken(ctx context.Context, token string) (Principal, error)
}

// ClientAuthenticator checks a client's credentials with the OAuth server's
// one throttled client authentication (RFC 6749 §2.3.1), so that a legacy
// credential is guessed no faster than a secret at the token endpoint.
type ClientAuthenticator interface {
	// AuthenticateClient checks a client id and secret that a caller at
	// addr (its IP address) presented. It returns the client's id and
	// scopes, an error wrapping ErrBadCredentials (unknown client, wrong
	// secret), a *ThrottledError, or any other error when the store fails.
	AuthenticateClient(ctx context.Context, id, secret, addr string) (Principal, error)
	// AuthenticateClientProof is AuthenticateClient for a proof of the
	// secret that the gateway checks itself (a WS-Security digest): proof
	// runs only if the caller is not throttled, and a false counts as a
	// failed attempt. proof must be cheap and free of side effects: it may
	// run more than once. An empty id counts a malformed credential
	// against addr.
	AuthenticateClientProof(ctx context.Context, id, addr string, proof func() bool) (Principal, error)
	// RefuseClient counts a credential of client id (empty: none could be
	// read) that the gateway refused before any secret was checked as a
	// failed attempt from addr, recorded as reason (one of the refused*
	// constants). It returns an error wrapping ErrBadCredentials, a
	// *ThrottledError, or any other error when the store fails.
	RefuseClient(ctx context.Context, id, addr, reason string) error
}

// Reasons a credential is refused before its secret is checked, as the
// OAuth server's failure metric and log name them (not "bad_secret": no
// secret was checked).
const (
	refusedMalformed     = "malformed"          // unreadable, or missing a part it needs
	refusedExpired       = "expired"            // outside its validity or freshness window
	refusedUnknownClient = "unknown_client"     // names no client, or no certificate matches one
	refusedNotAllowed    = "method_not_allowed" // the client may not use this credential
	// badSecret is a credential whose secret or proof was checked and is
	// wrong, as the OAuth server names it.
	badSecret = "bad_secret"
)

// NonceStore remembers the WS-Security nonces accepted, on every node.
type NonceStore interface {
	// UseNonce records key until expires. It returns ErrNonceUsed if key
	// was recorded before and has not expired.
	UseNonce(ctx context.Context, key string, expires time.Time) error
}

// Errors the interfaces above return.
var (
	// ErrInvalidToken is what a TokenVerifier returns for a token that
	// does not grant access.
	ErrInvalidToken = errors.New("invalid token")
	// ErrBadCredentials is what a ClientAuthenticator returns for an
	// unknown client or a wrong secret.
	ErrBadCredentials = errors.New("bad client credentials")
	// ErrNonceUsed is what a NonceStore returns for a nonce seen before.
	ErrNonceUsed = errors.New("nonce used before")
)

// ThrottledError is what a ClientAuthenticator returns for a caller that
// failed too often: it may try again after RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return fmt.Sprintf("throttled for %s", e.RetryAfter) }

// Protection is how sayHello is protected (sayhello.require_token).
type Protection struct {
	// Tokens checks bearer access tokens.
	Tokens TokenVerifier
	// Clients checks client ids and secrets (HTTP Basic, PasswordText)
	// and throttles every failed legacy authentication.
	Clients ClientAuthenticator
	// Nonces remembers WS-Security nonces.
	Nonces NonceStore
	// Legacy lists the registered clients and the legacy credentials each
	// may use instead of a token. Every configured client is listed, so
	// that metrics can name it; a client with no legacy credential allowed
	// uses tokens only.
	Legacy []LegacyClient
	// Scope is the scope sayHello needs (sayhello.scope); "" means
	// DefaultScope.
	Scope string
	// Realm names the protection space in challenges (RFC 9110 §11.5);
	// "" means DefaultRealm.
	Realm string
	// WSSEWindow is how old (or how far ahead of this clock) a
	// WS-Security Created may be; zero means DefaultWSSEWindow.
	WSSEWindow time.Duration
}

// Defaults of Protection.
const (
	DefaultScope      = "hello"
	DefaultRealm      = "hellogw"
	DefaultWSSEWindow = 5 * time.Minute
)

// WS-Security UsernameToken password types a client may be allowed.
const (
	WSSEText   = "text"   // PasswordText: the secret itself
	WSSEDigest = "digest" // PasswordDigest with Nonce and Created
)

// LegacyClient is a registered client and the legacy credentials it may
// present instead of a bearer token.
type LegacyClient struct {
	ID     string
	Scopes []string
	// Basic allows HTTP Basic with the client's id and secret.
	Basic bool
	// WSSE allows a WS-Security UsernameToken: "" (no), WSSEText or
	// WSSEDigest.
	WSSE string
	// DigestSecret is the clear secret a PasswordDigest is checked with;
	// required with WSSEDigest. It never comes from the store.
	DigestSecret string
	// SubjectDN allows a certificate with this subject DN, verified
	// against ClientCAs (RFC 8705 §2.1 PKI method). Both the RFC 4514
	// form and the openssl forms are accepted.
	SubjectDN string
	// Thumbprint allows the certificate whose DER has this SHA-256, in
	// hex (colons allowed) or base64url (RFC 8705 §2.2 self-signed).
	Thumbprint string
}

// protection is Protection as the gateway uses it.
type protection struct {
	Protection
	challenge  []string // the WWW-Authenticate values of a 401
	clients    map[string]*legacyClient
	byPrint    map[[32]byte]*legacyClient
	byDN       []*legacyClient
	proxies    []netip.Prefix
	certs      ClientCertVerifier               // nil: no certificate is accepted by DN
	subjects   *memo.Map[string, *legacyClient] // clientOfSubject's answers, by subject DER
	basicRealm bool
}

// maxSubjects bounds the subjects clientOfSubject remembers.
const maxSubjects = 4096

type legacyClient struct {
	LegacyClient
	dn DN
}

func newProtection(p *Protection, certs ClientCertVerifier, trustedProxies []string) (*protection, error) {
	if p.Tokens == nil || p.Clients == nil || p.Nonces == nil {
		return nil, errors.New("gateway: Protection needs Tokens, Clients and Nonces")
	}
	pr := &protection{Protection: *p, certs: certs, clients: map[string]*legacyClient{}, byPrint: map[[32]byte]*legacyClient{},
		subjects: memo.New[string, *legacyClient](maxSubjects)}
	if pr.Scope == "" {
		pr.Scope = DefaultScope
	}
	if pr.Realm == "" {
		pr.Realm = DefaultRealm
	}
	if pr.WSSEWindow <= 0 {
		pr.WSSEWindow = DefaultWSSEWindow
	}
	for _, lc := range p.Legacy {
		c := &legacyClient{LegacyClient: lc}
		if _, dup := pr.clients[lc.ID]; dup || lc.ID == "" {
			return nil, fmt.Errorf("gateway: legacy client %q: empty or listed twice", lc.ID)
		}
		pr.clients[lc.ID] = c
		pr.basicRealm = pr.basicRealm || lc.Basic
		switch lc.WSSE {
		case "", WSSEText:
		case WSSEDigest:
			if lc.DigestSecret == "" {
				return nil, fmt.Errorf("gateway: client %q: wsse digest needs the clear secret", lc.ID)
			}
		default:
			return nil, fmt.Errorf("gateway: client %q: wsse must be %s or %s, not %q", lc.ID, WSSEText, WSSEDigest, lc.WSSE)
		}
		if lc.Thumbprint != "" {
			sum, err := ParseThumbprint(lc.Thumbprint)
			if err != nil {
				return nil, fmt.Errorf("gateway: client %q: tls_thumbprint: %w", lc.ID, err)
			}
			if other := pr.byPrint[sum]; other != nil {
				return nil, fmt.Errorf("gateway: clients %q and %q have the same tls_thumbprint", other.ID, lc.ID)
			}
			pr.byPrint[sum] = c
		}
		if lc.SubjectDN != "" {
			dn, err := ParseDN(lc.SubjectDN)
			if err != nil {
				return nil, fmt.Errorf("gateway: client %q: tls_subject_dn: %w", lc.ID, err)
			}
			if certs == nil {
				return nil, fmt.Errorf("gateway: client %q: tls_subject_dn needs a client CA (-tls-client-ca)", lc.ID)
			}
			c.dn = dn
			pr.byDN = append(pr.byDN, c)
		}
	}
	for _, s := range trustedProxies {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("gateway: trusted proxy %q is neither an IP nor a CIDR", s)
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		pr.proxies = append(pr.proxies, pfx.Masked())
	}
	// RFC 6750 §3.1: no error code when the request had no credentials.
	// Perl's LWP and Python's urllib send Basic only after a challenge
	// offering it, so it is offered where a client may use it.
	pr.challenge = []string{`Bearer realm=` + strconv.Quote(pr.Realm)}
	if pr.basicRealm {
		pr.challenge = append(pr.challenge, `Basic realm=`+strconv.Quote(pr.Realm)+`, charset="UTF-8"`)
	}
	return pr, nil
}

// authState is how far a request's authentication got before its body was
// read: decided (a principal, or an error), or waiting for the envelope's
// WS-Security header.
type authState struct {
	decided bool
	p       Principal
	err     *Error
}

// authenticateHeaders authenticates what the HTTP request itself carries:
// an Authorization header decides; failing that a client certificate
// decides for JSON (soap false); otherwise a SOAP request waits for its
// envelope (authenticateEnvelope). It runs before the body is read, so a
// caller with a bad Authorization header costs little.
func (g *Gateway) authenticateHeaders(c *gin.Context, soap bool) authState {
	if g.prot == nil {
		return authState{decided: true, p: Principal{Method: MethodNone}}
	}
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, cred := SplitAuthorization(h)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			p, err := g.bearer(c, cred)
			return g.decide(c, p, err)
		case strings.EqualFold(scheme, "Basic"):
			p, err := g.basic(c, cred)
			return g.decide(c, p, err)
		}
		// Another scheme (Digest, Negotiate…) is no credential we know:
		// answered as none at all, with the challenges we accept.
	}
	if !soap {
		p, err := g.certificate(c)
		return g.decide(c, p, err)
	}
	return authState{}
}

// authenticateEnvelope finishes a SOAP request's authentication after its
// envelope was read: its UsernameToken if it has one, else its client
// certificate, else none.
func (g *Gateway) authenticateEnvelope(c *gin.Context, st authState, sec *securityHeader) authState {
	if st.decided {
		return st
	}
	if sec != nil {
		p, err := g.usernameToken(c, sec)
		return g.decide(c, p, err)
	}
	p, err := g.certificate(c)
	return g.decide(c, p, err)
}

// decide checks the authenticated caller's scope, and records who it is
// for the log and metrics.
func (g *Gateway) decide(c *gin.Context, p Principal, err *Error) authState {
	if err != nil {
		if err.Kind == KindUnauthorized && c.Writer.Header().Get("WWW-Authenticate") == "" {
			for _, ch := range g.prot.challenge {
				c.Writer.Header().Add("WWW-Authenticate", ch)
			}
		}
		return authState{decided: true, err: err}
	}
	noteCaller(c, p.ClientID, p.Method)
	// RFC 6750 §3.1: a token (or a legacy client) without the scope.
	if !slices.Contains(p.Scopes, g.prot.Scope) {
		c.Header("WWW-Authenticate", `Bearer realm=`+strconv.Quote(g.prot.Realm)+
			`, error="insufficient_scope", scope=`+strconv.Quote(g.prot.Scope))
		return authState{decided: true, p: p, err: Errorf(KindForbidden,
			"the caller is not allowed the scope %s that sayHello needs", g.prot.Scope)}
	}
	return authState{decided: true, p: p}
}

// errNoCredentials answers a request that proved nothing (RFC 6750 §3.1).
var errNoCredentials = &Error{Kind: KindUnauthorized,
	Message: "authentication is required: a bearer access token, or a legacy credential this client is allowed"}

// bearer checks an OAuth access token (RFC 6750 §2.1).
func (g *Gateway) bearer(c *gin.Context, token string) (Principal, *Error) {
	if token == "" {
		return Principal{}, g.invalidToken(c)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
	defer cancel()
	p, err := g.prot.Tokens.VerifyAccessToken(ctx, token)
	switch {
	case err == nil:
		p.Method = MethodBearer
		return p, nil
	case errors.Is(err, ErrInvalidToken):
		return Principal{}, g.invalidToken(c)
	}
	return Principal{}, g.storeFailed(c, err)
}

// invalidToken answers an unknown, expired or revoked token (RFC 6750
// §3.1), with the error code on the Bearer challenge.
func (g *Gateway) invalidToken(c *gin.Context) *Error {
	c.Header("WWW-Authenticate", `Bearer realm=`+strconv.Quote(g.prot.Realm)+`, error="invalid_token"`)
	if g.prot.basicRealm {
		c.Writer.Header().Add("WWW-Authenticate", g.prot.challenge[1])
	}
	return Errorf(KindUnauthorized, "the access token is not valid: it is unknown, expired or revoked")
}

func (g *Gateway) storeFailed(c *gin.Context, err error) *Error {
	g.log.ErrorContext(c, "authentication could not be checked", "request_id", requestIDOf(c), "err", err)
	return Errorf(KindUnavailable, "credentials cannot be checked right now")
}

// basic checks HTTP Basic credentials (RFC 7617) as a client id and
// secret, for clients allowed basic. Legacy clients send both raw, not
// form-urlencoded as RFC 6749 §2.3.1 has OAuth clients do.
func (g *Gateway) basic(c *gin.Context, cred string) (Principal, *Error) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	id, secret, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || id == "" || secret == "" {
		return g.refused(c, "", MethodBasic, refusedMalformed, nil, "the Basic credentials are malformed")
	}
	switch lc := g.prot.clients[id]; {
	case lc == nil:
		return g.refused(c, id, MethodBasic, refusedUnknownClient, nil, "these credentials are not accepted")
	case !lc.Basic:
		return g.refused(c, id, MethodBasic, refusedNotAllowed, nil, "these credentials are not accepted")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
	defer cancel()
	p, err := g.prot.Clients.AuthenticateClient(ctx, id, secret, c.ClientIP())
	return g.clientResult(c, id, p, err, MethodBasic, badSecret, nil, "these credentials are not accepted")
}

// refused counts a credential that is refused before any secret is
// checked (malformed, expired, or not allowed for the client) as a failed
// attempt for reason (RFC 6749 §2.3.1: guesses of any form are throttled),
// and answers it.
func (g *Gateway) refused(c *gin.Context, id, method, reason string, sec *Error, msg string) (Principal, *Error) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
	defer cancel()
	err := g.prot.Clients.RefuseClient(ctx, id, c.ClientIP(), reason)
	if err == nil { // a refusal never passes
		err = ErrBadCredentials
	}
	return g.clientResult(c, id, Principal{}, err, method, reason, sec, msg)
}

// clientResult turns what a ClientAuthenticator said into a principal or
// the answer: 401 (with the WS-Security fault code sec for a
// UsernameToken; reason, for the log, says why), 429 when throttled, 503
// when the store failed.
func (g *Gateway) clientResult(c *gin.Context, id string, p Principal, err error, method, reason string, sec *Error, msg string) (Principal, *Error) {
	var throttled *ThrottledError
	switch {
	case err == nil:
		p.Method = method
		return p, nil
	case errors.As(err, &throttled):
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(throttled.RetryAfter.Seconds()))))) // RFC 9110 §10.2.3
		e := Errorf(KindThrottled, "too many failed authentication attempts; retry later")
		if sec != nil {
			e.Subcode = sec.Subcode
		}
		return Principal{}, e
	case errors.Is(err, ErrBadCredentials):
		g.log.WarnContext(c, "authentication failed", "request_id", requestIDOf(c),
			"method", method, "client_known", g.prot.clients[id] != nil, "remote", c.ClientIP(), "reason", reason)
		if sec != nil {
			return Principal{}, sec
		}
		return Principal{}, Errorf(KindUnauthorized, "%s", msg)
	}
	return Principal{}, g.storeFailed(c, err)
}

// clientLabels are the client ids metrics may name: the configured ones.
func (g *Gateway) clientLabels() map[string]bool {
	ids := map[string]bool{}
	if g.prot != nil {
		for id := range g.prot.clients {
			ids[id] = true
		}
	}
	return ids
}

// SplitAuthorization returns an Authorization header value's scheme and
// its credentials, spaces around them trimmed (RFC 9110 §11.6.2). The
// scheme is to be compared without regard to case (§11.1).
func SplitAuthorization(h string) (scheme, credentials string) {
	scheme, credentials, _ = strings.Cut(h, " ")
	return scheme, strings.TrimSpace(credentials)
}
