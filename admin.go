package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
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
// includes AdminScope; everything else passes, and so does every request
// through the admin listener (adminOnly). Prometheus gets such a token
// itself with its scrape_config's oauth2 section (the client_credentials
// grant). Being a Guard, a refusal is a problem like the gateway's others,
// with the request id, logged and counted.
func adminGuard(tokens func(ctx context.Context, token string) (*oauth.Token, error), log *slog.Logger) func(w http.ResponseWriter, r *http.Request) *gateway.Error {
	return func(w http.ResponseWriter, r *http.Request) *gateway.Error {
		if !isAdminPath(r.URL.Path) || r.Context().Value(adminListener{}) != nil {
			return nil
		}
		challenge := `Bearer realm="hellogw admin", scope="` + AdminScope + `"`
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			// RFC 6750 §3.1: no credentials, no error code.
			w.Header().Set("WWW-Authenticate", challenge)
			return &gateway.Error{Kind: gateway.KindUnauthorized, Message: "this route needs a bearer token with the admin scope"}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rec, err := tokens(ctx, strings.TrimSpace(token))
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

// adminListener marks, in a request's context, a request that came through
// the admin listener, which needs no token.
type adminListener struct{}

// adminOnly serves the admin listener: the operator routes and the health
// checks of next, with no token (the listener's address is the protection),
// and 404 for the rest.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAdminPath(r.URL.Path) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), adminListener{}, true)))
			return
		}
		http.NotFound(w, r)
	})
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
	handler := adminOnly(h)
	if m.Pprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles under it
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/", handler)
		handler = mux
	}
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
