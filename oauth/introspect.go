package oauth

import (
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
func (s *Server) introspect(c *gin.Context) {
	form, ferr := parseForm(c, append([]string{"token", "token_type_hint"}, clientParams...)...)
	if ferr != nil {
		writeError(c, ferr)
		return
	}
	cl, ok := s.authenticateClient(c, form, "introspect")
	if !ok {
		return
	}
	value := form.Get("token")
	if value == "" {
		writeError(c, ErrInvalidRequest.WithDescription("The token parameter is required."))
		return
	}
	noStore(c)
	rec, err := s.store.GetToken(c.Request.Context(), hashToken(value))
	if err != nil || rec.ClientID != cl.id || rec.Revoked || rec.Used || !s.now().Before(rec.ExpiresAt) {
		if err != nil {
			s.log.Debug("oauth introspect: inactive", "client_id", cl.id, "err", err)
		}
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
