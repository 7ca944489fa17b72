package sqlstore

import "context"

// Secret implements oauth.Store: of concurrent first calls, on any node,
// the one whose insert lands first sets the value; ON CONFLICT DO NOTHING
// leaves it to every other, which then reads it.
func (s *DB) Secret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, candidate); err != nil {
		return nil, s.formatError(err)
	}
	var value []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, s.formatError(err)
	}
	return value, nil
}
