package migrate_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/wsse"
	"github.com/hellogw/hellogw/migrate"
)

// minter counts the tokens it issues: tok-1, tok-2, … valid for ttl, by
// its clock.
type minter struct {
	*clock
	mu      sync.Mutex
	ttl     time.Duration
	issued  []string // client ids, in order
	scopes  []string // asked for the last token
	failFor string   // a client it refuses
}

func (m *minter) IssueClientToken(_ context.Context, clientID string, scopes []string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if clientID == m.failFor {
		return "", time.Time{}, errors.New("unauthorized_client")
	}
	m.issued = append(m.issued, clientID)
	m.scopes = scopes
	return "tok-" + string(rune('0'+len(m.issued))), m.Now().Add(m.ttl), nil
}

func (m *minter) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.issued)
}

// recorder is an upstream JSON API that records each call's Authorization
// and answers with status (200 with a greeting unless set).
type recorder struct {
	*httptest.Server
	status atomic.Int32
	auth   chan string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{auth: make(chan string, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.auth <- req.Header.Get("Authorization")
		if s := r.status.Load(); s != 0 {
			answer(int(s), "application/json", `{}`)(w, req)
			return
		}
		answer(200, "application/json", `{"greeting":"hi"}`)(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// authenticated is the context of a call to a protected sayHello by p.
func authenticated(ctx context.Context, p gateway.Principal) context.Context {
	return gateway.WithCall(ctx, gateway.Call{Principal: p, Authenticated: true})
}

// TestUpstreamIdentityBearer: the caller's own bearer token for callers
// that came with one, a minted token of their client for legacy callers,
// cached, replaced after an upstream 401 only with a backoff.
func TestUpstreamIdentityBearer(t *testing.T) {
	op := sayHelloOp(t)
	m := &minter{clock: newClock(time.Now()), ttl: time.Hour}
	tokens := migrate.NewTokenCache(m, "hello")
	tokens.SetClock(m.Now)
	up := newRecorder(t)
	b, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: up.URL, BreakerFailures: 100,
		Identity: migrate.UpstreamIdentity{Kind: migrate.IdentityBearer, Tokens: tokens, MintFor: "gateway"}})
	require.NoError(t, err)
	call := func(ctx context.Context) (string, error) {
		t.Helper()
		_, err := b.SayHelloContext(ctx, ptr("Ada"))
		return <-up.auth, err
	}
	ctx := t.Context()
	legacy := authenticated(ctx, gateway.Principal{ClientID: "legacy-app", Method: gateway.MethodWSSE})

	t.Run("CallersOwnToken", func(t *testing.T) {
		bearer := gateway.WithAuthorization(authenticated(ctx, gateway.Principal{ClientID: "web", Method: gateway.MethodBearer}), "Bearer user-token")
		got, err := call(bearer)
		require.NoError(t, err)
		assert.Equal(t, "Bearer user-token", got)
		got, err = call(gateway.WithAuthorization(ctx, "bearer unprotected-token"))
		require.NoError(t, err)
		assert.Equal(t, "Bearer unprotected-token", got, "sayHello unprotected: the token is passed on as it came")
		assert.Zero(t, m.count(), "never a minted token for a bearer caller")
	})
	t.Run("NeverBasic", func(t *testing.T) {
		basic := authenticated(ctx, gateway.Principal{ClientID: "legacy-app", Method: gateway.MethodBasic})
		got, err := call(gateway.WithAuthorization(basic, "Basic "+base64.StdEncoding.EncodeToString([]byte("legacy-app:secret"))))
		require.NoError(t, err)
		assert.Equal(t, "Bearer tok-1", got, "a Basic caller gets a minted token, its secret stays here")
	})
	t.Run("MintedAndCached", func(t *testing.T) {
		got, err := call(legacy)
		require.NoError(t, err)
		assert.Equal(t, "Bearer tok-1", got, "the same client's cached token")
		m.Add(58 * time.Minute)
		got, _ = call(legacy)
		assert.Equal(t, "Bearer tok-1", got)
		m.Add(90 * time.Second) // within a minute of its expiry
		got, _ = call(legacy)
		assert.Equal(t, "Bearer tok-2", got, "renewed shortly before it expires")
		got, _ = call(ctx)
		assert.Equal(t, "Bearer tok-3", got, "a caller with no client: mint_for's")
		assert.Equal(t, []string{"legacy-app", "legacy-app", "gateway"}, m.issued)
		assert.Equal(t, []string{"hello"}, m.scopes, "minted with the scope sayHello needs, not all of the client's")
	})
	t.Run("Upstream401", func(t *testing.T) {
		up.status.Store(http.StatusUnauthorized)
		for range 20 {
			got, err := call(legacy)
			assert.Equal(t, gateway.KindBadGateway, kindOf(t, err))
			assert.Equal(t, "Bearer tok-2", got, "a young token is kept: no token per call")
		}
		m.Add(31 * time.Second)
		got, _ := call(legacy)
		assert.Equal(t, "Bearer tok-2", got)
		got, _ = call(legacy)
		assert.Equal(t, "Bearer tok-4", got, "an older one is forgotten after a 401")
		up.status.Store(0)
		assert.Equal(t, 4, m.count())
	})
	t.Run("ErrMint", func(t *testing.T) {
		m.failFor = "no-grant"
		_, err := b.SayHelloContext(authenticated(ctx, gateway.Principal{ClientID: "no-grant", Method: gateway.MethodMTLS}), ptr("Ada"))
		assert.Equal(t, gateway.KindInternal, kindOf(t, err))
		assert.ErrorContains(t, err, "no token of client no-grant")
		assert.Empty(t, up.auth, "the upstream is not called")
	})
}

// TestUpstreamIdentityBasic: a configured HTTP Basic credential (RFC 7617),
// whatever the caller sent; without an identity, nothing.
func TestUpstreamIdentityBasic(t *testing.T) {
	op := sayHelloOp(t)
	up := newRecorder(t)
	ctx := gateway.WithAuthorization(t.Context(), "Bearer user-token")
	for kind, want := range map[string]string{
		migrate.IdentityBasic: "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:p@ss:word")),
		migrate.IdentityNone:  "",
	} {
		b, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: up.URL,
			Identity: migrate.UpstreamIdentity{Kind: kind, Username: "svc", Password: "p@ss:word"}})
		require.NoError(t, err)
		_, err = b.SayHelloContext(ctx, ptr("Ada"))
		require.NoError(t, err)
		assert.Equal(t, want, <-up.auth, kind)
	}
}

