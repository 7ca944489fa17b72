package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// tokenParams are the parameters of RFC 6749 §4.1.3 and §6, RFC 7636 §4.5 and
// §2.3.1 that must not be repeated.
var tokenParams = append([]string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"}, clientParams...)

// tokenResponse is the successful answer of RFC 6749 §5.1 in the shape of the
// API reference: numbers are JSON numbers, expiry is the access token's
// expiry in Unix seconds.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	Expiry       int64  `json:"expiry"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// token is the token endpoint, RFC 6749 §3.2: client authentication first
// (§2.3.1), then the authorization_code (§4.1.3), refresh_token (§6) or
// client_credentials (§4.4) grant, if the client may use it.
func (s *Server) token(c *gin.Context) {
	form, ferr := parseForm(c, tokenParams...)
	if ferr != nil {
		s.metrics.grants.WithLabelValues("unknown", ferr.Code).Inc()
		writeError(c, ferr)
		return
	}
	grantType := form.Get("grant_type")
	label := grantType
	if label != GrantAuthorizationCode && label != GrantRefreshToken && label != GrantClientCredentials {
		label = "unknown"
	}
	cl, ok := s.authenticateClient(c, form, "token")
	if !ok {
		s.metrics.grants.WithLabelValues(label, "invalid_client").Inc()
		return
	}
	var (
		resp *tokenResponse
		err  error
	)
	switch {
	case grantType == "":
		err = ErrInvalidRequest.WithDescription("The grant_type parameter is required.")
	case label == "unknown":
		err = ErrUnsupportedGrantType
	case !cl.allows(grantType): // §5.2 unauthorized_client
		err = ErrUnauthorizedClient.WithDescription("This client may not use the " + grantType + " grant.")
	case grantType == GrantAuthorizationCode:
		resp, err = s.exchangeCode(c.Request.Context(), cl, form)
	case grantType == GrantRefreshToken:
		resp, err = s.refresh(c.Request.Context(), cl, form)
	default:
		resp, err = s.clientCredentials(c.Request.Context(), cl, form)
	}
	if err != nil {
		e := toRFC6749Error(err)
		if e.Status >= http.StatusInternalServerError {
			s.log.Error("oauth token", "grant_type", label, "client_id", cl.id, "err", err)
		}
		s.metrics.grants.WithLabelValues(label, e.Code).Inc()
		writeError(c, e)
		return
	}
	s.metrics.grants.WithLabelValues(label, "success").Inc()
	s.log.Info("oauth tokens issued", "grant_type", label, "client_id", cl.id, "scope", resp.Scope)
	noStore(c)
	c.JSON(http.StatusOK, resp)
}

// exchangeCode implements the access token request of RFC 6749 §4.1.3 with
// the PKCE verification of RFC 7636 §4.6.
func (s *Server) exchangeCode(ctx context.Context, cl *client, form url.Values) (*tokenResponse, error) {
	code := form.Get("code")
	if code == "" {
		return nil, ErrInvalidRequest.WithDescription("The code parameter is required.")
	}
	rec, err := s.store.GetCode(ctx, hashToken(code))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidGrant.WithDescription("The authorization code is unknown or expired.")
	} else if err != nil {
		return nil, err
	}
	// §4.1.3: "ensure that the authorization code was issued to the
	// authenticated confidential client".
	if rec.ClientID != cl.id {
		return nil, ErrInvalidGrant.WithDescription("The authorization code was issued to another client.")
	}
	// §4.1.2: "If an authorization code is used more than once, the
	// authorization server MUST deny the request and SHOULD revoke (when
	// possible) all tokens previously issued based on that authorization code."
	if rec.Used {
		return nil, s.replayedCode(ctx, rec)
	}
	now := s.now()
	if !now.Before(rec.ExpiresAt) {
		return nil, ErrInvalidGrant.WithDescription("The authorization code has expired.")
	}
	// §4.1.3: redirect_uri must be identical to the one in the authorization
	// request; if that had none, it may be omitted or be the registered one.
	redirectURI := form.Get("redirect_uri")
	switch {
	case rec.RedirectURI != "" && redirectURI == "":
		return nil, ErrInvalidRequest.WithDescription("The redirect_uri parameter is required: the authorization request had one.")
	case rec.RedirectURI != "" && redirectURI != rec.RedirectURI:
		return nil, ErrInvalidGrant.WithDescription("The redirect_uri does not match the authorization request.")
	case rec.RedirectURI == "" && redirectURI != "" && !slices.Contains(cl.redirectURIs, redirectURI):
		return nil, ErrInvalidGrant.WithDescription("The redirect_uri is not registered for this client.")
	}
	if err := verifyPKCE(rec, form.Get("code_verifier")); err != nil {
		return nil, err
	}
	scopes, ok := s.grantScopes(rec.ClientID, rec.Subject, rec.Scopes)
	if !ok {
		return nil, errGrantRemoved
	}
	access, refresh, resp := s.newTokens(rec.ChainID, cl.id, rec.Subject, scopes, scopes, now)
	issued := []*Token{access, refresh}
	if !cl.allows(GrantRefreshToken) {
		issued, resp.RefreshToken = issued[:1], ""
	}
	switch err := s.store.ExchangeCode(ctx, rec.Hash, issued...); {
	case errors.Is(err, ErrAlreadyUsed):
		// Lost a race with a concurrent redemption: that is a replay too.
		return nil, s.replayedCode(ctx, rec)
	case errors.Is(err, ErrNotFound):
		return nil, ErrInvalidGrant.WithDescription("The authorization code is unknown or expired.")
	case err != nil:
		return nil, err
	}
	return resp, nil
}

