// Package sqlstore is the one implementation of oauth.Store over database/sql.
// The SQL is shared by SQLite (modernc.org/sqlite) and PostgreSQL
// (github.com/jackc/pgx/v5/stdlib); what differs between them is an
// sqldb.Dialect, supplied by oauth/sqlite and oauth/postgres together with
// their connection set-up and migrations. Placeholders and times follow
// internal/sqldb.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
)

// DB is an oauth.Store on a database/sql handle.
type DB struct {
	db *sqldb.DB
	// Now is the clock for used_at and revoked_at; it can be replaced in tests.
	Now func() time.Time
}

var _ oauth.Store = (*DB)(nil)

// Open returns a DB on db after applying the migrations of the migrations
// file system (migration/*.sql) that the migrations table does not record
// yet, under their path names ("migration/001_codes_tokens.sql"), as
// sqldb.DB.Migrate applies them. The caller keeps ownership of db.
func Open(ctx context.Context, db *sqldb.DB, migrations fs.FS) (*DB, error) {
	dir, err := fs.Sub(migrations, "migration")
	if err != nil {
		return nil, fmt.Errorf("%s: migrations: %w", db.Dialect.Name, err)
	}
	if err := db.Migrate(ctx, dir, "migration/"); err != nil {
		return nil, err
	}
	return &DB{db: db, Now: time.Now}, nil
}

// SQL returns the handle the store runs on, for other stores to share the
// database (package migrate keeps its tables beside the OAuth ones).
func (s *DB) SQL() *sqldb.DB { return s.db }

// Ping checks that the database answers, for /readyz.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.db.Dialect.Name, err)
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
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if ok, err := s.db.TryLock(ctx, tx, "hellogw.oauth.sweep"); err != nil || !ok {
			return err
		}
		for _, table := range swept {
			n, err := sqldb.Affected(tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, sqldb.Nanos(before)))
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
	case s.db.Dialect.IsConflict(err):
		return fmt.Errorf("%w: %v", oauth.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", s.db.Dialect.Name, err)
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }
