// Package gateway is the HTTP face of hellogw: the HelloService port in
// SOAP 1.1, SOAP 1.2 and JSON, all answered by one gen.Hello_PortType, with
// the WSDL, an OpenAPI document, health checks and metrics beside it.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/openapi"
	"github.com/hellogw/hellogw/wsdl"
)

// Config is what a Gateway is built from.
type Config struct {
	// Service answers sayHello: the local Core or a backend.
	Service gen.Hello_PortType
	// Binding is the HelloService binding, read from the WSDL.
	Binding *wsdl.Binding
	// PublicURL is the externally visible base URL, as in
	// "https://gw.example.com"; the served WSDL's soap:address is built on it.
	PublicURL string
	// MaxBody limits request bodies, before and after decompression.
	// Zero means DefaultMaxBody.
	MaxBody int64
	// Logger receives one line per request. Nil discards.
	Logger *slog.Logger
	// Registry receives the gateway's metrics and is served at /metrics.
	// Nil means a new registry.
	Registry *prometheus.Registry
	// Ready, if set, is asked by /readyz whether dependencies are up.
	Ready func(context.Context) error
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For
	// is believed when logging and throttling by client address; none
	// when empty.
	TrustedProxies []string
	// StoreTimeout bounds what a request may wait for the OAuth store: the
	// bearer check, and every route added through Routes. Zero means
	// DefaultStoreTimeout.
	StoreTimeout time.Duration
	// Protection, if set, makes sayHello require a caller that proves who
	// it is, with a bearer access token or a legacy credential, on every
	// wire format (sayhello.require_token).
	Protection *Protection
	// ClientCerts, if set, verifies TLS client certificates against the
	// configured client CA; nil when -tls-client-ca is not given.
	ClientCerts ClientCertVerifier
	// Guard, if set, is asked about every request once it has its request
	// id, before its route runs: an *Error it returns is the answer, a
	// problem (RFC 9457) with the request id, logged and counted like any
	// other; it may set headers such as WWW-Authenticate on w first.
	Guard func(w http.ResponseWriter, r *http.Request) *Error
	// OpenAPI says what /openapi.json documents beside the sayHello
	// routes: how callers authenticate, the OAuth endpoints. The gateway
	// fills in the public URL and its own routes.
	OpenAPI openapi.Options
}

// Gateway routes HTTP requests to the codecs. It is an http.Handler.
type Gateway struct {
	engine  *gin.Engine
	svc     gen.Hello_PortType
	binding *wsdl.Binding
	frames  map[*soapVersion]responseFrame
	wsdlDoc []byte
	openAPI []byte
	maxBody int64
	log     *slog.Logger
	metrics *metrics
	readyFn func(context.Context) error
	prot    *protection // nil: sayHello is open
	timeout time.Duration
	ready   atomic.Bool
	// local is svc when it is the local Core.
	local *Core
	// trustsProxies: TrustedProxies is set, so the client address comes
	// from gin's ClientIP (see remote).
	trustsProxies bool
	parses        chan struct{} // see parseSlot
	fast          *fastReader   // the SOAP fast path
}

// New builds a gateway. It serves the binding's one operation, at the path
// of the binding's soap:address, and its JSON twin at {path}{operation}
// and /{operation}.
func New(cfg Config) (*Gateway, error) {
	if cfg.Service == nil || cfg.Binding == nil {
		return nil, errors.New("gateway: Service and Binding are required")
	}
	op, err := cfg.Binding.SoleOperation() // gen.Hello_PortType has one method
	if err != nil {
		return nil, err
	}
	loc, err := url.Parse(cfg.Binding.Location)
	if err != nil {
		return nil, fmt.Errorf("gateway: soap:address: %w", err)
	}
	port := "/" + strings.Trim(loc.Path, "/")
	public := strings.TrimRight(cfg.PublicURL, "/")
	wsdlDoc, err := wsdl.WithLocation(wsdl.Document(), public+port+"/")
	if err != nil {
		return nil, err
	}
	doc := cfg.OpenAPI
	doc.PublicURL = public
	doc.SayHelloPaths = []string{port + "/" + op.Name, "/" + op.Name}
	openAPI, err := openapi.Build(doc)
	if err != nil {
		return nil, err
	}

	g := &Gateway{
		svc:           cfg.Service,
		local:         asCore(cfg.Service),
		binding:       cfg.Binding,
		frames:        map[*soapVersion]responseFrame{soap11: newResponseFrame(soap11, op), soap12: newResponseFrame(soap12, op)},
		wsdlDoc:       wsdlDoc,
		openAPI:       openAPI,
		maxBody:       cfg.MaxBody,
		log:           cfg.Logger,
		readyFn:       cfg.Ready,
		trustsProxies: len(cfg.TrustedProxies) > 0,
		timeout:       cfg.StoreTimeout,
		parses:        make(chan struct{}, runtime.GOMAXPROCS(0)),
		fast:          newFastReader(cfg.Binding.Operations),
	}
	if g.timeout <= 0 {
		g.timeout = DefaultStoreTimeout
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBody
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Protection != nil {
		if g.prot, err = newProtection(cfg.Protection, cfg.ClientCerts, cfg.TrustedProxies); err != nil {
			return nil, err
		}
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if g.metrics, err = newMetrics(reg, g.clientLabels()); err != nil {
		return nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.RedirectTrailingSlash = false
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("gateway: trusted proxies: %w", err)
	}
	e.HandleMethodNotAllowed = true
	e.Use(g.observe, gin.CustomRecovery(g.recovered))
	if guard := cfg.Guard; guard != nil {
		e.Use(func(c *gin.Context) {
			if err := guard(c.Writer, c.Request); err != nil {
				WriteProblem(c, err)
				c.Abort()
			}
		})
	}
	e.NoRoute(func(c *gin.Context) {
		WriteProblem(c, Errorf(KindNotFound, "no such resource"))
	})
	e.NoMethod(func(c *gin.Context) {
		WriteProblem(c, Errorf(KindMethodNotAllowed, "this method is not allowed here"))
	})

	r := withHead{e}
	for _, p := range []string{port, port + "/"} {
		r.POST(p, g.handlePort)
		r.GET(p, g.handleWSDL)
	}
	r.POST(port+"/"+op.Name, g.handleJSON)
	r.POST("/"+op.Name, g.handleJSON)
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", g.openAPI) })
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", g.handleReady)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	g.engine = e
	return g, nil
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.engine.ServeHTTP(w, r) }

// DefaultStoreTimeout is StoreTimeout when the config gives none.
const DefaultStoreTimeout = 5 * time.Second

// Routes is where other components (the OAuth server) add their routes,
// behind the same request ids, logs and metrics, and with StoreTimeout as
// their requests' deadline, so that a store that stops answering (a
// database behind a network that drops packets) fails them rather than
// hanging them.
//
// A GET route added here answers HEAD too, as every route of the gateway does.
func (g *Gateway) Routes() gin.IRoutes {
	return withHead{g.engine.Group("", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), g.timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	})}
}

