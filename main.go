// Command hellogw is a gateway that serves the HelloService to legacy SOAP
// clients and modern JSON clients side by side.
//
// Usage:
//
//	hellogw [-addr host:port] [-public-url URL] [-config file.yaml] [-log-format text|json]
//	        [-tls-cert cert.pem -tls-key key.pem [-tls-client-ca ca.pem]]
//
// Every flag can also be given as an environment variable; see -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/flatlog"
	"github.com/hellogw/hellogw/internal/sqldb"
	"github.com/hellogw/hellogw/migrate"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/wsdl"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// defaultGCPercent is the garbage collector's target unless GOGC says
// otherwise: the heap of a busy gateway is a few MiB of short-lived
// request garbage, and at Go's default of 100 it is collected so often
// that the collector costs 4–6 % of each request's CPU (measured under
// wrk, README "Performance"), and its pauses reach the p99. At 300 the
// peak RSS stays far below the 64 MiB goal.
const defaultGCPercent = 300

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	m := NewMain(os.Stderr)
	os.Exit(m.Main(ctx, os.Args[1:]))
}

// Main parses args and runs; it returns the exit code.
func (m *Main) Main(ctx context.Context, args []string) int {
	defer m.logOut.Close()
	if len(args) > 0 && args[0] == "hash-secret" {
		if err := m.hashSecret(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(m.logOut, "hellogw hash-secret:", err)
			return 2
		}
		return 0
	}
	if len(args) > 0 && args[0] == "perform" {
		if err := m.perform(ctx, args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if ctx.Err() != nil {
				fmt.Fprintln(m.logOut, "hellogw perform: interrupted")
				return 130 // as a shell reports a command ended by SIGINT
			}
			fmt.Fprintln(m.logOut, "hellogw perform:", err)
			return 1
		}
		return 0
	}
	if len(args) > 0 && args[0] == "migrate" {
		if err := m.migrateCmd(ctx, args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(m.logOut, "hellogw migrate:", err)
			return 1
		}
		return 0
	}
	if err := m.ParseFlags(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(m.logOut, "hellogw:", err)
		return 2
	}
	if err := m.Run(ctx); err != nil {
		if !m.serving.Load() {
			// Before the server runs, for a person to read: one plain line
			// saying what is wrong and the fix.
			fmt.Fprintln(m.logOut, "hellogw:", err)
			return 1
		}
		m.Logger.Error("exiting", "err", err)
		return 1
	}
	return 0
}

// Main is the program: its settings, and the server it runs.
type Main struct {
	Addr       string
	PublicURL  string
	ConfigPath string
	LogFormat  string
	Store      string
	// AdminAddr, if set, serves the operator routes (admin.go) without a
	// token on a listener of their own.
	AdminAddr string
	// AdminHosts are host names, separated by commas, that the admin
	// listener answers to besides IP addresses, localhost and AdminAddr's
	// own host (admin.go: adminHosts).
	AdminHosts string
	adminHosts adminHosts
	// Pprof serves Go's runtime profiles (net/http/pprof) on AdminAddr.
	Pprof bool
	// TLSCert and TLSKey, both or neither, make -addr serve HTTPS;
	// TLSClientCA asks callers for a certificate and checks it against
	// this bundle.
	TLSCert, TLSKey, TLSClientCA string

	// ShutdownTimeout bounds how long in-flight requests may drain.
	ShutdownTimeout time.Duration

	// fromEnv holds the flags whose value came from their environment
	// variable, so that an error names what the user actually set.
	fromEnv map[string]string
	// serving is set once the server listens: errors before it are
	// start-up errors, reported as one plain line.
	serving atomic.Bool

	Logger *slog.Logger
	logOut *logWriter
	// Stdin and Stdout serve the hash-secret subcommand.
	Stdin  io.Reader
	Stdout io.Writer
}

// NewMain returns a Main with the defaults, logging to stderr.
func NewMain(stderr io.Writer) *Main {
	out := newLogWriter(stderr, 100*time.Millisecond)
	return &Main{
		Addr:            "127.0.0.1:8080",
		LogFormat:       "text",
		Store:           "./data/hellogw.db",
		ShutdownTimeout: 10 * time.Second,
		Logger:          slog.New(flatlog.NewTextHandler(out, nil)),
		logOut:          out,
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
	}
}

// ParseFlags reads the flags, each defaulting to its environment variable.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("hellogw", flag.ContinueOnError)
	fs.StringVar(&m.Addr, "addr", env("HELLOGW_ADDR", m.Addr), "listen address [HELLOGW_ADDR]")
	fs.StringVar(&m.PublicURL, "public-url", env("HELLOGW_PUBLIC_URL", ""), "externally visible base URL, as in the WSDL's soap:address (default: from -addr) [HELLOGW_PUBLIC_URL]")
	fs.StringVar(&m.ConfigPath, "config", env("HELLOGW_CONFIG", ""), "YAML config file (default: the embedded defaults) [HELLOGW_CONFIG]")
	fs.StringVar(&m.Store, "store", env("HELLOGW_STORE", m.Store), "the OAuth state, and with a migration section its weight, history and report: an SQLite file path, or a postgres:// URL shared by several nodes [HELLOGW_STORE]")
	fs.StringVar(&m.TLSCert, "tls-cert", env("HELLOGW_TLS_CERT", ""), "PEM certificate chain: serve HTTPS (HTTP/2 offered) on -addr; re-read on SIGHUP [HELLOGW_TLS_CERT]")
	fs.StringVar(&m.TLSKey, "tls-key", env("HELLOGW_TLS_KEY", ""), "PEM private key of -tls-cert; re-read on SIGHUP [HELLOGW_TLS_KEY]")
	fs.StringVar(&m.TLSClientCA, "tls-client-ca", env("HELLOGW_TLS_CLIENT_CA", ""), "PEM CA bundle: ask callers for a client certificate (not required) and verify it against these; re-read on SIGHUP [HELLOGW_TLS_CLIENT_CA]")
	fs.StringVar(&m.AdminAddr, "admin-addr", env("HELLOGW_ADMIN_ADDR", ""), "serve /metrics and /admin/* without a token on this address too, such as 127.0.0.1:9090 (default: none; on -addr they need an admin-scope bearer token) [HELLOGW_ADMIN_ADDR]")
	fs.StringVar(&m.AdminHosts, "admin-hosts", env("HELLOGW_ADMIN_HOSTS", ""), "host names, separated by commas, that -admin-addr answers to besides IP addresses, localhost and its own host, such as the name Prometheus scrapes it by; other Host headers are refused (DNS rebinding) [HELLOGW_ADMIN_HOSTS]")
	fs.BoolVar(&m.Pprof, "pprof", env("HELLOGW_PPROF", "") == "true", "serve Go's runtime profiles (net/http/pprof) under /debug/pprof/ on -admin-addr, which it needs: for profiling under load (README, Performance) [HELLOGW_PPROF=true]")
	fs.StringVar(&m.LogFormat, "log-format", env("HELLOGW_LOG_FORMAT", m.LogFormat), "log format: text or json [HELLOGW_LOG_FORMAT]")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (the subcommands are hash-secret, perform and migrate; see -h)", fs.Arg(0))
	}
	m.fromEnv = map[string]string{}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if key := envKey(f.Name); !set[f.Name] && env(key, "") != "" {
			m.fromEnv[f.Name] = key
		}
	})
	if err := checkAddr(m.setting("addr"), m.Addr); err != nil {
		return err
	}
	if m.AdminAddr != "" {
		if err := checkAddr(m.setting("admin-addr"), m.AdminAddr); err != nil {
			return err
		}
		var err error
		if m.adminHosts, err = parseAdminHosts(m.setting("admin-hosts"), m.AdminHosts, m.AdminAddr); err != nil {
			return err
		}
	} else if m.AdminHosts != "" {
		return errors.New("-admin-hosts needs -admin-addr: they are the admin listener's names")
	}
	if m.PublicURL != "" {
		if err := checkPublicURL(m.setting("public-url"), m.PublicURL); err != nil {
			return err
		}
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if m.Pprof && m.AdminAddr == "" {
		return errors.New("-pprof needs -admin-addr: the profiles are served there only")
	}
	if m.TLSClientCA != "" && m.TLSCert == "" {
		return errors.New("-tls-client-ca needs -tls-cert and -tls-key")
	}
	switch m.LogFormat {
	case "text":
	case "json":
		m.Logger = slog.New(flatlog.NewJSONSecondsHandler(m.logOut, nil)) // durations in seconds, as Prometheus has them
	default:
		return fmt.Errorf("%s must be text or json, not %q", m.setting("log-format"), m.LogFormat)
	}
	return nil
}

