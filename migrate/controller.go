package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellogw/hellogw/gen"
)

// Defaults of a ControllerConfig's zero fields.
const (
	DefaultWindow   = 2 * time.Minute
	DefaultMinCalls = 20
	DefaultPoll     = time.Second
	// DefaultStoreTimeout bounds each of the controller's visits to the
	// store (a quarter of the window, if shorter): a store that hangs
	// fails the visit, which the next poll tries again.
	DefaultStoreTimeout = 5 * time.Second
)

// ControllerConfig configures a Controller. The json names are the report's.
type ControllerConfig struct {
	// Node names this node in the history.
	Node string `json:"node"`
	// Weight is the weight stored the first time a store is used: later
	// the store's weight stands, whatever the config says.
	Weight int `json:"-"`
	// Window is the span of the sliding window of the next backend's
	// calls and shadow comparisons. Zero means DefaultWindow.
	Window time.Duration `json:"window,format:units"`
	// MinCalls is how many calls (or comparisons) the window must hold
	// before a rate is judged. Zero means DefaultMinCalls.
	MinCalls int `json:"min_calls"`
	// MaxErrorRate is the share of the next backend's calls in the window
	// that may fail (Failed); above it the migration rolls back. Zero
	// turns the check off.
	MaxErrorRate float64 `json:"max_error_rate"`
	// MaxMismatchRate is the share of shadow comparisons in the window
	// that may differ; above it the migration rolls back. Zero turns the
	// check off.
	MaxMismatchRate float64 `json:"max_mismatch_rate"`
	// RampSteps are the weights of a ramp, rising; none means no ramp.
	RampSteps []int `json:"ramp_steps"`
	// RampPause is how long a ramp stays at each step, at least.
	RampPause time.Duration `json:"ramp_pause,format:units"`
	// Poll is how often the store's state is read. Zero means DefaultPoll.
	Poll time.Duration `json:"poll,format:units"`
	// Logger hears of every change of the state. Nil discards.
	Logger *slog.Logger `json:"-"`
	// Registerer receives the hellogw_migration_* metrics. Nil means none.
	Registerer prometheus.Registerer `json:"-"`
	// Observers hear of every call of the split too (the Recorder).
	Observers []CallObserver `json:"-"`
}

// Errors of the Controller's changes; others are the store's.
var (
	ErrInvalidWeight = errors.New("the weight must be from 0 to 100")
	ErrNoRamp        = errors.New("no ramp is configured: set migration.ramp.steps")
	ErrRunning       = errors.New("the migration is running: there is nothing to resume")
	ErrRolledBack    = errors.New("the migration is rolled back: resume it, or set a weight")
	// ErrNoStepAbove: a ramp starts at the first step above the weight,
	// and there is none; ramping would move callers back.
	ErrNoStepAbove = errors.New("no ramp step is above the weight")
)

// Reasons of an automatic rollback, as in hellogw_migration_rollbacks_total.
const (
	ReasonErrorRate    = "error_rate"
	ReasonMismatchRate = "mismatch_rate"
	reasonAPI          = "api"
)

// Controller keeps a Split's weight as the store says, on every node: it
// reads the store's state every poll, changes it (compare-and-set) on
// request, advances a ramp while the next backend is healthy, and rolls
// the migration back when the next backend's error rate or the shadow's
// mismatch rate over its window passes the threshold.
//
// The window is this node's: every node judges what it sees, and the
// first to find a rate too high rolls back for all.
type Controller struct {
	store *Store
	split *Split
	cfg   ControllerConfig
	log   *slog.Logger
	win   *window
	alarm chan struct{} // a rollback is pending: record it now
	// storeTimeout bounds each visit to the store (DefaultStoreTimeout).
	storeTimeout time.Duration

	mu    sync.Mutex
	state State // the newest known
	// pending is the rollback this node decided and has not recorded yet
	// (nil: none): the split stays at 0 meanwhile, whatever the store
	// says, until the store shows it rolled back or (re)started since.
	pending *pendingRollback

	weight    prometheus.Gauge
	calls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	rollbacks *prometheus.CounterVec
	// The series of each side (sideIndex) and outcome, resolved once:
	// looking labels up is most of a counter's cost.
	callsBy    [2][outcomes]prometheus.Counter
	durationBy [2]prometheus.Observer
}

