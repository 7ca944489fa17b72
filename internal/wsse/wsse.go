// Package wsse holds what hellogw knows of OASIS Web Services Security 1.1
// (WS-Security): the namespaces, the UsernameToken Profile 1.1 (its password
// types and the PasswordDigest formula), the §12 fault codes, and a builder
// for the UsernameToken header a SOAP client sends. The gateway checks the
// tokens legacy clients send; the SOAP upstream backend sends them.
//
// Specifications:
//   - WS-Security 1.1 (SOAP Message Security): https://docs.oasis-open.org/wss-m/wss/v1.1.1/os/wss-SOAPMessageSecurity-v1.1.1-os.html
//   - UsernameToken Profile 1.1: https://docs.oasis-open.org/wss-m/wss/v1.1.1/os/wss-UsernameTokenProfile-v1.1.1-os.html
package wsse

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- the UsernameToken Profile §3.1 fixes SHA-1
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Namespaces and URIs of WS-Security 1.0/1.1. Version 1.1 kept the 1.0
// namespaces for everything a UsernameToken uses.
const (
	// NS is the wsse namespace: Security, UsernameToken, Username,
	// Password, Nonce, and the §12 fault codes.
	NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	// NSUtility is the wsu namespace: Created, Timestamp.
	NSUtility = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	profile = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
	// PasswordText and PasswordDigest are the Password/@Type values of the
	// UsernameToken Profile §3.1; a Password without a Type is text.
	PasswordText   = profile + "#PasswordText"
	PasswordDigest = profile + "#PasswordDigest"
	// Base64Binary is the Nonce/@EncodingType (SOAP Message Security §3.2);
	// a Nonce without one is base64 too.
	Base64Binary = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Fault is a WS-Security fault code (SOAP Message Security 1.1 §12): a
// local name in namespace NS, and the reason the specification gives.
type Fault struct {
	Code   string
	Reason string
}

func (f *Fault) Error() string { return "wsse:" + f.Code + ": " + f.Reason }

// The §12 fault codes a UsernameToken check can end in. "Unsupported"
// errors use the first two, "failure" errors the rest.
var (
	ErrUnsupportedSecurityToken = &Fault{"UnsupportedSecurityToken", "An unsupported token was provided"}
	ErrInvalidSecurity          = &Fault{"InvalidSecurity", "An error was discovered processing the <wsse:Security> header"}
	ErrInvalidSecurityToken     = &Fault{"InvalidSecurityToken", "An invalid security token was provided"}
	ErrFailedAuthentication     = &Fault{"FailedAuthentication", "The security token could not be authenticated or authorized"}
	ErrMessageExpired           = &Fault{"MessageExpired", "The message has expired"}
)

// Digest is the PasswordDigest of the UsernameToken Profile 1.1 §3.1:
// Base64(SHA-1(nonce + created + password)), with the nonce decoded from
// its base64 and created exactly as the token's Created text.
func Digest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// UsernameToken is a wsse:UsernameToken (UsernameToken Profile 1.1 §3).
type UsernameToken struct {
	Username string
	// Password is the Password element's text: the secret itself for
	// PasswordText, its Digest for PasswordDigest.
	Password string
	// Digest says the Password is a PasswordDigest.
	Digest bool
	// Nonce is the decoded Nonce; nil when the token has none.
	Nonce []byte
	// Created is the wsu:Created (or wsse:Created) text as sent, "" when
	// absent: the digest is over these exact characters.
	Created string
}

// NewUsernameToken returns a token for username and secret, created now
// with a fresh 16-byte nonce; with digest its Password is the Digest.
func NewUsernameToken(username, secret string, digest bool, now time.Time) UsernameToken {
	t := UsernameToken{Username: username, Password: secret, Digest: digest,
		Nonce: make([]byte, 16), Created: now.UTC().Format("2006-01-02T15:04:05.000Z")}
	_, _ = rand.Read(t.Nonce) // crypto/rand.Read never fails (Go 1.24+)
	if digest {
		t.Password = Digest(t.Nonce, t.Created, secret)
	}
	return t
}

// AppendSecurityHeader appends a whole wsse:Security header block holding
// the token. With envPrefix, the prefix the enclosing envelope binds to its
// SOAP namespace, the block is marked envPrefix:mustUnderstand="1", as
// WSS4J and WCF send it; with "" it is not marked.
func (t UsernameToken) AppendSecurityHeader(b *bytes.Buffer, envPrefix string) {
	b.WriteString(`<wsse:Security xmlns:wsse="` + NS + `" xmlns:wsu="` + NSUtility + `"`)
	if envPrefix != "" {
		b.WriteString(` ` + envPrefix + `:mustUnderstand="1"`)
	}
	b.WriteString(`><wsse:UsernameToken><wsse:Username>`)
	_ = xml.EscapeText(b, []byte(t.Username)) // a bytes.Buffer never fails
	typ := PasswordText
	if t.Digest {
		typ = PasswordDigest
	}
	b.WriteString(`</wsse:Username><wsse:Password Type="` + typ + `">`)
	_ = xml.EscapeText(b, []byte(t.Password))
	b.WriteString(`</wsse:Password>`)
	if t.Nonce != nil {
		b.WriteString(`<wsse:Nonce EncodingType="` + Base64Binary + `">`)
		b.WriteString(base64.StdEncoding.EncodeToString(t.Nonce))
		b.WriteString(`</wsse:Nonce>`)
	}
	if t.Created != "" {
		b.WriteString(`<wsu:Created>`)
		_ = xml.EscapeText(b, []byte(t.Created))
		b.WriteString(`</wsu:Created>`)
	}
	b.WriteString(`</wsse:UsernameToken></wsse:Security>`)
}

// CheckFresh checks Created against now (UsernameToken Profile 1.1 §4:
// a receiver rejects tokens older than its freshness window). A token
// created more than window ago, or more than window ahead (clock skew),
// is ErrMessageExpired; an unreadable Created is ErrInvalidSecurityToken.
// A token without Created passes: PasswordText needs none.
func (t UsernameToken) CheckFresh(now time.Time, window time.Duration) error {
	if t.Created == "" {
		return nil
	}
	created, err := ParseCreated(t.Created)
	if err != nil {
		return err
	}
	if d := now.Sub(created); d > window || d < -window {
		return ErrMessageExpired
	}
	return nil
}

// ParseCreated reads an xsd:dateTime as WS-Security uses it (SOAP Message
// Security §10: UTC, "Z" recommended; a numeric offset is accepted, as
// are fractions of a second). Without a zone it is ErrInvalidSecurityToken:
// the time it names is unknown.
func ParseCreated(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: Created is not a dateTime with a time zone", ErrInvalidSecurityToken)
	}
	return t, nil
}

// Matches reports whether the token proves knowledge of secret: for
// PasswordText the Password is the secret, for PasswordDigest its Digest
// with the token's Nonce and Created. Both compare in constant time.
func (t UsernameToken) Matches(secret string) bool {
	want := secret
	if t.Digest {
		want = Digest(t.Nonce, t.Created, secret)
	}
	return subtle.ConstantTimeCompare([]byte(t.Password), []byte(want)) == 1
}

// DecodeNonce decodes a Nonce's text by its EncodingType: Base64Binary
// (or none, which means the same). Other encodings are
// ErrUnsupportedSecurityToken; bad base64 ErrInvalidSecurityToken.
func DecodeNonce(text, encodingType string) ([]byte, error) {
	if encodingType != "" && encodingType != Base64Binary {
		return nil, fmt.Errorf("%w: Nonce encoding is not Base64Binary", ErrUnsupportedSecurityToken)
	}
	n, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(n) == 0 {
		return nil, fmt.Errorf("%w: Nonce is not base64", ErrInvalidSecurityToken)
	}
	return n, nil
}

// AsFault returns the §12 fault err is or wraps, or nil.
func AsFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	return nil
}
