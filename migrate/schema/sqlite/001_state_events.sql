-- The weight of the split and its history (package migrate, store.go).
-- Times are Unix nanoseconds.

-- One row: the migration's state, shared by every node. Changes are
-- compare-and-set on version.
CREATE TABLE migration_state (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	weight        INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
	state         TEXT NOT NULL CHECK (state IN ('running', 'paused', 'rolled_back')),
	ramp_step     INTEGER NOT NULL,
	next_step_at  BIGINT NOT NULL,
	resume_weight INTEGER NOT NULL,
	version       BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	reason        TEXT NOT NULL
);

-- Every change of the state, by whom and why.
CREATE TABLE migration_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          BIGINT NOT NULL,
	node        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	from_weight INTEGER NOT NULL,
	to_weight   INTEGER NOT NULL,
	reason      TEXT NOT NULL
);

CREATE INDEX migration_events_at ON migration_events (at);
