package sqldb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/hellogw/hellogw/internal/sqldb"
)

func openSQLite(t *testing.T) *sqldb.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "db")+"?_txlock=immediate")
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	return &sqldb.DB{DB: raw, Dialect: sqldb.Dialect{Name: "sqlite"}}
}

func recorded(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM migrations ORDER BY name`)
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

// TestMigrate: two packages' migrations of the same file names on one
// database, each under its prefix, each applied once.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	a := fstest.MapFS{
		"001_a.sql": {Data: []byte(`CREATE TABLE a1 (x INTEGER);`)},
		"002_b.sql": {Data: []byte(`CREATE TABLE a2 (x INTEGER); INSERT INTO a2 VALUES (1);`)},
		"README":    {Data: []byte(`not a migration`)},
	}
	b := fstest.MapFS{"001_a.sql": {Data: []byte(`CREATE TABLE b1 (x INTEGER);`)}}
	require.NoError(t, db.Migrate(ctx, a, "one/"))
	require.NoError(t, db.Migrate(ctx, b, "two/"))
	// Again: nothing is applied twice (CREATE TABLE would fail).
	require.NoError(t, db.Migrate(ctx, a, "one/"))
	require.NoError(t, db.Migrate(ctx, b, "two/"))
	assert.Equal(t, []string{"one/001_a.sql", "one/002_b.sql", "two/001_a.sql"}, recorded(t, db))
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM a2`).Scan(&n))
	assert.Equal(t, 1, n)
}

// TestMigrateErrRollsBack: a failing migration leaves neither its tables
// nor its record, and names itself in the error; the ones before it stay.
func TestMigrateErrRollsBack(t *testing.T) {
	db := openSQLite(t)
	fsys := fstest.MapFS{
		"001_ok.sql":  {Data: []byte(`CREATE TABLE ok (x INTEGER);`)},
		"002_bad.sql": {Data: []byte(`CREATE TABLE t (x INTEGER); SELECT * FROM missing;`)},
	}
	err := db.Migrate(context.Background(), fsys, "p/")
	require.ErrorContains(t, err, "sqlite: migrate p/002_bad.sql")
	assert.Equal(t, []string{"p/001_ok.sql"}, recorded(t, db))
	_, err = db.Exec(`SELECT * FROM t`)
	assert.Error(t, err, "the table of the failed migration exists")
}
