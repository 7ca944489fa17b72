package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/oauth"
)

// AdminScope is the scope a bearer token needs for the operator routes on
// the public port.
const AdminScope = "admin"

// isAdminPath reports whether path is an operator route: the metrics and
// everything under /admin/.
func isAdminPath(path string) bool {
	return path == "/metrics" || strings.HasPrefix(path, "/admin/")
}

// adminGuard is the gateway's Guard (gateway.Config): on the public port
// the operator routes need a bearer token (RFC 6750 §2.1) whose scope
// includes AdminScope; everything else passes. A request through the admin
// listener needs no token: it gets the answer the listener's checks gave it
// (adminHandler). Prometheus gets such a token itself with its
// scrape_config's oauth2 section (the client_credentials grant). Being a
// Guard, a refusal is a problem like the gateway's others, with the request
// id, logged and counted.
func adminGuard(tokens func(ctx context.Context, token string) (*oauth.Token, error), log *slog.Logger) func(w http.ResponseWriter, r *http.Request) *gateway.Error {
	return func(w http.ResponseWriter, r *http.Request) *gateway.Error {
		if a, ok := r.Context().Value(adminListener{}).(adminRequest); ok {
			return a.refusal
		}
		if !isAdminPath(r.URL.Path) {
			return nil
		}
		// A browser does not send a bearer token by itself, so no page can
		// forge a change here; refused all the same, as on the admin
		// listener, which costs nothing.
		if err := crossOrigin.Check(r); err != nil {
			return crossOriginRefusal
		}
		challenge := `Bearer realm="hellogw admin", scope="` + AdminScope + `"`
		scheme, token := gateway.SplitAuthorization(r.Header.Get("Authorization"))
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			// RFC 6750 §3.1: no credentials, no error code.
			w.Header().Set("WWW-Authenticate", challenge)
			return &gateway.Error{Kind: gateway.KindUnauthorized, Message: "this route needs a bearer token with the admin scope"}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rec, err := tokens(ctx, token)
		switch {
		case errors.Is(err, oauth.ErrInvalidToken):
			w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
			return &gateway.Error{Kind: gateway.KindUnauthorized, Message: "the access token is not valid: it is unknown, expired or revoked"}
		case err != nil:
			log.ErrorContext(ctx, "admin token check", "request_id", w.Header().Get("X-Request-Id"), "err", err)
			return &gateway.Error{Kind: gateway.KindUnavailable, Message: "credentials cannot be checked right now"}
		case !slices.Contains(rec.Scopes, AdminScope):
			w.Header().Set("WWW-Authenticate", challenge+`, error="insufficient_scope"`)
			return &gateway.Error{Kind: gateway.KindForbidden, Message: "the access token does not have the admin scope"}
		}
		return nil
	}
}

// crossOrigin refuses the requests of unsafe methods (POST, PUT, …) that
// a browser sends from a page of another origin (Sec-Fetch-Site, else
// Origin against Host): the cross-site request forgery any web page could
// otherwise send to an admin route. Clients that are not browsers, such
// as `hellogw migrate`, curl and Prometheus, send neither header and pass.
var crossOrigin = http.NewCrossOriginProtection()

// crossOriginRefusal answers a request crossOrigin refuses.
var crossOriginRefusal = &gateway.Error{Kind: gateway.KindForbidden,
	Message: "a browser's request from another site: the admin routes take changes from clients that are not browsers, such as hellogw migrate"}

// adminListener is the context key of a request that came through the
// admin listener; its value is an adminRequest.
type adminListener struct{}

// adminRequest is what the admin listener's checks (adminHandler) decided
// about a request: nil to serve it without a token, or the refusal to
// answer.
type adminRequest struct{ refusal *gateway.Error }

