package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/pgtest"
	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/migrate"
	"github.com/hellogw/hellogw/oauth/postgres"
	"github.com/hellogw/hellogw/oauth/sqlite"
)

// database opens a database as main does (the OAuth store, then the
// migration's tables on its handle); each call is another node, or the same
// node after a restart.
type database func(tb testing.TB) *sqldb.DB

// sqliteFile is a new SQLite file.
func sqliteFile(tb testing.TB) database {
	path := filepath.Join(tb.TempDir(), "hellogw.db")
	return func(tb testing.TB) *sqldb.DB {
		tb.Helper()
		db, err := sqlite.Open(context.Background(), path)
		require.NoError(tb, err)
		tb.Cleanup(func() { _ = db.Close() })
		return db.SQL()
	}
}

// postgresSchema is a new schema on the test server.
func postgresSchema(tb testing.TB) database { return postgresAt(pgtest.Schema(tb)) }

// postgresAt is the PostgreSQL database at connURL.
func postgresAt(connURL string) database {
	return func(tb testing.TB) *sqldb.DB {
		tb.Helper()
		db, err := postgres.Open(context.Background(), connURL)
		require.NoError(tb, err)
		tb.Cleanup(func() { _ = db.Close() })
		return db.SQL()
	}
}

// forEachDatabase runs f on a new SQLite file and on a new PostgreSQL schema.
func forEachDatabase(t *testing.T, f func(t *testing.T, open database)) {
	t.Run("SQLite", func(t *testing.T) { f(t, sqliteFile(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { f(t, postgresSchema(t)) })
}

func mustOpenStore(tb testing.TB, open database) *migrate.Store {
	tb.Helper()
	s, err := migrate.OpenStore(context.Background(), open(tb))
	require.NoError(tb, err)
	return s
}

// initial is a state as a node stores it from its config.
var initial = migrate.State{Weight: 10, Status: migrate.Running, RampStep: migrate.NoStep, Reason: "config"}

func TestStore(t *testing.T) {
	forEachDatabase(t, testStore)
}

func testStore(t *testing.T, open database) {
	ctx := context.Background()
	s := mustOpenStore(t, open)
	t0 := time.Unix(1_800_000_000, 0)
	s.Now = func() time.Time { return t0 }

	t.Run("ErrNoState", func(t *testing.T) {
		_, err := s.State(ctx)
		require.ErrorIs(t, err, migrate.ErrNoState)
	})
	t.Run("InitOnce", func(t *testing.T) {
		st, err := s.Init(ctx, initial, migrate.Event{Node: "a", Actor: migrate.ActorConfig, Action: migrate.ActionSet, To: 10, Reason: "config"})
		require.NoError(t, err)
		assert.Equal(t, 10, st.Weight)
		assert.Equal(t, int64(1), st.Version)
		assert.True(t, st.UpdatedAt.Equal(t0), "%v", st.UpdatedAt)
		assert.True(t, st.NextStepAt.IsZero())
		// A second node with another config weight gets what is stored.
		other := initial
		other.Weight = 70
		st, err = s.Init(ctx, other, migrate.Event{Node: "b", Actor: migrate.ActorConfig, Action: migrate.ActionSet, To: 70})
		require.NoError(t, err)
		assert.Equal(t, 10, st.Weight)
		events, err := s.Events(ctx, time.Time{}, 100)
		require.NoError(t, err)
		require.Len(t, events, 1)
		assert.Equal(t, "a", events[0].Node)
	})
	t.Run("ChangeIsCompareAndSet", func(t *testing.T) {
		st, err := s.State(ctx)
		require.NoError(t, err)
		next := st
		next.Weight, next.Status, next.RampStep, next.NextStepAt, next.Reason = 30, migrate.Paused, 1, t0.Add(time.Minute), "step"
		s.Now = func() time.Time { return t0.Add(time.Second) }
		got, err := s.Change(ctx, st.Version, next, migrate.Event{Node: "a", Actor: migrate.ActorAPI, Action: migrate.ActionSet, From: 10, To: 30, Reason: "step"})
		require.NoError(t, err)
		assert.Equal(t, st.Version+1, got.Version)
		stored, err := s.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, got, stored)
		assert.Equal(t, migrate.Paused, stored.Status)
		assert.True(t, stored.NextStepAt.Equal(t0.Add(time.Minute)))

		// The same change again, based on the old version: refused, and
		// neither the state nor the history changes.
		_, err = s.Change(ctx, st.Version, initial, migrate.Event{Node: "b", Actor: migrate.ActorAPI, Action: migrate.ActionSet, From: 10, To: 10})
		require.ErrorIs(t, err, migrate.ErrConflict)
		again, err := s.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, stored, again)
		events, err := s.Events(ctx, time.Time{}, 100)
		require.NoError(t, err)
		require.Len(t, events, 2)
		assert.Equal(t, migrate.Event{ID: events[0].ID, At: t0.Add(time.Second), Node: "a", Actor: migrate.ActorAPI, Action: migrate.ActionSet, From: 10, To: 30, Reason: "step"}, events[0])
	})
	t.Run("ErrInvalidWeight", func(t *testing.T) {
		st, err := s.State(ctx)
		require.NoError(t, err)
		bad := st
		bad.Weight = 101
		_, err = s.Change(ctx, st.Version, bad, migrate.Event{Node: "a", Actor: migrate.ActorAPI, Action: migrate.ActionSet, To: 101})
		require.Error(t, err)
		require.False(t, errors.Is(err, migrate.ErrConflict))
	})
	t.Run("EventsNewestFirstSinceLimit", func(t *testing.T) {
		st, err := s.State(ctx)
		require.NoError(t, err)
		for i := range 3 {
			s.Now = func() time.Time { return t0.Add(time.Duration(10+i) * time.Second) }
			next := st
			next.Weight = 40 + i
			st, err = s.Change(ctx, st.Version, next, migrate.Event{Node: "a", Actor: migrate.ActorAPI, Action: migrate.ActionSet, From: st.Weight, To: next.Weight})
			require.NoError(t, err)
		}
		events, err := s.Events(ctx, t0.Add(11*time.Second), 100)
		require.NoError(t, err)
		require.Len(t, events, 2)
		assert.Equal(t, 42, events[0].To)
		assert.Equal(t, 41, events[1].To)
		events, err = s.Events(ctx, time.Time{}, 1)
		require.NoError(t, err)
		require.Len(t, events, 1)
		assert.Equal(t, 42, events[0].To)
	})
	t.Run("Reopen", func(t *testing.T) {
		// Another node, or this one after a restart: the same state, and
		// the tables are not created again.
		st, err := s.State(ctx)
		require.NoError(t, err)
		s2 := mustOpenStore(t, open)
		got, err := s2.State(ctx)
		require.NoError(t, err)
		assert.Equal(t, st, got)
	})
}

// TestStoreConcurrentChange: nodes changing one version at once: exactly
// one change is made, the others are told of the conflict.
func TestStoreConcurrentChange(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		ctx := context.Background()
		const nodes = 6
		stores := make([]*migrate.Store, nodes)
		for i := range stores {
			stores[i] = mustOpenStore(t, open)
		}
		st, err := stores[0].Init(ctx, initial, migrate.Event{Node: "0", Actor: migrate.ActorConfig, Action: migrate.ActionSet, To: initial.Weight})
		require.NoError(t, err)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				next := st
				next.Weight, next.Status = 0, migrate.RolledBack
				_, errs[i] = s.Change(ctx, st.Version, next, migrate.Event{Node: "n", Actor: migrate.ActorRollback, Action: migrate.ActionRollback, From: st.Weight})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.ErrorIs(t, err, migrate.ErrConflict)
			}
		}
		assert.Equal(t, 1, won)
		events, err := stores[0].Events(ctx, time.Time{}, 100)
		require.NoError(t, err)
		assert.Len(t, events, 2) // the config's, and one rollback
	})
}

// TestOpenStoreSharesMigrations: the migration's tables are recorded in the
// OAuth store's migrations table under names of their own.
func TestOpenStoreSharesMigrations(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, open database) {
		db := open(t)
		_, err := migrate.OpenStore(context.Background(), db)
		require.NoError(t, err)
		rows, err := db.QueryContext(context.Background(), `SELECT name FROM migrations WHERE name LIKE 'migrate/%' ORDER BY name`)
		require.NoError(t, err)
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			require.NoError(t, rows.Scan(&n))
			names = append(names, n)
		}
		require.NoError(t, rows.Err())
		files, err := filepath.Glob("schema/sqlite/*.sql")
		require.NoError(t, err)
		require.NotEmpty(t, files)
		want := make([]string, len(files))
		for i, f := range files {
			want[i] = "migrate/" + filepath.Base(f)
		}
		assert.Equal(t, want, names)
	})
}

func TestOpenStoreErrUnknownDialect(t *testing.T) {
	db := sqliteFile(t)(t)
	_, err := migrate.OpenStore(context.Background(), &sqldb.DB{DB: db.DB, Dialect: sqldb.Dialect{Name: "oracle"}})
	require.ErrorContains(t, err, `no schema for the "oracle" dialect`)
}
