-- The migration report's counts (migrate/recorder.go), per minute and node.
-- A node upserts only rows of its own name, holding its cumulative counts of
-- the minute, so the report sums the nodes' rows. minute is the start of the
-- minute and last_seen a time, both Unix nanoseconds.

-- Calls the split sent, by caller (client id, or "addr:" and its address),
-- authentication method, wire format and side ("current" or "next").
CREATE TABLE migration_traffic (
	minute    INTEGER NOT NULL,
	node      TEXT NOT NULL,
	client    TEXT NOT NULL,
	method    TEXT NOT NULL,
	wire      TEXT NOT NULL,
	side      TEXT NOT NULL,
	calls     INTEGER NOT NULL,
	errors    INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	PRIMARY KEY (minute, node, client, method, wire, side)
) STRICT;

-- Latencies per side: count, sum in microseconds, and the counts of the
-- fixed logarithmic buckets (migrate/latency.go), comma separated.
CREATE TABLE migration_latency (
	minute  INTEGER NOT NULL,
	node    TEXT NOT NULL,
	side    TEXT NOT NULL,
	count   INTEGER NOT NULL,
	sum_us  INTEGER NOT NULL,
	buckets TEXT NOT NULL,
	PRIMARY KEY (minute, node, side)
) STRICT;

-- Shadow comparisons by result.
CREATE TABLE migration_shadow (
	minute     INTEGER NOT NULL,
	node       TEXT NOT NULL,
	matches    INTEGER NOT NULL,
	mismatches INTEGER NOT NULL,
	errors     INTEGER NOT NULL,
	PRIMARY KEY (minute, node)
) STRICT;
