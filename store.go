package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/postgres"
	"github.com/hellogw/hellogw/oauth/sqlite"
)

// store is what main needs of an OAuth store: the store itself, a health
// check for /readyz, closing, and its database for the migration's tables.
type store interface {
	oauth.Store
	Ping(ctx context.Context) error
	Close() error
	SQL() *sqldb.DB
}

// openStore opens the store -store names: a postgres:// URL, shared by any
// number of nodes, or else the path of an SQLite file.
func openStore(ctx context.Context, dsn string) (store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dsn, err)
	}
	return db, nil
}
