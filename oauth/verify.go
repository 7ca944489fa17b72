package oauth

import (
	"context"
	"errors"
	"fmt"
)

// VerifyAccessToken checks a bearer token (RFC 6750 §2.1) presented to a
// protected resource. It returns nil for an active access token, an error
// wrapping ErrInvalidToken for a missing, unknown, expired or revoked one, or
// one that today's config no longer allows (grants.go), and
// any other error if the store failed.
func (s *Server) VerifyAccessToken(ctx context.Context, token string) error {
	_, err := s.AccessToken(ctx, token)
	return err
}

// AccessToken is VerifyAccessToken for a resource that needs to know whose
// the token is: it returns the stored record (client, user, scopes) of an
// active access token.
func (s *Server) AccessToken(ctx context.Context, token string) (*Token, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: missing", ErrInvalidToken)
	}
	rec, err := s.store.GetToken(ctx, hashToken(token))
	switch {
	case errors.Is(err, ErrNotFound), err == nil && rec.Kind != AccessToken:
		return nil, fmt.Errorf("%w: unknown", ErrInvalidToken)
	case err != nil:
		return nil, fmt.Errorf("verify access token: %w", err)
	case rec.Revoked:
		return nil, fmt.Errorf("%w: revoked", ErrInvalidToken)
	case !s.now().Before(rec.ExpiresAt):
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	case !s.tokenAllowed(rec):
		return nil, fmt.Errorf("%w: no longer allowed by the config", ErrInvalidToken)
	}
	return rec, nil
}
