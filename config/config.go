// Package config reads hellogw's YAML configuration file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/hellogw/hellogw/oauth"
)

// Config is the configuration file's schema (SPEC "Config file").
type Config struct {
	// Greeting is the sayHello template; "{firstName}" is replaced by the
	// caller's first name.
	Greeting string `yaml:"greeting"`
	// MaxBodyBytes limits request bodies (1 MiB when zero).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Backend is who answers sayHello (SPEC "Migration").
	Backend Backend `yaml:"backend"`
	// Shadow is an optional second backend, compared in the background.
	Shadow Shadow `yaml:"shadow"`
	// Migration, if set, splits the callers between backend and a new
	// backend by weight (README "Migration control").
	Migration *Migration `yaml:"migration"`
	// SayHello holds the sayHello operation's settings.
	SayHello SayHello `yaml:"sayhello"`
	// OAuth is the authorization server's clients, users and token
	// lifetimes: the clients, users and tokens sections.
	OAuth oauth.Config `yaml:",inline"`
	// SessionKey signs the login sessions and forms of /authorize. Empty
	// means a random key per process, which is right for one node; nodes
	// behind one load balancer need the same key (at least 32 characters).
	SessionKey string `yaml:"session_key"`
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For names the client, for logs and login throttling.
	// None by default: the client is the peer address.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// SayHello is the sayhello section.
type SayHello struct {
	// RequireToken asks for an OAuth bearer access token from this
	// gateway on both wire formats. The reference tags sayHello "Skips
	// Authentication", so the default is false.
	RequireToken bool `yaml:"require_token"`
	// Scope is the scope a token, or a legacy caller's client, needs for
	// sayHello (default hello).
	Scope string `yaml:"scope"`
	// WSSEWindow is how far a WS-Security UsernameToken's Created may lie
	// from this clock, either way (default 5m).
	WSSEWindow time.Duration `yaml:"wsse_window"`
}

// minSessionKey is the shortest session_key accepted: 256 bits of a random
// printable key.
const minSessionKey = 32

// Backend kinds.
const (
	KindLocal = "local" // the built-in core, with the greeting template
	KindJSON  = "json"  // an upstream JSON API: POST {url}/sayHello
	KindSOAP  = "soap"  // an upstream SOAP 1.1 HelloService at url
)

// Backend is the backend section: who answers sayHello.
type Backend struct {
	// Kind is local (the default), json or soap.
	Kind string `yaml:"kind"`
	// URL is the upstream: for json the base URL, for soap the endpoint.
	URL string `yaml:"url"`
	// Timeout bounds each upstream call, retry included (default 2s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxConns bounds the connections open to the upstream (default 64).
	MaxConns int `yaml:"max_conns"`
	// ForwardAuthorization passes the caller's bearer token on to the
	// upstream: the same as identity.kind bearer.
	ForwardAuthorization bool `yaml:"forward_authorization"`
	// Identity is what the gateway presents to the upstream (default:
	// nothing, no credential leaves the gateway).
	Identity Identity `yaml:"identity"`
	// Breaker tunes the circuit breaker in front of the upstream.
	Breaker Breaker `yaml:"breaker"`
}

// Identity kinds: what the gateway presents to an upstream.
const (
	IdentityNone   = "none"   // nothing (the default)
	IdentityBearer = "bearer" // the caller's bearer token, or one minted for its client
	IdentityBasic  = "basic"  // HTTP Basic with username and password
	IdentityWSSE   = "wsse"   // a WS-Security UsernameToken (soap upstreams)
)

// Identity is a backend's or shadow's identity section.
type Identity struct {
	// Kind is none (the default), bearer, basic or wsse.
	Kind string `yaml:"kind"`
	// MintFor (bearer) is the client whose minted token is presented for
	// callers with no client of their own (sayHello unprotected).
	MintFor string `yaml:"mint_for"`
	// Username and Password (basic, wsse) are the credential presented.
	// PasswordEnv names an environment variable to read the password
	// from instead; Load resolves it into Password.
	Username    string `yaml:"username"`
	Password    string `yaml:"password" json:"-"`
	PasswordEnv string `yaml:"password_env"`
	// PasswordType (wsse) is text (the default, PasswordText) or digest
	// (PasswordDigest with a fresh Nonce and Created on each call).
	PasswordType string `yaml:"password_type"`
}

// String describes id without its password.
func (id Identity) String() string {
	return fmt.Sprintf("config.Identity{Kind:%q MintFor:%q Username:%q PasswordEnv:%q PasswordType:%q}", id.Kind, id.MintFor, id.Username, id.PasswordEnv, id.PasswordType)
}

// check validates the identity section of an upstream of the given kind,
// folds forward_authorization into it and reads password_env.
func (id *Identity) check(section, upstreamKind string, forwardAuthorization bool) error {
	if forwardAuthorization {
		if id.Kind != "" && id.Kind != IdentityBearer {
			return bad(section+".forward_authorization", "is identity.kind bearer; it cannot go with kind %s: drop one of them", id.Kind)
		}
		id.Kind = IdentityBearer
	}
	switch {
	case id.Kind != "" && id.Kind != IdentityNone && upstreamKind == KindLocal:
		return bad(section+".identity", "is for kind json or soap, not %s", upstreamKind)
	case id.Kind == IdentityWSSE && upstreamKind != KindSOAP:
		return bad(section+".identity.kind", "wsse is for kind soap, not %s", upstreamKind)
	case id.MintFor != "" && id.Kind != IdentityBearer:
		return bad(section+".identity.mint_for", "is for kind bearer")
	case id.PasswordType != "" && id.Kind != IdentityWSSE:
		return bad(section+".identity.password_type", "is for kind wsse")
	case id.PasswordType != "" && id.PasswordType != "text" && id.PasswordType != "digest":
		return bad(section+".identity.password_type", "must be text or digest, not %q", id.PasswordType)
	}
	if id.Kind == IdentityNone {
		id.Kind = "" // one spelling of "nothing" past Load
	}
	switch id.Kind {
	case "", IdentityBearer:
		if id.Username != "" || id.Password != "" || id.PasswordEnv != "" {
			return bad(section+".identity", "username and password are for kind basic or wsse")
		}
		return nil
	case IdentityBasic, IdentityWSSE:
	default:
		return bad(section+".identity.kind", "must be none, bearer, basic or wsse, not %q", id.Kind)
	}
	switch {
	case id.Username == "":
		return bad(section+".identity.username", "is required for kind %s", id.Kind)
	case (id.Password == "") == (id.PasswordEnv == ""):
		return bad(section+".identity", "needs one of password and password_env")
	case id.PasswordEnv != "":
		id.Password = os.Getenv(id.PasswordEnv)
		if id.Password == "" {
			return bad(section+".identity.password_env", "$%s is empty or not set", id.PasswordEnv)
		}
	}
	return nil
}

// Breaker is a circuit breaker's settings.
type Breaker struct {
	// Failures is how many upstream calls in a row must fail for the
	// breaker to open (default 5).
	Failures int `yaml:"failures"`
	// Cooldown is how long it stays open, answering 503 at once, before
	// one trial call goes through (default 10s).
	Cooldown time.Duration `yaml:"cooldown"`
}

// Shadow is the shadow section: a second backend that each answered
// request is also sent to, in the background, for comparison.
type Shadow struct {
	// Kind is "" (off, the default), local, json or soap.
	Kind string `yaml:"kind"`
	// URL is the shadow upstream, as for Backend.URL.
	URL string `yaml:"url"`
	// Timeout bounds each shadow call (default: backend.timeout).
	Timeout time.Duration `yaml:"timeout"`
	// ForwardAuthorization and Identity are as for the backend.
	ForwardAuthorization bool     `yaml:"forward_authorization"`
	Identity             Identity `yaml:"identity"`
	// MaxInFlight bounds the shadow calls running at once; beyond it a
	// request is not shadowed, only counted as dropped (default 16).
	MaxInFlight int `yaml:"max_in_flight"`
	// LogNames shows first names in shadow logs and samples (default false).
	LogNames bool `yaml:"log_names"`
	// Admin serves the latest mismatches and errors at GET /admin/shadow
	// (default false).
	Admin bool `yaml:"admin"`
	// SampleSize is how many of them it keeps (default 20).
	SampleSize int `yaml:"sample_size"`
}

// Default is the embedded default configuration: what hellogw runs with
// when no file is given.
func Default() Config {
	return Config{
		Greeting:     "Hello, {firstName}!",
		MaxBodyBytes: 1 << 20,
		Backend: Backend{
			Kind:     KindLocal,
			Timeout:  2 * time.Second,
			MaxConns: 64,
			Breaker:  Breaker{Failures: 5, Cooldown: 10 * time.Second},
		},
		Shadow:   Shadow{MaxInFlight: 16, SampleSize: 20},
		SayHello: SayHello{Scope: "hello", WSSEWindow: 5 * time.Minute},
	}
}

// Load reads the file at path over the defaults. Unknown keys are errors,
// so that a misspelt setting is not silently ignored. A problem in the file
// is an *Error naming the file, the line and the key path, and the fix.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return cfg, &Error{File: path, Msg: fmt.Sprintf("cannot read it: %v: give the path of a YAML config file (examples/ has some), or no -config for the embedded defaults", err)}
	}
	d, err := parse(path, data)
	if err != nil {
		return cfg, err
	}
	if d.root == nil {
		return cfg, nil // an empty file: the defaults
	}
	if err := d.check(d.root, reflect.TypeFor[Config](), ""); err != nil {
		return cfg, err
	}
	if err := d.root.Decode(&cfg); err != nil { // check let through only what decodes
		return cfg, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if err := cfg.validate(); err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return cfg, d.at(ke.path, ke.msg)
		}
		return cfg, &Error{File: path, Msg: err.Error()}
	}
	return cfg, nil
}

