package oauth

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Legacy lists the credentials a client may present to sayHello instead of
// an access token (SPEC "Legacy credentials"). The OAuth server keeps none
// of it: main hands it to the gateway, which checks these credentials,
// with AuthenticateClient and AuthenticateClientProof for the secrets.
type Legacy struct {
	// Basic allows HTTP Basic with the client id and secret (RFC 7617).
	Basic bool `yaml:"basic"`
	// WSSE allows a WS-Security UsernameToken with the client id as
	// Username: "text" (PasswordText, the secret itself) or "digest"
	// (PasswordDigest with Nonce and Created).
	WSSE string `yaml:"wsse"`
	// DigestSecretEnv names the environment variable holding the clear
	// secret a PasswordDigest is checked with, for a client configured
	// with secret_hash; with a plain secret that is used.
	DigestSecretEnv string `yaml:"digest_secret_env"`
	// TLSSubjectDN allows a TLS client certificate with this subject,
	// issued under -tls-client-ca (RFC 8705 §2.1).
	TLSSubjectDN string `yaml:"tls_subject_dn"`
	// TLSThumbprint allows the TLS client certificate with this SHA-256
	// thumbprint, self-signed or not (RFC 8705 §2.2).
	TLSThumbprint string `yaml:"tls_thumbprint"`
}

// ClientInfo is what a caller of AuthenticateClient learns of the client.
type ClientInfo struct {
	ID     string
	Scopes []string // the scopes the client may be granted today
}

// ThrottledError is a client authentication refused unchecked, because the
// caller failed too often; errors.Is(err, ErrTooManyAttempts) holds.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("oauth: too many authentication attempts; retry after %v", e.RetryAfter)
}

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }

// AuthenticateClient implements client password authentication (RFC 6749
// §2.3.1) for callers outside this package, such as the gateway's legacy
// HTTP Basic and WS-Security PasswordText credentials, counted in the same
// budgets as the token endpoint's. remoteAddr is the caller's IP address.
// It returns ErrInvalidClient for an unknown id or a wrong secret, or a
// *ThrottledError.
func (s *Server) AuthenticateClient(ctx context.Context, id, secret, remoteAddr string) (ClientInfo, error) {
	cl := s.clients[id]
	return s.AuthenticateClientProof(ctx, id, remoteAddr, func() bool {
		return cl != nil && secret != "" && s.secrets.verify(cl.id, cl.secretHash, secret)
	})
}

// AuthenticateClientProof is AuthenticateClient for a proof of the secret
// that the caller checks itself, such as a WS-Security PasswordDigest,
// which needs the clear secret this server never keeps: proof runs only
// if the attempt is not throttled, and a false is a failed attempt. An
// empty id counts a malformed credential against remoteAddr.
func (s *Server) AuthenticateClientProof(_ context.Context, id, remoteAddr string, proof func() bool) (ClientInfo, error) {
	cl := s.clients[id]
	keys := []string{"addr:" + remoteAddr}
	if cl != nil {
		keys = append(keys, "client:"+cl.id)
	}
	if wait := s.throttle.retryAfter(keys...); wait > 0 {
		s.metrics.authFailure.WithLabelValues("gateway", "throttled").Inc()
		return ClientInfo{}, &ThrottledError{RetryAfter: wait}
	}
	if cl != nil && proof() {
		return ClientInfo{ID: cl.id, Scopes: slices.Clone(cl.scopes)}, nil
	}
	reason := "bad_secret"
	if cl == nil {
		reason = "unknown_client"
	}
	s.throttle.fail(keys...)
	s.metrics.authFailure.WithLabelValues("gateway", reason).Inc()
	s.log.Warn("oauth client authentication failed", "endpoint", "gateway", "reason", reason, "client_known", cl != nil, "remote", remoteAddr)
	return ClientInfo{}, ErrInvalidClient
}

// CheckSecret reports whether plain is the secret a client's secret_hash
// was made from, so that main can check a digest secret from the
// environment against the configured hash at start-up.
func CheckSecret(hash, plain string) bool { return verifyHash(hash, plain) }
