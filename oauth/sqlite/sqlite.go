// Package sqlite is the embedded oauth.Store: one SQLite file (modernc.org/sqlite,
// no cgo) in WAL mode, with versioned migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hellogw/hellogw/oauth"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// DB is an oauth.Store on an SQLite file.
type DB struct {
	db *sql.DB
	// Now is the clock for used_at and revoked_at; it can be replaced in tests.
	Now func() time.Time
}

var _ oauth.Store = (*DB)(nil)

// Open opens or creates the SQLite database at path, and its directory, and
// migrates it. A new file is readable by its owner only. Every transaction
// begins IMMEDIATE, so writers queue on SQLite's lock for up to the busy
// timeout instead of failing on a stale snapshot.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid path %q", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	dsn := path + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=1&_txlock=immediate"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db := &DB{db: sqlDB, Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Ping checks that the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

// migrate applies the embedded migrations not yet recorded in the migrations
// table, in name order, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n != 0 {
		return nil
	}
	body, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// Sweep implements oauth.Store.
func (db *DB) Sweep(ctx context.Context, before time.Time) (int64, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, formatError(err)
	}
	defer func() { _ = tx.Rollback() }()
	var total int64
	for _, q := range []string{`DELETE FROM codes WHERE expires_at < ?`, `DELETE FROM tokens WHERE expires_at < ?`} {
		res, err := tx.ExecContext(ctx, q, before.UnixNano())
		if err != nil {
			return 0, formatError(err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, formatError(tx.Commit())
}

// formatError maps driver errors to oauth sentinels: a constraint violation
// on insert is oauth.ErrConflict, no row is oauth.ErrNotFound.
func formatError(err error) error {
	var se *sqlite3.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return oauth.ErrNotFound
	case errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_CONSTRAINT:
		return fmt.Errorf("%w: %v", oauth.ErrConflict, err)
	}
	return fmt.Errorf("sqlite: %w", err)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }
