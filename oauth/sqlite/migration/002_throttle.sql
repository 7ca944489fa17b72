-- Throttle records (oauth/throttle.go). Keys are HMAC-SHA256 values under the
-- session key, never addresses or account names. Times are Unix nanoseconds,
-- 0 for none.
CREATE TABLE throttle (
	key          TEXT PRIMARY KEY,
	count        INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	next_slot    INTEGER NOT NULL,
	known_until  INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX throttle_expires_at ON throttle (expires_at);