// TestUpstreamIdentityWSSE: the SOAP backend sends a fresh UsernameToken
// in a mustUnderstand wsse:Security header, text or digest.
func TestUpstreamIdentityWSSE(t *testing.T) {
	op := sayHelloOp(t)
	envelopes := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		envelopes <- b
		answer(200, "text/xml", soapResponse(`<greeting xsi:type="xsd:string">hi</greeting>`))(w, r)
	}))
	defer srv.Close()
	for _, digest := range []bool{false, true} {
		b, err := migrate.NewSOAPBackend(op, migrate.UpstreamConfig{URL: srv.URL,
			Identity: migrate.UpstreamIdentity{Kind: migrate.IdentityWSSE, Username: "legacy", Password: "s3cret<&>", Digest: digest}})
		require.NoError(t, err)
		var nonces []string
		for range 2 {
			greeting, err := b.SayHelloContext(t.Context(), ptr("Ada"))
			require.NoError(t, err)
			assert.Equal(t, "hi", *greeting)

			doc := etree.NewDocument()
			require.NoError(t, doc.ReadFromBytes(<-envelopes))
			sec := doc.FindElement("/Envelope/Header/Security")
			require.NotNil(t, sec)
			assert.Equal(t, wsse.NS, sec.NamespaceURI())
			assert.Equal(t, "1", sec.SelectAttrValue("SOAP-ENV:mustUnderstand", ""))
			tok := sec.FindElement("UsernameToken")
			assert.Equal(t, "legacy", tok.FindElement("Username").Text())
			pw := tok.FindElement("Password")
			nonce, err := base64.StdEncoding.DecodeString(tok.FindElement("Nonce").Text())
			require.NoError(t, err)
			created := tok.FindElement("Created").Text()
			if digest {
				assert.Equal(t, wsse.PasswordDigest, pw.SelectAttrValue("Type", ""))
				assert.Equal(t, wsse.Digest(nonce, created, "s3cret<&>"), pw.Text())
			} else {
				assert.Equal(t, wsse.PasswordText, pw.SelectAttrValue("Type", ""))
				assert.Equal(t, "s3cret<&>", pw.Text())
			}
			nonces = append(nonces, string(nonce))
			assert.NotNil(t, doc.FindElement("/Envelope/Body/sayHello/firstName"))
		}
		assert.NotEqual(t, nonces[0], nonces[1], "a fresh nonce on each call")
	}
}
