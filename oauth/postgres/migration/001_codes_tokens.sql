-- The schema of oauth/sqlite's 001_codes_tokens.sql in PostgreSQL types.
-- Codes and tokens are stored only as SHA-256 hashes (RFC 6819 §5.1.4.1.3).
-- Times are Unix nanoseconds: timestamptz keeps only microseconds.
CREATE TABLE codes (
	hash             TEXT PRIMARY KEY,
	chain_id         TEXT NOT NULL,
	client_id        TEXT NOT NULL,
	subject          TEXT NOT NULL,
	redirect_uri     TEXT NOT NULL,
	scope            TEXT NOT NULL,
	challenge        TEXT NOT NULL,
	challenge_method TEXT NOT NULL,
	created_at       BIGINT NOT NULL,
	expires_at       BIGINT NOT NULL,
	used_at          BIGINT
);

CREATE INDEX codes_expires_at ON codes (expires_at);

CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('access_token', 'refresh_token')),
	chain_id   TEXT NOT NULL,
	client_id  TEXT NOT NULL,
	subject    TEXT NOT NULL,
	scope      TEXT NOT NULL,
	issued_at  BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT,
	revoked_at BIGINT
);

CREATE INDEX tokens_chain_id ON tokens (chain_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
