package migrate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/migrate"
)

// newCores returns two real backends that say which side answered.
func newCores(tb testing.TB) (current, next *gateway.Core) {
	tb.Helper()
	current, err := gateway.NewCore("current {firstName}")
	require.NoError(tb, err)
	next, err = gateway.NewCore("next {firstName}")
	require.NoError(tb, err)
	return current, next
}

// callerCtx is the context of a call by caller i: an address for even i,
// an authenticated client (calling from yet another address each time,
// which must not matter) for odd i.
func callerCtx(i, call int) context.Context {
	c := gateway.Call{RequestID: "r", Wire: "json", RemoteAddr: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)}
	if i%2 == 1 {
		c.RemoteAddr = fmt.Sprintf("192.0.2.%d", call)
		c.Authenticated = true
		c.Principal = gateway.Principal{ClientID: fmt.Sprintf("client-%d", i), Method: gateway.MethodBearer}
	}
	return gateway.WithCall(context.Background(), c)
}

// sides calls s three times for each of n callers and returns which side
// answered each; a caller answered by both sides fails the test.
func sides(t *testing.T, s *migrate.Split, n int) map[int]string {
	t.Helper()
	got := make(map[int]string, n)
	for i := range n {
		for call := range 3 {
			greeting, err := s.SayHelloContext(callerCtx(i, call), new("x"))
			require.NoError(t, err)
			side := migrate.SideCurrent
			if *greeting == "next x" {
				side = migrate.SideNext
			}
			if call > 0 && got[i] != side {
				t.Fatalf("caller %d went to %s, then to %s at one weight", i, got[i], side)
			}
			got[i] = side
			assert.Equal(t, side, s.Side(callerCtx(i, call)))
		}
	}
	return got
}

func share(m map[int]string) float64 {
	n := 0
	for _, side := range m {
		if side == migrate.SideNext {
			n++
		}
	}
	return float64(n) / float64(len(m))
}

func TestSplit(t *testing.T) {
	const callers = 1000
	current, next := newCores(t)
	s := migrate.NewSplit(current, next)

	t.Run("Weight0AllCurrent", func(t *testing.T) {
		assert.Zero(t, share(sides(t, s, callers)))
	})
	s.SetWeight(30)
	at30 := sides(t, s, callers)
	t.Run("Weight30", func(t *testing.T) {
		assert.InDelta(t, 0.30, share(at30), 0.04)
	})
	t.Run("RaisingKeepsNextCallersOnNext", func(t *testing.T) {
		s.SetWeight(50)
		at50 := sides(t, s, callers)
		assert.InDelta(t, 0.50, share(at50), 0.04)
		for i, side := range at30 {
			if side == migrate.SideNext {
				require.Equal(t, migrate.SideNext, at50[i], "caller %d", i)
			}
		}
	})
	t.Run("Weight100AllNext", func(t *testing.T) {
		s.SetWeight(100)
		assert.Equal(t, 1.0, share(sides(t, s, callers)))
	})
	t.Run("Clamped", func(t *testing.T) {
		s.SetWeight(250)
		assert.Equal(t, 100, s.Weight())
		s.SetWeight(-1)
		assert.Equal(t, 0, s.Weight())
	})
}

// TestFailed: what counts against a backend.
func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&gateway.Error{Kind: gateway.KindInvalid}, false},
		{&gateway.Error{Kind: gateway.KindUnauthorized}, false},
		{&gateway.Error{Kind: gateway.KindBadGateway}, true},
		{&gateway.Error{Kind: gateway.KindTimeout}, true},
		{&gateway.Error{Kind: gateway.KindUnavailable}, true},
		{&gateway.Error{Kind: gateway.KindInternal}, true},
		{fmt.Errorf("wrapped: %w", &gateway.Error{Kind: gateway.KindTimeout}), true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false}, // the caller hung up
		{fmt.Errorf("wrapped: %w", context.Canceled), false},
	} {
		assert.Equal(t, tc.want, migrate.Failed(tc.err), "%v", tc.err)
	}
}
