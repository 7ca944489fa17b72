package migrate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/migrate"
)

// BenchmarkSplit is the split's cost per call beside the same call
// unsplit, in one run: the core alone; a Split at 30 % of two cores; and
// the Split as hellogw serves it, telling the Controller (metrics, window)
// and the Recorder (traffic per minute) of each call.
func BenchmarkSplit(b *testing.B) {
	current, next := newCores(b)
	// 1,024 callers, half authenticated, taken in turn.
	ctxs := make([]context.Context, 1024)
	for i := range ctxs {
		ctxs[i] = callerCtx(i, 0)
	}
	run := func(b *testing.B, svc gen.Hello_PortType) {
		name := "Ada"
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.SayHelloContext(ctxs[i%len(ctxs)], &name); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("Unsplit", func(b *testing.B) { run(b, current) })
	b.Run("Split", func(b *testing.B) {
		s := migrate.NewSplit(current, next)
		s.SetWeight(30)
		run(b, s)
	})
	b.Run("SplitObserved", func(b *testing.B) {
		db := sqliteFile(b)(b)
		store, err := migrate.OpenStore(b.Context(), db)
		if err != nil {
			b.Fatal(err)
		}
		rec := migrate.NewRecorder(db, migrate.RecorderConfig{Node: "bench"})
		ctrl, err := migrate.NewController(b.Context(), store, current, next, migrate.ControllerConfig{
			Node: "bench", Weight: 30, MaxErrorRate: 0.05, Observers: []migrate.CallObserver{rec}})
		if err != nil {
			b.Fatal(err)
		}
		run(b, ctrl.Split())
	})
}

// BenchmarkSide is the choice of a side alone: the caller's hash and the
// weight's load.
func BenchmarkSide(b *testing.B) {
	current, next := newCores(b)
	s := migrate.NewSplit(current, next)
	s.SetWeight(30)
	for _, auth := range []bool{false, true} {
		b.Run(fmt.Sprintf("Authenticated=%v", auth), func(b *testing.B) {
			c := gateway.Call{RemoteAddr: "203.0.113.77"}
			if auth {
				c.Authenticated, c.Principal = true, gateway.Principal{ClientID: "demo-app"}
			}
			ctx := gateway.WithCall(context.Background(), c)
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Side(ctx)
			}
		})
	}
}