// keyError is a value that decodes but does not make sense, by key path.
type keyError struct{ path, msg string }

func (e *keyError) Error() string { return e.path + ": " + e.msg }

func bad(path, format string, args ...any) error {
	return &keyError{path: path, msg: fmt.Sprintf(format, args...)}
}

// validate checks what the types alone do not, and fills in the defaults
// that depend on other settings.
func (cfg *Config) validate() error {
	if cfg.MaxBodyBytes <= 0 {
		return bad("max_body_bytes", "must be positive: use a number of bytes such as 1048576")
	}
	if k := len(cfg.SessionKey); k > 0 && k < minSessionKey {
		return bad("session_key", "is %d characters; use at least %d (hellogw hash-secret -generate makes one)", k, minSessionKey)
	}
	for i, p := range cfg.TrustedProxies {
		// As gin's SetTrustedProxies reads them.
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return bad(fmt.Sprintf("trusted_proxies[%d]", i), "%q is neither an IP address nor a CIDR: use such as 10.0.0.1 or 10.0.0.0/8", p)
		}
	}
	if err := cfg.checkMigration(); err != nil {
		return err
	}
	if err := cfg.checkSplit(); err != nil {
		return err
	}
	return cfg.checkMinting()
}

// checkMinting checks that every client an upstream identity of kind bearer
// would mint tokens for may use the client_credentials grant, which minted
// tokens are tokens of: mint_for's, and each client with a legacy
// credential. Otherwise its callers would fail on every call.
func (cfg *Config) checkMinting() error {
	clients := cfg.OAuth.Clients
	type upstream struct {
		name string
		id   Identity
	}
	upstreams := []upstream{{"backend", cfg.Backend.Identity}, {"shadow", cfg.Shadow.Identity}}
	if cfg.Migration != nil {
		upstreams = append(upstreams, upstream{"migration.to", cfg.Migration.To.Identity})
	}
	for _, up := range upstreams {
		name, id := up.name, up.id
		if id.Kind != IdentityBearer {
			continue
		}
		if id.MintFor != "" {
			i := slices.IndexFunc(clients, func(c oauth.Client) bool { return c.ID == id.MintFor })
			if i < 0 {
				return bad(name+".identity.mint_for", "%q is not among the clients", id.MintFor)
			}
			if !slices.Contains(clients[i].GrantTypes, oauth.GrantClientCredentials) {
				return bad(fmt.Sprintf("clients[%d].grant_types", i), "must list client_credentials: %s.identity.mint_for mints tokens of %q with that grant", name, id.MintFor)
			}
			// Minted tokens carry sayhello.scope alone (migrate.NewTokenCache).
			if !slices.Contains(clients[i].Scopes, cfg.SayHello.Scope) {
				return bad(fmt.Sprintf("clients[%d].scopes", i), "must list %q: %s.identity.mint_for mints tokens of %q with the scope sayHello needs (sayhello.scope)", cfg.SayHello.Scope, name, id.MintFor)
			}
		}
		for i, c := range clients {
			if c.Legacy != (oauth.Legacy{}) && !slices.Contains(c.GrantTypes, oauth.GrantClientCredentials) {
				return bad(fmt.Sprintf("clients[%d].grant_types", i), "must list client_credentials: %s.identity mints tokens of %q with that grant for its legacy callers", name, c.ID)
			}
		}
	}
	return nil
}

