package gateway

import (
	"encoding/xml"
	"errors"
	"fmt"
)

// Kind classifies an Error. Each codec turns a Kind into its own wire form:
// a SOAP fault code, or a problem+json status.
type Kind int

// The kinds of error a sayHello call can end in.
const (
	KindInternal         Kind = iota // a failure on the gateway side
	KindInvalid                      // the caller's input is wrong
	KindTooLarge                     // the request body is over the limit
	KindUnsupportedType              // a content type or encoding we do not read
	KindUnauthorized                 // no credentials, or credentials not accepted
	KindMustUnderstand               // a mandatory SOAP header we do not understand
	KindVersionMismatch              // an envelope of no SOAP version we speak
	KindBadGateway                   // an upstream answered with something unusable
	KindTimeout                      // an upstream did not answer in time
	KindUnavailable                  // a dependency is down
	KindNotFound                     // no route for the request
	KindMethodNotAllowed             // a route, but not for this method
	KindForbidden                    // an authenticated caller without the scope
	KindThrottled                    // too many failed authentication attempts
	KindConflict                     // a request the target's current state refuses (admin routes)
	KindMisdirected                  // a request for a host this listener does not serve (the admin listener)
)

var kindNames = [...]string{
	KindInternal:         "internal",
	KindInvalid:          "invalid",
	KindTooLarge:         "too_large",
	KindUnsupportedType:  "unsupported_type",
	KindUnauthorized:     "unauthorized",
	KindMustUnderstand:   "must_understand",
	KindVersionMismatch:  "version_mismatch",
	KindBadGateway:       "bad_gateway",
	KindTimeout:          "timeout",
	KindUnavailable:      "unavailable",
	KindNotFound:         "not_found",
	KindMethodNotAllowed: "method_not_allowed",
	KindForbidden:        "forbidden",
	KindThrottled:        "throttled",
	KindConflict:         "conflict",
	KindMisdirected:      "misdirected",
}

// String names the kind as it appears in logs and metric labels.
func (k Kind) String() string { return kindNames[k] }

// clientFault reports whether the caller, not the gateway, is to blame.
func (k Kind) clientFault() bool {
	switch k {
	case KindInvalid, KindTooLarge, KindUnsupportedType, KindUnauthorized, KindMustUnderstand, KindVersionMismatch,
		KindNotFound, KindMethodNotAllowed, KindForbidden, KindThrottled, KindConflict, KindMisdirected:
		return true
	}
	return false
}

// Error is the one error type of a sayHello call, whichever component
// raised it: the core, a backend or a codec. Its Message is safe to show
// the caller; it never holds a secret or the caller's input.
type Error struct {
	Kind    Kind
	Message string
	// Subcode is a WS-Security 1.1 §12 fault code (a local name in
	// namespace wsse.NS), or "": SOAP faults carry it as their code
	// (SOAP 1.1) or subcode (SOAP 1.2).
	Subcode string
	// NotUnderstood names the mandatory header blocks a KindMustUnderstand
	// error is about, each once; SOAP 1.2 faults list them (part 1 §5.4.8).
	NotUnderstood []xml.Name
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind, for the gateway and for the
// backends behind it.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error; any other error becomes KindInternal
// with a message that reveals nothing of the gateway's insides.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Message: "internal error"}
}
