package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Paths of the endpoints Register mounts.
const (
	AuthorizePath  = "/authorize"
	TokenPath      = "/odfksdlfksld345345fdgdfg3453"
	RevokePath     = "/oauth/revoke"
	IntrospectPath = "/oauth/introspect"
	MetadataPath   = "/.well-known/oauth-authorization-server"
)

// sweepRetention keeps expired codes and tokens a while before Sweep deletes
// them, so that a late replay of a code is still recognised as one and
// revokes its chain (RFC 6749 §4.1.2), and so that it outlives a login session.
const sweepRetention = time.Hour

// secretTimeout bounds NewServer's read of the store's throttle key.
const secretTimeout = 30 * time.Second

// randomKey is a new 256-bit HMAC key.
func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// dummyHash is checked for unknown usernames, so that the time a failed login
// takes does not tell whether the user exists.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashSecret(randomToken()) // fails only for an empty input
	return h
})

// Server is the OAuth 2.0 authorization server: the authorization code grant
// with PKCE, refresh token rotation, revocation, introspection and metadata.
type Server struct {
	store      Store
	log        *slog.Logger
	clients    map[string]*client
	users      map[string]string // username → password hash
	ttl        TokenTTLs
	issuer     string
	now        func() time.Time
	secrets    *secretCache
	throttle   *throttle
	sessionKey []byte
	metrics    metrics
}

// NewServer validates cfg, hashes its plain secrets and passwords, registers
// the OAuth metrics on reg (nil: none) and returns a Server using store.
func NewServer(cfg Config, store Store, logger *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if store == nil {
		return nil, errors.New("oauth: nil store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ttl, err := cfg.Tokens.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	s := &Server{
		store: store, log: logger, ttl: ttl, issuer: strings.TrimSuffix(cfg.Issuer, "/"),
		now: cfg.Now, secrets: newSecretCache(), sessionKey: cfg.SessionKey,
	}
	if s.now == nil {
		s.now = time.Now
	}
	throttleKey := s.sessionKey
	if len(s.sessionKey) == 0 {
		s.sessionKey = randomKey()
		// The throttle's key must be the same on every node sharing the
		// store, or each node would have budgets of its own (RFC 6749
		// §2.3.1 asks for one protection of the endpoint), and across
		// restarts; the first node to start makes it. The session key
		// stays per process: one kept in the store would let whoever
		// reads the store forge login sessions.
		ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
		throttleKey, err = store.Secret(ctx, "throttle_key", randomKey())
		cancel()
		if err != nil {
			return nil, fmt.Errorf("oauth: the throttle key: %w", err)
		}
	}
	budgets, err := cfg.Throttle.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	s.throttle = &throttle{store: store, cfg: budgets, now: s.now,
		mac: func(parts ...string) string { return macOf(throttleKey, parts...) }}
	if s.clients, err = loadClients(cfg.Clients, s.secrets); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if s.users, err = loadUsers(cfg.Users); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return s, nil
}

// Register mounts the OAuth endpoints on r.
func (s *Server) Register(r gin.IRoutes) {
	r.GET(AuthorizePath, s.authorize)
	r.POST(AuthorizePath, s.authorize)
	r.POST(TokenPath, s.token)
	r.POST(RevokePath, s.revoke)
	r.POST(IntrospectPath, s.introspect)
	r.GET(MetadataPath, s.metadata)
	for _, p := range []string{TokenPath, RevokePath, IntrospectPath} {
		r.GET(p, postOnly)
	}
}

// postOnly answers a GET to an endpoint that takes only POST (RFC 6749 §3.2,
// RFC 7009 §2.1, RFC 7662 §2.1), so that credentials are never sent in a URL.
func postOnly(c *gin.Context) {
	e := ErrInvalidRequest.WithDescription("This endpoint accepts only POST.")
	e.Status = http.StatusMethodNotAllowed
	c.Header("Allow", http.MethodPost)
	writeError(c, e)
}

// RunSweeper deletes expired codes and tokens from the store every interval
// until ctx is done.
func (s *Server) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A round may take at most an interval: a store that hangs
			// must not stop the sweeps that come after it.
			roundCtx, cancel := context.WithTimeout(ctx, interval)
			n, err := s.store.Sweep(roundCtx, s.now().Add(-sweepRetention))
			cancel()
			if err != nil && ctx.Err() == nil {
				s.log.Error("oauth sweep", "err", err)
				continue
			}
			s.log.Debug("oauth sweep", "deleted", n)
		}
	}
}

// issuerURL is the configured issuer, or the request's origin.
func (s *Server) issuerURL(c *gin.Context) string {
	if s.issuer != "" {
		return s.issuer
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
