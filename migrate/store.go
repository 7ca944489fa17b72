package migrate

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/hellogw/hellogw/internal/sqldb"
)

// schemaFS holds the tables of the migration, one folder per dialect
// (named as sqldb.Dialect.Name), recorded as "migrate/NNN_name.sql" in the
// migrations table the OAuth store shares.
//
//go:embed schema
var schemaFS embed.FS

// The states of a migration.
const (
	Running    = "running"     // the weight stands; a ramp advances
	Paused     = "paused"      // the weight stands; a ramp holds
	RolledBack = "rolled_back" // weight 0 after an automatic or requested rollback, until resumed
)

// Who changed the state (Event.Actor).
const (
	ActorAPI      = "api"      // an operator, through the admin API
	ActorRamp     = "ramp"     // the ramp schedule advancing a step
	ActorRollback = "rollback" // the automatic rollback
	ActorConfig   = "config"   // the config's weight, the first time a store is used
)

// What changed (Event.Action).
const (
	ActionSet      = "set"
	ActionPause    = "pause"
	ActionResume   = "resume"
	ActionRollback = "rollback"
	ActionRamp     = "ramp" // a ramp started, at its first step
	ActionStep     = "step" // a ramp advanced a step
)

// NoStep is State.RampStep when no ramp runs.
const NoStep = -1

// State is the migration's state, one for every node sharing a store.
type State struct {
	// Weight is the share of callers sent to the new backend, 0 to 100.
	Weight int `json:"weight"`
	// Status is Running, Paused or RolledBack.
	Status string `json:"state"`
	// RampStep indexes RampSteps; NoStep when no ramp runs.
	RampStep int `json:"ramp_step"`
	// RampSteps are the weights of the running ramp, as the node that
	// started it was configured; none without a ramp.
	RampSteps []int `json:"ramp_steps,omitempty"`
	// NextStepAt is when a running ramp may advance; zero without one.
	NextStepAt time.Time `json:"next_step_at,omitzero"`
	// ResumeWeight is the weight a resume without one restores: the
	// weight before the rollback. Only a rolled-back migration has one;
	// running or paused it is 0, and left out of the JSON.
	ResumeWeight int `json:"resume_weight,omitzero"`
	// StartedAt is when traffic to the new backend was last (re)started:
	// by a set, a resume or a ramp's start. Every node forgets its window
	// when it sees a new StartedAt: what the backend did before counts no
	// more. Zero before the first such change.
	StartedAt time.Time `json:"started_at,omitzero"`
	// Version counts the changes: each is compare-and-set on it.
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	// Reason is the last change's.
	Reason string `json:"reason"`
}

// Event is one change of the state, kept in the history.
type Event struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Node   string    `json:"node"`   // the node that made the change
	Actor  string    `json:"actor"`  // ActorAPI, ActorRamp, …
	Action string    `json:"action"` // ActionSet, ActionPause, …
	From   int       `json:"from_weight"`
	To     int       `json:"to_weight"`
	Reason string    `json:"reason"`
}

// Errors of a Store.
var (
	// ErrNoState: the store holds no state yet (Init stores the first).
	ErrNoState = errors.New("migrate: no state stored yet")
	// ErrConflict: the state changed since the version a Change was based on.
	ErrConflict = errors.New("migrate: the state changed meanwhile")
)

// Store keeps the migration's state and history in the SQL database the
// OAuth store opened (oauth/sqlite, oauth/postgres), in tables of its own.
type Store struct {
	db *sqldb.DB
	// Now is the clock of UpdatedAt and Event.At; tests may replace it.
	Now func() time.Time
}

// OpenStore returns a Store on db after creating or updating its tables
// (schema/DIALECT/*.sql), as sqldb.DB.Migrate does. The caller keeps
// ownership of db.
func OpenStore(ctx context.Context, db *sqldb.DB) (*Store, error) {
	dir, err := fs.Sub(schemaFS, "schema/"+db.Dialect.Name)
	if err != nil {
		return nil, fmt.Errorf("migrate store: %w", err)
	}
	if files, _ := fs.Glob(dir, "*.sql"); len(files) == 0 {
		return nil, fmt.Errorf("migrate store: no schema for the %q dialect", db.Dialect.Name)
	}
	if err := db.Migrate(ctx, dir, "migrate/"); err != nil {
		return nil, fmt.Errorf("migrate store: %w", err)
	}
	return &Store{db: db, Now: time.Now}, nil
}

const stateColumns = `weight, state, ramp_step, next_step_at, resume_weight, version, updated_at, reason, started_at, ramp_steps`

// queryer is what State and Events read with: the DB, or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// State returns the stored state. It returns ErrNoState before Init.
func (s *Store) State(ctx context.Context) (State, error) { return s.state(ctx, s.db) }

func (s *Store) state(ctx context.Context, q queryer) (State, error) {
	var st State
	var next, updated, started int64
	var steps string
	err := q.QueryRowContext(ctx, `SELECT `+stateColumns+` FROM migration_state WHERE id = 1`).
		Scan(&st.Weight, &st.Status, &st.RampStep, &next, &st.ResumeWeight, &st.Version, &updated, &st.Reason, &started, &steps)
	if errors.Is(err, sql.ErrNoRows) {
		return State{}, ErrNoState
	} else if err != nil {
		return State{}, s.formatError(err)
	}
	for w := range strings.SplitSeq(steps, ",") {
		if w == "" {
			continue
		}
		n, err := strconv.Atoi(w)
		if err != nil {
			return State{}, fmt.Errorf("migrate store: ramp_steps %q: %w", steps, err)
		}
		st.RampSteps = append(st.RampSteps, n)
	}
	st.NextStepAt, st.UpdatedAt, st.StartedAt = sqldb.Time(next), sqldb.Time(updated), sqldb.Time(started)
	return st, nil
}

