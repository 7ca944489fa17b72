package oauth

import (
	"context"
	"slices"
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

// AuthenticateClientProof is AuthenticateClient for a proof of the secret
// that the caller checks itself, such as a WS-Security PasswordDigest, which
// needs the clear secret this server never keeps, counted and throttled in
// the same budgets. proof must be cheap and free of side effects: it may
// run more than once, under the throttle's lock. An empty id counts a
// malformed credential against remoteAddr (the account "" is nobody's).
func (s *Server) AuthenticateClientProof(ctx context.Context, id, remoteAddr string, proof func() bool) (ClientInfo, error) {
	cl, err := s.authenticate(ctx, "gateway", []string{id}, nil, remoteAddr, proof, "")
	if err != nil {
		return ClientInfo{}, err
	}
	return ClientInfo{ID: cl.id, Scopes: slices.Clone(cl.scopes)}, nil
}

// RefuseClient counts a credential of client id (empty if none could be
// read) that the caller refused before any secret was checked (malformed,
// expired, a method the client is not allowed) as a failed attempt from
// remoteAddr, in the budgets of AuthenticateClient (RFC 6749 §2.3.1), so
// that such credentials are no cheaper to send. It logs and counts the
// failure as reason, a label of a small fixed set such as "malformed" or
// "expired", not as a wrong secret. It returns ErrInvalidClient, a
// *ThrottledError, or the store's error.
func (s *Server) RefuseClient(ctx context.Context, id, remoteAddr, reason string) error {
	_, err := s.authenticate(ctx, "gateway", []string{id}, nil, remoteAddr, nil, reason)
	return err
}

// CheckSecret reports whether plain is the secret a client's secret_hash
// was made from, so that main can check a digest secret from the
// environment against the configured hash at start-up.
func CheckSecret(hash, plain string) bool { return verifyHash(hash, plain) }
