-- Secrets the nodes sharing this store share, made by the first node that
-- needs one: the key of the throttle's HMACs when no session_key is
-- configured, so that the attempt budgets hold across nodes and restarts.
CREATE TABLE secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
