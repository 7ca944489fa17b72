package oauth

import (
	"context"
	"fmt"
	"slices"
)

// Grants are held to today's config, not to the one they were issued under
// (RFC 6749 §10.4 and §6: the server may revoke a grant; RFC 7009 §1). A grant
// whose client or user was removed, or whose client no longer uses the grant
// type it came from, is no longer honoured: its refresh token gets
// invalid_grant, its access tokens are inactive at introspection and refused
// as bearer tokens, and at start-up RevokeRemovedGrants revokes it in the
// store. A scope the client no longer has is dropped: a refresh narrows the
// grant to the scopes that are left, and an access token that carries the
// dropped scope is refused.

// grantScopes returns the scopes of a grant of clientID for subject ("" for
// the client's own, client_credentials grant) that today's config still
// allows, in the grant's order, and false if it allows none of the grant (a
// grant that had scopes and lost them all is gone too).
func (s *Server) grantScopes(clientID, subject string, scopes []string) ([]string, bool) {
	cl := s.clients[clientID]
	if cl == nil || !s.grantOwnerAllowed(cl, subject) {
		return nil, false
	}
	kept := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if slices.Contains(cl.scopes, sc) {
			kept = append(kept, sc)
		}
	}
	return kept, len(kept) > 0 || len(scopes) == 0
}

// grantOwnerAllowed reports whether the config still has the grant's user
// and lets the client use the grant type the grant came from.
func (s *Server) grantOwnerAllowed(cl *client, subject string) bool {
	if subject == "" {
		return cl.allows(GrantClientCredentials)
	}
	_, known := s.users[subject]
	return known && cl.allows(GrantAuthorizationCode)
}

// tokenAllowed reports whether today's config still allows everything the
// token carries.
func (s *Server) tokenAllowed(rec *Token) bool {
	kept, ok := s.grantScopes(rec.ClientID, rec.Subject, rec.Scopes)
	return ok && len(kept) == len(rec.Scopes)
}

// RevokeRemovedGrants revokes, in the store, every token whose client or user
// the config no longer has, or whose client no longer uses the grant type it
// came from, so that restoring the entry later does not bring its old grants
// back. main runs it at start-up. It returns how many tokens it revoked.
func (s *Server) RevokeRemovedGrants(ctx context.Context) (int64, error) {
	n, err := s.store.RevokeGrants(ctx, func(clientID, subject string) bool {
		cl := s.clients[clientID]
		return cl == nil || !s.grantOwnerAllowed(cl, subject)
	})
	if err != nil {
		return 0, fmt.Errorf("revoke removed grants: %w", err)
	}
	if n > 0 {
		s.log.Warn("oauth grants of removed clients or users revoked", "tokens", n)
	}
	return n, nil
}
