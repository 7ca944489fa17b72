package main

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/migrate"
)

// migration is the config's migration section at work: the controller of
// the split's weight, and the recorder of the split's traffic for the
// report, both on the store's database.
type migration struct {
	ctrl *migrate.Controller
	rec  *migrate.Recorder
	poll time.Duration
}

// newMigration returns the migration of a Split between current (backend)
// and next (migration.to), after creating its tables in db if need be.
func (m *Main) newMigration(ctx context.Context, cfg *config.Migration, backend config.Backend, db *sqldb.DB, current, next gen.Hello_PortType, reg prometheus.Registerer) (*migration, error) {
	store, err := migrate.OpenStore(ctx, db)
	if err != nil {
		return nil, err
	}
	node := nodeName()
	rec := migrate.NewRecorder(db, migrate.RecorderConfig{Node: node, Retention: cfg.Retention, Logger: m.Logger})
	if err := reg.Register(rec); err != nil {
		return nil, err
	}
	r := cfg.Rollback
	ctrl, err := migrate.NewController(ctx, store, current, next, migrate.ControllerConfig{
		Node: node, Weight: cfg.Weight,
		Window: r.Window, MinCalls: r.MinCalls, MaxErrorRate: *r.MaxErrorRate, MaxMismatchRate: *r.MaxMismatchRate,
		RampSteps: cfg.Ramp.Steps, RampPause: cfg.Ramp.Pause, Poll: cfg.Poll,
		Logger: m.Logger, Registerer: reg, Observers: []migrate.CallObserver{rec},
	})
	if err != nil {
		return nil, err
	}
	st := ctrl.State()
	attrs := []any{"node", node, "weight", st.Weight, "state", st.Status,
		"current", sideName(backend.Kind, backend.URL), "next", sideName(cfg.To.Kind, cfg.To.URL)}
	if st.RampStep != migrate.NoStep {
		attrs = append(attrs, "ramp_step", st.RampStep, "ramp_steps", st.RampSteps)
	}
	m.Logger.Info("migration", attrs...)
	return &migration{ctrl: ctrl, rec: rec, poll: cfg.Poll}, nil
}

// sideName names a side of the migration in the log: its kind, and an
// upstream's scheme://host (never its credentials).
func sideName(kind, url string) string {
	if kind == config.KindLocal || kind == "" {
		return config.KindLocal
	}
	return kind + " " + migrate.UpstreamName(url)
}

// shadowObservers are what hears of the shadow's comparisons: the
// controller's mismatch window and the report; none without a migration.
func (mg *migration) shadowObservers() []migrate.ShadowObserver {
	if mg == nil {
		return nil
	}
	return []migrate.ShadowObserver{mg.ctrl, mg.rec}
}

// run follows the store (the weight) and flushes the traffic to it, every
// poll, until the returned func is called; that waits for the last flush.
func (mg *migration) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { mg.ctrl.Run(ctx) })
	wg.Go(func() { mg.rec.Run(ctx, mg.poll) })
	return func() { cancel(); wg.Wait() }
}

// nodeName names this process in the migration's history and traffic
// rows: the host, and a suffix new at each start (a restarted node's
// counts start from zero, so its rows must not be the old process's).
func nodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return host + "-" + strings.ToLower(rand.Text()[:6])
}
