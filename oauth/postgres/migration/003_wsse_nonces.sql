-- The schema of oauth/sqlite's 003_wsse_nonces.sql in PostgreSQL types.
CREATE TABLE wsse_nonces (
	key        TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);

CREATE INDEX wsse_nonces_expires_at ON wsse_nonces (expires_at);
