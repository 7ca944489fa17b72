// Package sqlstore is the one implementation of oauth.Store over database/sql.
// The SQL is shared by SQLite (modernc.org/sqlite) and PostgreSQL
// (github.com/jackc/pgx/v5/stdlib); what differs between them is a Dialect,
// supplied by oauth/sqlite and oauth/postgres together with their connection
// set-up and migrations.
//
// Queries use $1, $2, … placeholders, which both drivers take as positional
// parameters, and standard SQL otherwise (ON CONFLICT upserts exist in both).
// Times are stored as Unix nanoseconds in 64-bit integers.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/hellogw/hellogw/oauth"
)

// Dialect is what differs between the databases behind a DB.
type Dialect struct {
	// Name prefixes the errors of the DB: "sqlite", "postgres".
	Name string
	// TxOptions are the options of every transaction.
	TxOptions *sql.TxOptions
	// IsConflict reports whether err is a unique-constraint violation.
	IsConflict func(err error) bool
	// Lock, if set, is a statement that takes a lock named by its text
	// argument $1 until the transaction ends, waiting for it. Without it, the
	// transaction itself must exclude other writers (SQLite's BEGIN
	// IMMEDIATE), so reading a row is locking it.
	Lock string
	// AsyncCommit, if set, is run first in transactions that may be lost in
	// a crash without harm (throttle counts): their commit need not wait
	// for the disk.
	AsyncCommit string
	// TryLock, if set, is a query returning one boolean: whether it took, for
	// the rest of the transaction, the lock named by its text argument $1,
	// without waiting. Without it, every try succeeds.
	TryLock string
}

// DB is an oauth.Store on a database/sql handle.
type DB struct {
	db *sql.DB
	d  Dialect
	// Now is the clock for used_at and revoked_at; it can be replaced in tests.
	Now func() time.Time
}

var _ oauth.Store = (*DB)(nil)

// Open returns a DB on db after applying the migrations of the migrations
// file system (migration/*.sql, in name order, each in its own transaction)
// that the migrations table does not record yet, under their path names. Nodes that open one database
// at once apply each migration once. The caller keeps ownership of db.
func Open(ctx context.Context, db *sql.DB, d Dialect, migrations fs.FS) (*DB, error) {
	s := &DB{db: db, d: d, Now: time.Now}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return nil, fmt.Errorf("%s: migrations: %w", d.Name, err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.migrate(ctx, migrations, name); err != nil {
			return nil, fmt.Errorf("%s: migrate %s: %w", d.Name, name, err)
		}
	}
	return s, nil
}

// migrate applies one migration unless it is recorded. The migration lock,
// held until the transaction ends, makes a node that starts at the same time
// wait and then find the migration recorded.
func (s *DB) migrate(ctx context.Context, migrations fs.FS, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lock(ctx, tx, "hellogw.oauth.migrate"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = $1`, name).Scan(&n); err != nil {
			return err
		} else if n != 0 {
			return nil
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		// Without arguments both drivers run every statement of the file.
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO migrations (name) VALUES ($1)`, name)
		return err
	})
}

// lock takes the dialect's waiting lock named key for the rest of tx.
func (s *DB) lock(ctx context.Context, tx *sql.Tx, key string) error {
	if s.d.Lock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.Lock, key)
	return err
}

// tryLock takes the dialect's lock named key for the rest of tx if it is
// free, and reports whether it did.
func (s *DB) tryLock(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	if s.d.TryLock == "" {
		return true, nil
	}
	var ok bool
	err := tx.QueryRowContext(ctx, s.d.TryLock, key).Scan(&ok)
	return ok, err
}

// inTx runs f in a transaction and commits it if f returns nil. Errors are
// returned as they are: callers map them with formatError.
func (s *DB) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.d.TxOptions)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping checks that the database answers, for /readyz.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	return nil
}

// swept are the tables whose expired rows Sweep deletes.
var swept = []string{"codes", "tokens", "throttle", "wsse_nonces"}

// Sweep implements oauth.Store. Where the dialect has a TryLock, only one node
// sweeps at a time: a node that finds the sweep lock taken skips this round
// and returns 0 and no error, since the node holding it deletes the same rows.
func (s *DB) Sweep(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if ok, err := s.tryLock(ctx, tx, "hellogw.oauth.sweep"); err != nil || !ok {
			return err
		}
		for _, table := range swept {
			n, err := affected(tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, nanos(before)))
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, s.formatError(err)
	}
	return total, nil
}

// formatError maps driver errors to oauth sentinels: a unique-constraint
// violation is oauth.ErrConflict, no row is oauth.ErrNotFound. Sentinels pass
// through.
func (s *DB) formatError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return oauth.ErrNotFound
	case errors.Is(err, oauth.ErrNotFound), errors.Is(err, oauth.ErrAlreadyUsed), errors.Is(err, oauth.ErrRevoked):
		return err
	case s.d.IsConflict(err):
		return fmt.Errorf("%w: %v", oauth.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", s.d.Name, err)
}

// affected returns how many rows res changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// nanos stores t as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }
