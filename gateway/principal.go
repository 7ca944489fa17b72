package gateway

import "context"

// Authentication methods, as logs and the method label of
// hellogw_requests_total name them.
const (
	MethodNone   = "none"
	MethodBearer = "bearer"
	MethodBasic  = "basic"
	MethodWSSE   = "wsse"
	MethodMTLS   = "mtls"
)

// Principal is who a caller proved to be: a registered client (and, for a
// token of the authorization code grant, the user who approved it).
type Principal struct {
	ClientID string
	Subject  string // the user, for a token issued to one; "" otherwise
	Scopes   []string
	Method   string // MethodBearer, MethodBasic, …
}

// principalKey carries the caller's Principal in a call's context.
type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries who the caller is.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns who the caller of a sayHello call is, for backends
// that present an identity upstream; ok is false when sayHello is not
// protected (no caller was authenticated).
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
