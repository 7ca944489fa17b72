// Package postgres is the oauth.Store shared by many gateway nodes: one
// PostgreSQL database reached through a pgx v5 connection pool, with the same
// versioned migrations as oauth/sqlite.
//
// Nodes coordinate through the database alone. Single use of codes and refresh
// tokens rests on row locks (a conditional UPDATE in READ COMMITTED waits for a
// concurrent one and then re-checks its condition); migrations and sweeps take
// transaction-level advisory locks whose keys are derived from the schema the
// store lives in, so that stores in different schemas of one database never
// contend.
//
// Every method honours its context: a query whose context ends returns at once
// and its connection is discarded, so a database outage fails requests fast.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hellogw/hellogw/oauth"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// Advisory lock keys, as SQL expressions: one key per purpose and schema
// (hashtextextended needs PostgreSQL 11 or later).
const (
	migrateLockKey = `hashtextextended('hellogw.oauth.migrate:' || coalesce(current_schema(), ''), 0)`
	sweepLockKey   = `hashtextextended('hellogw.oauth.sweep:' || coalesce(current_schema(), ''), 0)`
)

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout: the pool keeps dialing after the request that asked for a
// connection gave up, and pgxpool's own bound is two minutes.
const defaultConnectTimeout = 5 * time.Second

// uniqueViolation is the SQLSTATE of a unique constraint violation.
const uniqueViolation = "23505"

// DB is an oauth.Store on a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	// Now is the clock for used_at and revoked_at; it can be replaced in tests.
	Now func() time.Time
}

var _ oauth.Store = (*DB)(nil)

// Open connects to the PostgreSQL database at url, a postgres:// URL or a
// key=value connection string as pgxpool.ParseConfig takes them (pool_max_conns
// and the other pool_ parameters included; search_path selects a schema), and
// applies the migrations it has not recorded yet. Nodes that open one database
// at once apply each migration once: they queue on an advisory lock.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every connection of the pool; it waits for connections in use
// to be released. It always returns nil: the error is there to match
// sqlite.DB.Close.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers, for a readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded in the migrations
// table, in name order, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("postgres: migrate %s: %w", name, err)
		}
	}
	return nil
}

// migrateFile applies one migration unless it is recorded. The advisory lock,
// held until the transaction ends, makes a node that starts at the same time
// wait and then find the migration recorded.
func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+migrateLockKey+`)`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`); err != nil {
		return err
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM migrations WHERE name = $1)`, name).Scan(&done); err != nil {
		return err
	} else if done {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	// Without arguments, Exec uses the simple protocol, which runs every
	// statement of the file.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO migrations (name) VALUES ($1)`, name); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Sweep implements oauth.Store. Only one node sweeps at a time: a node that
// finds the sweep lock taken skips this round and returns 0 and no error,
// since the node holding the lock deletes the same rows.
func (db *DB) Sweep(ctx context.Context, before time.Time) (int64, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, formatError(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+sweepLockKey+`)`).Scan(&locked); err != nil {
		return 0, formatError(err)
	} else if !locked {
		return 0, nil
	}
	var total int64
	for _, q := range []string{`DELETE FROM codes WHERE expires_at < $1`, `DELETE FROM tokens WHERE expires_at < $1`} {
		tag, err := tx.Exec(ctx, q, nanos(before))
		if err != nil {
			return 0, formatError(err)
		}
		total += tag.RowsAffected()
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, formatError(err)
	}
	return total, nil
}

// begin starts a READ COMMITTED transaction whatever the server's default.
// Each statement then sees what committed before it began: a conditional
// UPDATE that waited for a row lock re-checks the winner's row (where
// SERIALIZABLE would fail the loser with SQLSTATE 40001), and a node that
// waited for the migration lock sees the migration recorded meanwhile.
func (db *DB) begin(ctx context.Context) (pgx.Tx, error) {
	return db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
}

// formatError maps driver errors to oauth sentinels: a unique violation
// (SQLSTATE 23505) is oauth.ErrConflict, no row is oauth.ErrNotFound.
func formatError(err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return oauth.ErrNotFound
	case errors.As(err, &pe) && pe.Code == uniqueViolation:
		return fmt.Errorf("%w: %v", oauth.ErrConflict, err)
	}
	return fmt.Errorf("postgres: %w", err)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }
