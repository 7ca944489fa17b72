package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Default lifetimes, used when a TTL in TokenTTLs is zero.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 720 * time.Hour
	// DefaultCodeTTL follows RFC 6749 §4.1.2: "A maximum authorization code
	// lifetime of 10 minutes is RECOMMENDED".
	DefaultCodeTTL = 5 * time.Minute
)

// Config is the OAuth part of the gateway's config file plus what main knows.
// Plain secrets and passwords in it are hashed by NewServer, which keeps only
// the hashes; drop the Config once the Server is built.
type Config struct {
	// Issuer is the public base URL of the gateway (RFC 8414 §2 "issuer");
	// a trailing slash is dropped. Empty means: derived from each request's
	// Host, which only suits tests and a gateway nobody reaches by proxy.
	Issuer  string    `yaml:"-"`
	Clients []Client  `yaml:"clients"`
	Users   []User    `yaml:"users"`
	Tokens  TokenTTLs `yaml:"tokens"`
	// SessionKey signs login session cookies, CSRF tokens and consent forms.
	// Empty means 32 random bytes at start-up, which is right for one node;
	// nodes behind one load balancer without sticky sessions need a shared key.
	SessionKey []byte `yaml:"-" json:"-"`
	// Throttle sets the budgets of authentication attempts; zero fields
	// take the defaults in Throttle's documentation.
	Throttle Throttle `yaml:"throttle"`
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time `yaml:"-" json:"-"`
}

// Client is an OAuth client from the config file (RFC 6749 §2). Exactly one of
// Secret and SecretHash is set.
type Client struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Secret is a plain client secret; NewServer hashes it and forgets it.
	// It is never printed, logged or marshalled to JSON.
	Secret string `yaml:"secret" json:"-"`
	// SecretHash is a bcrypt or argon2id (PHC string) hash of the secret.
	SecretHash string `yaml:"secret_hash"`
	// RedirectURIs are matched exactly (RFC 9700 §4.1.3); only the port of a
	// loopback URI may vary (RFC 8252 §7.3).
	RedirectURIs []string `yaml:"redirect_uris"`
	Scopes       []string `yaml:"scopes"`
	// AllowPlainPKCE accepts code_challenge_method=plain (RFC 7636 §4.2),
	// which is otherwise refused (RFC 9700 §2.1.1).
	AllowPlainPKCE bool `yaml:"allow_plain_pkce"`
	// GrantTypes are the grants the client may use at the token endpoint
	// (RFC 7591 §2 "grant_types"): GrantAuthorizationCode, GrantRefreshToken,
	// GrantClientCredentials. Empty means the first two. Only clients with
	// the authorization code grant need RedirectURIs.
	GrantTypes []string `yaml:"grant_types"`
	// IntrospectAll lets the client introspect every client's access
	// tokens, not only its own: for an upstream API (a resource server,
	// RFC 7662 §2.1) that checks the tokens the gateway presents to it.
	IntrospectAll bool `yaml:"introspect_all"`
	// Legacy are the credentials the client may present to sayHello
	// instead of an access token; none by default.
	Legacy Legacy `yaml:"legacy"`
}

// Grant types of RFC 6749, as named in Client.GrantTypes and at the token
// endpoint.
const (
	GrantAuthorizationCode = "authorization_code" // §4.1
	GrantRefreshToken      = "refresh_token"      // §6
	GrantClientCredentials = "client_credentials" // §4.4
)

// defaultGrantTypes are the grants of a client that lists none.
var defaultGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}

// User is a resource owner who logs in at /authorize. Exactly one of Password
// and PasswordHash is set.
type User struct {
	Username string `yaml:"username"`
	// Password is a plain password; NewServer hashes it and forgets it.
	// It is never printed, logged or marshalled to JSON.
	Password string `yaml:"password" json:"-"`
	// PasswordHash is a bcrypt or argon2id (PHC string) hash of the password.
	PasswordHash string `yaml:"password_hash"`
}

// TokenTTLs are the lifetimes of issued credentials; zero means the default.
type TokenTTLs struct {
	AccessTTL  time.Duration `yaml:"access_ttl"`
	RefreshTTL time.Duration `yaml:"refresh_ttl"`
	CodeTTL    time.Duration `yaml:"code_ttl"`
}

// String describes c without its secret.
func (c Client) String() string {
	return fmt.Sprintf("oauth.Client{ID:%q Name:%q RedirectURIs:%q Scopes:%q}", c.ID, c.Name, c.RedirectURIs, c.Scopes)
}

// LogValue logs c without its secret.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("name", c.Name))
}

// String describes u without its password.
func (u User) String() string { return fmt.Sprintf("oauth.User{Username:%q}", u.Username) }

// LogValue logs u without its password.
func (u User) LogValue() slog.Value { return slog.StringValue(u.Username) }

// client is a configured client as the server keeps it: no plain secret.
type client struct {
	id, name       string
	secretHash     string
	redirectURIs   []string
	scopes         []string
	allowPlainPKCE bool
	grantTypes     []string
	introspectAll  bool
}

// ConfigError is a problem with one setting of Config, named by its key
// path in the config file (clients[0].secret), with the fix; the config
// package adds the file and line.
type ConfigError struct {
	Path string
	Msg  string
}

func (e *ConfigError) Error() string { return e.Path + ": " + e.Msg }

