package migrate

import (
	"context"
	"fmt"
	"time"
)

// pendingRollback is an automatic rollback this node decided: why (the
// history's reason), reason (the metric's) and the state judged.
type pendingRollback struct {
	why, reason string
	judged      State
}

// verdict returns why counts call for a rollback, and the metric's reason,
// or "" when they do not.
func (c *Controller) verdict(w Counts) (why, reason string) {
	if limit := c.cfg.MaxErrorRate; limit > 0 && w.Calls >= int64(c.cfg.MinCalls) {
		if rate := float64(w.Errors) / float64(w.Calls); rate > limit {
			return fmt.Sprintf("error rate %.2f > %.2f over %v (%d of %d calls)", rate, limit, c.cfg.Window, w.Errors, w.Calls), ReasonErrorRate
		}
	}
	if limit := c.cfg.MaxMismatchRate; limit > 0 && w.Comparisons >= int64(c.cfg.MinCalls) {
		if rate := float64(w.Mismatches) / float64(w.Comparisons); rate > limit {
			return fmt.Sprintf("mismatch rate %.2f > %.2f over %v (%d of %d comparisons)", rate, limit, c.cfg.Window, w.Mismatches, w.Comparisons), ReasonMismatchRate
		}
	}
	return "", ""
}

// trip holds the split at 0 at once when the window calls for a rollback
// while the next backend has callers, and asks Run to record it. It does
// no I/O: the calls that found the rates too high call it, so a store that
// hangs or refuses writes delays the record, never the rollback.
func (c *Controller) trip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	if c.pending != nil || st.Weight == 0 || st.Status == RolledBack {
		return
	}
	// The window is summed under c.mu, as apply resets it: a restart
	// applied meanwhile cannot mix into what is judged here.
	why, reason := c.verdict(c.win.sum(time.Now()))
	if why == "" {
		return
	}
	c.pending = &pendingRollback{why: why, reason: reason, judged: st}
	c.setSplit()
	select {
	case c.alarm <- struct{}{}:
	default:
	}
}

// rollbackPending reports whether a rollback waits to be recorded.
func (c *Controller) rollbackPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending != nil
}

// record stores the pending rollback, if any. Run calls it every poll
// until the store shows the migration rolled back or (re)started since the
// rollback was decided (apply then drops it): the window that decided it
// may have emptied by then, the rollback stands.
func (c *Controller) record(ctx context.Context) {
	c.mu.Lock()
	p := c.pending
	c.mu.Unlock()
	if p == nil {
		return
	}
	recorded, err := c.rollback(ctx, ActorRollback, p.why, &p.judged)
	if err != nil {
		c.log.ErrorContext(ctx, "migration: recording a rollback; the split stays at 0 and the next poll tries again", "reason", p.why, "err", err)
		return
	}
	c.mu.Lock()
	if c.pending == p {
		c.pending = nil
		c.setSplit()
	}
	c.mu.Unlock()
	c.win.reset()
	if recorded {
		c.rollbacks.WithLabelValues(p.reason).Inc()
		c.log.WarnContext(ctx, "migration rolled back", "reason", p.why, "node", c.cfg.Node)
	}
}

// rollback sets the weight to 0 and the state to rolled back, unless it is
// so already (another node came first), or, for an automatic one (judged
// is the state its window was judged in), traffic to the next backend was
// restarted since (the window was of calls before it); recorded says
// whether this call made the change.
func (c *Controller) rollback(ctx context.Context, actor, reason string, judged *State) (recorded bool, err error) {
	_, err = c.change(ctx, func(st State) (State, *Event, error) {
		recorded = false // decided again after a conflict
		if st.Status == RolledBack || judged != nil && !st.StartedAt.Equal(judged.StartedAt) {
			return st, nil, nil
		}
		next := st
		next.Weight, next.Status, next.NextStepAt, next.Reason = 0, RolledBack, time.Time{}, reason
		next.ResumeWeight = st.Weight // the weight before this rollback, even 0
		recorded = true
		return next, &Event{Actor: actor, Action: ActionRollback, From: st.Weight, To: 0, Reason: reason}, nil
	})
	return recorded, err
}

// Rollback sends every caller to the current backend (weight 0) until a
// resume. Rolling back a rolled-back migration changes nothing.
func (c *Controller) Rollback(ctx context.Context, reason string) (State, error) {
	recorded, err := c.rollback(ctx, ActorAPI, reason, nil)
	if err != nil {
		return State{}, err
	}
	if recorded {
		c.rollbacks.WithLabelValues(reasonAPI).Inc()
		c.win.reset()
	}
	return c.State(), nil
}
