package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlite"
	"github.com/hellogw/hellogw/oauth/storetest"
)

// mustOpen opens a new database in a temporary directory.
func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) oauth.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "oauth.db"))
	})
}

func TestOpen(t *testing.T) {
	t.Run("WALAndMigrations", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "oauth.db")
		require.NoError(t, mustOpen(t, path).Close())
		// Opening again must not re-run the migrations.
		db := mustOpen(t, path)
		require.NoError(t, db.CreateCode(context.Background(), storetest.NewCode()))

		raw, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer raw.Close()
		var mode string
		require.NoError(t, raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
		assert.Equal(t, "wal", mode)
		var n int
		require.NoError(t, raw.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n))
		files, err := filepath.Glob("migration/*.sql")
		require.NoError(t, err)
		assert.Equal(t, len(files), n)
	})
	t.Run("ExistingDatabase", func(t *testing.T) {
		// A file as the earlier versions left it: every migration applied
		// and recorded under its path name. Opening it applies none again
		// (each would fail: its tables exist).
		path := filepath.Join(t.TempDir(), "oauth.db")
		raw, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer raw.Close()
		_, err = raw.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY)`)
		require.NoError(t, err)
		files, err := filepath.Glob("migration/*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, name := range files {
			body, err := os.ReadFile(name)
			require.NoError(t, err)
			_, err = raw.Exec(string(body))
			require.NoError(t, err, name)
			_, err = raw.Exec(`INSERT INTO migrations (name) VALUES (?)`, name)
			require.NoError(t, err)
		}
		db := mustOpen(t, path)
		require.NoError(t, db.CreateCode(context.Background(), storetest.NewCode()))
		var n int
		require.NoError(t, raw.QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n))
		assert.Equal(t, len(files), n)
	})
	t.Run("ErrInvalidPath", func(t *testing.T) {
		_, err := sqlite.Open(context.Background(), "x.db?mode=ro")
		require.Error(t, err)
	})
	t.Run("CreatesDirectory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "hellogw.db")
		mustOpen(t, path)
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	})
	t.Run("ErrNotADirectory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		_, err := sqlite.Open(context.Background(), filepath.Join(file, "oauth.db"))
		require.Error(t, err)
	})
}

// TestRestart closes the database and opens the same file again: tokens are
// still there, a used code is still used.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "oauth.db")
	db := mustOpen(t, path)
	code := storetest.NewCode()
	require.NoError(t, db.CreateCode(ctx, code))
	rt := storetest.NewToken(oauth.RefreshToken, code.ChainID)
	require.NoError(t, db.ExchangeCode(ctx, code.Hash, rt))
	require.NoError(t, db.Close())

	db = mustOpen(t, path)
	got, err := db.GetToken(ctx, rt.Hash)
	require.NoError(t, err)
	assert.Equal(t, rt.ChainID, got.ChainID)
	require.ErrorIs(t, db.ExchangeCode(ctx, code.Hash), oauth.ErrAlreadyUsed)
}
