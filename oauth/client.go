package oauth

import (
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// clientParams are the client authentication parameters of RFC 6749 §2.3.1.
var clientParams = []string{"client_id", "client_secret"}

// authenticateClient implements client password authentication, RFC 6749
// §2.3.1, for the token, revocation and introspection endpoints. It runs
// before any code or token in the request is looked at, so a failed attempt
// never burns one. On failure the answer is already written.
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
	var cl *client
	for _, id := range ids {
		if cl = s.clients[id]; cl != nil {
			break
		}
	}
	keys := []string{"addr:" + c.ClientIP()}
	if cl != nil {
		keys = append(keys, "client:"+cl.id)
	}
	if wait := s.throttle.retryAfter(keys...); wait > 0 {
		s.metrics.authFailure.WithLabelValues(endpoint, "throttled").Inc()
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(c, ErrTooManyAttempts)
		return nil, false
	}
	if cl != nil && s.secrets.verify(cl.id, cl.secretHash, secrets...) {
		return cl, true
	}
	reason := "bad_secret"
	if cl == nil {
		reason = "unknown_client"
	}
	s.throttle.fail(keys...)
	s.metrics.authFailure.WithLabelValues(endpoint, reason).Inc()
	s.log.Warn("oauth client authentication failed", "endpoint", endpoint, "reason", reason, "client_known", cl != nil, "remote", c.ClientIP())
	writeError(c, ErrInvalidClient)
	return nil, false
}

// allows reports whether the client may use the grant type (Client.GrantTypes).
func (cl *client) allows(grantType string) bool { return slices.Contains(cl.grantTypes, grantType) }

// scopesFor returns the scopes a request of the client for the scope
// parameter raw gets (RFC 6749 §3.3): without one, the client's registered
// scopes; else the requested ones, each of which the client must have.
func (cl *client) scopesFor(raw string) ([]string, *RFC6749Error) {
	if raw == "" {
		return cl.scopes, nil
	}
	var scopes []string
	for _, sc := range strings.Fields(raw) {
		if !slices.Contains(cl.scopes, sc) {
			return nil, ErrInvalidScope.WithDescription("The scope " + sc + " is not available to this client.")
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
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
