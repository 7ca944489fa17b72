-- The schema of oauth/sqlite's 002_throttle.sql in PostgreSQL types.
-- Throttle records (oauth/throttle.go). Keys are HMAC-SHA256 values under the
-- session key, never addresses or account names. Times are Unix nanoseconds,
-- 0 for none.
CREATE TABLE throttle (
	key          TEXT PRIMARY KEY,
	count        BIGINT NOT NULL,
	window_start BIGINT NOT NULL,
	next_slot    BIGINT NOT NULL,
	known_until  BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);

CREATE INDEX throttle_expires_at ON throttle (expires_at);