// The outcomes of a call, as hellogw_migration_calls_total's outcome.
const (
	outcomeOK       = iota // answered
	outcomeError           // the backend failed (Failed)
	outcomeRejected        // the caller's mistake
	outcomeCanceled        // the caller hung up: neither ok nor the backend's failure
	outcomes
)

var outcomeNames = [outcomes]string{"ok", "error", "rejected", "canceled"}

// sideIndex is 0 for SideCurrent, 1 for SideNext.
func sideIndex(side string) int {
	if side == SideNext {
		return 1
	}
	return 0
}

var (
	_ CallObserver   = (*Controller)(nil)
	_ ShadowObserver = (*Controller)(nil)
)

// NewController returns a Controller on store of a Split of current and
// next (Controller.Split). It stores the config's weight unless the store
// holds a state already, and sets the split to the stored weight. Call Run
// to follow the store.
func NewController(ctx context.Context, store *Store, current, next gen.Hello_PortType, cfg ControllerConfig) (*Controller, error) {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MinCalls <= 0 {
		cfg.MinCalls = DefaultMinCalls
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Weight < 0 || cfg.Weight > 100 {
		return nil, ErrInvalidWeight
	}
	for i, w := range cfg.RampSteps {
		if w < 1 || w > 100 || i > 0 && w <= cfg.RampSteps[i-1] {
			return nil, fmt.Errorf("ramp steps %v: each must be from 1 to 100, and above the one before", cfg.RampSteps)
		}
	}
	c := &Controller{
		store: store, cfg: cfg, log: cfg.Logger,
		win:          newWindow(cfg.Window),
		alarm:        make(chan struct{}, 1),
		storeTimeout: min(DefaultStoreTimeout, cfg.Window/4),
		weight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hellogw_migration_weight",
			Help: "The share of callers, in percent, that the migration's next backend answers.",
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_migration_calls_total",
			Help: "Calls of the migration's backends by side (current, next) and outcome: ok, error (the backend failed), rejected (the caller's mistake) or canceled (the caller hung up).",
		}, []string{"side", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hellogw_migration_call_duration_seconds",
			Help:    "How long the migration's backends took to answer, by side.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14),
		}, []string{"side"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_migration_rollbacks_total",
			Help: "Rollbacks this node recorded, by reason: error_rate and mismatch_rate (automatic), api (requested).",
		}, []string{"reason"}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.split = NewSplit(current, next, append([]CallObserver{c}, cfg.Observers...)...)
	for _, side := range []string{SideCurrent, SideNext} {
		for o, name := range outcomeNames {
			c.callsBy[sideIndex(side)][o] = c.calls.WithLabelValues(side, name) // present from the start, at 0
		}
		c.durationBy[sideIndex(side)] = c.duration.WithLabelValues(side)
	}
	for _, r := range []string{ReasonErrorRate, ReasonMismatchRate, reasonAPI} {
		c.rollbacks.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		for _, m := range []prometheus.Collector{c.weight, c.calls, c.duration, c.rollbacks} {
			if err := cfg.Registerer.Register(m); err != nil {
				return nil, err
			}
		}
	}
	st, err := store.Init(ctx, State{Weight: cfg.Weight, Status: Running, RampStep: NoStep, Reason: "migration.weight"},
		Event{Node: cfg.Node, Actor: ActorConfig, Action: ActionSet, To: cfg.Weight, Reason: "migration.weight"})
	if err != nil {
		return nil, err
	}
	if st.Weight != cfg.Weight {
		c.log.WarnContext(ctx, fmt.Sprintf("migration.weight in the config is %d, but the store holds weight %d, which stands: `hellogw migrate set %d` changes it",
			cfg.Weight, st.Weight, cfg.Weight), "config_weight", cfg.Weight, "store_weight", st.Weight, "state", st.Status)
	}
	c.apply(st)
	return c, nil
}

// Run follows the store until ctx ends: every poll it checks the window,
// records a pending rollback, reads the state and sets the split's weight,
// and advances a ramp. A rollback decided between polls (by the calls
// themselves, see trip) is recorded at once. Failures to reach the store
// are logged; the weight stays as last read (0 while a rollback is pending).
func (c *Controller) Run(ctx context.Context) {
	tick := time.NewTicker(c.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.alarm:
			c.record(ctx)
		case <-tick.C:
			c.trip()
			c.record(ctx)
			if err := c.refresh(ctx); err != nil {
				c.log.ErrorContext(ctx, "migration: reading the state", "err", err)
				continue
			}
			c.advance(ctx)
		}
	}
}