// parse parses args with fs. The usage that -h asks for goes to standard
// output, so that it can be paged; after a mistake it goes to standard
// error, and the caller prints the mistake below it.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // flag's own report of the mistake: the caller's is enough
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(m.Stdout)
		fs.Usage()
	case err != nil:
		fs.SetOutput(m.logOut)
		fs.Usage()
	}
	fs.SetOutput(m.logOut)
	return err
}

// usage heads -h: the subcommands, then the flags.
const usage = `usage:
  hellogw [flags]                           serve the gateway
  hellogw hash-secret [-generate]           print a hash for secret_hash or password_hash (secret on stdin)
  hellogw perform authorization-code [-h]   play an OAuth client against a running gateway
  hellogw migrate status|set|pause|resume|rollback|ramp [-h]   read and change a running gateway's migration

flags:
`

// envKey is the environment variable of a flag: HELLOGW_ and the flag's
// name in upper case, - as _.
func envKey(flagName string) string {
	return "HELLOGW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setting is how an error names a flag: "-addr", or "HELLOGW_ADDR" when
// the value came from the environment.
func (m *Main) setting(flagName string) string {
	if key, ok := m.fromEnv[flagName]; ok {
		return key
	}
	return "-" + flagName
}

// assign shows setting = value as the user would write it: -addr VALUE,
// or HELLOGW_ADDR=VALUE.
func assign(setting, value string) string {
	if strings.HasPrefix(setting, "-") {
		return setting + " " + value
	}
	return setting + "=" + value
}

// checkAddr checks that an address setting (-addr, -admin-addr) is
// host:port with a port from 0 to 65535 and a host that is empty, an IP
// address or a name, and says how to write it when it is not: a bare port
// is the usual slip.
func checkAddr(setting, addr string) error {
	fail := func(why string) error {
		return fmt.Errorf("%s %q: %s: use host:port such as %s (or :PORT for every interface)", setting, addr, why, assign(setting, "127.0.0.1:8080"))
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := strconv.ParseUint(addr, 10, 16); perr == nil {
			return fmt.Errorf("%s %q: a port alone is not an address: use host:port such as %s (or :%s for every interface)", setting, addr, assign(setting, "127.0.0.1:"+addr), addr)
		}
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return fail(ae.Err)
		}
		return fail(err.Error())
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fail(fmt.Sprintf("port %q is not a number from 0 to 65535", port))
	}
	if _, err := netip.ParseAddr(host); err != nil && strings.Trim(host, "0123456789.") == "" && host != "" {
		return fail(fmt.Sprintf("%q is not an IP address", host))
	}
	return nil
}

// checkPublicURL checks that -public-url is an absolute http or https URL:
// it goes into the WSDL's soap:address and the OAuth issuer as it is.
func checkPublicURL(setting, v string) error {
	u, err := url.Parse(v)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil {
		return nil
	}
	return fmt.Errorf("%s %q: not an absolute http or https URL: give the base URL clients reach the gateway at, such as %s", setting, v, assign(setting, "https://gw.example.net"))
}

// listenError says why listening on an address setting failed and what to
// do about it: another program on the port is the usual cause.
func listenError(setting, addr string, err error) error {
	var hint string
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		next := "8081"
		if _, port, _ := net.SplitHostPort(addr); port != "" {
			if n, perr := strconv.Atoi(port); perr == nil && n > 0 && n < 65535 {
				next = strconv.Itoa(n + 1)
			}
		}
		hint = "another program (another hellogw?) listens there: stop it, or choose a free port, such as " + assign(setting, "127.0.0.1:"+next)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		hint = "no network interface of this machine has that address: use 127.0.0.1, or :PORT for every interface"
	case errors.Is(err, syscall.EACCES):
		hint = "ports below 1024 need privileges: choose a port from 1024 up"
	default:
		hint = "use host:port such as " + assign(setting, "127.0.0.1:8080")
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	return fmt.Errorf("%s %q: cannot listen: %v: %s", setting, addr, err, hint)
}

// Run serves until ctx is done, then drains in-flight requests.
func (m *Main) Run(ctx context.Context) error {
	cfg, err := config.Load(m.ConfigPath)
	if err != nil {
		return err
	}
	core, err := gateway.NewCore(cfg.Greeting)
	if err != nil {
		return err
	}
	binding, err := wsdl.Parse(wsdl.Document())
	if err != nil {
		return err
	}

	var tlsf *tlsFiles
	scheme := "http"
	if m.TLSCert != "" {
		if tlsf, err = loadTLS(m.TLSCert, m.TLSKey, m.TLSClientCA); err != nil {
			return err
		}
		scheme = "https"
	}
	// Catch SIGHUP from here on, TLS or not: operators and logrotate send
	// it expecting a reload, and Go's default for it is to exit.
	stopReload := m.reloadOnHangup(tlsf)
	defer stopReload()
	// Listen before building the public URL, so that -addr :0 works.
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return listenError(m.setting("addr"), m.Addr, err)
	}
	defer ln.Close()
	public := m.PublicURL
	if public == "" {
		public = publicURLFor(scheme, ln.Addr())
		if host, _, _ := net.SplitHostPort(ln.Addr().String()); net.ParseIP(host).IsUnspecified() {
			m.Logger.Warn("listening on every interface, but the WSDL's soap:address and the OAuth issuer say localhost, which other machines cannot reach: set -public-url to the address clients use",
				"addr", ln.Addr().String(), "public_url", public)
		}
	}

	reg := prometheus.NewRegistry()
	db, err := openStore(ctx, m.Store)
	if err != nil {
		return err
	}
	defer db.Close() // after the HTTP server has stopped
	oauthCfg := cfg.OAuth
	oauthCfg.Issuer = strings.TrimRight(public, "/")
	oauthCfg.SessionKey = []byte(cfg.SessionKey)
	authz, err := oauth.NewServer(oauthCfg, db, m.Logger, reg)
	if err != nil {
		return config.Explain(m.ConfigPath, err)
	}
	if _, err := authz.RevokeRemovedGrants(ctx); err != nil {
		return err
	}
	svc, shadow, mig, err := m.service(ctx, cfg, binding, core, reg, migrate.NewTokenCache(authz, cfg.SayHello.Scope), db.SQL())
	if err != nil {
		return err
	}
	var prot *gateway.Protection
	if cfg.SayHello.RequireToken && len(cfg.OAuth.Clients) == 0 {
		m.Logger.Warn("sayhello.require_token is on but the config registers no clients, so no one can get a token: add a client under clients (README, Walkthrough; examples/oauth.yaml has one)",
			"config", configName(m.ConfigPath))
	}
	if cfg.SayHello.RequireToken {
		if prot, err = protection(cfg, authz, db, m.TLSClientCA != ""); err != nil {
			return &config.Error{File: configName(m.ConfigPath), Msg: err.Error()}
		}
	}
	var clientCerts gateway.ClientCertVerifier
	if m.TLSClientCA != "" {
		clientCerts = tlsf
	}
	gw, err := gateway.New(gateway.Config{
		Service:        svc,
		Binding:        binding,
		PublicURL:      public,
		MaxBody:        cfg.MaxBodyBytes,
		Logger:         m.Logger,
		Registry:       reg,
		Ready:          db.Ping,
		TrustedProxies: cfg.TrustedProxies,
		Protection:     prot,
		ClientCerts:    clientCerts,
		OpenAPI:        apiDoc(cfg, public),
		// The operator routes: on -addr behind an admin-scope token, on
		// -admin-addr without one (admin.go).
		Guard: adminGuard(authz.AccessToken, m.Logger),
	})
	if err != nil {
		return err
	}
	authz.Register(gw.Routes())
	sweepCtx, stopSweeper := context.WithCancel(context.Background())
	defer stopSweeper()
	go authz.RunSweeper(sweepCtx, 10*time.Minute)
	if mig != nil {
		migrate.RegisterControl(gw.Routes(), mig.ctrl)
		migrate.NewReporter(mig.ctrl, mig.rec, m.Logger).Register(gw.Routes())
		defer mig.run()() // after the shadow's last comparisons
	} else {
		migrate.RegisterAbsent(gw.Routes())
	}
	if shadow != nil {
		defer shadow.Wait() // after the drain: let the last comparisons finish
		if cfg.Shadow.Admin {
			gw.Routes().GET("/admin/shadow", shadow.ServeAdmin)
		}
	}

	// The operator routes: on -addr behind an admin-scope token, on
	// -admin-addr without one (admin.go).
	adminAddr, stopAdmin, err := m.startAdmin(gw)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	if tlsf != nil {
		srv.TLSConfig = tlsf.serverConfig()
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	m.serving.Store(true)
	gw.SetReady(true)
	m.Logger.Info("listening", "addr", ln.Addr().String(), "public_url", public, "tls", tlsf != nil, "admin_addr", adminAddr, "version", version)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	gw.SetReady(false)
	m.Logger.Info("shutting down", "timeout", m.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
	defer cancel()
	if err := errors.Join(srv.Shutdown(sctx), stopAdmin(sctx)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}

// service builds what answers sayHello from the backend, migration and
// shadow sections: the core or an upstream; with a migration, a Split of
// it and migration.to, whose weight mig keeps; with a shadow, a Shadow of
// that and the shadow backend. Upstreams that present minted bearer tokens
// share tokens.
func (m *Main) service(ctx context.Context, cfg config.Config, binding *wsdl.Binding, core *gateway.Core, reg prometheus.Registerer, tokens *migrate.TokenCache, db *sqldb.DB) (svc gen.Hello_PortType, shadow *migrate.Shadow, mig *migration, err error) {
	op, err := binding.SoleOperation()
	if err != nil {
		return nil, nil, nil, err
	}
	b, s := cfg.Backend, cfg.Shadow
	upstream := func(url string, timeout time.Duration, maxConns int, id config.Identity, breaker config.Breaker) migrate.UpstreamConfig {
		return migrate.UpstreamConfig{
			URL: url, Timeout: timeout, MaxConns: maxConns,
			Identity: migrate.UpstreamIdentity{
				Kind: id.Kind, Tokens: tokens, MintFor: id.MintFor,
				Username: id.Username, Password: id.Password, Digest: id.PasswordType == "digest",
			},
			BreakerFailures: breaker.Failures, BreakerCooldown: breaker.Cooldown, Logger: m.Logger, Registerer: reg,
		}
	}
	svc, err = backend(op, core, b.Kind, upstream(b.URL, b.Timeout, b.MaxConns, b.Identity, b.Breaker))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("backend: %w", err)
	}
	if cfg.Migration != nil {
		to := cfg.Migration.To
		next, err := backend(op, core, to.Kind, upstream(to.URL, to.Timeout, to.MaxConns, to.Identity, to.Breaker))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("migration.to: %w", err)
		}
		if mig, err = m.newMigration(ctx, cfg.Migration, cfg.Backend, db, svc, next, reg); err != nil {
			return nil, nil, nil, fmt.Errorf("migration: %w", err)
		}
		svc = mig.ctrl.Split()
	}
	if s.Kind == "" {
		return svc, nil, mig, nil
	}
	// A shadow that is one of the split's backends never asks the backend
	// that answered: it compares the side that did not (README "Migration
	// control").
	otherSide := cfg.Migration != nil && (sameUpstream(s.Kind, s.URL, cfg.Migration.To.Kind, cfg.Migration.To.URL) ||
		sameUpstream(s.Kind, s.URL, b.Kind, b.URL))
	var secondary gen.Hello_PortType
	var sides *migrate.OtherSide
	if otherSide {
		// The shadow's own clients of both sides, as the split's are
		// configured: its calls must not open their breakers.
		to := cfg.Migration.To
		sides = &migrate.OtherSide{}
		if sides.Current, err = backend(op, core, b.Kind, upstream(b.URL, b.Timeout, s.MaxInFlight, b.Identity, b.Breaker)); err != nil {
			return nil, nil, nil, fmt.Errorf("shadow: %w", err)
		}
		if sides.Next, err = backend(op, core, to.Kind, upstream(to.URL, to.Timeout, s.MaxInFlight, to.Identity, to.Breaker)); err != nil {
			return nil, nil, nil, fmt.Errorf("shadow: %w", err)
		}
	} else if secondary, err = backend(op, core, s.Kind, upstream(s.URL, s.Timeout, s.MaxInFlight, s.Identity, b.Breaker)); err != nil {
		return nil, nil, nil, fmt.Errorf("shadow: %w", err)
	}
	shadow, err = migrate.NewShadow(svc, secondary, migrate.ShadowConfig{
		MaxInFlight: s.MaxInFlight, Samples: s.SampleSize, LogNames: s.LogNames, Logger: m.Logger, Registerer: reg,
		Observers: mig.shadowObservers(), OtherSide: sides,
	})
	return shadow, shadow, mig, err
}

