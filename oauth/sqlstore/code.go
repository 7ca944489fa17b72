package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
)

// CreateCode implements oauth.Store.
func (s *DB) CreateCode(ctx context.Context, c *oauth.Code) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO codes (hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.Hash, c.ChainID, c.ClientID, c.Subject, c.RedirectURI, joinScopes(c.Scopes),
		c.Challenge, c.ChallengeMethod, sqldb.Nanos(c.CreatedAt), sqldb.Nanos(c.ExpiresAt))
	return s.formatError(err)
}

// GetCode implements oauth.Store.
func (s *DB) GetCode(ctx context.Context, hash string) (*oauth.Code, error) {
	var (
		c                    oauth.Code
		scope                string
		createdAt, expiresAt int64
		usedAt               sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at, used_at
		FROM codes WHERE hash = $1`, hash).Scan(
		&c.Hash, &c.ChainID, &c.ClientID, &c.Subject, &c.RedirectURI, &scope,
		&c.Challenge, &c.ChallengeMethod, &createdAt, &expiresAt, &usedAt)
	if err != nil {
		return nil, s.formatError(err)
	}
	c.Scopes = splitScopes(scope)
	c.CreatedAt, c.ExpiresAt, c.Used = sqldb.Time(createdAt), sqldb.Time(expiresAt), usedAt.Valid
	return &c, nil
}

// ExchangeCode implements oauth.Store. The conditional UPDATE is the single-use
// check. SQLite runs one write transaction at a time. In PostgreSQL (READ
// COMMITTED) a concurrent UPDATE of the same row waits for the first
// transaction to end, then re-evaluates "used_at IS NULL" on the row it left.
// Either way, of two redemptions exactly one changes the row (or, if the first
// rolls back, the second does).
func (s *DB) ExchangeCode(ctx context.Context, hash string, issued ...*oauth.Token) error {
	return s.formatError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := sqldb.Affected(tx.ExecContext(ctx, `UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, sqldb.Nanos(s.Now()), hash))
		if err != nil {
			return err
		}
		if n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM codes WHERE hash = $1`, hash).Scan(&one); err != nil {
				return err
			}
			return oauth.ErrAlreadyUsed
		}
		return insertTokens(ctx, tx, issued)
	}))
}
