package migrate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
)

// Defaults of a ShadowConfig's zero fields.
const (
	DefaultShadowInFlight = 16
	DefaultShadowSamples  = 20
)

// Results of a shadow comparison, as in hellogw_shadow_total{result}.
const (
	ShadowMatch    = "match"
	ShadowMismatch = "mismatch"
	ShadowError    = "error"
)

// ShadowConfig configures a Shadow.
type ShadowConfig struct {
	// MaxInFlight bounds the secondary calls running at once. A request
	// that finds them all busy is not shadowed, only counted in
	// hellogw_shadow_dropped_total: nothing queues. Zero means
	// DefaultShadowInFlight.
	MaxInFlight int
	// Samples is how many of the latest mismatches and errors ServeAdmin
	// shows. Zero means DefaultShadowSamples.
	Samples int
	// LogNames puts the caller's first name into the logs and samples.
	// Off, greetings are shown with the name replaced by "{firstName}"
	// wherever it appears in them verbatim.
	LogNames bool
	// Logger receives a line per mismatch or error. Nil discards.
	Logger *slog.Logger
	// Registerer receives hellogw_shadow_total and
	// hellogw_shadow_dropped_total. Nil means none.
	Registerer prometheus.Registerer
	// Observers hear of each comparison's result (the Controller's
	// mismatch window, the Recorder).
	Observers []ShadowObserver
	// OtherSide, when set, compares each answer of the primary, which
	// must be a Split, with the side of the split that did not answer: a
	// caller on the next side with OtherSide.Current, and the other way
	// round; the secondary must be nil. It is the shadow of a migration
	// whose shadow is one of the split's backends: a shadow of its own
	// would ask the backend that answered a second time, and count its
	// agreement with itself as a match.
	OtherSide *OtherSide
}

// OtherSide is what a shadow of a Split asks: the shadow's own clients of
// the split's two services. Its own, not the split's: its calls must not
// open the breaker or take the connections of the backend that answers
// the clients.
type OtherSide struct {
	Current, Next gen.Hello_PortType
}

// ShadowObserver hears of each shadow comparison: ShadowMatch,
// ShadowMismatch or ShadowError.
type ShadowObserver interface {
	ObserveShadow(result string)
}

// Shadow answers with its primary and, in the background, asks its
// secondary the same, comparing the two greetings: a team migrating from
// one service to the other sees whether they agree before switching.
// The client's answer, error and latency are the primary's alone.
type Shadow struct {
	primary, secondary gen.Hello_PortType
	split              *Split // with ShadowConfig.OtherSide: the primary
	sides              OtherSide
	slots              chan struct{} // one per secondary call in flight
	logNames           bool
	log                *slog.Logger
	observers          []ShadowObserver

	total   *prometheus.CounterVec
	dropped prometheus.Counter
	counts  map[string]*atomic.Uint64 // by result, for ServeAdmin
	drops   atomic.Uint64

	mu      sync.Mutex
	samples []ShadowSample // a ring, next is the oldest once full
	next    int
}

var _ gen.Hello_PortType = (*Shadow)(nil)

// ShadowSample is one mismatch or error, as ServeAdmin shows it.
type ShadowSample struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id,omitempty"`
	Result    string    `json:"result"`              // ShadowMismatch or ShadowError
	Primary   string    `json:"primary"`             // the greeting the client got
	Secondary string    `json:"secondary,omitempty"` // the secondary's, for a mismatch
	Error     string    `json:"error,omitempty"`     // the secondary's error
	FirstName string    `json:"first_name,omitempty"`
}

