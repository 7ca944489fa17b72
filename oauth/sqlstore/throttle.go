package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
)

// throttleColumns are the columns of a throttle record, key first.
const throttleColumns = `key, count, window_start, next_slot, known_until, expires_at`

// UpdateThrottle implements oauth.Store with at most two statements,
// whatever the number of keys. The first locks and reads the records. Where
// the transaction alone serializes writers (SQLite) it is a SELECT; otherwise
// (PostgreSQL) an INSERT … ON CONFLICT DO UPDATE, which creates the missing
// records and locks the existing ones, in sorted key order so that two calls
// sharing keys cannot deadlock. The second writes back, as an upsert, the
// records update changed, if any.
func (s *DB) UpdateThrottle(ctx context.Context, keys []string, update func([]oauth.ThrottleRecord) []oauth.ThrottleRecord) error {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, cmp.Compare)
	return s.formatError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		if s.db.Dialect.AsyncCommit != "" {
			if _, err := tx.ExecContext(ctx, s.db.Dialect.AsyncCommit); err != nil {
				return err
			}
		}
		args := make([]any, len(sorted))
		for i, k := range sorted {
			args[i] = k
		}
		read := `INSERT INTO throttle (` + throttleColumns + `) VALUES ` +
			valuesList(len(sorted), 1, func(p string) string { return "(" + p + ", 0, 0, 0, 0, 0)" }) + `
			ON CONFLICT (key) DO UPDATE SET key = excluded.key
			RETURNING ` + throttleColumns
		if s.db.Dialect.Lock == "" { // a transaction excludes other writers: reading is locking
			read = `SELECT ` + throttleColumns + ` FROM throttle WHERE key IN (` +
				valuesList(1, len(sorted), func(p string) string { return p }) + `)`
		}
		rows, err := tx.QueryContext(ctx, read, args...)
		if err != nil {
			return err
		}
		got := make(map[string]oauth.ThrottleRecord, len(keys))
		for rows.Next() {
			var (
				key                                            string
				count, windowStart, nextSlot, known, expiresAt int64
			)
			if err := rows.Scan(&key, &count, &windowStart, &nextSlot, &known, &expiresAt); err != nil {
				_ = rows.Close()
				return err
			}
			got[key] = oauth.ThrottleRecord{
				Count: count, WindowStart: sqldb.Time(windowStart), NextSlot: sqldb.Time(nextSlot),
				KnownUntil: sqldb.Time(known), ExpiresAt: sqldb.Time(expiresAt),
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		recs := make([]oauth.ThrottleRecord, len(keys))
		for i, k := range keys {
			recs[i] = got[k]
		}
		updated := update(slices.Clone(recs))
		args = args[:0]
		for i, k := range keys {
			if r := updated[i]; !sameRecord(r, recs[i]) {
				args = append(args, k, r.Count, sqldb.Nanos(r.WindowStart), sqldb.Nanos(r.NextSlot), sqldb.Nanos(r.KnownUntil), sqldb.Nanos(r.ExpiresAt))
			}
		}
		if len(args) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO throttle (`+throttleColumns+`) VALUES `+
			valuesList(len(args)/6, 6, func(p string) string { return "(" + p + ")" })+`
			ON CONFLICT (key) DO UPDATE SET count = excluded.count, window_start = excluded.window_start,
				next_slot = excluded.next_slot, known_until = excluded.known_until, expires_at = excluded.expires_at`, args...)
		return err
	}))
}

// valuesList returns rows comma-separated tuples of a VALUES list, each made
// by tuple from the next width placeholders ("$1, $2").
func valuesList(rows, width int, tuple func(placeholders string) string) string {
	list := make([]string, rows)
	for r := range list {
		ps := make([]string, width)
		for c := range ps {
			ps[c] = fmt.Sprintf("$%d", r*width+c+1)
		}
		list[r] = tuple(strings.Join(ps, ", "))
	}
	return strings.Join(list, ", ")
}

func sameRecord(a, b oauth.ThrottleRecord) bool {
	return a.Count == b.Count && a.WindowStart.Equal(b.WindowStart) && a.NextSlot.Equal(b.NextSlot) &&
		a.KnownUntil.Equal(b.KnownUntil) && a.ExpiresAt.Equal(b.ExpiresAt)
}
