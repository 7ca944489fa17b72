package oauth

import (
	"errors"
	"net/http"
)

// Storage sentinels. A Store returns them, wrapped or not, and the handlers map
// them to protocol errors (RFC 6749 §5.2).
var (
	// ErrNotFound means no code or token has the given hash.
	ErrNotFound = errors.New("oauth: not found")
	// ErrConflict means a record with the same hash already exists.
	ErrConflict = errors.New("oauth: already exists")
	// ErrAlreadyUsed means a code was already redeemed or a refresh token
	// already rotated: a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
	ErrAlreadyUsed = errors.New("oauth: already used")
	// ErrRevoked means the token or code was revoked.
	ErrRevoked = errors.New("oauth: revoked")
)

// ErrInvalidToken is returned, wrapped, by VerifyAccessToken for a missing,
// unknown, expired or revoked access token (RFC 6750 §3.1 "invalid_token").
var ErrInvalidToken = errors.New("oauth: invalid token")

// RFC6749Error is an OAuth 2.0 error response (RFC 6749 §4.1.2.1 and §5.2,
// RFC 7009 §2.2.1). Sentinels are never modified: WithDescription returns a copy.
type RFC6749Error struct {
	// Code is the "error" value, for example "invalid_grant".
	Code string
	// Description is the human-readable "error_description".
	Description string
	// Status is the HTTP status of the JSON answer.
	Status int
}

// OAuth 2.0 error sentinels (RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1).
var (
	ErrInvalidRequest          = &RFC6749Error{Code: "invalid_request", Description: "The request is missing a required parameter, includes an invalid or repeated parameter, or is otherwise malformed.", Status: http.StatusBadRequest}
	ErrInvalidClient           = &RFC6749Error{Code: "invalid_client", Description: "Client authentication failed.", Status: http.StatusUnauthorized}
	ErrInvalidGrant            = &RFC6749Error{Code: "invalid_grant", Description: "The authorization grant or refresh token is invalid, expired, revoked, or was issued to another client.", Status: http.StatusBadRequest}
	ErrUnauthorizedClient      = &RFC6749Error{Code: "unauthorized_client", Description: "The client is not authorized to use this grant or token.", Status: http.StatusBadRequest}
	ErrUnsupportedGrantType    = &RFC6749Error{Code: "unsupported_grant_type", Description: "The grant type is not supported.", Status: http.StatusBadRequest}
	ErrUnsupportedResponseType = &RFC6749Error{Code: "unsupported_response_type", Description: "The response type is not supported.", Status: http.StatusBadRequest}
	ErrInvalidScope            = &RFC6749Error{Code: "invalid_scope", Description: "The requested scope is invalid, unknown, or exceeds what was granted.", Status: http.StatusBadRequest}
	ErrAccessDenied            = &RFC6749Error{Code: "access_denied", Description: "The resource owner denied the request.", Status: http.StatusForbidden}
	ErrServerError             = &RFC6749Error{Code: "server_error", Description: "The authorization server encountered an unexpected condition.", Status: http.StatusInternalServerError}
	// ErrTooManyAttempts answers a throttled client (RFC 6749 §2.3.1 asks for
	// protection against brute force); it is an invalid_client with 429.
	ErrTooManyAttempts = &RFC6749Error{Code: "invalid_client", Description: "Too many failed client authentication attempts; retry later.", Status: http.StatusTooManyRequests}
)

// errGrantRemoved refuses a code or refresh token whose grant today's config
// no longer allows (grants.go).
var errGrantRemoved = ErrInvalidGrant.WithDescription("The grant is no longer allowed: its client, user or scopes were removed.")

// Error implements error.
func (e *RFC6749Error) Error() string { return e.Code + ": " + e.Description }

// WithDescription returns a copy of e with another error_description.
func (e *RFC6749Error) WithDescription(description string) *RFC6749Error {
	err := *e
	err.Description = description
	return &err
}

// toRFC6749Error turns any error into an RFC6749Error; anything unknown is a
// server_error whose cause is not exposed.
func toRFC6749Error(err error) *RFC6749Error {
	var e *RFC6749Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError
}
