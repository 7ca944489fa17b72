package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/oauth"
)

func insertTokens(ctx context.Context, tx *sql.Tx, tokens []*oauth.Token) error {
	for _, t := range tokens {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO tokens (hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			t.Hash, string(t.Kind), t.ChainID, t.ClientID, t.Subject, joinScopes(t.Scopes), sqldb.Nanos(t.IssuedAt), sqldb.Nanos(t.ExpiresAt))
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateToken implements oauth.Store.
func (s *DB) CreateToken(ctx context.Context, t *oauth.Token) error {
	return s.formatError(s.db.InTx(ctx, func(tx *sql.Tx) error { return insertTokens(ctx, tx, []*oauth.Token{t}) }))
}

// GetToken implements oauth.Store.
func (s *DB) GetToken(ctx context.Context, hash string) (*oauth.Token, error) {
	var (
		t                   oauth.Token
		kind, scope         string
		issuedAt, expiresAt int64
		usedAt, revokedAt   sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `
		SELECT hash, kind, chain_id, client_id, subject, scope, issued_at, expires_at, used_at, revoked_at
		FROM tokens WHERE hash = $1`, hash).Scan(
		&t.Hash, &kind, &t.ChainID, &t.ClientID, &t.Subject, &scope, &issuedAt, &expiresAt, &usedAt, &revokedAt)
	if err != nil {
		return nil, s.formatError(err)
	}
	t.Kind, t.Scopes = oauth.TokenKind(kind), splitScopes(scope)
	t.IssuedAt, t.ExpiresAt = sqldb.Time(issuedAt), sqldb.Time(expiresAt)
	t.Used, t.Revoked = usedAt.Valid, revokedAt.Valid
	return &t, nil
}

// RotateRefreshToken implements oauth.Store, with the same single-use
// argument as ExchangeCode.
func (s *DB) RotateRefreshToken(ctx context.Context, hash string, issued ...*oauth.Token) error {
	return s.formatError(s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := sqldb.Affected(tx.ExecContext(ctx, `
			UPDATE tokens SET used_at = $1
			WHERE hash = $2 AND kind = 'refresh_token' AND used_at IS NULL AND revoked_at IS NULL`, sqldb.Nanos(s.Now()), hash))
		if err != nil {
			return err
		}
		if n == 0 {
			var (
				kind          string
				used, revoked bool
			)
			err := tx.QueryRowContext(ctx, `SELECT kind, used_at IS NOT NULL, revoked_at IS NOT NULL FROM tokens WHERE hash = $1`, hash).Scan(&kind, &used, &revoked)
			switch {
			case err != nil:
				return err
			case kind != string(oauth.RefreshToken):
				return oauth.ErrNotFound
			case revoked:
				return oauth.ErrRevoked
			}
			return oauth.ErrAlreadyUsed
		}
		return insertTokens(ctx, tx, issued)
	}))
}

// RevokeToken implements oauth.Store.
func (s *DB) RevokeToken(ctx context.Context, hash string) error {
	n, err := sqldb.Affected(s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE hash = $2`, sqldb.Nanos(s.Now()), hash))
	if err != nil {
		return s.formatError(err)
	}
	if n == 0 {
		return oauth.ErrNotFound
	}
	return nil
}

// RevokeChain implements oauth.Store.
func (s *DB) RevokeChain(ctx context.Context, chainID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE chain_id = $2 AND revoked_at IS NULL`, sqldb.Nanos(s.Now()), chainID)
	return s.formatError(err)
}

// RevokeGrants implements oauth.Store: it lists the owners of unrevoked
// tokens and revokes the tokens of those revoke picks, in one transaction.
func (s *DB) RevokeGrants(ctx context.Context, revoke func(clientID, subject string) bool) (int64, error) {
	var total int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT client_id, subject FROM tokens WHERE revoked_at IS NULL`)
		if err != nil {
			return err
		}
		var owners [][2]string
		for rows.Next() {
			var o [2]string
			if err := rows.Scan(&o[0], &o[1]); err != nil {
				_ = rows.Close()
				return err
			}
			if revoke(o[0], o[1]) {
				owners = append(owners, o)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		now := sqldb.Nanos(s.Now())
		for _, o := range owners {
			n, err := sqldb.Affected(tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = $1 WHERE client_id = $2 AND subject = $3 AND revoked_at IS NULL`, now, o[0], o[1]))
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, s.formatError(err)
	}
	return total, nil
}
