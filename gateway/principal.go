package gateway

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
