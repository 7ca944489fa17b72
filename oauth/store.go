package oauth

import (
	"context"
	"time"
)

// Store keeps authorization codes and tokens. It only ever sees SHA-256 hashes
// of codes and tokens, never the values handed to clients (RFC 6819
// §5.1.4.1.3). Every backend must pass storetest.Run. Methods are safe for
// concurrent use, also across processes sharing one database.
type Store interface {
	// CreateCode stores a new authorization code. Returns ErrConflict if a
	// code with the same hash exists.
	CreateCode(ctx context.Context, code *Code) error
	// GetCode returns the code with the given hash, used or not. Returns
	// ErrNotFound.
	GetCode(ctx context.Context, hash string) (*Code, error)
	// ExchangeCode marks the code used and stores the tokens issued for it,
	// atomically: of concurrent calls for one code, exactly one succeeds.
	// Returns ErrNotFound, or ErrAlreadyUsed if the code was used before.
	ExchangeCode(ctx context.Context, hash string, issued ...*Token) error
	// CreateToken stores a token issued on its own, not for a code or a
	// refresh token (RFC 6749 §4.4). Returns ErrConflict if a token with
	// the same hash exists.
	CreateToken(ctx context.Context, token *Token) error
	// GetToken returns the token with the given hash, whatever its state.
	// Returns ErrNotFound.
	GetToken(ctx context.Context, hash string) (*Token, error)
	// RotateRefreshToken marks the refresh token used and stores its
	// successors, atomically: of concurrent calls for one token, exactly one
	// succeeds. Returns ErrNotFound, ErrAlreadyUsed if it was rotated before,
	// or ErrRevoked.
	RotateRefreshToken(ctx context.Context, hash string, issued ...*Token) error
	// RevokeToken marks one token revoked. Returns ErrNotFound.
	RevokeToken(ctx context.Context, hash string) error
	// RevokeChain marks every token of a chain revoked: all tokens issued from
	// one authorization code and their rotated successors. Revoking an empty
	// or unknown chain is not an error.
	RevokeChain(ctx context.Context, chainID string) error
	// UseNonce records a WS-Security nonce (a hash naming it) as used until
	// expires, atomically: of concurrent calls for one live key, exactly
	// one succeeds. Returns ErrAlreadyUsed if the key is recorded and has
	// not expired.
	UseNonce(ctx context.Context, key string, expires time.Time) error
	// RevokeGrants revokes every unrevoked token whose client id and subject
	// revoke reports true for, and returns how many it revoked.
	RevokeGrants(ctx context.Context, revoke func(clientID, subject string) bool) (int64, error)
	// UpdateThrottle reads the throttle records of keys (a missing one reads
	// as the zero ThrottleRecord), passes them, in the order of keys, to
	// update, and stores the records update returns, in one transaction that
	// holds each key's record locked throughout: concurrent calls sharing a
	// key, on any node, take turns. keys must be distinct. update may run
	// more than once; it must not have side effects.
	UpdateThrottle(ctx context.Context, keys []string, update func(recs []ThrottleRecord) []ThrottleRecord) error
	// Secret returns the secret stored under name, storing candidate
	// under it first if there is none: every call, on every node sharing
	// the store, returns the value of the first one. Sweep keeps it.
	Secret(ctx context.Context, name string, candidate []byte) ([]byte, error)
	// Sweep deletes codes, tokens, nonces and throttle records that expired before
	// the given time and returns how many rows it deleted.
	Sweep(ctx context.Context, before time.Time) (int64, error)
}

// ThrottleRecord is what the throttle keeps about one key: an address, an
// account, or a pair of them (see throttle.go). The store keeps it as it is.
type ThrottleRecord struct {
	Count       int64     // attempts counted in the window
	WindowStart time.Time // when the window began
	NextSlot    time.Time // the tar pit: the earliest time of the next check
	KnownUntil  time.Time // until when an address that signed in is known
	ExpiresAt   time.Time // when the record may be swept
}

// Code is an authorization code as stored (RFC 6749 §4.1.2). It is bound to
// client, redirect_uri and PKCE challenge (RFC 7636 §4.4).
type Code struct {
	Hash     string // SHA-256 of the code
	ChainID  string // shared by every token issued from this code
	ClientID string
	Subject  string // the username who approved
	// RedirectURI is the redirect_uri parameter of the authorization request,
	// empty if it was omitted (RFC 6749 §4.1.3).
	RedirectURI     string
	Scopes          []string
	Challenge       string // code_challenge, empty without PKCE
	ChallengeMethod string // "S256" or "plain"
	CreatedAt       time.Time
	ExpiresAt       time.Time
	Used            bool
}

// TokenKind tells access tokens from refresh tokens.
type TokenKind string

// Token kinds, with the names RFC 7009 §2.1 uses for token_type_hint.
const (
	AccessToken  TokenKind = "access_token"
	RefreshToken TokenKind = "refresh_token"
)

// Token is an access or refresh token as stored.
type Token struct {
	Hash      string // SHA-256 of the token
	Kind      TokenKind
	ChainID   string
	ClientID  string
	Subject   string
	Scopes    []string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Used      bool // a refresh token that was rotated
	Revoked   bool
}
