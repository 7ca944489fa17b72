// Package storetest is the contract every oauth.Store backend must pass. A
// backend's test calls Run with a constructor for fresh, empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) oauth.Store { return mustOpen(t) })
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
)

// Run runs the contract suite; newStore must return a new empty store and
// arrange its cleanup.
func Run(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	t.Run("Code", func(t *testing.T) { testCode(t, newStore) })
	t.Run("ExchangeCode", func(t *testing.T) { testExchangeCode(t, newStore) })
	t.Run("ExchangeCodeConcurrent", func(t *testing.T) { testExchangeCodeConcurrent(t, newStore(t)) })
	t.Run("Token", func(t *testing.T) { testToken(t, newStore) })
	t.Run("RotateRefreshToken", func(t *testing.T) { testRotate(t, newStore) })
	t.Run("RotateRefreshTokenConcurrent", func(t *testing.T) { testRotateConcurrent(t, newStore(t)) })
	t.Run("Revoke", func(t *testing.T) { testRevoke(t, newStore) })
	t.Run("Sweep", func(t *testing.T) { testSweep(t, newStore(t)) })
	t.Run("RevokeGrants", func(t *testing.T) { testRevokeGrants(t, newStore(t)) })
	t.Run("Throttle", func(t *testing.T) { testThrottle(t, newStore) })
	t.Run("UseNonce", func(t *testing.T) { testUseNonce(t, newStore(t)) })
	t.Run("Secret", func(t *testing.T) { testSecret(t, newStore(t)) })
}

// testSecret: of concurrent first calls, all get the same value, one of
// their candidates, and later calls keep getting it.
func testSecret(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	got := make([][]byte, 16)
	require.NoError(t, errors.Join(Concurrently(len(got), func(i int) error {
		var err error
		got[i], err = s.Secret(ctx, "k", []byte{byte(i), 0, 255})
		return err
	})...))
	require.Len(t, got[0], 3)
	assert.Less(t, int(got[0][0]), len(got), "one of the candidates")
	for _, v := range got {
		assert.Equal(t, got[0], v)
	}
	again, err := s.Secret(ctx, "k", []byte("other"))
	require.NoError(t, err)
	assert.Equal(t, got[0], again)
	other, err := s.Secret(ctx, "other", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), other, "names are apart")
	_, err = s.Sweep(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	again, err = s.Secret(ctx, "k", []byte("other"))
	require.NoError(t, err)
	assert.Equal(t, got[0], again, "a sweep keeps it")
}

// testUseNonce: a nonce is accepted once while it lives, by exactly one of
// concurrent callers, and again once it has expired. The store's clock is
// the wall clock, so the times are relative to now.
func testUseNonce(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	key := id("nonce")
	require.NoError(t, s.UseNonce(ctx, key, time.Now().Add(time.Minute)))
	require.ErrorIs(t, s.UseNonce(ctx, key, time.Now().Add(time.Minute)), oauth.ErrAlreadyUsed)
	assert.NoError(t, s.UseNonce(ctx, id("nonce"), time.Now().Add(time.Minute)), "another nonce")

	expired := id("nonce")
	require.NoError(t, s.UseNonce(ctx, expired, time.Now().Add(-time.Second)))
	assert.NoError(t, s.UseNonce(ctx, expired, time.Now().Add(time.Minute)), "an expired nonce is forgotten")
	assert.ErrorIs(t, s.UseNonce(ctx, expired, time.Now().Add(time.Minute)), oauth.ErrAlreadyUsed)

	racing := id("nonce")
	exactlyOne(t, Concurrently(16, func(int) error { return s.UseNonce(ctx, racing, time.Now().Add(time.Minute)) }))
}

// base is a fixed instant with sub-second precision, so that a backend that
// truncates times fails.
var base = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)

func id(prefix string) string { return prefix + "-" + rand.Text() }

// NewCode returns a valid, unused code record with random hash and chain.
func NewCode() *oauth.Code {
	return &oauth.Code{
		Hash: id("code"), ChainID: id("chain"), ClientID: "client-a", Subject: "alice",
		RedirectURI: "http://127.0.0.1:9999/callback?x=1", Scopes: []string{"hello", "extra"},
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", ChallengeMethod: "S256",
		CreatedAt: base, ExpiresAt: base.Add(5 * time.Minute),
	}
}

// NewToken returns a valid token record of the given kind and chain.
func NewToken(kind oauth.TokenKind, chainID string) *oauth.Token {
	return &oauth.Token{
		Hash: id("token"), Kind: kind, ChainID: chainID, ClientID: "client-a", Subject: "alice",
		Scopes: []string{"hello"}, IssuedAt: base, ExpiresAt: base.Add(time.Hour),
	}
}