func (s *Server) replayedCode(ctx context.Context, rec *Code) error {
	s.log.Warn("oauth authorization code replayed; revoking its tokens", "client_id", rec.ClientID)
	if err := s.store.RevokeChain(ctx, rec.ChainID); err != nil {
		return err
	}
	return ErrInvalidGrant.WithDescription("The authorization code was already used; the tokens issued from it are revoked.")
}

// verifyPKCE implements RFC 7636 §4.6 and the PKCE downgrade protection of
// RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is
// refused.
func verifyPKCE(rec *Code, verifier string) error {
	if rec.Challenge == "" {
		if verifier != "" {
			return ErrInvalidGrant.WithDescription("A code_verifier was sent but the authorization request had no code_challenge.")
		}
		return nil
	}
	if verifier == "" {
		return ErrInvalidGrant.WithDescription("The code_verifier parameter is required for this code.")
	}
	if !validPKCEValue(verifier) {
		return ErrInvalidGrant.WithDescription("The code_verifier must be 43 to 128 unreserved characters (RFC 7636 section 4.1).")
	}
	computed := verifier
	if rec.ChallengeMethod == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		computed = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(computed), []byte(rec.Challenge)) != 1 {
		return ErrInvalidGrant.WithDescription("The code_verifier does not match the code_challenge.")
	}
	return nil
}

