package sqlite

import (
	"context"
	"database/sql"

	"github.com/hellogw/hellogw/oauth"
)

func insertTokens(ctx context.Context, tx *sql.Tx, tokens []*oauth.Token) error {
	for _, t := range tokens {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO tokens (hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
		usedAt, revokedAt   sql.NullInt64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at, used_at, revoked_at
		FROM tokens WHERE hash = ?`, hash).Scan(
		&t.Hash, &kind, &t.ChainID, &t.ClientID, &t.Subject, &scope, &issuedAt, &expiresAt, &usedAt, &revokedAt)
	if err != nil {
		return nil, formatError(err)
	}
	t.Kind, t.Scopes = oauth.TokenKind(kind), splitScopes(scope)
	t.IssuedAt, t.ExpiresAt = fromNanos(issuedAt), fromNanos(expiresAt)
	t.Used, t.Revoked = usedAt.Valid, revokedAt.Valid
	return &t, nil
}

// RotateRefreshToken implements oauth.Store, with the same single-writer
// argument as ExchangeCode.
func (db *DB) RotateRefreshToken(ctx context.Context, hash string, issued ...*oauth.Token) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return formatError(err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `
		UPDATE tokens SET used_at = ?
		WHERE hash = ? AND kind = 'refresh_token' AND used_at IS NULL AND revoked_at IS NULL`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return formatError(err)
	} else if n == 0 {
		var used, revoked sql.NullInt64
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT kind, used_at, revoked_at FROM tokens WHERE hash = ?`, hash).Scan(&kind, &used, &revoked)
		switch {
		case err != nil:
			return formatError(err)
		case kind != string(oauth.RefreshToken):
			return oauth.ErrNotFound
		case revoked.Valid:
			return oauth.ErrRevoked
		}
		return oauth.ErrAlreadyUsed
	}
	if err := insertTokens(ctx, tx, issued); err != nil {
		return err
	}
	return formatError(tx.Commit())
}

// RevokeToken implements oauth.Store.
func (db *DB) RevokeToken(ctx context.Context, hash string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE hash = ?`, nanos(db.Now()), hash)
	if err != nil {
		return formatError(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return formatError(err)
	} else if n == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// RevokeChain implements oauth.Store.
func (db *DB) RevokeChain(ctx context.Context, chainID string) error {
	_, err := db.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE chain_id = ? AND revoked_at IS NULL`, nanos(db.Now()), chainID)
	return formatError(err)
}
