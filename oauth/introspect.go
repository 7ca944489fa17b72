package oauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// introspection is the answer of RFC 7662 §2.2.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Iss       string `json:"iss,omitempty"`
}

// introspect is the introspection endpoint of RFC 7662 §2.1. A client learns
// only about its own tokens; any other token, like an unknown, expired or
// revoked one, is {"active":false} (§2.2, and §4 against token scanning).
// A client with introspect_all, a resource server, also learns about other
// clients' access tokens, never their refresh tokens.
func (s *Server) introspect(c *gin.Context) {
	cl, form, ok := s.tokenManagementRequest(c, "introspect")
	if !ok {
		return
	}
	rec, err := s.store.GetToken(c.Request.Context(), hashToken(form.Get("token")))
	if err != nil && !errors.Is(err, ErrNotFound) {
		// A store failure is not "inactive": the caller would take a
		// valid token for a revoked one.
		s.log.Error("oauth introspect", "client_id", cl.id, "err", err)
		writeError(c, ErrServerError)
		return
	}
	noStore(c)
	if err != nil || rec.ClientID != cl.id && !(cl.introspectAll && rec.Kind == AccessToken) || rec.Revoked || rec.Used || !s.now().Before(rec.ExpiresAt) || !s.tokenAllowed(rec) {
		c.JSON(http.StatusOK, introspection{Active: false})
		return
	}
	resp := introspection{
		Active: true, Scope: strings.Join(rec.Scopes, " "), ClientID: rec.ClientID,
		Username: rec.Subject, Sub: rec.Subject, Exp: rec.ExpiresAt.Unix(), Iat: rec.IssuedAt.Unix(),
		Iss: s.issuerURL(c),
	}
	if rec.Kind == AccessToken {
		resp.TokenType = "Bearer"
	}
	c.JSON(http.StatusOK, resp)
}
