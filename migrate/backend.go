package migrate

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/hellogw/hellogw/gateway"
)

// Defaults of an UpstreamConfig's zero fields.
const (
	DefaultUpstreamTimeout  = 2 * time.Second
	DefaultUpstreamMaxConns = 64
	DefaultBreakerFailures  = 5
	DefaultBreakerCooldown  = 10 * time.Second
)

// maxUpstreamBody bounds what is read of an upstream's answer: a greeting
// is at most a few KiB, so anything near this is not one.
const maxUpstreamBody = 1 << 20

// UpstreamConfig is what the JSON and SOAP backends share: where the
// upstream is and how to call it.
type UpstreamConfig struct {
	// URL is the upstream: for JSON, the base URL that the operation name
	// is appended to; for SOAP, the endpoint itself (the soap:address).
	URL string
	// Timeout bounds a whole call, retry included. Zero means
	// DefaultUpstreamTimeout.
	Timeout time.Duration
	// MaxConns bounds the connections open to the upstream at once; a call
	// that finds none free waits for one, within its timeout. Zero means
	// DefaultUpstreamMaxConns.
	MaxConns int
	// Identity is what is presented upstream on each call: by default
	// nothing, no credential leaves the gateway.
	Identity UpstreamIdentity
	// BreakerFailures is how many calls in a row must fail before the
	// circuit breaker opens and calls fail at once with KindUnavailable.
	// Zero means DefaultBreakerFailures.
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before it lets one
	// trial call through. Zero means DefaultBreakerCooldown.
	BreakerCooldown time.Duration
	// Logger hears of the breaker opening and closing. Nil discards.
	Logger *slog.Logger
	// Registerer receives hellogw_upstream_duration_seconds, shared by
	// every upstream registered with it. Nil means none.
	Registerer prometheus.Registerer
}

// upstream is the HTTP client side of a backend: a bounded connection pool,
// a timeout on every call, one retry where nothing can have been sent, and
// a circuit breaker. Its failures are *Errors that name the upstream.
type upstream struct {
	url      string
	name     string // scheme://host, never a path, query or credentials
	client   *http.Client
	timeout  time.Duration
	cooldown time.Duration
	identity UpstreamIdentity
	breaker  *gobreaker.CircuitBreaker[string]
	latency  *prometheus.HistogramVec // by upstream and outcome; nil when not registered
}

// UpstreamName is how logs and errors name the upstream at rawURL: its
// scheme://host, never its path, query or credentials ("" when rawURL
// does not parse).
func UpstreamName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func newUpstream(cfg UpstreamConfig) (*upstream, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream URL %q: want an absolute http or https URL", cfg.URL)
	}
	up := &upstream{
		url:      cfg.URL,
		name:     UpstreamName(cfg.URL),
		timeout:  orDefault(cfg.Timeout, DefaultUpstreamTimeout),
		cooldown: orDefault(cfg.BreakerCooldown, DefaultBreakerCooldown),
		identity: cfg.Identity,
	}
	if up.identity.Kind == IdentityBasic {
		up.identity.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(up.identity.Username+":"+up.identity.Password))
	}
	maxConns := orDefault(cfg.MaxConns, DefaultUpstreamMaxConns)
	up.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: up.timeout, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxConnsPerHost:       maxConns,
			MaxIdleConns:          maxConns,
			MaxIdleConnsPerHost:   maxConns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   up.timeout,
			ResponseHeaderTimeout: up.timeout,
		},
		// An upstream that redirects is misconfigured: a POST must not
		// wander off to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	failures := uint32(orDefault(cfg.BreakerFailures, DefaultBreakerFailures))
	up.breaker = gobreaker.NewCircuitBreaker[string](gobreaker.Settings{
		Name:        up.name,
		MaxRequests: 1,
		Timeout:     up.cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		// A caller that went away says nothing about the upstream.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			log.Warn("upstream circuit breaker", "upstream", name, "from", from.String(), "to", to.String())
		},
	})
	if cfg.Registerer != nil {
		if up.latency, err = upstreamLatency(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	return up, nil
}

// upstreamLatency registers hellogw_upstream_duration_seconds with reg, or
// returns the one already registered by another upstream.
func upstreamLatency(reg prometheus.Registerer) (*prometheus.HistogramVec, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hellogw_upstream_duration_seconds",
		Help: "Calls to upstream services (backend and shadow), by upstream (scheme://host) and outcome (ok or the error kind).",
		// 250µs to ~15s: a loopback call to a busy upstream up to past any sane timeout.
		Buckets: prometheus.ExponentialBuckets(0.00025, 2.5, 13),
	}, []string{"upstream", "outcome"})
	if err := reg.Register(h); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return h, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// decodeFunc turns an upstream's HTTP answer into a greeting, or an
