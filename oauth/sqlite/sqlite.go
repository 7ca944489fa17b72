// Package sqlite is the embedded oauth.Store: one SQLite file (modernc.org/sqlite,
// no cgo) in WAL mode, with versioned migrations. The queries are oauth/sqlstore's;
// this package holds the connection set-up, the dialect and the migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlstore"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// dialect: every transaction begins IMMEDIATE (see Open), so a transaction
// excludes other writers from its start and needs no lock statements.
var dialect = sqldb.Dialect{
	Name: "sqlite",
	IsConflict: func(err error) bool {
		var se *sqlite3.Error
		return errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_CONSTRAINT
	},
}

// DB is an oauth.Store on an SQLite file.
type DB struct {
	*sqlstore.DB
	db *sql.DB
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
	store, err := sqlstore.Open(ctx, &sqldb.DB{DB: sqlDB, Dialect: dialect}, migrationFS)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return &DB{DB: store, db: sqlDB}, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }
