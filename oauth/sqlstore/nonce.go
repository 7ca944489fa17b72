package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
)

// UseNonce implements oauth.Store in one statement, atomic in both
// databases: the row is inserted, or an expired one taken over; a live one
// is left alone and nothing changes, which is the replay.
func (s *DB) UseNonce(ctx context.Context, key string, expires time.Time) error {
	n, err := sqldb.Affected(s.db.ExecContext(ctx, `
		INSERT INTO wsse_nonces (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
		WHERE wsse_nonces.expires_at <= $3`, key, sqldb.Nanos(expires), sqldb.Nanos(s.Now())))
	if err != nil {
		return s.formatError(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: nonce", oauth.ErrAlreadyUsed)
	}
	return nil
}
