package oauth

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// clientCredentials implements the client credentials grant, RFC 6749 §4.4:
// the authenticated client gets an access token for itself, with the scope
// it asks for out of its registered scopes (§4.4.2, §3.3), and no refresh
// token (§4.4.3: "A refresh token SHOULD NOT be included").
func (s *Server) clientCredentials(ctx context.Context, cl *client, form url.Values) (*tokenResponse, error) {
	scopes, err := cl.scopesFor(form.Get("scope"))
	if err != nil {
		return nil, err
	}
	value, access := s.newClientToken(cl, scopes)
	if err := s.store.CreateToken(ctx, access); err != nil {
		return nil, err
	}
	return &tokenResponse{
		AccessToken: value, TokenType: "Bearer",
		ExpiresIn: int64(s.ttl.AccessTTL / time.Second), Scope: strings.Join(scopes, " "),
		Expiry: access.ExpiresAt.Unix(),
	}, nil
}

// newClientToken makes an access token of cl for itself: no user, a chain
// of its own.
func (s *Server) newClientToken(cl *client, scopes []string) (string, *Token) {
	value, now := randomToken(), s.now()
	return value, &Token{
		Hash: hashToken(value), Kind: AccessToken, ChainID: randomToken(), ClientID: cl.id,
		Scopes: scopes, IssuedAt: now, ExpiresAt: now.Add(s.ttl.AccessTTL),
	}
}

// IssueClientToken issues what a client_credentials request of clientID
// with the given scopes would get (nil scopes: the client's registered
// ones), without the HTTP round trip and without client authentication:
// for a caller this process has already authenticated as that client, on
// whose behalf the gateway calls an upstream. The client must allow the
// client_credentials grant. It returns the token and its expiry; errors
// are ErrUnauthorizedClient, ErrInvalidScope, or the store's.
func (s *Server) IssueClientToken(ctx context.Context, clientID string, scopes []string) (string, time.Time, error) {
	cl := s.clients[clientID]
	if cl == nil || !cl.allows(GrantClientCredentials) {
		return "", time.Time{}, fmt.Errorf("client %q: %w", clientID, ErrUnauthorizedClient)
	}
	granted := cl.scopes
	if scopes != nil {
		var serr *RFC6749Error
		if granted, serr = cl.scopesFor(strings.Join(scopes, " ")); serr != nil {
			return "", time.Time{}, fmt.Errorf("client %q: %w", clientID, ErrInvalidScope)
		}
	}
	value, access := s.newClientToken(cl, granted)
	if err := s.store.CreateToken(ctx, access); err != nil {
		return "", time.Time{}, err
	}
	return value, access.ExpiresAt, nil
}
