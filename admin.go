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

// adminGuard serves the public port: the operator routes need a bearer
// token (RFC 6750 §2.1) whose scope includes AdminScope; everything else
// goes to next as it is. Prometheus gets such a token itself with its
// scrape_config's oauth2 section (the client_credentials grant).
type adminGuard struct {
	next   http.Handler
	tokens func(ctx context.Context, token string) (*oauth.Token, error)
	log    *slog.Logger
}

func (g adminGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isAdminPath(r.URL.Path) {
		g.next.ServeHTTP(w, r)
		return
	}
	challenge := `Bearer realm="hellogw admin", scope="` + AdminScope + `"`
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 §3.1: no credentials, no error code.
		w.Header().Set("WWW-Authenticate", challenge)
		adminError(w, http.StatusUnauthorized, "This route needs a bearer token with the admin scope.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	rec, err := g.tokens(ctx, strings.TrimSpace(token))
	switch {
	case errors.Is(err, oauth.ErrInvalidToken):
		w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
		adminError(w, http.StatusUnauthorized, "The bearer token is unknown, expired or revoked.")
	case err != nil:
		g.log.Error("admin token check", "err", err)
		adminError(w, http.StatusServiceUnavailable, "The token store cannot be reached.")
	case !slices.Contains(rec.Scopes, AdminScope):
		w.Header().Set("WWW-Authenticate", challenge+`, error="insufficient_scope"`)
		adminError(w, http.StatusForbidden, "The bearer token does not have the admin scope.")
	default:
		g.next.ServeHTTP(w, r)
	}
}

// adminError writes an RFC 9457 problem.
func adminError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":%q}`+"\n", http.StatusText(status), status, detail)
}

// adminOnly serves the admin listener: the operator routes and the health
// checks of next, with no token (the listener's address is the protection),
// and 404 for the rest.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAdminPath(r.URL.Path) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
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
