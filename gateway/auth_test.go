package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/testpki"
	"github.com/hellogw/hellogw/internal/wsse"
)

// clientsFake is the OAuth server's side of authentication as the gateway
// sees it: tokens, client secrets with a throttle per address, nonces.
// The real one is wired in main and driven by the binary's tests.
type clientsFake struct {
	mu       sync.Mutex
	secrets  map[string]string
	scopes   map[string][]string
	failures map[string]int // by address
	refusals []string       // the reasons RefuseClient was given
	nonces   map[string]time.Time
	down     bool
}

const fakeThrottle = 20 // failures per address before 429

func newClientsFake() *clientsFake {
	return &clientsFake{
		secrets:  map[string]string{"basic-app": "b-secret", "text-app": "t-secret", "digest-app": "d-secret", "noscope-app": "n-secret", "token-app": "k-secret"},
		scopes:   map[string][]string{"basic-app": {"hello"}, "text-app": {"hello"}, "digest-app": {"read", "hello"}, "noscope-app": {"read"}, "token-app": {"hello"}, "cert-app": {"hello"}, "dn-app": {"hello"}},
		failures: map[string]int{},
		nonces:   map[string]time.Time{},
	}
}

func (f *clientsFake) VerifyAccessToken(_ context.Context, token string) (gateway.Principal, error) {
	switch token {
	case "good":
		return gateway.Principal{ClientID: "token-app", Subject: "alice", Scopes: []string{"hello"}}, nil
	case "narrow":
		return gateway.Principal{ClientID: "token-app", Subject: "alice", Scopes: []string{"read"}}, nil
	case "db-down":
		return gateway.Principal{}, errors.New("connection refused")
	}
	return gateway.Principal{}, fmt.Errorf("token %w", gateway.ErrInvalidToken)
}

func (f *clientsFake) AuthenticateClient(ctx context.Context, id, secret, addr string) (gateway.Principal, error) {
	return f.AuthenticateClientProof(ctx, id, addr, func() bool { return secret == f.secrets[id] && secret != "" })
}

func (f *clientsFake) AuthenticateClientProof(_ context.Context, id, addr string, proof func() bool) (gateway.Principal, error) {
	f.mu.Lock()
	down, throttled := f.down, f.failures[addr] >= fakeThrottle
	_, known := f.secrets[id]
	f.mu.Unlock()
	switch {
	case down:
		return gateway.Principal{}, errors.New("connection refused")
	case throttled:
		return gateway.Principal{}, &gateway.ThrottledError{RetryAfter: 1500 * time.Millisecond}
	case known && proof():
		return gateway.Principal{ClientID: id, Scopes: f.scopes[id]}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[addr]++
	return gateway.Principal{}, fmt.Errorf("client %w", gateway.ErrBadCredentials)
}

func (f *clientsFake) RefuseClient(ctx context.Context, id, addr, reason string) error {
	f.mu.Lock()
	f.refusals = append(f.refusals, reason)
	f.mu.Unlock()
	_, err := f.AuthenticateClientProof(ctx, id, addr, func() bool { return false })
	return err
}

func (f *clientsFake) refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refusals)
}

func (f *clientsFake) UseNonce(_ context.Context, key string, expires time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, seen := f.nonces[key]; seen {
		return gateway.ErrNonceUsed
	}
	f.nonces[key] = expires
	return nil
}

func (f *clientsFake) failed(addr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures[addr]
}

