// Package postgres is the oauth.Store shared by many gateway nodes: one
// PostgreSQL database reached through a pgx v5 connection pool (as database/sql
// through pgx's stdlib adapter), with the same versioned migrations as
// oauth/sqlite. The queries are oauth/sqlstore's; this package holds the
// connection set-up, the dialect and the migrations.
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
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlstore"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// advisoryKey turns a lock name ($1) into an advisory lock key of the
// current schema (hashtextextended needs PostgreSQL 11 or later).
const advisoryKey = `hashtextextended($1::text || ':' || coalesce(current_schema(), ''), 0)`

// uniqueViolation is the SQLSTATE of a unique constraint violation.
const uniqueViolation = "23505"

// dialect: every transaction is READ COMMITTED whatever the server's default.
// Each statement then sees what committed before it began: a conditional
// UPDATE that waited for a row lock re-checks the winner's row (where
// SERIALIZABLE would fail the loser with SQLSTATE 40001), and a node that
// waited for the migration lock sees the migration recorded meanwhile.
var dialect = sqldb.Dialect{
	Name:      "postgres",
	TxOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	IsConflict: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == uniqueViolation
	},
	Lock:    `SELECT pg_advisory_xact_lock(` + advisoryKey + `)`,
	TryLock: `SELECT pg_try_advisory_xact_lock(` + advisoryKey + `)`,
	// A crash may lose the last few hundred milliseconds of such commits,
	// never corrupt anything (PostgreSQL manual, "Asynchronous Commit").
	AsyncCommit: `SET LOCAL synchronous_commit TO OFF`,
}

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout: the pool keeps dialing after the request that asked for a
// connection gave up, and pgxpool's own bound is two minutes.
const defaultConnectTimeout = 5 * time.Second

// DB is an oauth.Store on a PostgreSQL database.
type DB struct {
	*sqlstore.DB
	sqlDB *sql.DB
	pool  *pgxpool.Pool
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
	// database/sql keeps no idle connections of its own here: pgxpool does.
	sqlDB := stdlib.OpenDBFromPool(pool)
	store, err := sqlstore.Open(ctx, &sqldb.DB{DB: sqlDB, Dialect: dialect}, migrationFS)
	if err != nil {
		_ = sqlDB.Close()
		pool.Close()
		return nil, err
	}
	return &DB{DB: store, sqlDB: sqlDB, pool: pool}, nil
}

// Close closes every connection of the pool; it waits for connections in use
// to be released.
func (db *DB) Close() error {
	err := db.sqlDB.Close()
	db.pool.Close()
	return err
}