// NewShadow returns a Shadow of primary and secondary (with
// cfg.OtherSide, of a Split and its other side). It fails when its metrics
// cannot be registered, or cfg.OtherSide has no Split.
func NewShadow(primary, secondary gen.Hello_PortType, cfg ShadowConfig) (*Shadow, error) {
	split, _ := primary.(*Split)
	if o := cfg.OtherSide; o != nil && (split == nil || secondary != nil || o.Current == nil || o.Next == nil) {
		return nil, errors.New("shadow: the other side needs a Split as the primary, both its services, and no secondary")
	}
	s := &Shadow{
		primary:   primary,
		secondary: secondary,
		slots:     make(chan struct{}, orDefault(cfg.MaxInFlight, DefaultShadowInFlight)),
		logNames:  cfg.LogNames,
		log:       cfg.Logger,
		observers: cfg.Observers,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hellogw_shadow_total",
			Help: "Shadow comparisons by result: match, mismatch (the greetings differ) or error (the shadow backend failed).",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hellogw_shadow_dropped_total",
			Help: "Requests not shadowed because the shadow backend already had its limit of calls in flight.",
		}),
		counts:  map[string]*atomic.Uint64{},
		samples: make([]ShadowSample, 0, orDefault(cfg.Samples, DefaultShadowSamples)),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.OtherSide != nil {
		s.split, s.sides = split, *cfg.OtherSide
	}
	for _, r := range []string{ShadowMatch, ShadowMismatch, ShadowError} {
		s.total.WithLabelValues(r) // present from the start, at 0
		s.counts[r] = new(atomic.Uint64)
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{s.total, s.dropped} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// SayHello implements gen.Hello_PortType.
func (s *Shadow) SayHello(firstName *string) (*string, error) {
	return s.SayHelloContext(context.Background(), firstName)
}

// SayHelloContext implements gen.Hello_PortType: it returns what the
// primary returns. When the primary answered, the secondary (or the
// split's other side) is asked in the background; when the primary
// failed, there is nothing to compare and the secondary is not called.
func (s *Shadow) SayHelloContext(ctx context.Context, firstName *string) (*string, error) {
	var greeting *string
	var err error
	secondary := s.secondary
	if s.split != nil {
		var side string
		greeting, side, err = s.split.serve(ctx, firstName)
		secondary = s.sides.Next
		if side == SideNext {
			secondary = s.sides.Current
		}
	} else {
		greeting, err = s.primary.SayHelloContext(ctx, firstName)
	}
	if err != nil || greeting == nil {
		return greeting, err
	}
	select {
	case s.slots <- struct{}{}:
		// The request's context ends with the request; its values (the
		// request id) are still wanted.
		go s.compare(context.WithoutCancel(ctx), secondary, *firstName, *greeting)
	default:
		s.dropped.Inc()
		s.drops.Add(1)
	}
	return greeting, nil
}

// compare asks secondary and records how its answer compares.
func (s *Shadow) compare(ctx context.Context, secondary gen.Hello_PortType, name, want string) {
	defer func() { <-s.slots }()
	got, err := secondary.SayHelloContext(ctx, &name)
	sample := ShadowSample{Time: time.Now().UTC(), RequestID: gateway.RequestIDFrom(ctx), Primary: s.redact(want, name)}
	switch {
	case err != nil:
		sample.Result, sample.Error = ShadowError, gateway.AsError(err).Message // never the name: see Error
	case got == nil:
		sample.Result, sample.Error = ShadowError, "the shadow returned no greeting"
	case *got == want:
		sample.Result = ShadowMatch
	default:
		sample.Result, sample.Secondary = ShadowMismatch, s.redact(*got, name)
	}
	s.total.WithLabelValues(sample.Result).Inc()
	s.counts[sample.Result].Add(1)
	for _, o := range s.observers {
		o.ObserveShadow(sample.Result)
	}
	if sample.Result == ShadowMatch {
		return
	}
	if s.logNames {
		sample.FirstName = name
	}
	attrs := []any{"request_id", sample.RequestID, "result", sample.Result, "primary", sample.Primary}
	if sample.Result == ShadowMismatch {
		attrs = append(attrs, "secondary", sample.Secondary)
	} else {
		attrs = append(attrs, "err", sample.Error)
	}
	if s.logNames {
		attrs = append(attrs, "first_name", name)
	}
	s.log.Warn("shadow "+sample.Result, attrs...)

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) < cap(s.samples) {
		s.samples = append(s.samples, sample)
		return
	}
	s.samples[s.next] = sample
	s.next = (s.next + 1) % len(s.samples)
}

// redact replaces the name in a greeting by "{firstName}", unless names
// may be shown.
func (s *Shadow) redact(greeting, name string) string {
	if s.logNames {
		return greeting
	}
	return strings.ReplaceAll(greeting, name, gateway.Placeholder)
}

// Wait blocks until the secondary calls in flight have ended, each bounded
// by its backend's timeout, by taking every slot in turn; requests that
// come meanwhile are not shadowed. It is safe to call while requests are
// still being served, as in a shutdown whose drain timed out.
func (s *Shadow) Wait() {
	for range cap(s.slots) {
		s.slots <- struct{}{}
	}
	for range cap(s.slots) {
		<-s.slots
	}
}

// shadowReport is the body of GET /admin/shadow.
type shadowReport struct {
	Results map[string]uint64 `json:"results"`
	Dropped uint64            `json:"dropped"`
	Samples []ShadowSample    `json:"samples"` // newest first
}

// ServeAdmin answers GET /admin/shadow: the counts of each result, the
// requests dropped, and the latest mismatches and errors, newest first.
func (s *Shadow) ServeAdmin(c *gin.Context) {
	r := shadowReport{Results: map[string]uint64{}, Dropped: s.drops.Load()}
	for k, v := range s.counts {
		r.Results[k] = v.Load()
	}
	s.mu.Lock()
	r.Samples = make([]ShadowSample, 0, len(s.samples))
	for i := range s.samples {
		r.Samples = append(r.Samples, s.samples[(s.next+len(s.samples)-1-i)%len(s.samples)])
	}
	s.mu.Unlock()
	body, err := json.Marshal(r, json.Deterministic(true))
	if err != nil {
		gateway.WriteProblem(c, gateway.Errorf(gateway.KindInternal, "internal error"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", body)
}
