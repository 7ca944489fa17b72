package migrate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hellogw/hellogw/gateway"
)

// Kinds of UpstreamIdentity: what a backend presents to its upstream so
// that the upstream knows who is calling.
const (
	IdentityNone   = ""       // nothing: no credential leaves the gateway
	IdentityBearer = "bearer" // Authorization: Bearer (RFC 6750 §2.1)
	IdentityBasic  = "basic"  // Authorization: Basic (RFC 7617)
	IdentityWSSE   = "wsse"   // a WS-Security UsernameToken header block (SOAP only)
)

// UpstreamIdentity is the identity a backend presents on each call.
type UpstreamIdentity struct {
	// Kind is IdentityNone, IdentityBearer, IdentityBasic or IdentityWSSE.
	Kind string
	// Tokens, for IdentityBearer, mints tokens for callers that have no
	// bearer token of their own: legacy callers (Basic, WS-Security, a
	// client certificate) get one of their client. Nil: only callers that
	// came with a bearer token have one presented, their own.
	Tokens *TokenCache
	// MintFor, for IdentityBearer with Tokens, is the client whose token
	// is presented for callers no client is known for (sayHello not
	// protected, no bearer token); "" presents none.
	MintFor string
	// Username and Password are presented as HTTP Basic (IdentityBasic)
	// or in a UsernameToken (IdentityWSSE).
	Username, Password string
	// Digest, for IdentityWSSE, sends a PasswordDigest with a fresh Nonce
	// and Created instead of the password itself (PasswordText).
	Digest bool

	basic string // the Basic header value, made once by newUpstream
}

// authorization returns the Authorization header value to send upstream
// for the call in ctx ("" for none) and, for a minted token, a func that
// an upstream 401 calls to have it forgotten. Only a Bearer header of
// the caller's is ever passed on: a Basic one carries one of this
// gateway's own client secrets.
func (id *UpstreamIdentity) authorization(ctx context.Context) (value string, rejected func(), _ error) {
	switch id.Kind {
	case IdentityBasic:
		return id.basic, nil, nil
	case IdentityBearer:
	default:
		return "", nil, nil
	}
	call, _ := gateway.CallFrom(ctx)
	p, known := call.Principal, call.Authenticated
	if !known || p.Method == gateway.MethodNone || p.Method == gateway.MethodBearer {
		// The caller's own token, never a minted one that might be wider
		// than it.
		if scheme, token, _ := strings.Cut(gateway.AuthorizationFrom(ctx), " "); strings.EqualFold(scheme, "Bearer") && token != "" {
			return "Bearer " + strings.TrimSpace(token), nil, nil
		}
		if p.Method == gateway.MethodBearer {
			return "", nil, nil
		}
	}
	client := id.MintFor
	if known && p.Method != gateway.MethodNone {
		client = p.ClientID
	}
	if id.Tokens == nil || client == "" {
		return "", nil, nil
	}
	token, err := id.Tokens.token(ctx, client)
	if err != nil {
		return "", nil, gateway.Errorf(gateway.KindInternal, "no token of client %s to present upstream: %v", client, err)
	}
	return "Bearer " + token, func() { id.Tokens.forget(client, token) }, nil
}

// TokenMinter issues an access token of a registered client for itself,
// as the client credentials grant would (RFC 6749 §4.4), to a caller this
// process has already authenticated as that client. The OAuth server
// satisfies it.
type TokenMinter interface {
	// IssueClientToken returns a new token of clientID with the given
	// scopes (nil: the client's own) and when it expires. It fails for a
	// client that may not use the client_credentials grant.
	IssueClientToken(ctx context.Context, clientID string, scopes []string) (string, time.Time, error)
}

// Timing of a TokenCache.
const (
	// renewBefore is how long before its expiry a cached token is
	// replaced (at most a tenth of its lifetime), so that it does not
	// expire on the way to the upstream.
	renewBefore = time.Minute
	// forgetBackoff is how old a token must be for an upstream 401 to
	// have it replaced: an upstream that refuses every token gets at most
	// one new token per client in this time, not one per call.
	forgetBackoff = 30 * time.Second
	// mintTimeout bounds a mint, which the first of the calls waiting
	// for it runs for all of them.
	mintTimeout = 5 * time.Second
)

// TokenCache keeps one minted token per client and scope, shared by every
// backend it is given to, until shortly before it expires.
type TokenCache struct {
	mint  TokenMinter
	scope string // what every token is minted with
	now   func() time.Time
	group singleflight.Group // one mint per client at a time

	mu     sync.Mutex
	tokens map[string]mintedToken
}

type mintedToken struct {
	value           string
	minted, expires time.Time
}

// NewTokenCache returns a cache of tokens minted by m with scope alone:
// the scope sayHello needs (sayhello.scope), never all of the client's,
// which may include admin (RFC 6749 §3.3 lets a client ask for less than
// it may have; RFC 6819 §5.1.5.1 limits a token's scope to what it is
// for). An upstream that receives one can call sayHello as the client and
// nothing more.
func NewTokenCache(m TokenMinter, scope string) *TokenCache {
	return &TokenCache{mint: m, scope: scope, now: time.Now, tokens: map[string]mintedToken{}}
}

// key names the cached token of clientID: by client and scope.
func (c *TokenCache) key(clientID string) string { return clientID + " " + c.scope }

// token returns a live token of clientID, minting one if needed.
func (c *TokenCache) token(ctx context.Context, clientID string) (string, error) {
	if t, ok := c.cached(clientID); ok {
		return t, nil
	}
	v, err, _ := c.group.Do(c.key(clientID), func() (any, error) {
		if t, ok := c.cached(clientID); ok { // minted while this call waited
			return t, nil
		}
		// Not the caller's deadline alone: others may be waiting on it.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mintTimeout)
		defer cancel()
		minted := c.now()
		value, expires, err := c.mint.IssueClientToken(mctx, clientID, []string{c.scope})
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		c.tokens[c.key(clientID)] = mintedToken{value: value, minted: minted, expires: expires}
		c.mu.Unlock()
		return value, nil
	})
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	return v.(string), nil
}

// cached returns the token of clientID if it is not due for renewal.
func (c *TokenCache) cached(clientID string) (string, bool) {
	c.mu.Lock()
	t, ok := c.tokens[c.key(clientID)]
	c.mu.Unlock()
	before := min(renewBefore, t.expires.Sub(t.minted)/10)
	return t.value, ok && c.now().Before(t.expires.Add(-before))
}

// forget drops the token of clientID after an upstream refused it,
// unless it is younger than forgetBackoff or was replaced already.
func (c *TokenCache) forget(clientID, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[c.key(clientID)]; ok && t.value == value && c.now().Sub(t.minted) >= forgetBackoff {
		delete(c.tokens, c.key(clientID))
	}
}