// sameUpstream reports whether two backend sections name one service: the
// same kind, and for an upstream the same URL once both are put in one
// form (upstreamIdentity).
func sameUpstream(kind1, url1, kind2, url2 string) bool {
	return kind1 == kind2 && (kind1 == config.KindLocal || upstreamIdentity(url1) == upstreamIdentity(url2))
}

// upstreamIdentity is an upstream URL in one form for comparing: scheme and
// host in lower case, the scheme's default port written out, the names of
// the usual loopback address (localhost, 127.0.0.1, ::1) as one, and the
// path without a trailing slash. The user information stays: another user
// may be another service behind one address, and so may another address of
// 127.0.0.0/8. config has checked that the URL parses.
func upstreamIdentity(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.TrimSuffix(raw, "/")
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	switch host {
	case "localhost", "127.0.0.1", "::1":
		host = "localhost"
	}
	return scheme + "://" + u.User.String() + "@" + net.JoinHostPort(host, port) + strings.TrimSuffix(u.EscapedPath(), "/") + "?" + u.RawQuery
}

// backend returns the backend of the given kind (config.KindLocal, KindJSON
// or KindSOAP).
func backend(op wsdl.Operation, core *gateway.Core, kind string, up migrate.UpstreamConfig) (gen.Hello_PortType, error) {
	switch kind {
	case config.KindJSON:
		return migrate.NewJSONBackend(op, up)
	case config.KindSOAP:
		return migrate.NewSOAPBackend(op, up)
	}
	return core, nil
}

// reloadOnHangup re-reads the TLS files on each SIGHUP until the returned
// func is called; without TLS files (f nil) it logs that there is nothing
// to reload, rather than letting the signal end the process.
func (m *Main) reloadOnHangup(f *tlsFiles) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if f == nil {
					m.Logger.Info("SIGHUP: nothing to reload: only the TLS files of -tls-cert, -tls-key and -tls-client-ca are re-read on SIGHUP; a changed config file needs a restart")
				} else if err := f.reload(); err != nil {
					m.Logger.Error("tls reload failed; still serving the files loaded before", "err", err)
				} else {
					m.Logger.Info("tls reloaded", "cert", f.cert, "client_ca", f.clientCA)
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// publicURLFor derives a base URL from the scheme and the listen address;
// a wildcard host becomes localhost.
func publicURLFor(scheme string, addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// configName names the config file in an error: the path, or the
// embedded defaults.
func configName(path string) string {
	if path == "" {
		return "(embedded defaults)"
	}
	return path
}

func env(key, fallback string) string {
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return v
	}
	return fallback
}
