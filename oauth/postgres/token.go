package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hellogw/hellogw/oauth"
)

func insertTokens(ctx context.Context, tx pgx.Tx, tokens []*oauth.Token) error {
	for _, t := range tokens {
		_, err := tx.Exec(ctx, `
			INSERT INTO tokens (hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			t.Hash, string(t.Kind), t.ChainID, t.ClientID, t.Subject, joinScopes(t.Scopes), nanos(t.IssuedAt), nanos(t.ExpiresAt))
		if err != nil {
			return formatError(err)
		}
	}
	return nil
}

// GetToken implements oauth.Store.
func (db *DB) GetToken(ctx context.Context, hash string) (*oauth.Token, error) {
	var (
		t                   oauth.Token
		kind, scope         string
		issuedAt, expiresAt int64
		usedAt, revokedAt   *int64
	)
	err := db.pool.QueryRow(ctx, `
		SELECT hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at, used_at, revoked_at
		FROM tokens WHERE hash = $1`, hash).Scan(
		&t.Hash, &kind, &t.ChainID, &t.ClientID, &t.Subject, &scope, &issuedAt, &expiresAt, &usedAt, &revokedAt)
	if err != nil {
		return nil, formatError(err)
	}
	t.Kind, t.Scopes = oauth.TokenKind(kind), splitScopes(scope)
	t.IssuedAt, t.ExpiresAt = fromNanos(issuedAt), fromNanos(expiresAt)
	t.Used, t.Revoked = usedAt != nil, revokedAt != nil
	return &t, nil
}

// RotateRefreshToken implements oauth.Store, with the same row-lock argument
// as ExchangeCode.
func (db *DB) RotateRefreshToken(ctx context.Context, hash string, issued ...*oauth.Token) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return formatError(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `
		UPDATE tokens SET used_at = $1
		WHERE hash = $2 AND kind = 'refresh_token' AND used_at IS NULL AND revoked_at IS NULL`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		var (
			kind          string
			used, revoked bool
		)
		err := tx.QueryRow(ctx, `SELECT kind, used_at IS NOT NULL, revoked_at IS NOT NULL FROM tokens WHERE hash = $1`, hash).Scan(&kind, &used, &revoked)
		switch {
		case err != nil:
			return formatError(err)
		case kind != string(oauth.RefreshToken):
			return oauth.ErrNotFound
		case revoked:
			return oauth.ErrRevoked
		}
		return oauth.ErrAlreadyUsed
	}
	if err := insertTokens(ctx, tx, issued); err != nil {
		return err
	}
	return formatError(tx.Commit(ctx))
}

// RevokeToken implements oauth.Store.
func (db *DB) RevokeToken(ctx context.Context, hash string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE hash = $2`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// RevokeChain implements oauth.Store.
func (db *DB) RevokeChain(ctx context.Context, chainID string) error {
	_, err := db.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE chain_id = $2 AND revoked_at IS NULL`, nanos(db.Now()), chainID)
	return formatError(err)
}