// withHead registers every GET route for HEAD as well: RFC 9110 §9.3.2
// makes HEAD a GET without the content, and uptime monitors use it. The
// handler runs as for GET; net/http sends its headers and drops its body.
type withHead struct{ gin.IRoutes }

// GET registers h for GET and HEAD.
func (r withHead) GET(path string, h ...gin.HandlerFunc) gin.IRoutes {
	r.IRoutes.HEAD(path, h...)
	r.IRoutes.GET(path, h...)
	return r
}

// Handle registers h for method, and for HEAD too when method is GET.
func (r withHead) Handle(method, path string, h ...gin.HandlerFunc) gin.IRoutes {
	if method == http.MethodGet {
		return r.GET(path, h...)
	}
	r.IRoutes.Handle(method, path, h...)
	return r
}

// SetReady says whether the gateway takes traffic: true once it listens,
// false when it starts draining.
func (g *Gateway) SetReady(ok bool) { g.ready.Store(ok) }

// sayHello calls the service and turns what it returns into a greeting or
// an *Error, whatever the service is. The service gets the call's facts in
// one Call (CallFrom); the caller's Authorization header travels in it
// unless the gateway consumed it itself (HTTP Basic
// with one of its clients' secrets).
func (g *Gateway) sayHello(c *gin.Context, caller authState, wire string, firstName *string) (string, *Error) {
	if g.local != nil {
		return g.local.sayHello(firstName) // it reads nothing from a context: build none
	}
	call := Call{RequestID: requestIDOf(c), Wire: wire, RemoteAddr: g.remote(c)}
	if g.prot != nil {
		call.Principal, call.Authenticated = caller.p, true
	}
	if auth := c.GetHeader("Authorization"); auth != "" && caller.p.Method != MethodBasic {
		call.authorization = auth
	}
	greeting, err := g.svc.SayHelloContext(WithCall(c.Request.Context(), call), firstName)
	if err != nil {
		e := AsError(err)
		if e.Kind == KindInternal {
			g.log.ErrorContext(c, "sayHello failed", "request_id", requestIDOf(c), "err", err)
		}
		return "", e
	}
	if greeting == nil {
		return "", Errorf(KindInternal, "the service returned no greeting")
	}
	return *greeting, nil
}

func (g *Gateway) handleReady(c *gin.Context) {
	if !g.ready.Load() {
		WriteProblem(c, Errorf(KindUnavailable, "not ready"))
		return
	}
	if g.readyFn != nil {
		if err := g.readyFn(c.Request.Context()); err != nil {
			g.log.WarnContext(c, "not ready", "err", err)
			WriteProblem(c, Errorf(KindUnavailable, "a dependency is unavailable"))
			return
		}
	}
	c.String(http.StatusOK, "ready\n")
}

// recovered turns a panic in a handler into a 500 problem, logged.
func (g *Gateway) recovered(c *gin.Context, v any) {
	g.log.ErrorContext(c, "panic", "request_id", requestIDOf(c), "panic", v)
	WriteProblem(c, Errorf(KindInternal, "internal error"))
	c.Abort()
}

func asCore(svc gen.Hello_PortType) *Core {
	c, _ := svc.(*Core)
	return c
}
