package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// clientParams are the client authentication parameters of RFC 6749 §2.3.1.
var clientParams = []string{"client_id", "client_secret"}

// ClientInfo is what a caller of AuthenticateClient learns of the client.
type ClientInfo struct {
	ID     string
	Scopes []string // the scopes the client may be granted today
}

// AuthenticateClient implements client password authentication (RFC 6749
// §2.3.1) for callers outside this package, such as the gateway's legacy HTTP
// Basic and WS-Security UsernameToken credentials: the same check, counted and
// throttled in the same budgets as the token, revocation and introspection
// endpoints. remoteAddr is the caller's IP address. It returns
// ErrInvalidClient if the id is unknown or the secret wrong, a
// *ThrottledError (errors.Is ErrTooManyAttempts) if the attempt was refused
// unchecked, the context's error, or a store error.
func (s *Server) AuthenticateClient(ctx context.Context, id, secret, remoteAddr string) (ClientInfo, error) {
	if id == "" || secret == "" {
		s.metrics.authFailure.WithLabelValues("gateway", "malformed").Inc()
		return ClientInfo{}, ErrInvalidClient
	}
	cl, err := s.authenticate(ctx, "gateway", []string{id}, []string{secret}, remoteAddr, nil, "")
	if err != nil {
		return ClientInfo{}, err
	}
	return ClientInfo{ID: cl.id, Scopes: slices.Clone(cl.scopes)}, nil
}

// authenticate is the one client authentication check: the attempt is
// counted and throttled (throttle.go) before any secret is checked. ids and
// secrets are candidate spellings of one credential (see clientCredentials);
// or, with proof, the credential is a proof of the secret that proof checks
// (AuthenticateClientProof); or, with refusal, the credential was refused
// before any check, for that reason (RefuseClient). endpoint labels the
// metrics and the log.
func (s *Server) authenticate(ctx context.Context, endpoint string, ids, secrets []string, remoteAddr string, proof func() bool, refusal string) (*client, error) {
	var cl *client
	for _, id := range ids {
		if cl = s.clients[id]; cl != nil {
			break
		}
	}
	account := ids[0]
	if cl != nil {
		account = cl.id
	}
	// A secret verified before is checked under the throttle's lock
	// (throttle.begin's quick check), which spares the store a write.
	var quick, check func() bool
	switch {
	case cl == nil, refusal != "":
	case proof != nil:
		quick, check = proof, proof
	default:
		quick = func() bool { return s.secrets.cached(cl.id, secrets...) }
		check = func() bool { return s.secrets.verify(cl.id, cl.secretHash, secrets...) }
	}
	att, passed, err := s.throttle.begin(ctx, "client", remoteAddr, account, quick)
	switch {
	case errors.Is(err, ErrTooManyAttempts):
		s.metrics.authFailure.WithLabelValues(endpoint, "throttled").Inc()
		return nil, err
	case err != nil:
		return nil, err
	case passed:
		return cl, nil
	}
	if check != nil && check() {
		if err := att.succeeded(ctx); err != nil {
			return nil, err
		}
		return cl, nil
	}
	reason := refusal
	switch {
	case reason != "":
	case cl == nil:
		reason = "unknown_client"
	default:
		reason = "bad_secret"
	}
	s.metrics.authFailure.WithLabelValues(endpoint, reason).Inc()
	s.log.Warn("oauth client authentication failed", "endpoint", endpoint, "reason", reason, "client_known", cl != nil, "remote", remoteAddr)
	return nil, ErrInvalidClient
}

// authenticateClient authenticates the client of a token, revocation or
// introspection request (RFC 6749 §2.3.1). It runs before any code or token
// in the request is looked at, so a failed attempt never burns one. On
// failure the answer is already written.
//
// Accepted: HTTP Basic with form-urlencoded id and secret (as RFC 6749 §2.3.1
// says and golang.org/x/oauth2 sends), HTTP Basic with raw ones (as many
// generated SDKs send), or client_id and client_secret in the body. Using both
// Basic and client_secret is invalid_request (RFC 6749 §2.3: "MUST NOT use
// more than one authentication method").
func (s *Server) authenticateClient(c *gin.Context, form url.Values, endpoint string) (*client, bool) {
	ids, secrets, authErr := clientCredentials(c, form)
	if authErr != nil {
		if authErr.Status == http.StatusUnauthorized {
			s.metrics.authFailure.WithLabelValues(endpoint, "malformed").Inc()
		}
		writeError(c, authErr)
		return nil, false
	}
	cl, err := s.authenticate(c.Request.Context(), endpoint, ids, secrets, c.ClientIP(), nil, "")
	var throttled *ThrottledError
	switch {
	case err == nil:
		return cl, true
	case errors.As(err, &throttled):
		c.Header("Retry-After", throttled.RetryAfterSeconds())
		writeError(c, ErrTooManyAttempts)
	case errors.Is(err, ErrInvalidClient):
		writeError(c, ErrInvalidClient)
	default:
		s.log.Error("oauth client authentication", "endpoint", endpoint, "err", err)
		writeError(c, ErrServerError)
	}
	return nil, false
}

// allows reports whether the client may use the grant type (Client.GrantTypes).
func (cl *client) allows(grantType string) bool { return slices.Contains(cl.grantTypes, grantType) }

// scopesFor returns the scopes a request of the client for the scope
// parameter raw gets (RFC 6749 §3.3): without one, the client's registered
// scopes; else the requested ones (parseScope), each of which the client
// must have.
func (cl *client) scopesFor(raw string) ([]string, *RFC6749Error) {
	if raw == "" {
		return cl.scopes, nil
	}
	scopes, err := parseScope(raw)
	if err != nil {
		return nil, err
	}
	if err := withinScopes(scopes, cl.scopes, "A requested scope is not available to this client."); err != nil {
		return nil, err
	}
	return scopes, nil
}

// clientCredentials extracts the candidate client ids and secrets from the
// request: for Basic, the form-decoded value first, then the raw one if it
// differs.
func clientCredentials(c *gin.Context, form url.Values) (ids, secrets []string, _ *RFC6749Error) {
	header := c.GetHeader("Authorization")
	if header == "" {
		id, secret := form.Get("client_id"), form.Get("client_secret")
		if id == "" || secret == "" {
			return nil, nil, ErrInvalidClient.WithDescription("Client authentication is required: HTTP Basic or client_id and client_secret.")
		}
		return []string{id}, []string{secret}, nil
	}
	scheme, payload, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil, nil, ErrInvalidClient.WithDescription("Only HTTP Basic client authentication is supported in the Authorization header.")
	}
	if form.Get("client_secret") != "" {
		return nil, nil, ErrInvalidRequest.WithDescription("The client used more than one authentication method.")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return nil, nil, ErrInvalidClient.WithDescription("The Basic credentials are not valid base64.")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok || rawID == "" {
		return nil, nil, ErrInvalidClient.WithDescription("The Basic credentials have no client id.")
	}
	ids, secrets = alsoDecoded(rawID), alsoDecoded(rawSecret)
	if bodyID := form.Get("client_id"); bodyID != "" && !slices.Contains(ids, bodyID) {
		return nil, nil, ErrInvalidClient.WithDescription("The client_id in the body does not match the Basic credentials.")
	}
	return ids, secrets, nil
}

// alsoDecoded returns the form-decoded value of raw and then raw itself, if
// they differ.
func alsoDecoded(raw string) []string {
	if v, err := url.QueryUnescape(raw); err == nil && v != raw {
		return []string{v, raw}
	}
	return []string{raw}
}
