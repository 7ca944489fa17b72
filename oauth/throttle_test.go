package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/storetest"
)

// statuses counts the HTTP status codes of answers.
func statuses(codes []int) map[int]int {
	m := map[int]int{}
	for _, c := range codes {
		m[c]++
	}
	return m
}

// introspectFrom sends an introspection request authenticated with basic
// from the address from.
func (e *env) introspectFrom(t *testing.T, basic, from string) *http.Response {
	t.Helper()
	resp, _ := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: basic, form: "token=x", from: from})
	return resp
}

// TestThrottleParallelWrongSecrets: of 200 wrong client secrets sent at once
// from one address, exactly the budget (10) is checked and the rest get 429
// (RFC 6749 §2.3.1): each attempt is counted before it is checked. The real
// client is then refused from that address, but not from another one.
func TestThrottleParallelWrongSecrets(t *testing.T) {
	e := newEnv(t, nil)
	const n, budget, attacker = 200, 10, "198.51.100.7"
	codes := make([]int, n)
	storetest.Concurrently(n, func(i int) error {
		resp, _ := e.do(t, tokenRequest{
			basic: demoID + ":wrong-" + strconv.Itoa(i), from: attacker,
			form: formOf("grant_type", "refresh_token", "refresh_token", "x"),
		})
		codes[i] = resp.StatusCode
		return nil
	})
	assert.Equal(t, map[int]int{http.StatusUnauthorized: budget, http.StatusTooManyRequests: n - budget}, statuses(codes))
	assert.Equal(t, float64(budget), counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "token", "reason", "bad_secret"), "secrets checked")
	assert.Equal(t, float64(n-budget), counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "token", "reason", "throttled"))

	t.Run("CorrectSecretSameAddress", func(t *testing.T) {
		resp := e.introspectFrom(t, demoBasic, attacker)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		assert.True(t, secs > 0 && secs <= 300, "Retry-After %d", secs)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	})
	t.Run("CorrectSecretOtherAddress", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, "203.0.113.9").StatusCode)
	})
	t.Run("OtherClientSameAddress", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, e.introspectFrom(t, otherID+":"+otherSecret, attacker).StatusCode)
	})
	t.Run("SameAddressAfterWindow", func(t *testing.T) {
		e.clock.Advance(5 * time.Minute)
		assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, attacker).StatusCode)
	})
}

// TestThrottleSharedWithoutSessionKey: two servers on one SQLite file, with
// no session_key configured, share one budget (RFC 6749 §2.3.1): of 20
// wrong secrets from one address, sent to both in turn, 10 are checked, not
// 10 on each. A restart keeps the count.
func TestThrottleSharedWithoutSessionKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauth.db")
	nodes := []*env{newEnvAt(t, path, nil), newEnvAt(t, path, nil)}
	require.Empty(t, nodes[0].cfg.SessionKey)
	const n, budget, attacker = 20, 10, "198.51.100.8"
	codes := make([]int, n)
	for i := range codes {
		codes[i] = nodes[i%2].introspectFrom(t, demoID+":wrong-"+strconv.Itoa(i), attacker).StatusCode
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: budget, http.StatusTooManyRequests: n - budget}, statuses(codes))

	nodes[0].restart(t)
	assert.Equal(t, http.StatusTooManyRequests, nodes[0].introspectFrom(t, demoBasic, attacker).StatusCode, "the count outlives a restart")
	assert.Equal(t, http.StatusOK, nodes[0].introspectFrom(t, demoBasic, "203.0.113.10").StatusCode)
}

// TestThrottleSuccessesAreTakenBack: a client that authenticates correctly
// far more often than the budget is never refused.
func TestThrottleSuccessesAreTakenBack(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 40 {
		require.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, "").StatusCode, "#%d", i)
	}
}

// TestThrottleAddressBudget: one address guessing at many clients is refused
// after the address budget, for every client.
func TestThrottleAddressBudget(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Throttle = oauth.Throttle{AddressLimit: 5} })
	const attacker = "198.51.100.8"
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, e.introspectFrom(t, "nobody-"+strconv.Itoa(i)+":x", attacker).StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, e.introspectFrom(t, demoBasic, attacker).StatusCode)
	assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, "198.51.100.9").StatusCode)
}

// TestThrottleIPv6Prefix: the addresses of one IPv6 /64 share a budget.
func TestThrottleIPv6Prefix(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Throttle = oauth.Throttle{PairLimit: 3} })
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, e.introspectFrom(t, demoID+":wrong", "2001:db8:1:2::"+strconv.Itoa(i+1)).StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, e.introspectFrom(t, demoBasic, "2001:db8:1:2:ffff::1").StatusCode)
	assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, "2001:db8:1:3::1").StatusCode, "another /64")
}

// TestThrottleTarPit: guesses at one client from many addresses are never a
// lock, but a tar pit: past the free attempts each waits for a slot, the
// slots spread out, and an attempt whose slot is too far is refused with a
// short Retry-After. An address that signed in before skips the tar pit; the
// owner from a new address gets in once the queue has room.
func TestThrottleTarPit(t *testing.T) {
	const step = 150 * time.Millisecond
	e := newEnv(t, func(c *oauth.Config) {
		c.Throttle = oauth.Throttle{TarPitFree: 3, TarPitStep: step, TarPitMaxStep: 2 * step, MaxWait: 4 * step}
	})
	const owner = "192.0.2.1"
	require.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, owner).StatusCode, "the owner signs in once")

	// The clock stands still, so the slots are at 0, 1, 3 and 5 steps (3 free
	// attempts first), and the last is past MaxWait (4 steps).
	const guesses = 3 + 4
	codes := make([]int, guesses)
	start := time.Now()
	storetest.Concurrently(guesses, func(i int) error {
		codes[i] = e.introspectFrom(t, demoID+":wrong", "198.51.100."+strconv.Itoa(10+i)).StatusCode
		return nil
	})
	elapsed := time.Since(start)
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 6, http.StatusTooManyRequests: 1}, statuses(codes))
	assert.GreaterOrEqual(t, elapsed, 3*step, "the third slot is 3 steps away")

	t.Run("KnownAddressSkips", func(t *testing.T) {
		// The queue is full (see NewAddressQueueFull): only an attempt
		// that skips it can be answered.
		assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, owner).StatusCode)
	})
	t.Run("NewAddressQueueFull", func(t *testing.T) {
		resp := e.introspectFrom(t, demoBasic, "192.0.2.2")
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	})
	t.Run("NewAddressLater", func(t *testing.T) {
		e.clock.Advance(time.Second)
		assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, "192.0.2.2").StatusCode)
	})
}

// A known_for shorter than a day keeps an address known while it signs in
// within that period: its record is renewed often enough.
func TestThrottleShortKnownFor(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) {
		c.Throttle = oauth.Throttle{KnownFor: time.Hour, TarPitFree: 1, TarPitStep: time.Hour, TarPitMaxStep: time.Hour, MaxWait: time.Second}
	})
	const owner = "192.0.2.1"
	require.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, owner).StatusCode)
	e.clock.Advance(50 * time.Minute)
	require.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, owner).StatusCode, "signed in again within known_for")
	e.clock.Advance(20 * time.Minute) // 70 minutes after the first sign-in, 20 after the last

	// Guesses from other addresses until the account's tar pit is full.
	for i := 0; e.introspectFrom(t, demoID+":wrong", "198.51.100."+strconv.Itoa(40+i)).StatusCode != http.StatusTooManyRequests; i++ {
		require.Less(t, i, 10, "the tar pit never filled")
	}
	assert.Equal(t, http.StatusOK, e.introspectFrom(t, demoBasic, owner).StatusCode, "still known: it skips the tar pit")
	assert.Equal(t, http.StatusTooManyRequests, e.introspectFrom(t, demoBasic, "192.0.2.9").StatusCode, "an address never seen waits in it")
}

// TestThrottleTarPitPastDeadline: an attempt whose tar-pit slot lies past
// its context's deadline (the gateway's store timeout, shorter than MaxWait)
// is refused with 429 at once (RFC 6585 §4), not left to wait until the
// context ends and then reported as a store failure (500).
func TestThrottleTarPitPastDeadline(t *testing.T) {
	const step = 2 * time.Second
	e := newEnv(t, func(c *oauth.Config) {
		c.Throttle = oauth.Throttle{TarPitFree: 1, TarPitStep: step, TarPitMaxStep: step, MaxWait: 10 * step}
	})
	// The first attempt is free, the second takes slot 0, the third's is a
	// step away: past the deadline of 1 s.
	for i := range 2 {
		_, err := e.srv.AuthenticateClient(context.Background(), demoID, "wrong", "198.51.100."+strconv.Itoa(20+i))
		require.ErrorIs(t, err, oauth.ErrInvalidClient)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := e.srv.AuthenticateClient(ctx, demoID, "wrong", "198.51.100.30")
	var throttled *oauth.ThrottledError
	require.ErrorAs(t, err, &throttled)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "answered at once, not after a wait")
	assert.Positive(t, throttled.RetryAfter)
	assert.LessOrEqual(t, throttled.RetryAfter, step)
}

// TestAuthenticateClient is the entry point the gateway's legacy credentials
// use: the same budgets as the token endpoint.
func TestAuthenticateClient(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Throttle = oauth.Throttle{PairLimit: 2} })
	ctx := context.Background()
	got, err := e.srv.AuthenticateClient(ctx, demoID, demoSecret, "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, demoID, got.ID)
	assert.Equal(t, e.cfg.Clients[0].Scopes, got.Scopes)

	for _, tt := range []struct{ id, secret string }{{demoID, "wrong"}, {"nobody", demoSecret}} {
		_, err := e.srv.AuthenticateClient(ctx, tt.id, tt.secret, "192.0.2.3")
		require.ErrorIs(t, err, oauth.ErrInvalidClient, tt)
	}
	_, err = e.srv.AuthenticateClient(ctx, demoID, "", "192.0.2.3")
	require.ErrorIs(t, err, oauth.ErrInvalidClient, "no secret")

	_, err = e.srv.AuthenticateClient(ctx, demoID, "wrong", "192.0.2.4")
	require.ErrorIs(t, err, oauth.ErrInvalidClient)
	_, err = e.srv.AuthenticateClient(ctx, demoID, "wrong", "192.0.2.4")
	require.ErrorIs(t, err, oauth.ErrInvalidClient)
	_, err = e.srv.AuthenticateClient(ctx, demoID, demoSecret, "192.0.2.4")
	require.ErrorIs(t, err, oauth.ErrTooManyAttempts)
	var throttled *oauth.ThrottledError
	require.True(t, errors.As(err, &throttled))
	assert.Positive(t, throttled.RetryAfter)

	// The token endpoint shares the budget.
	resp, body := e.do(t, tokenRequest{basic: demoBasic, from: "192.0.2.4", form: formOf("grant_type", "refresh_token", "refresh_token", "x")})
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
	assert.Equal(t, 3.0, counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "gateway", "reason", "bad_secret"))
}

// TestRefuseClient: a credential the gateway refused unchecked (an expired
// UsernameToken, a malformed one) spends the budgets as a wrong secret
// would, but is counted and logged under its own reason.
func TestRefuseClient(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Throttle = oauth.Throttle{PairLimit: 2} })
	ctx := context.Background()
	for _, reason := range []string{"expired", "malformed"} {
		require.ErrorIs(t, e.srv.RefuseClient(ctx, demoID, "192.0.2.6", reason), oauth.ErrInvalidClient)
	}
	_, err := e.srv.AuthenticateClient(ctx, demoID, demoSecret, "192.0.2.6")
	require.ErrorIs(t, err, oauth.ErrTooManyAttempts, "refusals spend the pair's budget")
	require.ErrorIs(t, e.srv.RefuseClient(ctx, demoID, "192.0.2.6", "expired"), oauth.ErrTooManyAttempts)

	for reason, want := range map[string]float64{"expired": 1, "malformed": 1, "bad_secret": 0, "throttled": 2} {
		assert.Equal(t, want, counterValue(t, e, "hellogw_oauth_client_auth_failures_total", "endpoint", "gateway", "reason", reason), reason)
	}
	assert.Contains(t, e.logs.String(), `"reason":"expired"`)
	assert.NotContains(t, e.logs.String(), `"reason":"bad_secret"`)
}

// TestLoginThrottleParallel: of 100 wrong passwords sent at once for one user
// from one address, exactly the budget is checked.
func TestLoginThrottleParallel(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	conf := e.oauth2Config(demoID, demoSecret, demoRedirect, "hello")
	resp, err := c.Get(conf.AuthCodeURL("st"))
	require.NoError(t, err)
	login := parseForm(t, readBody(t, resp))

	const n, budget = 100, 10
	codes := make([]int, n)
	storetest.Concurrently(n, func(i int) error {
		resp := e.post(t, c, login, url.Values{"username": {"alice"}, "password": {"wrong-" + strconv.Itoa(i)}})
		readBody(t, resp)
		codes[i] = resp.StatusCode
		return nil
	})
	assert.Equal(t, map[int]int{http.StatusUnauthorized: budget, http.StatusTooManyRequests: n - budget}, statuses(codes))
	assert.Equal(t, budget, strings.Count(e.logs.String(), `"msg":"oauth login failed"`), "passwords checked")
}

// TestThrottleStoreFailure: if the store cannot count an attempt, the
// attempt is not checked and the answer is a server error, not a 401.
func TestThrottleStoreFailure(t *testing.T) {
	e := newEnv(t, nil)
	require.NoError(t, e.store.Close())
	resp, body := e.do(t, tokenRequest{path: oauth.IntrospectPath, basic: demoBasic, form: "token=x"})
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, body)
	assert.Equal(t, "server_error", jsonBody(t, body)["error"])
}

// TestAuthenticateClientProof: a proof the gateway checks itself (a
// WS-Security digest) spends the same budgets, and so do malformed
// credentials (an empty id), which count against the address.
func TestAuthenticateClientProof(t *testing.T) {
	e := newEnv(t, func(c *oauth.Config) { c.Throttle = oauth.Throttle{PairLimit: 2, AddressLimit: 2} })
	ctx := context.Background()
	yes, no := func() bool { return true }, func() bool { return false }
	got, err := e.srv.AuthenticateClientProof(ctx, demoID, "192.0.2.1", yes)
	require.NoError(t, err)
	assert.Equal(t, demoID, got.ID)
	assert.Equal(t, e.cfg.Clients[0].Scopes, got.Scopes)
	_, err = e.srv.AuthenticateClientProof(ctx, "nobody", "192.0.2.1", yes)
	require.ErrorIs(t, err, oauth.ErrInvalidClient, "an unknown client proves nothing")

	for range 2 {
		_, err = e.srv.AuthenticateClientProof(ctx, demoID, "192.0.2.2", no)
		require.ErrorIs(t, err, oauth.ErrInvalidClient)
	}
	_, err = e.srv.AuthenticateClientProof(ctx, demoID, "192.0.2.2", yes)
	require.ErrorIs(t, err, oauth.ErrTooManyAttempts, "the pair's budget is spent")
	_, err = e.srv.AuthenticateClient(ctx, demoID, demoSecret, "192.0.2.2")
	require.ErrorIs(t, err, oauth.ErrTooManyAttempts, "and shared with secrets")

	for range 2 {
		_, err = e.srv.AuthenticateClientProof(ctx, "", "192.0.2.3", no)
		require.ErrorIs(t, err, oauth.ErrInvalidClient)
	}
	_, err = e.srv.AuthenticateClientProof(ctx, demoID, "192.0.2.3", yes)
	require.ErrorIs(t, err, oauth.ErrTooManyAttempts, "malformed credentials spend the address's budget")
}
