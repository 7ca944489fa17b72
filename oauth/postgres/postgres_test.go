package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/postgres"
	"github.com/hellogw/hellogw/oauth/storetest"
)

// The tests run against the server whose URL is in urlEnv, each in a schema of
// its own. TestOutage also stops and starts that server with the script named
// by ctlEnv.
const (
	urlEnv = "HELLOGW_TEST_POSTGRES_URL"
	ctlEnv = "HELLOGW_TEST_POSTGRES_CTL"
)

// TestMain refuses to run without a server: a PostgreSQL test that could not
// run must not pass.
func TestMain(m *testing.M) {
	if os.Getenv(urlEnv) == "" {
		fmt.Fprintln(os.Stderr, "PostgreSQL tests did not run: set "+urlEnv+" (make test starts a server and sets it)")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// execSQL runs one statement on a connection of its own.
func execSQL(tb testing.TB, connURL, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(tb, err)
}

// newSchema creates an empty schema, dropped at cleanup, and returns a URL
// whose connections use it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(urlEnv)
	name := "hellogw_test_" + strings.ToLower(rand.Text())
	execSQL(tb, base, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() { execSQL(tb, base, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`) })
	return withParam(tb, base, "search_path", name)
}

// mustOpen opens the store at connURL and closes it at cleanup.
func mustOpen(tb testing.TB, connURL string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), connURL)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// migrationNames lists the migrations as the store records them.
func migrationNames(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob("migration/*.sql")
	require.NoError(tb, err)
	require.NotEmpty(tb, names)
	return names
}

// recordedMigrations returns the names in the migrations table of connURL's schema.
func recordedMigrations(tb testing.TB, connURL string) []string {
	tb.Helper()
	ctx := tb.Context()
	conn, err := pgx.Connect(ctx, connURL)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name FROM migrations ORDER BY name`)
	require.NoError(tb, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	return names
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) oauth.Store { return mustOpen(t, newSchema(t)) })
}

func TestOpen(t *testing.T) {
	// Nodes starting at once on an empty schema: each migration once, also
	// on a server whose default isolation level is SERIALIZABLE.
	concurrent := func(t *testing.T, connURL string) {
		errs := storetest.Concurrently(8, func(int) error {
			db, err := postgres.Open(t.Context(), connURL)
			if err == nil {
				_ = db.Close()
			}
			return err
		})
		for i, err := range errs {
			assert.NoError(t, err, "#%d", i)
		}
		assert.Equal(t, migrationNames(t), recordedMigrations(t, connURL))
	}
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, newSchema(t)) })
	t.Run("ConcurrentSerializable", func(t *testing.T) {
		concurrent(t, withParam(t, newSchema(t), "default_transaction_isolation", "serializable"))
	})
	t.Run("Reopen", func(t *testing.T) {
		ctx := t.Context()
		connURL := newSchema(t)
		db := mustOpen(t, connURL)
		c := storetest.NewCode()
		require.NoError(t, db.CreateCode(ctx, c))
		require.NoError(t, db.Close())

		db = mustOpen(t, connURL)
		got, err := db.GetCode(ctx, c.Hash)
		require.NoError(t, err)
		assert.Equal(t, c.ChainID, got.ChainID)
		assert.Equal(t, migrationNames(t), recordedMigrations(t, connURL))
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		// A port nobody listens on: Open fails at once.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err = postgres.Open(ctx, "postgres://nobody:x@127.0.0.1:"+strconv.Itoa(port)+"/none?sslmode=disable")
		require.Error(t, err)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("ErrInvalidURL", func(t *testing.T) {
		_, err := postgres.Open(t.Context(), "postgres://%zz")
		require.Error(t, err)
	})
}

func TestPing(t *testing.T) {
	require.NoError(t, mustOpen(t, newSchema(t)).Ping(t.Context()))
}

// winner checks that exactly one error is nil and every other one is
// oauth.ErrAlreadyUsed, and returns the index of the nil one.
func winner(t *testing.T, errs []error) int {
	t.Helper()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("#%d and #%d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, oauth.ErrAlreadyUsed):
			t.Fatalf("#%d: %v, want nil or ErrAlreadyUsed", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no call succeeded")
	}
	return won
}

// withParam returns connURL with one more query parameter.
func withParam(tb testing.TB, connURL, key, value string) string {
	tb.Helper()
	u, err := url.Parse(connURL)
	require.NoError(tb, err)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestMultiNode runs two stores on one database, as two gateway nodes would,
// also on a server whose default isolation level is SERIALIZABLE.
func TestMultiNode(t *testing.T) {
	t.Run("ReadCommitted", func(t *testing.T) {
		connURL := newSchema(t)
		testMultiNode(t, mustOpen(t, connURL), mustOpen(t, connURL))
	})
	t.Run("Serializable", func(t *testing.T) {
		connURL := withParam(t, newSchema(t), "default_transaction_isolation", "serializable")
		testMultiNode(t, mustOpen(t, connURL), mustOpen(t, connURL))
	})
}

// testMultiNode races calls at nodes a and b, alternately.
func testMultiNode(t *testing.T, a, b *postgres.DB) {
	const rounds, callers = 30, 8
	ctx := t.Context()
	nodes := [2]*postgres.DB{a, b}

	t.Run("CodeAcrossNodes", func(t *testing.T) {
		c := storetest.NewCode()
		require.NoError(t, nodes[0].CreateCode(ctx, c))
		tok := storetest.NewToken(oauth.RefreshToken, c.ChainID)
		require.NoError(t, nodes[1].ExchangeCode(ctx, c.Hash, tok))
		require.ErrorIs(t, nodes[0].ExchangeCode(ctx, c.Hash), oauth.ErrAlreadyUsed)
		got, err := nodes[0].GetToken(ctx, tok.Hash)
		require.NoError(t, err)
		assert.Equal(t, c.ChainID, got.ChainID)
	})
	t.Run("ExchangeCodeRace", func(t *testing.T) {
		for range rounds {
			c := storetest.NewCode()
			require.NoError(t, nodes[0].CreateCode(ctx, c))
			tokens := make([]*oauth.Token, callers)
			for i := range tokens {
				tokens[i] = storetest.NewToken(oauth.AccessToken, c.ChainID)
			}
			errs := storetest.Concurrently(callers, func(i int) error {
				return nodes[i%2].ExchangeCode(ctx, c.Hash, tokens[i])
			})
			won := winner(t, errs)
			for i, tok := range tokens {
				_, err := nodes[(i+1)%2].GetToken(ctx, tok.Hash)
				if i == won {
					require.NoError(t, err, "the winner's token, seen from the other node")
				} else {
					require.ErrorIs(t, err, oauth.ErrNotFound, "a loser's token")
				}
			}
		}
	})
	t.Run("RotateRefreshTokenRace", func(t *testing.T) {
		for range rounds {
			c := storetest.NewCode()
			require.NoError(t, nodes[0].CreateCode(ctx, c))
			rt := storetest.NewToken(oauth.RefreshToken, c.ChainID)
			require.NoError(t, nodes[0].ExchangeCode(ctx, c.Hash, rt))
			next := make([]*oauth.Token, callers)
			for i := range next {
				next[i] = storetest.NewToken(oauth.RefreshToken, c.ChainID)
			}
			errs := storetest.Concurrently(callers, func(i int) error {
				return nodes[i%2].RotateRefreshToken(ctx, rt.Hash, next[i])
			})
			won := winner(t, errs)
			for i, tok := range next {
				if i != won {
					_, err := nodes[(i+1)%2].GetToken(ctx, tok.Hash)
					require.ErrorIs(t, err, oauth.ErrNotFound, "a loser's successor")
				}
			}
			// The successor rotates once more at the other node; the
			// rotated-out token is refused at both.
			require.NoError(t, nodes[(won+1)%2].RotateRefreshToken(ctx, next[won].Hash, storetest.NewToken(oauth.RefreshToken, c.ChainID)))
			for _, n := range nodes {
				require.ErrorIs(t, n.RotateRefreshToken(ctx, next[won].Hash), oauth.ErrAlreadyUsed)
			}
		}
	})
}

// seedExpired stores n codes, each exchanged for a refresh token, that
// expired before storetest's base time, and returns the codes' hashes.
func seedExpired(t *testing.T, db oauth.Store, n int) []string {
	t.Helper()
	var hashes []string
	for range n {
		c := storetest.NewCode()
		c.ExpiresAt = c.CreatedAt.Add(-time.Second)
		require.NoError(t, db.CreateCode(t.Context(), c))
		tok := storetest.NewToken(oauth.RefreshToken, c.ChainID)
		tok.ExpiresAt = c.ExpiresAt
		require.NoError(t, db.ExchangeCode(t.Context(), c.Hash, tok))
		hashes = append(hashes, c.Hash)
	}
	return hashes
}

// TestSweepLock: while node A sweeps, node B's sweep is skipped, not queued.
// A is held mid-sweep by a row lock that another transaction takes on one of
// the expired codes.
func TestSweepLock(t *testing.T) {
	ctx := t.Context()
	connURL := newSchema(t)
	a, b := mustOpen(t, connURL), mustOpen(t, connURL)
	expired := seedExpired(t, a, 2)
	before := storetest.NewCode().CreatedAt

	conn, err := pgx.Connect(ctx, connURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(ctx, `SELECT 1 FROM codes WHERE hash = $1 FOR UPDATE`, expired[0])
	require.NoError(t, err)

	type result struct {
		n   int64
		err error
	}
	swept := make(chan result, 1)
	go func() {
		n, err := a.Sweep(ctx, before)
		swept <- result{n, err}
	}()
	// A holds the sweep lock once its DELETE waits for our row lock.
	require.Eventually(t, func() bool {
		var waiting int
		err := tx.QueryRow(ctx, `SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND $1 = ANY(pg_blocking_pids(pid))`, conn.PgConn().PID()).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 10*time.Millisecond, "node A's sweep never waited on the row lock")

	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := b.Sweep(bctx, before)
	require.NoError(t, err, "node B must skip, not wait for node A")
	assert.Zero(t, n)
	for _, h := range expired {
		_, err := b.GetCode(ctx, h)
		require.NoError(t, err, "nothing is deleted while A waits")
	}

	require.NoError(t, tx.Rollback(ctx))
	res := <-swept
	require.NoError(t, res.err)
	assert.Equal(t, int64(4), res.n, "A deletes 2 codes and 2 tokens")
	for _, h := range expired {
		_, err := b.GetCode(ctx, h)
		require.ErrorIs(t, err, oauth.ErrNotFound)
	}

	// The lock went with A's transaction: B sweeps the next round.
	seedExpired(t, a, 1)
	n, err = b.Sweep(ctx, before)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

// TestContextDeadline: a call that waits on the database returns when its
// context ends, and the pool serves the next call.
func TestContextDeadline(t *testing.T) {
	ctx := t.Context()
	connURL := newSchema(t)
	db := mustOpen(t, connURL)
	c := storetest.NewCode()
	require.NoError(t, db.CreateCode(ctx, c))

	conn, err := pgx.Connect(ctx, connURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT 1 FROM codes WHERE hash = $1 FOR UPDATE`, c.Hash)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = db.ExchangeCode(short, c.Hash, storetest.NewToken(oauth.AccessToken, c.ChainID))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	require.NoError(t, tx.Rollback(ctx))
	require.NoError(t, db.ExchangeCode(ctx, c.Hash, storetest.NewToken(oauth.AccessToken, c.ChainID)))
}

// runCtl runs the server control script named by ctlEnv with one argument.
func runCtl(tb testing.TB, ctl, arg string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ctl, arg).CombinedOutput()
	require.NoError(tb, err, "%s %s: %s", ctl, arg, out)
}

// TestOutage stops the PostgreSQL server under a running store and starts it
// again. It stops the server every other package's tests may be using, so it
// runs only when ctlEnv names the control script (scripts/postgres.sh, by an
// absolute path); make test runs it after the others.
func TestOutage(t *testing.T) {
	ctl := os.Getenv(ctlEnv)
	if ctl == "" {
		t.Fatal("the outage test did not run: it stops the server, so set " + ctlEnv + " to the absolute path of scripts/postgres.sh (make test does, in a run of its own)")
	}
	ctx := t.Context()
	connURL := newSchema(t)
	db := mustOpen(t, connURL)

	// Issued before the outage: an exchanged code with its tokens, and an
	// unused code.
	used, unused := storetest.NewCode(), storetest.NewCode()
	require.NoError(t, db.CreateCode(ctx, used))
	require.NoError(t, db.CreateCode(ctx, unused))
	at, rt := storetest.NewToken(oauth.AccessToken, used.ChainID), storetest.NewToken(oauth.RefreshToken, used.ChainID)
	require.NoError(t, db.ExchangeCode(ctx, used.Hash, at, rt))

	runCtl(t, ctl, "stop")
	// Whatever happens below, the next tests find the server running.
	t.Cleanup(func() { runCtl(t, ctl, "start") })

	calls := map[string]func(context.Context) error{
		"Ping": db.Ping,
		"GetToken": func(ctx context.Context) error {
			_, err := db.GetToken(ctx, at.Hash)
			return err
		},
		"CreateCode": func(ctx context.Context) error { return db.CreateCode(ctx, storetest.NewCode()) },
		"ExchangeCode": func(ctx context.Context) error {
			return db.ExchangeCode(ctx, unused.Hash, storetest.NewToken(oauth.AccessToken, unused.ChainID))
		},
		"RotateRefreshToken": func(ctx context.Context) error {
			return db.RotateRefreshToken(ctx, rt.Hash, storetest.NewToken(oauth.RefreshToken, rt.ChainID))
		},
		"Sweep": func(ctx context.Context) error {
			_, err := db.Sweep(ctx, time.Now())
			return err
		},
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		start := time.Now()
		err := call(ctx)
		elapsed := time.Since(start)
		cancel()
		require.Error(t, err, "%s during the outage: does %s control the server at %s?", name, ctlEnv, urlEnv)
		for _, sentinel := range []error{oauth.ErrNotFound, oauth.ErrConflict, oauth.ErrAlreadyUsed, oauth.ErrRevoked} {
			assert.NotErrorIs(t, err, sentinel, "%s: an outage is no verdict on the grant", name)
		}
		assert.Less(t, elapsed, 2*time.Second, "%s must fail fast", name)
	}

	runCtl(t, ctl, "start")
	// The same pool serves again, without reopening.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return db.Ping(ctx) == nil
	}, 30*time.Second, 100*time.Millisecond, "the pool did not recover")

	got, err := db.GetToken(ctx, at.Hash)
	require.NoError(t, err, "a token issued before the outage")
	assert.False(t, got.Revoked)
	require.ErrorIs(t, db.ExchangeCode(ctx, used.Hash), oauth.ErrAlreadyUsed, "a code used before the outage")
	require.NoError(t, db.ExchangeCode(ctx, unused.Hash, storetest.NewToken(oauth.AccessToken, unused.ChainID)))
	require.NoError(t, db.RotateRefreshToken(ctx, rt.Hash, storetest.NewToken(oauth.RefreshToken, rt.ChainID)))
}