// Split returns the split whose weight c keeps: the service to serve.
func (c *Controller) Split() *Split { return c.split }

// State returns the newest state this node knows.
func (c *Controller) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Window returns what this node's window holds now.
func (c *Controller) Window() Counts { return c.win.sum(time.Now()) }

// Config returns the controller's settings, defaults filled in.
func (c *Controller) Config() ControllerConfig { return c.cfg }

// History returns the changes at or after since, newest first, at most limit.
func (c *Controller) History(ctx context.Context, since time.Time, limit int) ([]Event, error) {
	return c.store.Events(ctx, since, limit)
}

// ObserveCall implements CallObserver: the metrics of every call, and the
// window of the next backend's.
func (c *Controller) ObserveCall(_ context.Context, side string, elapsed time.Duration, err error) {
	outcome := outcomeOK
	switch {
	case errors.Is(err, context.Canceled):
		outcome = outcomeCanceled
	case Failed(err):
		outcome = outcomeError
	case err != nil:
		outcome = outcomeRejected
	}
	i := sideIndex(side)
	c.callsBy[i][outcome].Inc()
	c.durationBy[i].Observe(elapsed.Seconds())
	if side != SideNext || outcome == outcomeRejected || outcome == outcomeCanceled {
		return
	}
	o := Counts{Calls: 1}
	if outcome == outcomeError {
		o.Errors = 1
	}
	c.win.add(time.Now(), o)
	if o.Errors != 0 {
		c.trip()
	}
}

// ObserveShadow implements ShadowObserver: a comparison (ShadowMatch or
// ShadowMismatch) counts in the window, for the mismatch rate. A
// ShadowError (the shadow backend failed) compared nothing and counts in
// neither rate: the error rate is of the calls the split sent to next.
func (c *Controller) ObserveShadow(result string) {
	switch result {
	case ShadowMatch:
		c.win.add(time.Now(), Counts{Comparisons: 1})
	case ShadowMismatch:
		c.win.add(time.Now(), Counts{Comparisons: 1, Mismatches: 1})
		c.trip()
	}
}

// change applies decide to the stored state and stores what it returns,
// with its event, by compare-and-set: when another node changed the state
// meanwhile, decide runs again on the newer state. A nil event means no
// change. The state stored, or found, is applied here at once.
func (c *Controller) change(ctx context.Context, decide func(st State) (State, *Event, error)) (State, error) {
	ctx, cancel := context.WithTimeout(ctx, c.storeTimeout)
	defer cancel()
	for {
		st, err := c.store.State(ctx)
		if err != nil {
			return State{}, err
		}
		next, ev, err := decide(st)
		if err != nil || ev == nil {
			c.apply(st)
			return st, err
		}
		ev.Node = c.cfg.Node
		stored, err := c.store.Change(ctx, st.Version, next, *ev)
		if errors.Is(err, ErrConflict) {
			continue // decide again on what the other node stored
		} else if err != nil {
			return State{}, err
		}
		c.apply(stored)
		c.log.InfoContext(ctx, "migration "+ev.Action, "actor", ev.Actor, "from_weight", ev.From, "to_weight", ev.To,
			"state", stored.Status, "reason", ev.Reason)
		return stored, nil
	}
}

// refresh reads the stored state and applies it.
func (c *Controller) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.storeTimeout)
	defer cancel()
	st, err := c.store.State(ctx)
	if err != nil {
		return err
	}
	c.apply(st)
	return nil
}

