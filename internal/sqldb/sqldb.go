// Package sqldb is what the SQL stores of hellogw share, whatever they keep:
// a database/sql handle with its Dialect (SQLite through modernc.org/sqlite,
// PostgreSQL through pgx's stdlib adapter), transactions, named locks, and a
// migration runner that several packages use on one database, each with its
// own migration files, all recorded in one migrations table.
//
// Queries use $1, $2, … placeholders, which both drivers take as positional
// parameters, and standard SQL otherwise (ON CONFLICT upserts exist in both).
// Times are stored as Unix nanoseconds in 64-bit integers (Nanos, Time).
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"time"
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

// DB is a database/sql handle and the dialect of its database. The stores
// built on it share it; whoever opened the *sql.DB closes it.
type DB struct {
	*sql.DB
	Dialect Dialect
}

// migrateLock names the lock every migration is applied under, whichever
// package brings it: one name, so that the migrations table is created
// once. It is the name the OAuth store used before it moved here, so that
// nodes of either version starting on one database queue on the same lock.
const migrateLock = "hellogw.oauth.migrate"

// Migrate applies the migrations of fsys (its *.sql files, in name order,
// each in its own transaction) that the migrations table does not record
// yet, recording each as prefix + its file name. Nodes that migrate one
// database at once apply each migration once.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS, prefix string) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", db.Dialect.Name, err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrate(ctx, fsys, name, prefix+name); err != nil {
			return fmt.Errorf("%s: migrate %s: %w", db.Dialect.Name, prefix+name, err)
		}
	}
	return nil
}

// migrate applies one migration unless it is recorded. The migration lock,
// held until the transaction ends, makes a node that starts at the same time
// wait and then find the migration recorded.
func (db *DB) migrate(ctx context.Context, fsys fs.FS, file, name string) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.Lock(ctx, tx, migrateLock); err != nil {
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
		body, err := fs.ReadFile(fsys, file)
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

// Lock takes the dialect's waiting lock named key for the rest of tx.
func (db *DB) Lock(ctx context.Context, tx *sql.Tx, key string) error {
	if db.Dialect.Lock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, db.Dialect.Lock, key)
	return err
}

// TryLock takes the dialect's lock named key for the rest of tx if it is
// free, and reports whether it did.
func (db *DB) TryLock(ctx context.Context, tx *sql.Tx, key string) (bool, error) {
	if db.Dialect.TryLock == "" {
		return true, nil
	}
	var ok bool
	err := tx.QueryRowContext(ctx, db.Dialect.TryLock, key).Scan(&ok)
	return ok, err
}

// InTx runs f in a transaction and commits it if f returns nil. Errors are
// returned as they are, for the caller to map.
func (db *DB) InTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, db.Dialect.TxOptions)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Affected returns how many rows res changed.
func Affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Nanos stores t as Unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time is the inverse of Nanos.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
