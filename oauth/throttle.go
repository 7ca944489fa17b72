package oauth

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Throttling of authentication attempts. RFC 6749 §2.3.1: "the authorization
// server MUST protect any endpoint utilizing it against brute force attacks";
// RFC 6819 §5.1.4.2.3 suggests limiting attempts. Client authentication and
// user logins are throttled alike, with keys of their own.
//
// Every attempt is counted in the store before its secret is checked, in one
// transaction with its other keys (Store.UpdateThrottle), so attempts in
// flight are counted, and the budget holds across nodes sharing the store.
// Only an attempt that goes on to a check is counted; a refused one changes
// nothing. A successful attempt is taken back, so the budgets count failures
// (and attempts still being checked); a check cheap enough to run under the
// records' lock (a secret verified before) is made there instead, and counts
// nothing if it passes (see begin). The keys:
//
//   - (address, account): PairLimit attempts per Window, then 429 from that
//     address for that account until the window ends;
//   - address: AddressLimit attempts per Window, over all accounts;
//   - account: never a lock, which would let anyone keep the owner out. After
//     TarPitFree attempts in a window, each further attempt waits for a slot
//     of the account's tar pit, spaced TarPitStep apart and doubling up to
//     TarPitMaxStep, so guesses from many addresses together get slow. An
//     attempt whose slot is more than MaxWait away, or beyond the deadline
//     of the attempt's context (see maxWait), is refused with 429 and a
//     Retry-After of when the queue has room. Addresses that signed in to the
//     account in the last KnownFor skip the tar pit.
//
// Keys are HMAC-SHA256 values under the session key, so the store never holds
// an address or an account name, and an IPv4 address cannot be recovered by
// trying all 2^32. Without a configured session_key the key is one kept in
// the store (Store.Secret), made by the first node to start, so that nodes
// sharing the store share the budgets and a restart keeps the counts.
//
// Throttle is the `throttle` section of the config file; a field left out
// (zero) takes its default.
type Throttle struct {
	Window        time.Duration `yaml:"window"`          // default 5 minutes
	PairLimit     int64         `yaml:"pair_limit"`      // default 10
	AddressLimit  int64         `yaml:"address_limit"`   // default 100
	TarPitFree    int64         `yaml:"tarpit_free"`     // default 10
	TarPitStep    time.Duration `yaml:"tarpit_step"`     // default 250 ms
	TarPitMaxStep time.Duration `yaml:"tarpit_max_step"` // default 4 s
	MaxWait       time.Duration `yaml:"max_wait"`        // default 10 s
	KnownFor      time.Duration `yaml:"known_for"`       // default 30 days
}

// withDefaults fills the zero fields of t, and refuses a negative one or
// a tar pit whose first step is longer than its longest.
func (t Throttle) withDefaults() (Throttle, error) {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"window", t.Window}, {"tarpit_step", t.TarPitStep}, {"tarpit_max_step", t.TarPitMaxStep}, {"max_wait", t.MaxWait}, {"known_for", t.KnownFor}} {
		if d.v < 0 {
			return t, configErr("throttle."+d.key, "negative: use a positive Go duration such as 5m, or leave it out for the default")
		}
	}
	for _, n := range []struct {
		key string
		v   int64
	}{{"pair_limit", t.PairLimit}, {"address_limit", t.AddressLimit}, {"tarpit_free", t.TarPitFree}} {
		if n.v < 0 {
			return t, configErr("throttle."+n.key, "negative: use a positive number of attempts, or leave it out for the default")
		}
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defN := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.Window, 5*time.Minute)
	defN(&t.PairLimit, 10)
	defN(&t.AddressLimit, 100)
	defN(&t.TarPitFree, 10)
	def(&t.TarPitStep, 250*time.Millisecond)
	def(&t.TarPitMaxStep, 4*time.Second)
	def(&t.MaxWait, 10*time.Second)
	def(&t.KnownFor, 30*24*time.Hour)
	if t.TarPitStep > t.TarPitMaxStep {
		return t, configErr("throttle.tarpit_step", "%v is longer than tarpit_max_step (%v): the tar pit's steps double from tarpit_step up to tarpit_max_step", t.TarPitStep, t.TarPitMaxStep)
	}
	return t, nil
}

// ThrottledError refuses an authentication attempt without checking it: a
// budget is spent (RFC 6749 §2.3.1). It matches ErrTooManyAttempts with
// errors.Is.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("oauth: too many authentication attempts; retry after %v", e.RetryAfter)
}

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }

// RetryAfterSeconds is the Retry-After value (RFC 9110 §10.2.3): whole
// seconds, at least 1.
func (e *ThrottledError) RetryAfterSeconds() string {
	return strconv.FormatInt(max(1, int64((e.RetryAfter+time.Second-1)/time.Second)), 10)
}

// throttle applies a Throttle with the records in a Store.
type throttle struct {
	store Store
	cfg   Throttle
	now   func() time.Time
	mac   func(parts ...string) string
}

// The records of one attempt, in the order of attempt.keys. The pair record
// also remembers whether its address signed in to its account (KnownUntil).
const (
	recAddress = iota
	recPair
	recAccount
)

// attempt is one counted authentication attempt.
type attempt struct {
	t              *throttle
	keys           []string
	accountCounted bool
}

