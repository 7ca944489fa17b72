-- The schema of oauth/sqlite's 004_secrets.sql in PostgreSQL types.
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);
