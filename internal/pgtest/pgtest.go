// Package pgtest gives tests a PostgreSQL schema of their own on the server
// that make test (or scripts/postgres.sh run) starts.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URLEnv names the environment variable holding the test server's URL.
const URLEnv = "HELLOGW_TEST_POSTGRES_URL"

// URL returns the test server's URL. Without one the test fails, saying
// so: a PostgreSQL test that could not run must not pass.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(URLEnv)
	if u == "" {
		tb.Fatal("PostgreSQL tests did not run: set " + URLEnv + ` (make test starts a server and sets it; or ./scripts/postgres.sh run go test …)`)
	}
	return u
}

// Schema creates an empty schema, dropped at cleanup, and returns a URL
// whose connections use it (search_path), so that tests sharing the server
// never see each other's tables.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	name := "hellogw_test_" + strings.ToLower(rand.Text())
	Exec(tb, base, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize())
	tb.Cleanup(func() { Exec(tb, base, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs one statement on a connection of its own to connURL.
func Exec(tb testing.TB, connURL, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatal(err)
	}
}