// apply makes st this node's state, unless it knows a newer one.
func (c *Controller) apply(st State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.Version < c.state.Version {
		return
	}
	if !st.StartedAt.Equal(c.state.StartedAt) {
		// Traffic to the next backend was (re)started: what it did
		// before (the errors and mismatches that may have rolled it
		// back) counts no more, on this node as on every other.
		c.win.reset()
	}
	if st.RampStep >= 0 && !slices.Equal(st.RampSteps, c.state.RampSteps) && !slices.Equal(st.RampSteps, c.cfg.RampSteps) {
		c.log.Error(fmt.Sprintf("migration: the running ramp's steps are %v, as stored when it started; this node's migration.ramp.steps are %v. It follows the stored steps; `hellogw migrate set` ends the ramp, `hellogw migrate ramp` starts one with the configured steps",
			st.RampSteps, c.cfg.RampSteps), "ramp_steps", st.RampSteps, "config_ramp_steps", c.cfg.RampSteps)
	}
	c.state = st
	if p := c.pending; p != nil && (st.Status == RolledBack || !st.StartedAt.Equal(p.judged.StartedAt)) {
		c.pending = nil // recorded, by this node or another, or (re)started since
	}
	c.setSplit()
}

// setSplit sets the split's weight, and the gauge, to the state's, or to
// 0 while a rollback is pending; c.mu is held.
func (c *Controller) setSplit() {
	w := c.state.Weight
	if c.pending != nil {
		w = 0
	}
	c.split.SetWeight(w)
	c.weight.Set(float64(w))
}

// SetWeight sets the weight; it ends a ramp, and a pause or rollback:
// the migration runs at that weight.
func (c *Controller) SetWeight(ctx context.Context, weight int, reason string) (State, error) {
	if weight < 0 || weight > 100 {
		return State{}, ErrInvalidWeight
	}
	return c.change(ctx, func(st State) (State, *Event, error) {
		next := st
		next.Weight, next.Status, next.RampStep, next.RampSteps, next.NextStepAt, next.Reason = weight, Running, NoStep, nil, time.Time{}, reason
		next.ResumeWeight, next.StartedAt = 0, time.Now()
		return next, &Event{Actor: ActorAPI, Action: ActionSet, From: st.Weight, To: weight, Reason: reason}, nil
	})
}

// Pause holds a ramp at its step; the weight stands, and so does the
// automatic rollback. Pausing a paused migration changes nothing; a
// rolled-back one is ErrRolledBack.
func (c *Controller) Pause(ctx context.Context, reason string) (State, error) {
	return c.change(ctx, func(st State) (State, *Event, error) {
		switch st.Status {
		case Paused:
			return st, nil, nil
		case RolledBack:
			return st, nil, ErrRolledBack
		}
		next := st
		next.Status, next.NextStepAt, next.Reason = Paused, time.Time{}, reason
		return next, &Event{Actor: ActorAPI, Action: ActionPause, From: st.Weight, To: st.Weight, Reason: reason}, nil
	})
}

// Resume runs a paused or rolled-back migration again, at weight if it is
// not nil, else at the weight it had: a paused one's, or the weight before
// the rollback. A ramp goes on from its step, its pause counted from now,
// unless weight is given. A running migration is ErrRunning.
func (c *Controller) Resume(ctx context.Context, weight *int, reason string) (State, error) {
	if weight != nil && (*weight < 0 || *weight > 100) {
		return State{}, ErrInvalidWeight
	}
	return c.change(ctx, func(st State) (State, *Event, error) {
		if st.Status == Running {
			return st, nil, ErrRunning
		}
		next := st
		next.Status, next.Reason, next.ResumeWeight, next.StartedAt = Running, reason, 0, time.Now()
		if st.Status == RolledBack {
			next.Weight = st.ResumeWeight
		}
		switch {
		case weight != nil:
			next.Weight, next.RampStep, next.RampSteps, next.NextStepAt = *weight, NoStep, nil, time.Time{}
		case st.RampStep >= 0 && st.RampStep < len(st.RampSteps)-1:
			next.NextStepAt = time.Now().Add(c.cfg.RampPause)
		}
		return next, &Event{Actor: ActorAPI, Action: ActionResume, From: st.Weight, To: next.Weight, Reason: reason}, nil
	})
}
