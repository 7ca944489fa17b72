package config

import (
	"cmp"
	"fmt"
	"time"

	"github.com/hellogw/hellogw/migrate"
)

// Migration is the migration section: a second backend that a share of the
// callers is sent to, by weight, with a ramp and an automatic rollback
// (README "Migration control"). Absent, backend alone answers.
type Migration struct {
	// To is the backend being migrated to; its keys are backend's.
	To Backend `yaml:"to"`
	// Weight is the share of callers, 0 to 100 %, sent to To when the
	// store holds no weight yet; afterwards the store's weight stands.
	Weight int `yaml:"weight"`
	// Ramp is the schedule that `hellogw migrate ramp` starts.
	Ramp Ramp `yaml:"ramp"`
	// Rollback says when the weight goes back to 0 by itself.
	Rollback Rollback `yaml:"rollback"`
	// Poll is how often each node reads the weight from the store
	// (default 1s).
	Poll time.Duration `yaml:"poll"`
	// Retention is how long the report's traffic rows are kept (default 168h).
	Retention time.Duration `yaml:"retention"`
}

// Ramp is a ramp schedule.
type Ramp struct {
	// Steps are the weights of the ramp, rising, from 1 to 100.
	Steps []int `yaml:"steps"`
	// Pause is how long each step lasts at least (default 10m); a step
	// advances only while the window calls for no rollback.
	Pause time.Duration `yaml:"pause"`
}

// Rollback is when a migration rolls back by itself.
type Rollback struct {
	// Window is the span of the sliding window (default 2m).
	Window time.Duration `yaml:"window"`
	// MinCalls is how many calls of To (or shadow comparisons) the window
	// needs before a rate is judged (default 20).
	MinCalls int `yaml:"min_calls"`
	// MaxErrorRate is the share of To's calls that may fail (default
	// 0.05); 0 turns the check off.
	MaxErrorRate *float64 `yaml:"max_error_rate"`
	// MaxMismatchRate is the share of shadow comparisons that may differ
	// (default 0.05); 0 turns the check off.
	MaxMismatchRate *float64 `yaml:"max_mismatch_rate"`
}

// Defaults of the migration section that the migrate package does not
// have: the window, min_calls, poll and retention are its own.
const (
	defaultRampPause = 10 * time.Minute
	defaultMaxRate   = 0.05
)

// checkSplit checks the migration section, if any, and fills in its
// defaults: the backend's for to's timeout, connections and breaker.
func (cfg *Config) checkSplit() error {
	m := cfg.Migration
	if m == nil {
		return nil
	}
	to, b := &m.To, cfg.Backend
	if to.Kind == "" {
		return bad("migration.to.kind", "is required: local, json or soap, the backend being migrated to")
	}
	if err := checkUpstream("migration.to", to.Kind, to.URL); err != nil {
		return err
	}
	if err := to.Identity.check("migration.to", to.Kind, to.ForwardAuthorization); err != nil {
		return err
	}
	to.Timeout = cmp.Or(to.Timeout, b.Timeout)
	to.MaxConns = cmp.Or(to.MaxConns, b.MaxConns)
	to.Breaker.Failures = cmp.Or(to.Breaker.Failures, b.Breaker.Failures)
	to.Breaker.Cooldown = cmp.Or(to.Breaker.Cooldown, b.Breaker.Cooldown)
	r := &m.Rollback
	m.Ramp.Pause = cmp.Or(m.Ramp.Pause, defaultRampPause)
	r.Window = cmp.Or(r.Window, migrate.DefaultWindow)
	r.MinCalls = cmp.Or(r.MinCalls, migrate.DefaultMinCalls)
	m.Poll = cmp.Or(m.Poll, migrate.DefaultPoll)
	m.Retention = cmp.Or(m.Retention, migrate.DefaultRetention)
	switch {
	case to.Timeout < 0:
		return bad("migration.to.timeout", positive+": use a Go duration such as 2s")
	case to.MaxConns < 0:
		return bad("migration.to.max_conns", positive)
	case to.Breaker.Failures < 0:
		return bad("migration.to.breaker.failures", positive)
	case to.Breaker.Cooldown < 0:
		return bad("migration.to.breaker.cooldown", positive+": use a Go duration such as 10s")
	case m.Weight < 0 || m.Weight > 100:
		return bad("migration.weight", "must be from 0 to 100 (a percentage of callers), not %d", m.Weight)
	case m.Ramp.Pause < 0:
		return bad("migration.ramp.pause", positive+": use a Go duration such as 10m")
	case r.Window < time.Second:
		return bad("migration.rollback.window", "must be at least 1s: use a Go duration such as 2m")
	case r.MinCalls < 0:
		return bad("migration.rollback.min_calls", positive)
	case m.Poll < 0:
		return bad("migration.poll", positive+": use a Go duration such as 1s")
	case m.Retention < 0:
		return bad("migration.retention", positive+": use a Go duration such as 168h")
	}
	for i, w := range m.Ramp.Steps {
		if w < 1 || w > 100 || i > 0 && w <= m.Ramp.Steps[i-1] {
			return bad(fmt.Sprintf("migration.ramp.steps[%d]", i), "is %d: steps are weights from 1 to 100, each above the one before, such as [5, 25, 50, 100]", w)
		}
	}
	for _, rate := range []struct {
		key string
		v   **float64
	}{{"max_error_rate", &r.MaxErrorRate}, {"max_mismatch_rate", &r.MaxMismatchRate}} {
		if *rate.v == nil {
			*rate.v = new(float64(defaultMaxRate))
		}
		if v := **rate.v; v < 0 || v > 1 {
			return bad("migration.rollback."+rate.key, "must be from 0 to 1 (a share: 0.05 is 5 %%; 0 turns the check off), not %g", v)
		}
	}
	return nil
}