func normCode(c oauth.Code) oauth.Code {
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return c
}

func normToken(t oauth.Token) oauth.Token {
	t.IssuedAt, t.ExpiresAt = t.IssuedAt.UTC(), t.ExpiresAt.UTC()
	return t
}

func testCode(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		c := NewCode()
		require.NoError(t, s.CreateCode(ctx, c))
		got, err := s.GetCode(ctx, c.Hash)
		require.NoError(t, err)
		assert.Equal(t, normCode(*c), normCode(*got))
	})
	t.Run("WithoutOptionalFields", func(t *testing.T) {
		s := newStore(t)
		c := NewCode()
		c.RedirectURI, c.Challenge, c.ChallengeMethod, c.Scopes = "", "", "", nil
		require.NoError(t, s.CreateCode(ctx, c))
		got, err := s.GetCode(ctx, c.Hash)
		require.NoError(t, err)
		assert.Empty(t, got.Scopes)
		assert.Empty(t, got.Challenge)
		assert.Empty(t, got.RedirectURI)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := newStore(t)
		c := NewCode()
		require.NoError(t, s.CreateCode(ctx, c))
		other := NewCode()
		other.Hash = c.Hash
		require.ErrorIs(t, s.CreateCode(ctx, other), oauth.ErrConflict)
		got, err := s.GetCode(ctx, c.Hash)
		require.NoError(t, err)
		assert.Equal(t, c.ChainID, got.ChainID, "the first code must stay")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := newStore(t).GetCode(ctx, "nope")
		require.ErrorIs(t, err, oauth.ErrNotFound)
	})
}

func testExchangeCode(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		c := NewCode()
		require.NoError(t, s.CreateCode(ctx, c))
		at, rt := NewToken(oauth.AccessToken, c.ChainID), NewToken(oauth.RefreshToken, c.ChainID)
		require.NoError(t, s.ExchangeCode(ctx, c.Hash, at, rt))
		got, err := s.GetCode(ctx, c.Hash)
		require.NoError(t, err)
		assert.True(t, got.Used)
		for _, tok := range []*oauth.Token{at, rt} {
			stored, err := s.GetToken(ctx, tok.Hash)
			require.NoError(t, err)
			assert.Equal(t, normToken(*tok), normToken(*stored))
		}
	})
	t.Run("ErrAlreadyUsed", func(t *testing.T) {
		s := newStore(t)
		c := NewCode()
		require.NoError(t, s.CreateCode(ctx, c))
		require.NoError(t, s.ExchangeCode(ctx, c.Hash, NewToken(oauth.AccessToken, c.ChainID)))
		second := NewToken(oauth.AccessToken, c.ChainID)
		require.ErrorIs(t, s.ExchangeCode(ctx, c.Hash, second), oauth.ErrAlreadyUsed)
		_, err := s.GetToken(ctx, second.Hash)
		require.ErrorIs(t, err, oauth.ErrNotFound, "a failed exchange must store no token")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		tok := NewToken(oauth.AccessToken, "chain")
		require.ErrorIs(t, s.ExchangeCode(ctx, "nope", tok), oauth.ErrNotFound)
		_, err := s.GetToken(ctx, tok.Hash)
		require.ErrorIs(t, err, oauth.ErrNotFound)
	})
	t.Run("Atomic", func(t *testing.T) {
		s := newStore(t)
		c1, c2 := NewCode(), NewCode()
		require.NoError(t, s.CreateCode(ctx, c1))
		require.NoError(t, s.CreateCode(ctx, c2))
		tok := NewToken(oauth.AccessToken, c1.ChainID)
		require.NoError(t, s.ExchangeCode(ctx, c1.Hash, tok))
		// A token hash that already exists makes the exchange fail as a
		// whole: the code stays unused.
		require.ErrorIs(t, s.ExchangeCode(ctx, c2.Hash, tok), oauth.ErrConflict)
		got, err := s.GetCode(ctx, c2.Hash)
		require.NoError(t, err)
		assert.False(t, got.Used)
	})
}

// Concurrently runs f n times at once, released together, and returns the
// errors in order: the shape of every single-use race test.
func Concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOne checks that one error is nil and every other one is ErrAlreadyUsed.
func exactlyOne(t *testing.T, errs []error) {
	t.Helper()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, oauth.ErrAlreadyUsed):
			t.Errorf("#%d: %v, want nil or ErrAlreadyUsed", i, err)
		}
	}
	assert.Equal(t, 1, ok, "successful redemptions")
}

