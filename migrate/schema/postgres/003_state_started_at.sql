-- When traffic to the new backend was last (re)started: by a set, a
-- resume or a ramp's start (Unix nanoseconds, 0 never). A node forgets its
-- window when it sees this change (migrate/controller.go), so calls from
-- before the restart do not count against the backend after it.
ALTER TABLE migration_state ADD COLUMN started_at BIGINT NOT NULL DEFAULT 0;
