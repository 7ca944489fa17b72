package postgres

import (
	"context"

	"github.com/hellogw/hellogw/oauth"
)

// CreateCode implements oauth.Store.
func (db *DB) CreateCode(ctx context.Context, c *oauth.Code) error {
	_, err := db.pool.Exec(ctx, `
		INSERT INTO codes (hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
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
		usedAt               *int64
	)
	err := db.pool.QueryRow(ctx, `
		SELECT hash, chain_id, client_id, subject, redirect_uri, scope, challenge, challenge_method, created_at, expires_at, used_at
		FROM codes WHERE hash = $1`, hash).Scan(
		&c.Hash, &c.ChainID, &c.ClientID, &c.Subject, &c.RedirectURI, &scope,
		&c.Challenge, &c.ChallengeMethod, &createdAt, &expiresAt, &usedAt)
	if err != nil {
		return nil, formatError(err)
	}
	c.Scopes = splitScopes(scope)
	c.CreatedAt, c.ExpiresAt, c.Used = fromNanos(createdAt), fromNanos(expiresAt), usedAt != nil
	return &c, nil
}

// ExchangeCode implements oauth.Store. The conditional UPDATE is the single-use
// check across nodes: a concurrent UPDATE of the same row waits for the first
// transaction to end, then re-evaluates "used_at IS NULL" on the row it left,
// so of two redemptions exactly one changes the row (or, if the first rolls
// back, the second does).
func (db *DB) ExchangeCode(ctx context.Context, hash string, issued ...*oauth.Token) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return formatError(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `UPDATE codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM codes WHERE hash = $1`, hash).Scan(&one); err != nil {
			return formatError(err)
		}
		return oauth.ErrAlreadyUsed
	}
	if err := insertTokens(ctx, tx, issued); err != nil {
		return err
	}
	return formatError(tx.Commit(ctx))
}