func testExchangeCodeConcurrent(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	c := NewCode()
	require.NoError(t, s.CreateCode(ctx, c))
	tokens := make([]*oauth.Token, 8)
	errs := Concurrently(len(tokens), func(i int) error {
		tokens[i] = NewToken(oauth.AccessToken, c.ChainID)
		return s.ExchangeCode(ctx, c.Hash, tokens[i])
	})
	exactlyOne(t, errs)
	for i, err := range errs {
		_, getErr := s.GetToken(ctx, tokens[i].Hash)
		if err == nil {
			assert.NoError(t, getErr, "the winner's token")
		} else {
			assert.ErrorIs(t, getErr, oauth.ErrNotFound, "a loser's token")
		}
	}
}

func testToken(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := newStore(t).GetToken(ctx, "nope")
		require.ErrorIs(t, err, oauth.ErrNotFound)
	})
	t.Run("Create", func(t *testing.T) {
		s := newStore(t)
		tok := NewToken(oauth.AccessToken, "own-chain")
		tok.Subject = "" // a client's token for itself (client_credentials)
		require.NoError(t, s.CreateToken(ctx, tok))
		got, err := s.GetToken(ctx, tok.Hash)
		require.NoError(t, err)
		assert.Equal(t, normToken(*tok), normToken(*got))
	})
	t.Run("CreateErrConflict", func(t *testing.T) {
		s := newStore(t)
		tok := NewToken(oauth.AccessToken, "chain-a")
		require.NoError(t, s.CreateToken(ctx, tok))
		other := NewToken(oauth.AccessToken, "chain-b")
		other.Hash = tok.Hash
		require.ErrorIs(t, s.CreateToken(ctx, other), oauth.ErrConflict)
		got, err := s.GetToken(ctx, tok.Hash)
		require.NoError(t, err)
		assert.Equal(t, "chain-a", got.ChainID, "the first token must stay")
	})
}

// issue stores a code and exchanges it for an access and a refresh token.
func issue(t *testing.T, s oauth.Store) (access, refresh *oauth.Token) {
	t.Helper()
	ctx := context.Background()
	c := NewCode()
	require.NoError(t, s.CreateCode(ctx, c))
	access, refresh = NewToken(oauth.AccessToken, c.ChainID), NewToken(oauth.RefreshToken, c.ChainID)
	require.NoError(t, s.ExchangeCode(ctx, c.Hash, access, refresh))
	return access, refresh
}

func testRotate(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := newStore(t)
		_, rt := issue(t, s)
		at2, rt2 := NewToken(oauth.AccessToken, rt.ChainID), NewToken(oauth.RefreshToken, rt.ChainID)
		require.NoError(t, s.RotateRefreshToken(ctx, rt.Hash, at2, rt2))
		old, err := s.GetToken(ctx, rt.Hash)
		require.NoError(t, err)
		assert.True(t, old.Used)
		assert.False(t, old.Revoked)
		got, err := s.GetToken(ctx, rt2.Hash)
		require.NoError(t, err)
		assert.False(t, got.Used)
		_, err = s.GetToken(ctx, at2.Hash)
		require.NoError(t, err)
	})
	t.Run("ErrAlreadyUsed", func(t *testing.T) {
		s := newStore(t)
		_, rt := issue(t, s)
		require.NoError(t, s.RotateRefreshToken(ctx, rt.Hash, NewToken(oauth.RefreshToken, rt.ChainID)))
		next := NewToken(oauth.RefreshToken, rt.ChainID)
		require.ErrorIs(t, s.RotateRefreshToken(ctx, rt.Hash, next), oauth.ErrAlreadyUsed)
		_, err := s.GetToken(ctx, next.Hash)
		require.ErrorIs(t, err, oauth.ErrNotFound)
	})
	t.Run("ErrRevoked", func(t *testing.T) {
		s := newStore(t)
		_, rt := issue(t, s)
		require.NoError(t, s.RevokeToken(ctx, rt.Hash))
		require.ErrorIs(t, s.RotateRefreshToken(ctx, rt.Hash, NewToken(oauth.RefreshToken, rt.ChainID)), oauth.ErrRevoked)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		at, _ := issue(t, s)
		require.ErrorIs(t, s.RotateRefreshToken(ctx, "nope", NewToken(oauth.RefreshToken, "c")), oauth.ErrNotFound)
		require.ErrorIs(t, s.RotateRefreshToken(ctx, at.Hash, NewToken(oauth.RefreshToken, at.ChainID)), oauth.ErrNotFound,
			"an access token is not a refresh token")
	})
}

