package migrate

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
)

// The sides of a Split, as metric labels and the report name them.
const (
	SideCurrent = "current" // the backend being migrated from
	SideNext    = "next"    // the backend being migrated to
)

// CallObserver hears of every call a Split made: on which side, how long it
// took and how it ended. The Controller is one (its window and metrics),
// the Recorder another (traffic and latency by client and wire format).
type CallObserver interface {
	ObserveCall(ctx context.Context, side string, elapsed time.Duration, err error)
}

// Split sends each caller to one of two backends by weight: the share of
// callers, 0 to 100 %, that the next backend answers. A caller is its
// client id when authenticated, else its address (gateway.CallFrom), and
// stays on its side while the weight stands; raising the weight moves
// callers from current to next only, never back. There is no per-caller
// state and no lock on the way: the weight is an atomic that the
// Controller sets.
type Split struct {
	current, next gen.Hello_PortType
	weight        atomic.Int32 // percent
	observers     []CallObserver
}

var _ gen.Hello_PortType = (*Split)(nil)

// NewSplit returns a Split of current and next at weight 0 (every caller
// on current) that tells observers of each call.
func NewSplit(current, next gen.Hello_PortType, observers ...CallObserver) *Split {
	return &Split{current: current, next: next, observers: observers}
}

// SetWeight sets the percentage of callers sent to next, clamped to 0–100.
func (s *Split) SetWeight(percent int) { s.weight.Store(int32(min(max(percent, 0), 100))) }

// Weight returns the percentage of callers sent to next.
func (s *Split) Weight() int { return int(s.weight.Load()) }

// Side returns the side the caller of ctx is on at the current weight.
func (s *Split) Side(ctx context.Context) string {
	// Bucket i of 10,000 goes to next iff i < weight·100, so a caller's
	// side changes only when the weight crosses its bucket.
	if bucket(ctx)%10000 < uint64(s.weight.Load())*100 {
		return SideNext
	}
	return SideCurrent
}

// SayHello implements gen.Hello_PortType.
func (s *Split) SayHello(firstName *string) (*string, error) {
	return s.SayHelloContext(context.Background(), firstName)
}

// SayHelloContext implements gen.Hello_PortType: the caller's side answers.
func (s *Split) SayHelloContext(ctx context.Context, firstName *string) (*string, error) {
	greeting, _, err := s.serve(ctx, firstName)
	return greeting, err
}

// serve is SayHelloContext, and says which side answered.
func (s *Split) serve(ctx context.Context, firstName *string) (*string, string, error) {
	side, b := SideCurrent, s.current
	if s.Side(ctx) == SideNext {
		side, b = SideNext, s.next
	}
	if len(s.observers) == 0 {
		greeting, err := b.SayHelloContext(ctx, firstName)
		return greeting, side, err
	}
	start := time.Now()
	greeting, err := b.SayHelloContext(ctx, firstName)
	elapsed := time.Since(start)
	for _, o := range s.observers {
		o.ObserveCall(ctx, side, elapsed, err)
	}
	return greeting, side, err
}

// bucket hashes the caller of ctx: "c:" and the client id when the caller
// is authenticated, else "a:" and its address, with 64-bit FNV-1a
// (draft-eastlake-fnv §2). Written out rather than hash/fnv, whose Hash64
// takes bytes through an interface: a string and no allocation here.
func bucket(ctx context.Context) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	call, _ := gateway.CallFrom(ctx)
	prefix, key := "a:", call.RemoteAddr
	if call.Authenticated {
		prefix, key = "c:", call.Principal.ClientID
	}
	h := uint64(offset64)
	for i := range len(prefix) {
		h = (h ^ uint64(prefix[i])) * prime64
	}
	for i := range len(key) {
		h = (h ^ uint64(key[i])) * prime64
	}
	return h
}

// Failed reports whether err, returned by a backend, counts against it:
// the backend failed (gateway.KindBadGateway, KindTimeout, KindUnavailable,
// KindInternal, or an error of no Kind), as opposed to a caller's mistake,
// a caller that hung up (context.Canceled), or no error at all.
func Failed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *gateway.Error
	if !errors.As(err, &e) {
		return true
	}
	switch e.Kind {
	case gateway.KindBadGateway, gateway.KindTimeout, gateway.KindUnavailable, gateway.KindInternal:
		return true
	}
	return false
}
