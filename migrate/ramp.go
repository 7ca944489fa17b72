package migrate

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// rampDue reports whether st's ramp may advance at now.
func (c *Controller) rampDue(st State, now time.Time) bool {
	return st.Status == Running && st.RampStep >= 0 && st.RampStep < len(st.RampSteps)-1 &&
		!st.NextStepAt.IsZero() && !now.Before(st.NextStepAt)
}

// advance moves a running ramp whose pause has passed to its next step,
// on evidence: this node's window holds at least MinCalls calls of the
// next backend since the step began, and calls for no rollback. A node
// that saw too few calls (a quiet one, one just restarted) never
// advances the ramp; another node may, or an operator sets the weight.
func (c *Controller) advance(ctx context.Context) {
	now := time.Now()
	judged := c.State()
	if !c.rampDue(judged, now) || c.rollbackPending() {
		return
	}
	if why, _ := c.verdict(c.win.sum(now)); why != "" {
		return // trip rolls back
	}
	// The step began a pause before it may end (Ramp, Resume and advance
	// set NextStepAt so).
	w := c.win.sumSince(now, judged.NextStepAt.Add(-c.cfg.RampPause))
	if w.Calls < int64(c.cfg.MinCalls) {
		return
	}
	_, err := c.change(ctx, func(st State) (State, *Event, error) {
		now := time.Now()
		if !c.rampDue(st, now) || st.RampStep != judged.RampStep || !st.StartedAt.Equal(judged.StartedAt) {
			return st, nil, nil // another node advanced it, or someone paused or restarted it
		}
		next := st
		next.RampStep++
		next.Weight = st.RampSteps[next.RampStep]
		next.NextStepAt = time.Time{}
		if next.RampStep < len(st.RampSteps)-1 {
			next.NextStepAt = now.Add(c.cfg.RampPause)
		}
		next.Reason = fmt.Sprintf("ramp_step %d of steps %v after %v; the window of %s since the step began: %d calls, %d errors, %d comparisons, %d mismatches",
			next.RampStep, st.RampSteps, c.cfg.RampPause, c.cfg.Node, w.Calls, w.Errors, w.Comparisons, w.Mismatches)
		return next, &Event{Actor: ActorRamp, Action: ActionStep, From: st.Weight, To: next.Weight, Reason: next.Reason}, nil
	})
	if err != nil {
		c.log.ErrorContext(ctx, "migration: advancing the ramp", "err", err)
	}
}

// Ramp starts the ramp, running, at its first step above the weight (from
// 0, the first step): a ramp never moves callers back. Each step lasts at
// least the ramp's pause, and the next comes only on evidence (advance).
// Without steps it is ErrNoRamp; with none above the weight, ErrNoStepAbove.
func (c *Controller) Ramp(ctx context.Context, reason string) (State, error) {
	steps := c.cfg.RampSteps
	if len(steps) == 0 {
		return State{}, ErrNoRamp
	}
	return c.change(ctx, func(st State) (State, *Event, error) {
		i := slices.IndexFunc(steps, func(w int) bool { return w > st.Weight })
		if i < 0 {
			return st, nil, fmt.Errorf("%w: the weight is %d %%, the steps are %v; `hellogw migrate set` (PUT %s) sets any weight",
				ErrNoStepAbove, st.Weight, steps, PathWeight)
		}
		next := st
		next.Weight, next.Status, next.RampStep, next.RampSteps, next.NextStepAt, next.Reason = steps[i], Running, i, slices.Clone(steps), time.Time{}, reason
		next.ResumeWeight, next.StartedAt = 0, time.Now()
		if i < len(steps)-1 {
			next.NextStepAt = next.StartedAt.Add(c.cfg.RampPause)
		}
		return next, &Event{Actor: ActorAPI, Action: ActionRamp, From: st.Weight, To: steps[i],
			Reason: fmt.Sprintf("%s (ramp_step %d of steps %v, %v each)", reason, i, steps, c.cfg.RampPause)}, nil
	})
}