// adminHandler serves the admin listener: the operator routes and the
// health checks of gw, and the profiles of pprof (nil without -pprof), with
// no token (the listener's address is the protection), and 404 for the
// rest. Since that protection does not stop a browser on the operator's
// machine, which reaches loopback, it first refuses
//   - a Host that does not name the listener (hosts.allows): a page whose
//     name an attacker points at this address (DNS rebinding) could read
//     the answers, being of the same origin as far as the browser knows;
//   - a cross-origin request of an unsafe method (crossOrigin).
//
// Every refusal is answered by gw, whose Guard returns it: a problem with
// the request id, logged and counted like the gateway's other refusals.
func adminHandler(gw, pprof http.Handler, hosts adminHosts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var refusal *gateway.Error
		switch {
		case !hosts.allows(r.Host):
			refusal = &gateway.Error{Kind: gateway.KindMisdirected,
				Message: "the admin listener answers requests for its IP address, localhost, or the names of -admin-hosts, not for " + strconv.Quote(r.Host)}
		case crossOrigin.Check(r) != nil:
			refusal = crossOriginRefusal
		case pprof != nil && strings.HasPrefix(r.URL.Path, "/debug/pprof/"):
			pprof.ServeHTTP(w, r)
			return
		case !isAdminPath(r.URL.Path) && r.URL.Path != "/healthz" && r.URL.Path != "/readyz":
			refusal = &gateway.Error{Kind: gateway.KindNotFound, Message: "no such resource on the admin listener"}
		}
		gw.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminListener{}, adminRequest{refusal})))
	})
}

// adminHosts are the names, besides IP addresses and localhost, that the
// admin listener answers to: -admin-addr's host when it is a name, and
// -admin-hosts. Lower case, without a trailing dot.
type adminHosts []string

// allows reports whether hostport, a request's Host (RFC 9110 §7.2), names
// the admin listener: empty (an HTTP/1.0 client, never a browser), any IP
// address (a page of an attacker's cannot have an IP address of this
// machine as its origin), localhost or a name under .localhost, which
// browsers resolve to loopback themselves (RFC 6761 §6.3), or one of h.
// The port does not matter: a port-forward or a container maps it.
func (h adminHosts) allows(hostport string) bool {
	host := hostport
	if name, _, err := net.SplitHostPort(hostport); err == nil {
		host = name
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return true
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || slices.Contains(h, host)
}

// parseAdminHosts reads -admin-hosts (names, separated by commas) and
// adds the host of -admin-addr when it is a name.
func parseAdminHosts(setting, list, adminAddr string) (adminHosts, error) {
	var hosts adminHosts
	if host, _, err := net.SplitHostPort(adminAddr); err == nil && host != "" {
		hosts = append(hosts, strings.TrimSuffix(strings.ToLower(host), "."))
	}
	if list == "" {
		return hosts, nil
	}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
		if name == "" || strings.ContainsAny(name, ":/[] ") {
			return nil, fmt.Errorf("%s %q: give host names separated by commas, without ports, such as %s", setting, list, assign(setting, "hellogw,hellogw.monitoring.svc"))
		}
		hosts = append(hosts, name)
	}
	return hosts, nil
}

// startAdmin serves the operator routes of h on -admin-addr, if it is set,
// and returns the address it listens on ("" without one) and a func that
// stops it, draining in-flight requests until ctx ends. A listener that is
// not loopback is served with a warning: /metrics and /admin/* on it need no
// token.
func (m *Main) startAdmin(h http.Handler) (addr string, stop func(ctx context.Context) error, err error) {
	if m.AdminAddr == "" {
		return "", func(context.Context) error { return nil }, nil
	}
	ln, err := net.Listen("tcp", m.AdminAddr)
	if err != nil {
		return "", nil, listenError(m.setting("admin-addr"), m.AdminAddr, err)
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		m.Logger.Warn("the admin listener is not on a loopback address: /metrics and /admin/* answer anyone who reaches it, without a token; firewall it or use 127.0.0.1",
			"admin_addr", ln.Addr().String())
	}
	var prof http.Handler
	if m.Pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles under it
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		prof = mux
	}
	handler := adminHandler(h, prof, m.adminHosts)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return ln.Addr().String(), func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("admin shutdown: %w", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}