// Init stores st as version 1 and records ev, unless a state is stored
// already; either way it returns the stored state. Of nodes starting at
// once on a new store, one stores its state and the others get it.
func (s *Store) Init(ctx context.Context, st State, ev Event) (State, error) {
	now := s.Now()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := sqldb.Affected(tx.ExecContext(ctx, `
			INSERT INTO migration_state (id, `+stateColumns+`) VALUES (1, $1, $2, $3, $4, $5, 1, $6, $7, $8, $9)
			ON CONFLICT (id) DO NOTHING`,
			st.Weight, st.Status, st.RampStep, sqldb.Nanos(st.NextStepAt), st.ResumeWeight, now.UnixNano(), st.Reason, sqldb.Nanos(st.StartedAt), stepsText(st.RampSteps)))
		if err != nil || n == 0 {
			return err
		}
		return insertEvent(ctx, tx, now, ev)
	})
	if err != nil {
		return State{}, s.formatError(err)
	}
	return s.State(ctx)
}

// Change replaces the state of the given version by st, and records ev,
// in one transaction; it returns the state as stored (the next version).
// It returns ErrConflict if the stored state is no longer of that version:
// another change came first, and the caller decides again from the state
// it now reads. Two nodes thus never both make one change.
func (s *Store) Change(ctx context.Context, version int64, st State, ev Event) (State, error) {
	now := s.Now()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// In PostgreSQL's READ COMMITTED, an UPDATE that waited for a
		// concurrent one re-checks its WHERE against the winner's row, and
		// finds a newer version.
		n, err := sqldb.Affected(tx.ExecContext(ctx, `
			UPDATE migration_state SET weight = $1, state = $2, ramp_step = $3, next_step_at = $4,
				resume_weight = $5, version = version + 1, updated_at = $6, reason = $7, started_at = $8, ramp_steps = $9
			WHERE id = 1 AND version = $10`,
			st.Weight, st.Status, st.RampStep, sqldb.Nanos(st.NextStepAt), st.ResumeWeight, now.UnixNano(), st.Reason, sqldb.Nanos(st.StartedAt),
			stepsText(st.RampSteps), version))
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrConflict
		}
		return insertEvent(ctx, tx, now, ev)
	})
	if err != nil {
		return State{}, s.formatError(err)
	}
	st.Version, st.UpdatedAt = version+1, sqldb.Time(now.UnixNano())
	return st, nil
}

// stepsText is the ramp_steps column of steps: "10,25,50".
func stepsText(steps []int) string {
	var b strings.Builder
	for i, w := range steps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(w))
	}
	return b.String()
}

func insertEvent(ctx context.Context, tx *sql.Tx, at time.Time, ev Event) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO migration_events (at, node, actor, action, from_weight, to_weight, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		at.UnixNano(), ev.Node, ev.Actor, ev.Action, ev.From, ev.To, ev.Reason)
	return err
}

// Events returns the events at or after since, newest first, at most limit.
func (s *Store) Events(ctx context.Context, since time.Time, limit int) ([]Event, error) {
	return s.events(ctx, s.db, since, limit)
}

// StateAndEvents returns the state and the events of Events as of one
// moment, read in one read-only transaction: REPEATABLE READ in PostgreSQL
// (one snapshot for the transaction, not one per statement), and SQLite's
// transactions are serializable anyway. So the state is the one the newest
// event led to.
func (s *Store) StateAndEvents(ctx context.Context, since time.Time, limit int) (State, []Event, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return State{}, nil, s.formatError(err)
	}
	defer func() { _ = tx.Rollback() }()
	st, err := s.state(ctx, tx)
	if err != nil {
		return State{}, nil, err
	}
	events, err := s.events(ctx, tx, since, limit)
	if err != nil {
		return State{}, nil, err
	}
	return st, events, s.formatError(tx.Commit())
}

func (s *Store) events(ctx context.Context, q queryer, since time.Time, limit int) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, at, node, actor, action, from_weight, to_weight, reason FROM migration_events
		WHERE at >= $1 ORDER BY id DESC LIMIT $2`, sqldb.Nanos(since), limit)
	if err != nil {
		return nil, s.formatError(err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var ev Event
		var at int64
		if err := rows.Scan(&ev.ID, &at, &ev.Node, &ev.Actor, &ev.Action, &ev.From, &ev.To, &ev.Reason); err != nil {
			return nil, s.formatError(err)
		}
		ev.At = sqldb.Time(at)
		events = append(events, ev)
	}
	return events, s.formatError(rows.Err())
}

// formatError names the database in driver errors; the Store's sentinels
// pass through.
func (s *Store) formatError(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrConflict), errors.Is(err, ErrNoState):
		return err
	}
	return fmt.Errorf("migrate store: %s: %w", s.db.Dialect.Name, err)
}
