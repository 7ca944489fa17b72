package gateway

import "context"

// Call is what a backend may know of the sayHello call it serves, beyond
// the name: the codecs hand a backend only a context.Context (the
// gen.Hello_PortType signature), and the gateway puts one Call into it, one
// context value per call rather than one per fact.
type Call struct {
	RequestID  string // the request's id (X-Request-Id), for upstream calls and logs
	Wire       string // the wire format the caller spoke: "soap11", "soap12" or "json", as in logs and metrics
	RemoteAddr string // the caller's address: gin's ClientIP when proxies are trusted, else the connection's
	// Principal is who the caller proved to be; zero when not Authenticated.
	Principal Principal
	// Authenticated is true when sayHello is protected, so that every call
	// that reaches a backend has proved who it is.
	Authenticated bool

	// authorization is the caller's Authorization header, when the backend
	// may pass it on (WithAuthorization). Unexported so that a Call logged
	// or recorded never carries a credential.
	authorization string
}

// callKey carries the Call in a call's context.
type callKey struct{}

// WithCall returns a copy of ctx that carries call, for the gateway's
// codecs and for anything that calls a backend outside of them (a test, a
// shadow comparison) with the context a real call would have.
func WithCall(ctx context.Context, call Call) context.Context {
	return context.WithValue(ctx, callKey{}, call)
}

// CallFrom returns the Call in ctx; ok is false outside a sayHello call.
func CallFrom(ctx context.Context) (call Call, ok bool) {
	call, ok = ctx.Value(callKey{}).(Call)
	return call, ok
}

// RequestIDFrom returns the id of the request a sayHello call serves, for
// backends to pass upstream; "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	call, _ := CallFrom(ctx)
	return call.RequestID
}

// WithAuthorization returns a copy of ctx whose Call carries the caller's
// Authorization header. A backend passes a bearer token in it upstream
// only when configured to (migrate.UpstreamIdentity).
func WithAuthorization(ctx context.Context, authorization string) context.Context {
	call, _ := CallFrom(ctx)
	call.authorization = authorization
	return WithCall(ctx, call)
}

// AuthorizationFrom returns what WithAuthorization put into ctx, or "".
func AuthorizationFrom(ctx context.Context) string {
	call, _ := CallFrom(ctx)
	return call.authorization
}
