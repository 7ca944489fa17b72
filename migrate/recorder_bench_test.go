package migrate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/migrate"
)

// BenchmarkRecorderObserveCall measures what the report's recorder adds to
// a split call: one caller, and 64 callers from every core at once (the
// recorder's lock shared), the store flushed every second as in a node.
func BenchmarkRecorderObserveCall(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprint("Callers", callers), func(b *testing.B) {
			rec := migrate.NewRecorder(migrated(b, sqliteFile(b)), migrate.RecorderConfig{Node: "bench"})
			ctxs := make([]context.Context, callers)
			for i := range ctxs {
				ctxs[i] = callCtx("soap11", fmt.Sprint("client-", i), gateway.MethodBearer, "")
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
						_ = rec.Flush(b.Context())
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					rec.ObserveCall(ctxs[i%callers], migrate.SideNext, time.Millisecond, nil)
				}
			})
		})
	}
}
