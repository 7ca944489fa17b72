package sqlite

import (
	"context"
	"database/sql"

	"github.com/hellogw/hellogw/oauth"
)

// CreateCode implements oauth.Store.
func (db *DB) CreateCode(ctx context.Context, c *oauth.Code) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO codes (hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ChainID, c.ClientID, c.Subject, c.RedirectURI, joinScopes(c.Scopes),
		c.Challenge, c.ChallengeMethod, nanos(c.CreatedAt), nanos(c.ExpiresAt))
	return formatError(err)
}

// GetCode implements oauth.Store.
func (db *DB) GetCode(ctx context.Context, hash string) (*oauth.Code, error) {
	var (
		c                    oauth.Code
		scope                string
		createdAt, expiresAt int64
		usedAt               sql.NullInt64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at, used_at
		FROM codes WHERE hash = ?`, hash).Scan(
		&c.Hash, &c.ChainID, &c.ClientID, &c.Subject, &c.RedirectURI, &scope,
		&c.Challenge, &c.ChallengeMethod, &createdAt, &expiresAt, &usedAt)
	if err != nil {
		return nil, formatError(err)
	}
	c.Scopes = splitScopes(scope)
	c.CreatedAt, c.ExpiresAt, c.Used = fromNanos(createdAt), fromNanos(expiresAt), usedAt.Valid
	return &c, nil
}

// ExchangeCode implements oauth.Store. The conditional UPDATE is the single-use
// check: SQLite runs one write transaction at a time, so of two concurrent
// redemptions exactly one changes the row.
func (db *DB) ExchangeCode(ctx context.Context, hash string, issued ...*oauth.Token) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `UPDATE codes SET used_at = ? WHERE hash = ? AND used_at IS NULL`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return formatError(err)
	} else if n == 0 {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM codes WHERE hash = ?`, hash).Scan(&one); err != nil {
			return formatError(err)
		}
		return oauth.ErrAlreadyUsed
	}
	if err := insertTokens(ctx, tx, issued); err != nil {
		return err
	}
	return formatError(tx.Commit())
}