func testRotateConcurrent(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	_, rt := issue(t, s)
	errs := Concurrently(8, func(int) error {
		return s.RotateRefreshToken(ctx, rt.Hash, NewToken(oauth.AccessToken, rt.ChainID), NewToken(oauth.RefreshToken, rt.ChainID))
	})
	exactlyOne(t, errs)
}

func testRevoke(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	ctx := context.Background()
	t.Run("Token", func(t *testing.T) {
		s := newStore(t)
		at, rt := issue(t, s)
		require.NoError(t, s.RevokeToken(ctx, at.Hash))
		require.NoError(t, s.RevokeToken(ctx, at.Hash), "revoking twice is fine")
		got, err := s.GetToken(ctx, at.Hash)
		require.NoError(t, err)
		assert.True(t, got.Revoked)
		got, err = s.GetToken(ctx, rt.Hash)
		require.NoError(t, err)
		assert.False(t, got.Revoked, "only the one token")
		require.ErrorIs(t, s.RevokeToken(ctx, "nope"), oauth.ErrNotFound)
	})
	t.Run("Chain", func(t *testing.T) {
		s := newStore(t)
		at, rt := issue(t, s)
		at2, rt2 := NewToken(oauth.AccessToken, rt.ChainID), NewToken(oauth.RefreshToken, rt.ChainID)
		require.NoError(t, s.RotateRefreshToken(ctx, rt.Hash, at2, rt2))
		otherAT, otherRT := issue(t, s)
		require.NoError(t, s.RevokeChain(ctx, rt.ChainID))
		for _, tok := range []*oauth.Token{at, rt, at2, rt2} {
			got, err := s.GetToken(ctx, tok.Hash)
			require.NoError(t, err)
			assert.True(t, got.Revoked, "token of the chain")
		}
		for _, tok := range []*oauth.Token{otherAT, otherRT} {
			got, err := s.GetToken(ctx, tok.Hash)
			require.NoError(t, err)
			assert.False(t, got.Revoked, "token of another chain")
		}
		require.NoError(t, s.RevokeChain(ctx, "no-such-chain"))
	})
}

func testSweep(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	var live, dead []string
	for i := range 4 {
		c := NewCode()
		c.Hash = fmt.Sprintf("code-%d-%s", i, c.Hash)
		expired := i%2 == 0
		if expired {
			c.ExpiresAt = base.Add(-time.Second)
		}
		require.NoError(t, s.CreateCode(ctx, c))
		tok := NewToken(oauth.RefreshToken, c.ChainID)
		if expired {
			tok.ExpiresAt = base.Add(-time.Second)
		}
		require.NoError(t, s.ExchangeCode(ctx, c.Hash, tok))
		if expired {
			dead = append(dead, tok.Hash)
		} else {
			live = append(live, tok.Hash)
		}
	}
	n, err := s.Sweep(ctx, base)
	require.NoError(t, err)
	assert.Equal(t, int64(4), n, "2 codes and 2 tokens")
	for _, h := range live {
		_, err := s.GetToken(ctx, h)
		assert.NoError(t, err)
	}
	for _, h := range dead {
		_, err := s.GetToken(ctx, h)
		assert.ErrorIs(t, err, oauth.ErrNotFound)
	}
	n, err = s.Sweep(ctx, base)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func testRevokeGrants(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	alice, bob := NewToken(oauth.AccessToken, id("chain")), NewToken(oauth.RefreshToken, id("chain"))
	bob.Subject = "bob"
	machine := NewToken(oauth.AccessToken, id("chain"))
	machine.ClientID, machine.Subject = "client-b", ""
	for _, tok := range []*oauth.Token{alice, bob, machine} {
		require.NoError(t, s.CreateToken(ctx, tok))
	}
	var seen []string
	n, err := s.RevokeGrants(ctx, func(clientID, subject string) bool {
		seen = append(seen, clientID+"/"+subject)
		return subject == "bob" || clientID == "client-b"
	})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	assert.ElementsMatch(t, []string{"client-a/alice", "client-a/bob", "client-b/"}, seen)
	for tok, revoked := range map[*oauth.Token]bool{alice: false, bob: true, machine: true} {
		got, err := s.GetToken(ctx, tok.Hash)
		require.NoError(t, err)
		assert.Equal(t, revoked, got.Revoked, "%s/%s", tok.ClientID, tok.Subject)
	}
	// Revoked tokens are not listed again.
	n, err = s.RevokeGrants(ctx, func(clientID, subject string) bool {
		assert.Equal(t, "client-a/alice", clientID+"/"+subject)
		return false
	})
	require.NoError(t, err)
	assert.Zero(t, n)
}