// protected returns a gateway with sayhello protected, its fake, and the
// CA that issues the dn-app certificates.
func protected(t *testing.T, mods ...func(*gateway.Config)) (*gateway.Gateway, *clientsFake, *prometheus.Registry) {
	t.Helper()
	f := newClientsFake()
	reg := prometheus.NewRegistry()
	g := newGateway(t, append([]func(*gateway.Config){func(c *gateway.Config) {
		c.Registry = reg
		c.Protection = &gateway.Protection{
			Tokens: f, Clients: f, Nonces: f,
			Legacy: []gateway.LegacyClient{
				{ID: "basic-app", Scopes: f.scopes["basic-app"], Basic: true},
				{ID: "text-app", Scopes: f.scopes["text-app"], WSSE: gateway.WSSEText},
				{ID: "digest-app", Scopes: f.scopes["digest-app"], WSSE: gateway.WSSEDigest, DigestSecret: "d-secret"},
				{ID: "noscope-app", Scopes: f.scopes["noscope-app"], Basic: true, WSSE: gateway.WSSEDigest, DigestSecret: "n-secret"},
				{ID: "token-app", Scopes: f.scopes["token-app"]},
			},
		}
	}}, mods...)...)
	return g, f, reg
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// challenges are the WWW-Authenticate values of a 401 without an error
// code: Bearer, and Basic since a client may use it.
var challenges = []string{`Bearer realm="hellogw"`, `Basic realm="hellogw", charset="UTF-8"`}

func TestProtectionHTTP(t *testing.T) {
	g, f, _ := protected(t)
	for _, tc := range []struct {
		desc, auth string
		status     int // JSON and SOAP alike, except a Server fault: 500
		challenge  []string
		failures   int // counted by the throttle
	}{
		{"OKBearer", "Bearer good", 200, nil, 0},
		{"OKBearerSchemeCase", "bearer good", 200, nil, 0},
		{"OKBasic", basicAuth("basic-app", "b-secret"), 200, nil, 0},
		{"ErrNoCredentials", "", 401, challenges, 0},
		{"ErrOtherScheme", "Digest username=x", 401, challenges, 0},
		{"ErrEmptyToken", "Bearer ", 401, []string{`Bearer realm="hellogw", error="invalid_token"`, challenges[1]}, 0},
		{"ErrUnknownToken", "Bearer forged", 401, []string{`Bearer realm="hellogw", error="invalid_token"`, challenges[1]}, 0},
		{"ErrTokenScope", "Bearer narrow", 403, []string{`Bearer realm="hellogw", error="insufficient_scope", scope="hello"`}, 0},
		{"ErrStoreDown", "Bearer db-down", 503, nil, 0},
		{"ErrBasicWrongSecret", basicAuth("basic-app", "nope"), 401, challenges, 1},
		{"ErrBasicUnknownClient", basicAuth("nobody", "b-secret"), 401, challenges, 1},
		{"ErrBasicNotAllowed", basicAuth("text-app", "t-secret"), 401, challenges, 1},
		{"ErrBasicMalformed", "Basic %%%", 401, challenges, 1},
		{"ErrBasicNoColon", "Basic " + base64.StdEncoding.EncodeToString([]byte("basic-app")), 401, challenges, 1},
		{"ErrBasicEmptySecret", basicAuth("basic-app", ""), 401, challenges, 1},
		{"ErrBasicScope", basicAuth("noscope-app", "n-secret"), 403, []string{`Bearer realm="hellogw", error="insufficient_scope", scope="hello"`}, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var headers []string
			if tc.auth != "" {
				headers = []string{"Authorization", tc.auth}
			}
			addr := "192.0.2.1:1234"
			before := f.failed("192.0.2.1")
			w := doFrom(g, addr, "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, headers...)
			s := doFrom(g, addr, "POST", "/SayHello/", "text/xml", envelope11("Ada"), headers...)
			assert.Equal(t, 2*tc.failures, f.failed("192.0.2.1")-before, "failed attempts counted")
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == 200 {
				assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, w.Body.String())
				assert.Equal(t, 200, s.Code, s.Body.String())
				assert.Empty(t, w.Header().Values("WWW-Authenticate"))
				return
			}
			decodeProblem(t, w)
			fault := decodeFault(t, s)
			if tc.status == 503 {
				assert.Equal(t, "Server", fault.code)
				assert.Equal(t, 500, s.Code)
				assert.NotContains(t, s.Body.String(), "connection refused", "internal details stay in the log")
				return
			}
			assert.Equal(t, "Client", fault.code)
			assert.Empty(t, fault.subcode)
			assert.Equal(t, tc.status, s.Code)
			assert.Equal(t, tc.challenge, w.Header().Values("WWW-Authenticate"))
			assert.Equal(t, tc.challenge, s.Header().Values("WWW-Authenticate"))
		})
	}
}

// TestRefusalReasons: a credential refused before its secret is checked
// is counted by the throttle under what was wrong with it, not as a wrong
// secret; one whose secret was checked is not a refusal.
func TestRefusalReasons(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		desc, auth, env string
		want            []string
	}{
		{"BasicMalformed", "Basic %%%", "", []string{"malformed"}},
		{"BasicUnknownClient", basicAuth("nobody", "b-secret"), "", []string{"unknown_client"}},
		{"BasicNotAllowed", basicAuth("text-app", "t-secret"), "", []string{"method_not_allowed"}},
		{"BasicWrongSecret", basicAuth("basic-app", "nope"), "", nil},
		{"WSSEExpired", "", digestEnvelope(t, nsEnv11, "digest-app", "d-secret", now.Add(-6*time.Minute)), []string{"expired"}},
		{"WSSENonceNoCreated", "", securityEnvelope(nsEnv11, wsse.UsernameToken{Username: "text-app", Password: "t-secret", Nonce: []byte("0123456789abcdef")}), []string{"malformed"}},
		{"WSSEWrongSecret", "", digestEnvelope(t, nsEnv11, "digest-app", "nope", now), nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			g, f, _ := protected(t)
			var s *httptest.ResponseRecorder
			if tc.auth != "" {
				s = doFrom(g, "192.0.2.5:1", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "Authorization", tc.auth)
			} else {
				s = doFrom(g, "192.0.2.5:1", "POST", "/SayHello/", "text/xml", tc.env)
			}
			require.Equal(t, http.StatusUnauthorized, s.Code, s.Body.String())
			assert.Equal(t, 1, f.failed("192.0.2.5"), "counted by the throttle")
			assert.Equal(t, tc.want, f.refused())
		})
	}
}

