package migrate_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/migrate"
)

// migrated opens the database as another node would, with the migration's
// tables, as main does.
func migrated(tb testing.TB, open database) *sqldb.DB {
	tb.Helper()
	db := open(tb)
	_, err := migrate.OpenStore(context.Background(), db)
	require.NoError(tb, err)
	return db
}

// clock is a test clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