// begin counts an attempt of kind ("client", "login") from remote on account,
// before it is checked, and waits out the account's tar pit. It returns a
// *ThrottledError if the attempt must not be checked, the context's error if
// it ended while waiting, or a store error.
//
// quick, if not nil, is a check that costs next to nothing (a secret seen
// verified before). Once the budgets allow the attempt and no tar-pit wait is
// due, it runs while the attempt's records are locked, so it is as good as
// counting, checking and taking back in one step: if it passes, begin
// returns passed and counts nothing. Otherwise the attempt is counted, and
// the caller checks it and calls succeeded if it passes.
func (t *throttle) begin(ctx context.Context, kind, remote, account string, quick func() bool) (a *attempt, passed bool, err error) {
	addr := addressKey(remote)
	a = &attempt{t: t, keys: []string{
		recAddress: t.mac("throttle", kind, "address", addr),
		recPair:    t.mac("throttle", kind, "pair", addr, account),
		recAccount: t.mac("throttle", kind, "account", account),
	}}
	var (
		refused *ThrottledError
		wait    time.Duration
	)
	err = t.store.UpdateThrottle(ctx, a.keys, func(recs []ThrottleRecord) []ThrottleRecord {
		refused, wait, passed, a.accountCounted = nil, 0, false, false
		now := t.now()
		orig := append([]ThrottleRecord(nil), recs...)
		for _, b := range []struct {
			rec   int
			limit int64
		}{{recAddress, t.cfg.AddressLimit}, {recPair, t.cfg.PairLimit}} {
			r := &recs[b.rec]
			if t.count(r, now); r.Count > b.limit {
				after := r.WindowStart.Add(t.cfg.Window).Sub(now)
				if refused == nil || after > refused.RetryAfter {
					refused = &ThrottledError{RetryAfter: after}
				}
			}
		}
		if refused != nil {
			return orig
		}
		if !now.Before(recs[recPair].KnownUntil) {
			acct := &recs[recAccount]
			a.accountCounted = true
			if t.count(acct, now); acct.Count > t.cfg.TarPitFree {
				slot := later(acct.NextSlot, now)
				if limit := t.maxWait(ctx); slot.Sub(now) > limit {
					// RFC 6585 §4: 429 with Retry-After (RFC 9110
					// §10.2.3) when a later attempt's slot would be
					// near enough.
					refused = &ThrottledError{RetryAfter: slot.Sub(now) - limit}
					return orig
				}
				wait = slot.Sub(now)
				acct.NextSlot = slot.Add(t.step(acct.Count - t.cfg.TarPitFree))
				acct.ExpiresAt = later(acct.ExpiresAt, acct.NextSlot)
			}
		}
		if wait == 0 && quick != nil && quick() {
			passed = true
			t.renewKnown(&orig[recPair], now)
			return orig
		}
		return recs
	})
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("throttle: %w", err)
	case refused != nil:
		return nil, false, refused
	case passed:
		return nil, true, nil
	case wait > 0:
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-timer.C:
		}
	}
	return a, false, nil
}

// checkReserve is the time a tar-pit wait leaves before the context's
// deadline for the check that follows it and its write to the store.
const checkReserve = time.Second

// maxWait is the longest tar-pit wait an attempt under ctx may take:
// MaxWait, and never past ctx's deadline less the time of the check that
// follows (at most half of what is left). An attempt whose slot is further
// away is refused with 429 at once; waiting for it would end in the
// context's error, answered as a store failure (500/503), not as the
// throttling it is.
func (t *throttle) maxWait(ctx context.Context) time.Duration {
	limit := t.cfg.MaxWait
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		limit = min(limit, left-min(checkReserve, left/2))
	}
	return limit
}

// succeeded takes a successful attempt back from the budgets it was counted
// in, and remembers that its address signed in to the account.
func (a *attempt) succeeded(ctx context.Context) error {
	t := a.t
	err := t.store.UpdateThrottle(ctx, a.keys, func(recs []ThrottleRecord) []ThrottleRecord {
		now := t.now()
		uncount := []int{recAddress, recPair}
		if a.accountCounted {
			uncount = append(uncount, recAccount)
		}
		for _, i := range uncount {
			if r := &recs[i]; r.Count > 0 && now.Before(r.WindowStart.Add(t.cfg.Window)) {
				r.Count--
			}
		}
		t.renewKnown(&recs[recPair], now)
		return recs
	})
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// renewKnown records in the pair record r that its address signed in to its
// account at now. To spare a write per success it is renewed only once
// less than KnownFor less a slack is left: a day, or half of KnownFor when
// that is shorter, so that a known_for under a day still keeps an address
// that signs in within it known.
func (t *throttle) renewKnown(r *ThrottleRecord, now time.Time) {
	slack := min(24*time.Hour, t.cfg.KnownFor/2)
	if r.KnownUntil.Before(now.Add(t.cfg.KnownFor - slack)) {
		r.KnownUntil = now.Add(t.cfg.KnownFor)
		r.ExpiresAt = later(r.ExpiresAt, r.KnownUntil)
	}
}

// count adds an attempt at now to r, in a new window if r's is over.
func (t *throttle) count(r *ThrottleRecord, now time.Time) {
	if r.WindowStart.IsZero() || !now.Before(r.WindowStart.Add(t.cfg.Window)) {
		r.Count, r.WindowStart = 0, now
	}
	r.Count++
	r.ExpiresAt = later(r.ExpiresAt, r.WindowStart.Add(t.cfg.Window))
}

// step is the tar-pit spacing after the n-th attempt past the free ones:
// TarPitStep doubling with n, at most TarPitMaxStep.
func (t *throttle) step(n int64) time.Duration {
	d := t.cfg.TarPitStep
	for i := int64(1); i < n && d < t.cfg.TarPitMaxStep; i++ {
		d *= 2
	}
	return min(d, t.cfg.TarPitMaxStep)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// addressKey is the part of a remote address that the throttle counts: the
// address, or for IPv6 its /64, since a host may use any address of its /64
// (RFC 4291 §2.5.1, RFC 8981 temporary addresses).
func addressKey(remote string) string {
	ip, err := netip.ParseAddr(remote)
	if err != nil {
		return remote
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