// TestProtectionNoBasicChallenge: where no client may use Basic, a 401
// offers only Bearer (RFC 6750 §3.1: no error code without credentials).
func TestProtectionNoBasicChallenge(t *testing.T) {
	g, _, _ := protected(t, func(c *gateway.Config) {
		c.Protection.Legacy = []gateway.LegacyClient{{ID: "token-app", Scopes: []string{"hello"}}}
		c.Protection.Realm = "example"
	})
	w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, []string{`Bearer realm="example"`}, w.Header().Values("WWW-Authenticate"))
}

func TestThrottled(t *testing.T) {
	g, _, _ := protected(t)
	bad := []string{"Authorization", basicAuth("basic-app", "guess")}
	for range fakeThrottle {
		w := doFrom(g, "192.0.2.7:1", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, bad...)
		require.Equal(t, 401, w.Code)
	}
	w := doFrom(g, "192.0.2.7:1", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "Authorization", basicAuth("basic-app", "b-secret"))
	assert.Equal(t, 429, w.Code)
	assert.Equal(t, "2", w.Header().Get("Retry-After"))
	s := doFrom(g, "192.0.2.7:1", "POST", "/SayHello/", "text/xml", digestEnvelope(t, nsEnv11, "digest-app", "d-secret", time.Now()))
	assert.Equal(t, 429, s.Code)
	assert.Equal(t, "FailedAuthentication", decodeFault(t, s).subcode)
	// Another address is not throttled.
	w = doFrom(g, "192.0.2.8:1", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "Authorization", basicAuth("basic-app", "b-secret"))
	assert.Equal(t, 200, w.Code)
}

// securityEnvelope is a sayHello envelope of SOAP version envNS with a
// wsse:Security header holding tok, marked mustUnderstand.
func securityEnvelope(envNS string, tok wsse.UsernameToken) string {
	var b bytes.Buffer
	b.WriteString(`<e:Envelope xmlns:e="` + envNS + `"><e:Header>`)
	tok.AppendSecurityHeader(&b, "e")
	b.WriteString(`</e:Header><e:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></e:Body></e:Envelope>`)
	return b.String()
}

func digestEnvelope(t *testing.T, envNS, id, secret string, created time.Time) string {
	t.Helper()
	return securityEnvelope(envNS, wsse.NewUsernameToken(id, secret, true, created))
}

func soapCT(envNS string) string {
	if envNS == nsEnv12 {
		return "application/soap+xml"
	}
	return "text/xml"
}