// *Error of KindBadGateway that says what was wrong with it.
type decodeFunc func(status int, contentType string, body []byte) (string, *gateway.Error)

// call posts body to the upstream with the given headers (plus the
// request id as X-Request-Id, and the identity's Authorization) and
// decodes the answer.
// Its errors are *Errors: KindBadGateway for a refused connection or an
// unusable answer, KindTimeout past the timeout, KindUnavailable while the
// circuit breaker is open, KindInternal when no token could be minted.
func (u *upstream) call(ctx context.Context, header http.Header, body []byte, decode decodeFunc) (*string, error) {
	auth, rejected, err := u.identity.authorization(ctx)
	if err != nil { // not the upstream's failure: before the breaker
		return nil, err
	}
	start := time.Now()
	greeting, err := u.breaker.Execute(func() (string, error) {
		status, ct, answer, err := u.post(ctx, header, auth, body)
		if err != nil {
			return "", err
		}
		if status == http.StatusUnauthorized && rejected != nil {
			rejected()
		}
		g, derr := decode(status, ct, answer)
		if derr != nil {
			return "", derr
		}
		return g, nil
	})
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		err = gateway.Errorf(gateway.KindUnavailable, "upstream %s is failing: calls to it are paused for up to %s (circuit breaker open)", u.name, u.cooldown)
	case errors.Is(err, context.Canceled):
		err, outcome = canceledError{gateway.Errorf(gateway.KindBadGateway, "the call to upstream %s was canceled before it answered", u.name)}, "canceled"
	}
	if err != nil && outcome == "ok" {
		outcome = gateway.AsError(err).Kind.String()
	}
	if u.latency != nil {
		u.latency.WithLabelValues(u.name, outcome).Observe(time.Since(start).Seconds())
	}
	if err != nil {
		return nil, err
	}
	return &greeting, nil
}

// post sends one POST and reads the answer, within the timeout. A dial
// that fails (connection refused or reset while connecting) is retried
// once: nothing can have reached the upstream. net/http itself replays a
// request on a reused keep-alive connection that closed before any byte
// was written (the body is a bytes.Reader, so it can rewind); anything
// later is never retried, as the upstream may have acted on it.
func (u *upstream) post(ctx context.Context, header http.Header, auth string, body []byte) (int, string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.url, bytes.NewReader(body))
		if err != nil {
			return 0, "", nil, gateway.Errorf(gateway.KindInternal, "building the call to upstream %s: %v", u.name, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if id := gateway.RequestIDFrom(ctx); id != "" {
			req.Header.Set(gateway.HeaderRequestID, id)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := u.client.Do(req)
		if err != nil {
			if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" && attempt == 0 && ctx.Err() == nil {
				continue
			}
			return 0, "", nil, u.failed(ctx, err)
		}
		answer, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamBody+1))
		resp.Body.Close()
		if err != nil {
			return 0, "", nil, u.failed(ctx, err)
		}
		if len(answer) > maxUpstreamBody {
			return 0, "", nil, gateway.Errorf(gateway.KindBadGateway, "upstream %s answered more than %d bytes", u.name, maxUpstreamBody)
		}
		return resp.StatusCode, resp.Header.Get("Content-Type"), answer, nil
	}
}

// failed classifies a transport error: the caller gone (context.Canceled,
// for the breaker to ignore), a timeout, an upstream that cannot be
// reached, or one that broke the connection off.
func (u *upstream) failed(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return context.Canceled
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return gateway.Errorf(gateway.KindTimeout, "upstream %s did not answer within %s", u.name, u.timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return gateway.Errorf(gateway.KindTimeout, "upstream %s did not answer within %s", u.name, u.timeout)
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return gateway.Errorf(gateway.KindBadGateway, "upstream %s cannot be reached: %v", u.name, op.Err)
	}
	return gateway.Errorf(gateway.KindBadGateway, "upstream %s broke off the call: %v", u.name, unwrapURLError(err))
}

// unwrapURLError drops the *url.Error wrapper, which repeats the method and
// the whole URL, path and query included.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// canceledError is the error of a call whose caller hung up: a
// *gateway.Error for whoever still answers the caller, and
// context.Canceled for Failed, so that the rollback window, the metrics
// and the report do not count it against the upstream.
type canceledError struct{ gw *gateway.Error }

func (e canceledError) Error() string   { return e.gw.Error() }
func (e canceledError) Unwrap() []error { return []error{e.gw, context.Canceled} }

// badAnswer is the *Error for an answer that is not a greeting.
func (u *upstream) badAnswer(format string, args ...any) *gateway.Error {
	return gateway.Errorf(gateway.KindBadGateway, "upstream %s answered %s", u.name, fmt.Sprintf(format, args...))
}
