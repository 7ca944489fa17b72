package gateway

import (
	"context"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"
)

// TokenVerifier checks OAuth bearer access tokens for sayHello. The OAuth
// server satisfies it (through main, so that neither package imports the
// other).
type TokenVerifier interface {
	// VerifyAccessToken returns nil for a valid access token, an error
	// wrapping ErrInvalidToken for a missing, unknown, expired or revoked
	// one, and any other error when it cannot tell (its store is down).
	VerifyAccessToken(ctx context.Context, token string) error
}

// ErrInvalidToken is what a TokenVerifier returns for a token that does not
// grant access.
var ErrInvalidToken = errors.New("invalid token")

// wwwAuthenticate is the challenge of every 401 (RFC 6750 §3).
const wwwAuthenticate = `Bearer error="invalid_token"`

// checkBearer enforces sayhello.require_token: an Authorization header
// with a valid bearer token (RFC 6750 §2.1). It is called before the body
// is read, so an unauthenticated caller costs little.
func (g *Gateway) checkBearer(c *gin.Context) *Error {
	if g.tokens == nil {
		return nil
	}
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.Header("WWW-Authenticate", wwwAuthenticate)
		return errorf(KindUnauthorized, "a bearer access token is required (Authorization: Bearer …)")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
	defer cancel()
	err := g.tokens.VerifyAccessToken(ctx, token)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalidToken):
		c.Header("WWW-Authenticate", wwwAuthenticate)
		return errorf(KindUnauthorized, "the access token is not valid: it is unknown, expired or revoked")
	default:
		g.log.ErrorContext(c, "token verification failed", "request_id", c.GetString(keyRequestID), "err", err)
		return errorf(KindUnavailable, "access tokens cannot be checked right now")
	}
}