// positive is the message for a setting that must be above zero.
const positive = "must be positive"

// checkMigration checks the backend and shadow sections, and gives the
// shadow the backend's timeout when it has none of its own.
func (cfg *Config) checkMigration() error {
	b, s := &cfg.Backend, &cfg.Shadow
	if b.Kind == "" {
		b.Kind = KindLocal
	}
	if err := checkUpstream("backend", b.Kind, b.URL); err != nil {
		return err
	}
	if err := b.Identity.check("backend", b.Kind, b.ForwardAuthorization); err != nil {
		return err
	}
	switch {
	case b.Timeout <= 0:
		return bad("backend.timeout", positive+": use a Go duration such as 2s")
	case b.MaxConns <= 0:
		return bad("backend.max_conns", positive)
	case b.Breaker.Failures <= 0:
		return bad("backend.breaker.failures", positive)
	case b.Breaker.Cooldown <= 0:
		return bad("backend.breaker.cooldown", positive+": use a Go duration such as 10s")
	}
	if s.Kind == "" {
		if s.URL != "" || s.Admin {
			return bad("shadow", "shadow.url and shadow.admin need a shadow.kind: local, json or soap")
		}
		return nil
	}
	if err := checkUpstream("shadow", s.Kind, s.URL); err != nil {
		return err
	}
	if err := s.Identity.check("shadow", s.Kind, s.ForwardAuthorization); err != nil {
		return err
	}
	if s.Timeout == 0 {
		s.Timeout = b.Timeout
	}
	switch {
	case s.Timeout < 0:
		return bad("shadow.timeout", positive+": use a Go duration such as 2s")
	case s.MaxInFlight <= 0:
		return bad("shadow.max_in_flight", positive)
	case s.SampleSize <= 0:
		return bad("shadow.sample_size", positive)
	}
	return nil
}

// checkUpstream checks a kind and the URL it needs: none for local, an
// absolute http or https URL for json and soap.
func checkUpstream(section, kind, rawURL string) error {
	switch kind {
	case KindLocal:
		if rawURL != "" {
			return bad(section+".url", "is for kind json or soap, not %s: remove it, or set the kind", kind)
		}
		return nil
	case KindJSON, KindSOAP:
	default:
		return bad(section+".kind", "must be local, json or soap, not %q", kind)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad(section+".url", "must be an absolute http or https URL for kind %s, not %q", kind, rawURL)
	}
	return nil
}