func TestWSSecurity(t *testing.T) {
	now := time.Now()
	replayed := digestEnvelope(t, nsEnv11, "digest-app", "d-secret", now)
	textOK := wsse.NewUsernameToken("text-app", "t-secret", false, now)
	textBare := wsse.UsernameToken{Username: "text-app", Password: "t-secret"} // as zeep sends PasswordText
	for _, tc := range []struct {
		desc    string
		env     func(envNS string) string
		status  int
		subcode string // "" for a greeting
		counted bool
	}{
		{"OKDigest", func(ns string) string { return digestEnvelope(t, ns, "digest-app", "d-secret", now) }, 200, "", false},
		{"OKText", func(ns string) string {
			return securityEnvelope(ns, wsse.NewUsernameToken("text-app", "t-secret", false, now))
		}, 200, "", false},
		{"OKTextBare", func(ns string) string { return securityEnvelope(ns, textBare) }, 200, "", false},
		{"OKDigestSkewAhead", func(ns string) string { return digestEnvelope(t, ns, "digest-app", "d-secret", now.Add(4*time.Minute)) }, 200, "", false},
		{"ErrDigestWrongSecret", func(ns string) string { return digestEnvelope(t, ns, "digest-app", "nope", now) }, 401, "FailedAuthentication", true},
		{"ErrTextWrongSecret", func(ns string) string {
			return securityEnvelope(ns, wsse.UsernameToken{Username: "text-app", Password: "nope"})
		}, 401, "FailedAuthentication", true},
		{"ErrUnknownClient", func(ns string) string { return digestEnvelope(t, ns, "nobody", "d-secret", now) }, 401, "FailedAuthentication", true},
		{"ErrDigestForTextClient", func(ns string) string { return digestEnvelope(t, ns, "text-app", "t-secret", now) }, 401, "FailedAuthentication", true},
		{"ErrTextForDigestClient", func(ns string) string {
			return securityEnvelope(ns, wsse.UsernameToken{Username: "digest-app", Password: "d-secret"})
		}, 401, "FailedAuthentication", true},
		{"ErrExpired", func(ns string) string {
			return digestEnvelope(t, ns, "digest-app", "d-secret", now.Add(-6*time.Minute))
		}, 401, "MessageExpired", true},
		{"ErrFuture", func(ns string) string { return digestEnvelope(t, ns, "digest-app", "d-secret", now.Add(6*time.Minute)) }, 401, "MessageExpired", true},
		{"ErrTextExpired", func(ns string) string {
			tok := textOK
			tok.Created = now.Add(-time.Hour).UTC().Format(time.RFC3339)
			return securityEnvelope(ns, tok)
		}, 401, "MessageExpired", true},
		{"OKTimestamp", func(ns string) string {
			return strings.Replace(digestEnvelope(t, ns, "digest-app", "d-secret", now), "<wsse:UsernameToken>",
				`<wsu:Timestamp><wsu:Created>`+now.UTC().Format(time.RFC3339)+`</wsu:Created><wsu:Expires>`+now.Add(time.Minute).UTC().Format(time.RFC3339)+`</wsu:Expires></wsu:Timestamp><wsse:UsernameToken>`, 1)
		}, 200, "", false},
		{"ErrTimestampExpired", func(ns string) string {
			return strings.Replace(digestEnvelope(t, ns, "digest-app", "d-secret", now), "<wsse:UsernameToken>",
				`<wsu:Timestamp><wsu:Expires>`+now.Add(-10*time.Minute).UTC().Format(time.RFC3339)+`</wsu:Expires></wsu:Timestamp><wsse:UsernameToken>`, 1)
		}, 401, "MessageExpired", true},
		{"ErrCreatedNoZone", func(ns string) string {
			tok := wsse.NewUsernameToken("digest-app", "d-secret", false, now)
			tok.Created = now.UTC().Format("2006-01-02T15:04:05")
			tok.Digest, tok.Password = true, wsse.Digest(tok.Nonce, tok.Created, "d-secret")
			return securityEnvelope(ns, tok)
		}, 401, "InvalidSecurityToken", true},
		{"ErrDigestNoNonce", func(ns string) string {
			tok := wsse.NewUsernameToken("digest-app", "d-secret", true, now)
			tok.Nonce = nil
			return securityEnvelope(ns, tok)
		}, 401, "InvalidSecurityToken", true},
		{"ErrTextNonceNoCreated", func(ns string) string {
			tok := wsse.NewUsernameToken("text-app", "t-secret", false, now)
			tok.Created = ""
			return securityEnvelope(ns, tok)
		}, 401, "InvalidSecurityToken", true},
		{"ErrBadNonce", func(ns string) string {
			return strings.Replace(digestEnvelope(t, ns, "digest-app", "d-secret", now), `Base64Binary">`, `Base64Binary">!!`, 1)
		}, 401, "InvalidSecurityToken", true},
		{"ErrEmptyPassword", func(ns string) string { return securityEnvelope(ns, wsse.UsernameToken{Username: "text-app"}) }, 401, "InvalidSecurityToken", true},
		{"ErrPasswordType", func(ns string) string {
			return strings.Replace(securityEnvelope(ns, textOK), wsse.PasswordText, "urn:x#PasswordSaltedHash", 1)
		}, 401, "UnsupportedSecurityToken", true},
		{"ErrNoPassword", func(ns string) string {
			return strings.Replace(strings.Replace(securityEnvelope(ns, textOK), "<wsse:Password ", "<wsse:Pass ", 1), "</wsse:Password>", "</wsse:Pass>", 1)
		}, 401, "InvalidSecurityToken", true},
		{"ErrOtherToken", func(ns string) string {
			return strings.Replace(securityEnvelope(ns, textOK), "<wsse:UsernameToken>", `<wsse:BinarySecurityToken>MIIB</wsse:BinarySecurityToken><wsse:UsernameToken>`, 1)
		}, 401, "UnsupportedSecurityToken", true},
		{"ErrScope", func(ns string) string { return digestEnvelope(t, ns, "noscope-app", "n-secret", now) }, 403, "", false},
	} {
		for _, envNS := range []string{nsEnv11, nsEnv12} {
			t.Run(tc.desc+"/"+soapCT(envNS), func(t *testing.T) {
				g, f, _ := protected(t)
				s := doFrom(g, "192.0.2.2:1", "POST", "/SayHello/", soapCT(envNS), tc.env(envNS))
				require.Equal(t, tc.status, s.Code, s.Body.String())
				a := parseAnswer(t, s.Body.Bytes())
				assert.Equal(t, envNS, a.envNS)
				if tc.status == 200 {
					require.NotNil(t, a.greeting, s.Body.String())
					assert.Equal(t, "Hello, Ada!", *a.greeting)
					return
				}
				require.Nil(t, a.greeting)
				assert.Equal(t, map[string]string{nsEnv11: "Client", nsEnv12: "Sender"}[envNS], a.code)
				assert.Equal(t, tc.subcode, a.subcode, a.reason)
				assert.NotContains(t, s.Body.String(), "d-secret")
				want := 0
				if tc.counted {
					want = 1
				}
				assert.Equal(t, want, f.failed("192.0.2.2"), "failed attempts counted")
				if tc.status == 401 {
					assert.Equal(t, challenges, s.Header().Values("WWW-Authenticate"))
				}
			})
		}
	}

	t.Run("ErrReplayedNonce", func(t *testing.T) {
		g, f, _ := protected(t)
		s := doFrom(g, "192.0.2.3:1", "POST", "/SayHello/", "text/xml", replayed)
		require.Equal(t, 200, s.Code, s.Body.String())
		s = doFrom(g, "192.0.2.3:1", "POST", "/SayHello/", "text/xml", replayed)
		require.Equal(t, 401, s.Code, s.Body.String())
		a := decodeFault(t, s)
		assert.Equal(t, "FailedAuthentication", a.subcode)
		assert.Contains(t, a.reason, "Nonce was used before")
		assert.Zero(t, f.failed("192.0.2.3"), "a replay proved the secret: it guesses nothing")
	})
	t.Run("ErrTwoSecurityHeaders", func(t *testing.T) {
		g, _, _ := protected(t)
		env := digestEnvelope(t, nsEnv11, "digest-app", "d-secret", now)
		i := strings.Index(env, "<wsse:Security")
		j := strings.Index(env, "</wsse:Security>") + len("</wsse:Security>")
		env = env[:j] + env[i:j] + env[j:]
		s := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(env))
		assert.Equal(t, 500, s.Code)
		assert.Equal(t, "InvalidSecurity", decodeFault(t, s).subcode)
	})
	t.Run("ErrStoreDown", func(t *testing.T) {
		g, f, _ := protected(t)
		f.down = true
		s := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(digestEnvelope(t, nsEnv11, "digest-app", "d-secret", now)))
		assert.Equal(t, 500, s.Code)
		assert.Equal(t, "Server", decodeFault(t, s).code)
	})
	// Authorization decides before the envelope: a good bearer token with
	// a bad UsernameToken beside it is served.
	t.Run("OKBearerBeside", func(t *testing.T) {
		g, _, _ := protected(t)
		s := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(digestEnvelope(t, nsEnv11, "digest-app", "nope", now)), "Authorization", "Bearer good")
		assert.Equal(t, 200, s.Code, s.Body.String())
	})
}

