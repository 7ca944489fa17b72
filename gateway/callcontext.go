package gateway

import "context"

// requestIDKey carries the request id in a call's context.
type requestIDKey struct{}

// RequestIDFrom returns the id of the request a sayHello call serves, for
// backends to pass upstream; "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// authorizationKey carries the caller's Authorization header in a call's
// context.
type authorizationKey struct{}

// WithAuthorization returns a copy of ctx that carries the caller's
// Authorization header. A backend gets only a context.Context from the
// codecs (the gen.Hello_PortType signature), and passes a bearer token in
// it upstream only when configured to (UpstreamIdentity); the request id
// travels the same way (RequestIDFrom).
func WithAuthorization(ctx context.Context, authorization string) context.Context {
	return context.WithValue(ctx, authorizationKey{}, authorization)
}

// AuthorizationFrom returns what WithAuthorization put into ctx, or "".
func AuthorizationFrom(ctx context.Context) string {
	auth, _ := ctx.Value(authorizationKey{}).(string)
	return auth
}
