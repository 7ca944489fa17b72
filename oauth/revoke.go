package oauth

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// revoke is the revocation endpoint of RFC 7009 §2.1. Revoking a refresh
// token revokes its whole chain, access tokens included ("SHOULD also
// invalidate all access tokens based on the same authorization grant");
// revoking an access token revokes only that token.
func (s *Server) revoke(c *gin.Context) {
	cl, form, ok := s.tokenManagementRequest(c, "revoke")
	if !ok {
		return
	}
	// The token is found by its hash whatever its type, so token_type_hint,
	// known or not, needs no other search (§2.1: "If the server is unable to
	// locate the token using the given hint, it MUST extend its search across
	// all of its supported token types"). Both types are revocable, so
	// unsupported_token_type (§2.2.1) never applies.
	ctx := c.Request.Context()
	rec, err := s.store.GetToken(ctx, hashToken(form.Get("token")))
	switch {
	case errors.Is(err, ErrNotFound):
		// §2.2: "invalid tokens do not cause an error response".
		noStore(c)
		c.Status(http.StatusOK)
		return
	case err != nil:
		s.log.Error("oauth revoke", "client_id", cl.id, "err", err)
		writeError(c, ErrServerError)
		return
	case rec.ClientID != cl.id:
		// §2.1: the server "verifies whether the token was issued to the client
		// making the revocation request. If this validation fails, the
		// request is refused".
		writeError(c, ErrUnauthorizedClient.WithDescription("The token was issued to another client."))
		return
	}
	if rec.Kind == RefreshToken {
		err = s.store.RevokeChain(ctx, rec.ChainID)
	} else {
		err = s.store.RevokeToken(ctx, rec.Hash)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.Error("oauth revoke", "client_id", cl.id, "err", err)
		writeError(c, ErrServerError)
		return
	}
	noStore(c)
	c.Status(http.StatusOK)
}

// tokenManagementRequest reads what revocation (RFC 7009 §2.1) and
// introspection (RFC 7662 §2.1) share: a form with a token and an optional
// token_type_hint, from an authenticated client. It has answered the
// request when ok is false.
func (s *Server) tokenManagementRequest(c *gin.Context, endpoint string) (cl *client, form url.Values, ok bool) {
	form, ferr := parseForm(c, append([]string{"token", "token_type_hint"}, clientParams...)...)
	if ferr != nil {
		writeError(c, ferr)
		return nil, nil, false
	}
	if cl, ok = s.authenticateClient(c, form, endpoint); !ok {
		return nil, nil, false
	}
	if form.Get("token") == "" {
		writeError(c, ErrInvalidRequest.WithDescription("The token parameter is required."))
		return nil, nil, false
	}
	return cl, form, true
}
