package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/oauth"
)

// protection builds the gateway's sayhello.require_token protection from
// the config: the OAuth server checks tokens and client secrets, the store
// keeps WS-Security nonces, and each client's legacy section says which
// other credentials it may present.
//
// clientCA says whether -tls-client-ca is set: a client identified by its
// certificate's subject DN needs it.
func protection(cfg config.Config, authz *oauth.Server, db oauth.Store, clientCA bool) (*gateway.Protection, error) {
	legacy, err := legacyClients(cfg.OAuth.Clients, os.Getenv)
	if err != nil {
		return nil, err
	}
	for _, lc := range legacy {
		if lc.SubjectDN != "" && !clientCA {
			return nil, fmt.Errorf("client %q: legacy.tls_subject_dn needs the CA bundle that issued the client certificates: start hellogw with -tls-cert, -tls-key and -tls-client-ca (or HELLOGW_TLS_CLIENT_CA), or remove tls_subject_dn", lc.ID)
		}
	}
	return &gateway.Protection{
		Tokens:     tokenVerifier{authz},
		Clients:    clientAuthenticator{authz},
		Nonces:     nonceStore{db},
		Legacy:     legacy,
		Scope:      cfg.SayHello.Scope,
		WSSEWindow: cfg.SayHello.WSSEWindow,
	}, nil
}

// legacyClients lists every configured client with the legacy credentials
// it may use. A PasswordDigest is checked with the clear secret, which the
// store never holds: it is the client's plain secret from the config, or,
// for a client with only a secret_hash, the environment variable that
// legacy.digest_secret_env names, checked against the hash here.
func legacyClients(clients []oauth.Client, getenv func(string) string) ([]gateway.LegacyClient, error) {
	out := make([]gateway.LegacyClient, 0, len(clients))
	for _, c := range clients {
		l := c.Legacy
		lc := gateway.LegacyClient{
			ID: c.ID, Scopes: c.Scopes, Basic: l.Basic, WSSE: l.WSSE,
			SubjectDN: l.TLSSubjectDN, Thumbprint: l.TLSThumbprint,
		}
		switch {
		case l.DigestSecretEnv != "" && l.WSSE != gateway.WSSEDigest:
			return nil, fmt.Errorf("client %q: legacy.digest_secret_env is for legacy.wsse: digest", c.ID)
		case l.WSSE != gateway.WSSEDigest:
		case l.DigestSecretEnv != "" && c.Secret != "":
			return nil, fmt.Errorf("client %q: legacy.digest_secret_env is for a client with secret_hash; this one has a plain secret", c.ID)
		case c.Secret != "":
			lc.DigestSecret = c.Secret
		case l.DigestSecretEnv == "":
			return nil, fmt.Errorf("client %q: legacy.wsse: digest needs the clear secret; give legacy.digest_secret_env, the environment variable that holds it", c.ID)
		default:
			lc.DigestSecret = getenv(l.DigestSecretEnv)
			if lc.DigestSecret == "" {
				return nil, fmt.Errorf("client %q: the environment variable %s (legacy.digest_secret_env) is empty or unset: export %s=<the client's clear secret> before starting hellogw", c.ID, l.DigestSecretEnv, l.DigestSecretEnv)
			}
			if !oauth.CheckSecret(c.SecretHash, lc.DigestSecret) {
				return nil, fmt.Errorf("client %q: the secret in %s (legacy.digest_secret_env) does not match secret_hash", c.ID, l.DigestSecretEnv)
			}
		}
		out = append(out, lc)
	}
	return out, nil
}

// tokenVerifier lets the gateway check bearer tokens with the OAuth server,
// translating its sentinel into the gateway's: the two packages do not
// import each other.
type tokenVerifier struct{ srv *oauth.Server }

func (v tokenVerifier) VerifyAccessToken(ctx context.Context, token string) (gateway.Principal, error) {
	rec, err := v.srv.AccessToken(ctx, token)
	if errors.Is(err, oauth.ErrInvalidToken) {
		return gateway.Principal{}, fmt.Errorf("%w: %w", gateway.ErrInvalidToken, err)
	} else if err != nil {
		return gateway.Principal{}, err
	}
	return gateway.Principal{ClientID: rec.ClientID, Subject: rec.Subject, Scopes: rec.Scopes}, nil
}

// clientAuthenticator lets the gateway check legacy client credentials
// with the OAuth server's throttled client authentication.
type clientAuthenticator struct{ srv *oauth.Server }

func (a clientAuthenticator) AuthenticateClient(ctx context.Context, id, secret, addr string) (gateway.Principal, error) {
	return clientResult(a.srv.AuthenticateClient(ctx, id, secret, addr))
}

func (a clientAuthenticator) AuthenticateClientProof(ctx context.Context, id, addr string, proof func() bool) (gateway.Principal, error) {
	return clientResult(a.srv.AuthenticateClientProof(ctx, id, addr, proof))
}

func (a clientAuthenticator) RefuseClient(ctx context.Context, id, addr, reason string) error {
	_, err := clientResult(oauth.ClientInfo{}, a.srv.RefuseClient(ctx, id, addr, reason))
	return err
}

func clientResult(info oauth.ClientInfo, err error) (gateway.Principal, error) {
	var throttled *oauth.ThrottledError
	switch {
	case err == nil:
		return gateway.Principal{ClientID: info.ID, Scopes: info.Scopes}, nil
	case errors.As(err, &throttled):
		return gateway.Principal{}, &gateway.ThrottledError{RetryAfter: throttled.RetryAfter}
	case errors.Is(err, oauth.ErrInvalidClient):
		return gateway.Principal{}, fmt.Errorf("%w: %w", gateway.ErrBadCredentials, err)
	}
	return gateway.Principal{}, err
}

// nonceStore keeps the gateway's WS-Security nonces in the OAuth store,
// which every node shares.
type nonceStore struct{ db oauth.Store }

func (s nonceStore) UseNonce(ctx context.Context, key string, expires time.Time) error {
	err := s.db.UseNonce(ctx, key, expires)
	if errors.Is(err, oauth.ErrAlreadyUsed) {
		return fmt.Errorf("%w: %w", gateway.ErrNonceUsed, err)
	}
	return err
}