func configErr(path, format string, args ...any) error {
	return &ConfigError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// loadClients validates the configured clients and hashes plain secrets.
func loadClients(cfg []Client, cache *secretCache) (map[string]*client, error) {
	clients := make(map[string]*client, len(cfg))
	for i, c := range cfg {
		at := fmt.Sprintf("clients[%d]", i)
		if c.ID == "" {
			return nil, configErr(at+".id", "missing: give each client an id")
		}
		if _, dup := clients[c.ID]; dup {
			return nil, configErr(at+".id", "%q is the id of an earlier client: give each client its own", c.ID)
		}
		hash, err := secretOrHash(c.Secret, c.SecretHash)
		if err != nil {
			key, fix := secretFix(err, "secret", "secret_hash")
			return nil, configErr(at+"."+key, "%s", fix)
		}
		grants := c.GrantTypes
		if len(grants) == 0 {
			grants = defaultGrantTypes
		}
		for _, g := range grants {
			if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials {
				return nil, configErr(at+".grant_types", "%q is none of %s, %s, %s", g, GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials)
			}
		}
		// Refresh tokens are issued only with the authorization code grant.
		if slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode) {
			return nil, configErr(at+".grant_types", "%s needs %s: add it, or drop %s", GrantRefreshToken, GrantAuthorizationCode, GrantRefreshToken)
		}
		if len(c.RedirectURIs) == 0 && slices.Contains(grants, GrantAuthorizationCode) {
			return nil, configErr(at, "no redirect_uris: the %s grant needs at least one (redirect_uris: [\"https://app.example/callback\"])", GrantAuthorizationCode)
		}
		for j, u := range c.RedirectURIs {
			if err := checkRedirectURI(u); err != nil {
				return nil, configErr(fmt.Sprintf("%s.redirect_uris[%d]", at, j), "%q: %v: use an absolute URL without a #fragment (RFC 6749 §3.1.2)", u, err)
			}
		}
		for j, s := range c.Scopes {
			if !validScopeToken(s) {
				return nil, configErr(fmt.Sprintf("%s.scopes[%d]", at, j), "invalid scope %q: use printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)", s)
			}
		}
		if w := c.Legacy.WSSE; w != "" && w != "text" && w != "digest" {
			return nil, configErr(at+".legacy.wsse", "%q is neither text nor digest", w)
		}
		if c.Secret != "" {
			cache.remember(c.ID, c.Secret)
		}
		name := c.Name
		if name == "" {
			name = c.ID
		}
		clients[c.ID] = &client{
			id: c.ID, name: name, secretHash: hash,
			redirectURIs:   append([]string(nil), c.RedirectURIs...),
			scopes:         append([]string(nil), c.Scopes...),
			allowPlainPKCE: c.AllowPlainPKCE,
			grantTypes:     slices.Clone(grants),
			introspectAll:  c.IntrospectAll,
		}
	}
	return clients, nil
}

// loadUsers validates the configured users and hashes plain passwords.
func loadUsers(cfg []User) (map[string]string, error) {
	users := make(map[string]string, len(cfg))
	for i, u := range cfg {
		at := fmt.Sprintf("users[%d]", i)
		if u.Username == "" {
			return nil, configErr(at+".username", "missing: give each user a username")
		}
		if _, dup := users[u.Username]; dup {
			return nil, configErr(at+".username", "%q is the username of an earlier user: give each user their own", u.Username)
		}
		hash, err := secretOrHash(u.Password, u.PasswordHash)
		if err != nil {
			key, fix := secretFix(err, "password", "password_hash")
			return nil, configErr(at+"."+key, "%s", fix)
		}
		users[u.Username] = hash
	}
	return users, nil
}

// Why secretOrHash refuses a secret.
var (
	errSecretBoth    = errors.New("both plain and hash given")
	errSecretMissing = errors.New("missing")
	errSecretHash    = errors.New("hash is neither bcrypt nor argon2id")
)

// secretOrHash returns the stored form of a secret given either in plain text
// or as a hash.
func secretOrHash(plain, hash string) (string, error) {
	switch {
	case plain != "" && hash != "":
		return "", errSecretBoth
	case plain != "":
		return HashSecret(plain)
	case hash == "":
		return "", errSecretMissing
	case !validHash(hash):
		return "", errSecretHash
	}
	return hash, nil
}

// secretFix says which key is wrong and what to do about a secret
// secretOrHash refused, in the config file's keys.
func secretFix(err error, plainKey, hashKey string) (key, fix string) {
	switch {
	case errors.Is(err, errSecretBoth):
		return plainKey, fmt.Sprintf("both %s and %s given: give one of them", plainKey, hashKey)
	case errors.Is(err, errSecretMissing):
		return plainKey, fmt.Sprintf("missing: give %s or %s", plainKey, hashKey)
	case errors.Is(err, errSecretHash):
		return hashKey, "neither a bcrypt nor an argon2id hash: make one with hellogw hash-secret"
	}
	return plainKey, err.Error()
}

// checkRedirectURI enforces RFC 6749 §3.1.2: absolute, no fragment.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err
	case !u.IsAbs():
		return errors.New("not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("has a fragment")
	}
	return nil
}

func (t TokenTTLs) withDefaults() (TokenTTLs, error) {
	for _, ttl := range []struct {
		key string
		d   time.Duration
	}{{"access_ttl", t.AccessTTL}, {"refresh_ttl", t.RefreshTTL}, {"code_ttl", t.CodeTTL}} {
		if ttl.d < 0 {
			return t, configErr("tokens."+ttl.key, "negative: use a positive Go duration such as 1h, or leave it out for the default")
		}
	}
	if t.AccessTTL == 0 {
		t.AccessTTL = DefaultAccessTTL
	}
	if t.RefreshTTL == 0 {
		t.RefreshTTL = DefaultRefreshTTL
	}
	if t.CodeTTL == 0 {
		t.CodeTTL = DefaultCodeTTL
	}
	return t, nil
}