// TestSecurityHeaderUnprotected: without protection the wsse:Security
// header is still understood, so mustUnderstand="1" is no fault.
func TestSecurityHeaderUnprotected(t *testing.T) {
	g := newGateway(t)
	for _, envNS := range []string{nsEnv11, nsEnv12} {
		s := do(g, "POST", "/SayHello/", soapCT(envNS), strings.NewReader(digestEnvelope(t, envNS, "anyone", "x", time.Now())))
		require.Equal(t, 200, s.Code, s.Body.String())
	}
	// Another mandatory header still faults.
	env := strings.Replace(envelope11("Ada"), "<s:Body>", `<s:Header><x:Other xmlns:x="urn:x" s:mustUnderstand="1"/></s:Header><s:Body>`, 1)
	s := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(env))
	assert.Equal(t, "MustUnderstand", decodeFault(t, s).code)
}

// TestCallerInContext: with sayHello protected, a backend sees the whole
// call (who called, how, over which wire, from where), and never a Basic
// header holding one of the gateway's own client secrets.
func TestCallerInContext(t *testing.T) {
	var got gateway.Call
	var gotAuth string
	g, _, _ := protected(t, func(c *gateway.Config) {
		c.Service = serviceFunc(func(ctx context.Context, firstName *string) (*string, error) {
			var ok bool
			got, ok = gateway.CallFrom(ctx)
			require.True(t, ok)
			gotAuth = gateway.AuthorizationFrom(ctx)
			return firstName, nil
		})
	})
	w := doFrom(g, "192.0.2.10:5000", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "Authorization", basicAuth("basic-app", "b-secret"), "X-Request-Id", "r-basic")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, gateway.Call{RequestID: "r-basic", Wire: "json", RemoteAddr: "192.0.2.10", Authenticated: true,
		Principal: gateway.Principal{ClientID: "basic-app", Scopes: []string{"hello"}, Method: gateway.MethodBasic}}, got)
	assert.Empty(t, gotAuth)

	w = doFrom(g, "192.0.2.11:5000", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, "Authorization", "Bearer good", "X-Request-Id", "r-bearer")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, gateway.Principal{ClientID: "token-app", Subject: "alice", Scopes: []string{"hello"}, Method: gateway.MethodBearer}, got.Principal)
	assert.Equal(t, "192.0.2.11", got.RemoteAddr)
	assert.True(t, got.Authenticated)
	assert.Equal(t, "Bearer good", gotAuth)

	s := doFrom(g, "[2001:db8::1]:5000", "POST", "/SayHello/", soapCT(nsEnv12), digestEnvelope(t, nsEnv12, "digest-app", "d-secret", time.Now()), "X-Request-Id", "r-wsse")
	require.Equal(t, 200, s.Code)
	assert.Equal(t, gateway.Call{RequestID: "r-wsse", Wire: "soap12", RemoteAddr: "2001:db8::1", Authenticated: true,
		Principal: gateway.Principal{ClientID: "digest-app", Scopes: []string{"read", "hello"}, Method: gateway.MethodWSSE}}, got)
	assert.Empty(t, gotAuth)
}