// validPKCEValue checks the syntax of a code_verifier or code_challenge,
// RFC 7636 §4.1 and §4.2: 43*128 of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// refresh implements RFC 6749 §6 with refresh token rotation and reuse
// detection (RFC 9700 §4.14.2).
func (s *Server) refresh(ctx context.Context, cl *client, form url.Values) (*tokenResponse, error) {
	value := form.Get("refresh_token")
	if value == "" {
		return nil, ErrInvalidRequest.WithDescription("The refresh_token parameter is required.")
	}
	rec, err := s.store.GetToken(ctx, hashToken(value))
	if errors.Is(err, ErrNotFound) || err == nil && rec.Kind != RefreshToken {
		return nil, ErrInvalidGrant.WithDescription("The refresh token is unknown or expired.")
	} else if err != nil {
		return nil, err
	}
	// §6: "ensure that the refresh token was issued to the authenticated client".
	if rec.ClientID != cl.id {
		return nil, ErrInvalidGrant.WithDescription("The refresh token was issued to another client.")
	}
	if rec.Revoked {
		return nil, ErrInvalidGrant.WithDescription("The refresh token was revoked.")
	}
	if rec.Used {
		return nil, s.reusedRefreshToken(ctx, rec)
	}
	now := s.now()
	if !now.Before(rec.ExpiresAt) {
		return nil, ErrInvalidGrant.WithDescription("The refresh token has expired.")
	}
	// The grant as today's config allows it (grants.go): a removed user
	// ends it, a scope removed from the client is dropped from it.
	granted, ok := s.grantScopes(rec.ClientID, rec.Subject, rec.Scopes)
	if !ok {
		return nil, errGrantRemoved
	}
	// §6: the requested scope "MUST NOT include any scope not originally
	// granted"; omitted means the scope originally granted. The new refresh
	// token keeps that scope ("MUST be identical"), less what the config
	// took away since: the server's own partial revocation (§10.4).
	scopes := granted
	if raw := form.Get("scope"); raw != "" {
		var serr *RFC6749Error
		if scopes, serr = parseScope(raw); serr != nil {
			return nil, serr
		}
		if serr := withinScopes(scopes, granted, "A requested scope was not granted to this refresh token."); serr != nil {
			return nil, serr
		}
	}
	access, next, resp := s.newTokens(rec.ChainID, cl.id, rec.Subject, scopes, granted, now)
	switch err := s.store.RotateRefreshToken(ctx, rec.Hash, access, next); {
	case errors.Is(err, ErrAlreadyUsed):
		return nil, s.reusedRefreshToken(ctx, rec)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrRevoked):
		return nil, ErrInvalidGrant.WithDescription("The refresh token is unknown, expired or revoked.")
	case err != nil:
		return nil, err
	}
	return resp, nil
}

// reusedRefreshToken revokes the chain of a rotated-out refresh token that
// was presented again (RFC 9700 §4.14.2: "The authorization server cannot
// determine which party submitted the invalid refresh token, but it will
// revoke the active refresh token").
func (s *Server) reusedRefreshToken(ctx context.Context, rec *Token) error {
	s.log.Warn("oauth refresh token reused; revoking its chain", "client_id", rec.ClientID)
	if err := s.store.RevokeChain(ctx, rec.ChainID); err != nil {
		return err
	}
	return ErrInvalidGrant.WithDescription("The refresh token was already used; its chain is revoked.")
}

// newTokens makes a new access token with accessScopes and a new refresh
// token with refreshScopes, and the response that hands them out.
func (s *Server) newTokens(chainID, clientID, subject string, accessScopes, refreshScopes []string, now time.Time) (access, refresh *Token, resp *tokenResponse) {
	accessValue, refreshValue := randomToken(), randomToken()
	access = &Token{
		Hash: hashToken(accessValue), Kind: AccessToken, ChainID: chainID, ClientID: clientID, Subject: subject,
		Scopes: accessScopes, IssuedAt: now, ExpiresAt: now.Add(s.ttl.AccessTTL),
	}
	refresh = &Token{
		Hash: hashToken(refreshValue), Kind: RefreshToken, ChainID: chainID, ClientID: clientID, Subject: subject,
		Scopes: refreshScopes, IssuedAt: now, ExpiresAt: now.Add(s.ttl.RefreshTTL),
	}
	resp = &tokenResponse{
		AccessToken: accessValue, TokenType: "Bearer",
		ExpiresIn: int64(s.ttl.AccessTTL / time.Second), Scope: strings.Join(accessScopes, " "),
		Expiry: access.ExpiresAt.Unix(), RefreshToken: refreshValue,
	}
	return access, refresh, resp
}