// TestWSDLWithCredentials: fetching the WSDL works whatever the caller
// sends (PHP sends its Basic credentials, clients their certificates).
func TestWSDLWithCredentials(t *testing.T) {
	g, _, _ := protected(t)
	for _, auth := range []string{"", basicAuth("basic-app", "wrong"), "Bearer forged", "Negotiate x"} {
		w := do(g, "GET", "/SayHello/?wsdl", "", nil, "Authorization", auth)
		assert.Equal(t, 200, w.Code, "Authorization %q", auth)
	}
}

// TestAuthMetrics: requests are counted by client and method, and a
// client id nobody configured never becomes a label.
func TestAuthMetrics(t *testing.T) {
	g, _, reg := protected(t)
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "Authorization", basicAuth("basic-app", "b-secret"))
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "Authorization", "Bearer good")
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(digestEnvelope(t, nsEnv11, "digest-app", "d-secret", time.Now())))
	do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(digestEnvelope(t, nsEnv11, "made-up-client-1", "x", time.Now())))
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "Authorization", basicAuth("made-up-client-2", "x"))
	do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
	want := `
# HELP hellogw_requests_total HTTP requests by route, wire format (soap11, soap12, json, wsdl, http), outcome (ok or the error kind), client (a configured client id, or empty) and authentication method (bearer, basic, wsse, mtls, none).
# TYPE hellogw_requests_total counter
hellogw_requests_total{client="",method="none",outcome="unauthorized",route="/SayHello/",wire="soap11"} 1
hellogw_requests_total{client="",method="none",outcome="unauthorized",route="/sayHello",wire="json"} 2
hellogw_requests_total{client="basic-app",method="basic",outcome="ok",route="/sayHello",wire="json"} 1
hellogw_requests_total{client="digest-app",method="wsse",outcome="ok",route="/SayHello/",wire="soap11"} 1
hellogw_requests_total{client="token-app",method="bearer",outcome="ok",route="/sayHello",wire="json"} 1
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "hellogw_requests_total"))
}

// doFrom is do from a given peer address, with a string body.
func doFrom(g http.Handler, remoteAddr, method, path, contentType, body string, headers ...string) *httptest.ResponseRecorder {
	from := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = remoteAddr
		g.ServeHTTP(w, r)
	})
	return do(from, method, path, contentType, strings.NewReader(body), headers...)
}

// adSubject is an Active Directory style subject, in certificate order.
var adSubject = pkix.RDNSequence{
	{{Type: testpki.OIDDomainComponent, Value: "com"}}, {{Type: testpki.OIDDomainComponent, Value: "example"}},
	{{Type: testpki.OIDOrganizationalUnit, Value: "Legacy Apps, East"}}, {{Type: testpki.OIDUserID, Value: "svc42"}},
	{{Type: testpki.OIDEmailAddress, Value: "svc42@example.com"}}, {{Type: testpki.OIDCommonName, Value: "Billing  Service"}},
}

func TestParseDN(t *testing.T) {
	for _, tc := range []struct {
		dn    string
		match bool
	}{
		// openssl x509 -noout -subject (OpenSSL 1.1+ and 3)
		{`subject=DC = com, DC = example, OU = "Legacy Apps, East", UID = svc42, emailAddress = svc42@example.com, CN = Billing  Service`, true},
		{`subject=DC = com, DC = example, OU = Legacy Apps\, East, UID = svc42, emailAddress = svc42@example.com, CN = Billing Service`, true},
		// -nameopt RFC2253 and RFC 4514, last RDN first
		{`CN=Billing Service,emailAddress=svc42@example.com,UID=svc42,OU=Legacy Apps\, East,DC=example,DC=com`, true},
		{`cn=billing service,E=SVC42@example.com,0.9.2342.19200300.100.1.1=svc42,OU=Legacy Apps\2C East,DC=example,DC=com`, true},
		// the old one-line form
		{`/DC=com/DC=example/OU=Legacy Apps, East/UID=svc42/emailAddress=svc42@example.com/CN=Billing Service`, true},
		{`CN=Billing Service,OU=Legacy Apps\, East,DC=example,DC=com`, false},                                          // RDNs missing
		{`CN=Billing Service,emailAddress=svc42@example.com,UID=svc43,OU=Legacy Apps\, East,DC=example,DC=com`, false}, // another UID
		{`DC=com,CN=Billing Service,emailAddress=svc42@example.com,UID=svc42,OU=Legacy Apps\, East,DC=example`, false}, // shuffled
	} {
		dn, err := gateway.ParseDN(tc.dn)
		require.NoError(t, err, tc.dn)
		assert.Equal(t, tc.match, dn.Matches(adSubject), tc.dn)
	}
	for _, bad := range []string{"", "CN", "XX=1", "CN=#0403616263", `CN=a\`} {
		_, err := gateway.ParseDN(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseThumbprint(t *testing.T) {
	c := testpki.SelfSigned(t, testpki.Options{})
	hexPrint := c.Thumbprint()
	var colons []string
	for i := 0; i < len(hexPrint); i += 2 {
		colons = append(colons, strings.ToUpper(hexPrint[i:i+2]))
	}
	raw, err := gateway.ParseThumbprint(hexPrint)
	require.NoError(t, err)
	for _, s := range []string{
		strings.ToUpper(hexPrint),
		"sha256 Fingerprint=" + strings.Join(colons, ":"),
		base64.RawURLEncoding.EncodeToString(raw[:]),
	} {
		got, err := gateway.ParseThumbprint(s)
		require.NoError(t, err, s)
		assert.Equal(t, raw, got, s)
	}
	_, err = gateway.ParseThumbprint("abcd")
	assert.Error(t, err)
}

// poolVerifier verifies client certificates as main does with the
// -tls-client-ca bundle.
type poolVerifier struct{ roots *x509.CertPool }

func (v poolVerifier) VerifyClientCert(chain []*x509.Certificate) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err
}

// TestMTLS drives a TLS server that asks for a client certificate and
// verifies it after the handshake: a self-signed one by thumbprint, one
// under the CA by subject DN, and refusals answered with a 401, not a
// reset connection.
func TestMTLS(t *testing.T) {
	ca := testpki.NewCA(t, "Test Client CA")
	otherCA := testpki.NewCA(t, "Another CA")
	pinned := testpki.SelfSigned(t, testpki.Options{})
	pinnedExpired := testpki.SelfSigned(t, testpki.Options{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	dnCert := ca.Issue(t, testpki.Options{Subject: adSubject})
	g, f, _ := protected(t, func(c *gateway.Config) {
		c.TrustedProxies = []string{"127.0.0.2/32"}
		c.ClientCerts = poolVerifier{ca.Pool()}
		c.Protection.Legacy = append(c.Protection.Legacy,
			gateway.LegacyClient{ID: "cert-app", Scopes: []string{"hello"}, Thumbprint: pinned.Thumbprint()},
			gateway.LegacyClient{ID: "expired-app", Scopes: []string{"hello"}, Thumbprint: pinnedExpired.Thumbprint()},
			gateway.LegacyClient{ID: "dn-app", Scopes: []string{"hello"}, SubjectDN: "CN=Billing Service,emailAddress=svc42@example.com,UID=svc42,OU=Legacy Apps\\, East,DC=example,DC=com"},
			gateway.LegacyClient{ID: "noscope-cert", Scopes: []string{"read"}, SubjectDN: "/CN=Reader"},
		)
	})
	srv := httptest.NewUnstartedServer(g)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	server := srv.Certificate()

	call := func(t *testing.T, cert *testpki.Cert, headers ...string) *http.Response {
		t.Helper()
		roots := x509.NewCertPool()
		roots.AddCert(server)
		cfg := &tls.Config{RootCAs: roots}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{cert.TLS()}
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		req, err := http.NewRequest("POST", srv.URL+"/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err, "a refused certificate is a 401, never a failed handshake")
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		desc   string
		cert   *testpki.Cert
		status int
	}{
		{"OKThumbprint", pinned, 200},
		{"OKSubjectDN", dnCert, 200},
		{"ErrNone", nil, 401},
		{"ErrUnknownSelfSigned", testpki.SelfSigned(t, testpki.Options{}), 401},
		{"ErrExpiredPinned", pinnedExpired, 401},
		{"ErrDNOtherCA", otherCA.Issue(t, testpki.Options{Subject: adSubject}), 401},
		{"ErrDNUnregistered", ca.Issue(t, testpki.Options{Subject: pkix.RDNSequence{{{Type: testpki.OIDCommonName, Value: "Billing Service"}}}}), 401},
		{"ErrDNExpired", ca.Issue(t, testpki.Options{Subject: adSubject, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}), 401},
		{"ErrScope", ca.Issue(t, testpki.Options{Subject: pkix.RDNSequence{{{Type: testpki.OIDCommonName, Value: "Reader"}}}}), 403},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			resp := call(t, tc.cert)
			assert.Equal(t, tc.status, resp.StatusCode)
		})
	}
	t.Run("OKBearerBesideUnknownCert", func(t *testing.T) {
		resp := call(t, testpki.SelfSigned(t, testpki.Options{}), "Authorization", "Bearer good")
		assert.Equal(t, 200, resp.StatusCode)
	})
	t.Run("ErrHeaderFromUntrustedPeer", func(t *testing.T) {
		resp := call(t, nil, "Client-Cert", ":"+base64.StdEncoding.EncodeToString(pinned.Cert.Raw)+":")
		assert.Equal(t, 401, resp.StatusCode)
	})

	// Behind a trusted proxy that terminated TLS, only its Client-Cert
	// header counts (RFC 9440), never the proxy's own handshake certificate.
	proxied := func(t *testing.T, remote string, tlsCert *testpki.Cert, headers ...string) int {
		t.Helper()
		req := httptest.NewRequest("POST", "/sayHello", strings.NewReader(`{"firstName":"Ada"}`))
		req.RemoteAddr = remote
		req.Header.Set("Content-Type", "application/json")
		if tlsCert != nil {
			req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tlsCert.Cert}}
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		return w.Code
	}
	sf := func(c *testpki.Cert) string { return ":" + base64.StdEncoding.EncodeToString(c.Cert.Raw) + ":" }
	t.Run("OKProxyHeader", func(t *testing.T) {
		assert.Equal(t, 200, proxied(t, "127.0.0.2:5000", nil, "Client-Cert", sf(pinned)))
		assert.Equal(t, 200, proxied(t, "127.0.0.2:5000", nil, "Client-Cert", sf(dnCert)))
	})
	t.Run("ErrProxyOwnCertificate", func(t *testing.T) {
		assert.Equal(t, 401, proxied(t, "127.0.0.2:5000", pinned))
	})
	t.Run("ErrProxyHeaderMalformed", func(t *testing.T) {
		before := f.failed("127.0.0.2")
		assert.Equal(t, 401, proxied(t, "127.0.0.2:5000", nil, "Client-Cert", ":bm90IGEgY2VydA==:"))
		assert.Equal(t, 401, proxied(t, "127.0.0.2:5000", nil, "Client-Cert", "MIIB"))
		assert.Equal(t, before+2, f.failed("127.0.0.2"), "malformed certificates are counted")
	})
	t.Run("ErrHeaderFromOtherPeer", func(t *testing.T) {
		assert.Equal(t, 401, proxied(t, "127.0.0.3:5000", nil, "Client-Cert", sf(pinned)))
	})
}

func TestSplitAuthorization(t *testing.T) {
	for h, want := range map[string][2]string{
		"Bearer abc":      {"Bearer", "abc"},
		"bearer   abc  ":  {"bearer", "abc"},
		"Basic dXNlcjpw=": {"Basic", "dXNlcjpw="},
		"Bearer":          {"Bearer", ""},
		"Bearer   ":       {"Bearer", ""},
		"":                {"", ""},
	} {
		scheme, cred := gateway.SplitAuthorization(h)
		assert.Equal(t, want, [2]string{scheme, cred}, "%q", h)
	}
}
