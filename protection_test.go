package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/internal/testpki"
	"github.com/hellogw/hellogw/internal/wsse"
	"github.com/hellogw/hellogw/oauth"
	"github.com/hellogw/hellogw/oauth/sqlite"
	"github.com/hellogw/hellogw/wsdl"
)

// TestLegacyClientsConfig: where a digest client's clear secret comes
// from, and the mistakes that stop the gateway at start-up.
func TestLegacyClientsConfig(t *testing.T) {
	hash, err := oauth.HashSecret("the-secret")
	require.NoError(t, err)
	env := map[string]string{"GOOD": "the-secret", "WRONG": "another"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		desc   string
		client oauth.Client
		secret string // the DigestSecret wanted
		err    string
	}{
		{"OKPlainSecret", oauth.Client{ID: "a", Secret: "plain", Legacy: oauth.Legacy{WSSE: "digest"}}, "plain", ""},
		{"OKFromEnv", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "digest", DigestSecretEnv: "GOOD"}}, "the-secret", ""},
		{"OKTextNeedsNoClearSecret", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "text", Basic: true}}, "", ""},
		{"ErrNoClearSecret", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "digest"}}, "", "digest_secret_env"},
		{"ErrEnvUnset", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "digest", DigestSecretEnv: "UNSET"}}, "", "UNSET"},
		{"ErrEnvWrong", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "digest", DigestSecretEnv: "WRONG"}}, "", "does not match secret_hash"},
		{"ErrEnvBesidePlain", oauth.Client{ID: "a", Secret: "plain", Legacy: oauth.Legacy{WSSE: "digest", DigestSecretEnv: "GOOD"}}, "", "plain secret"},
		{"ErrEnvWithoutDigest", oauth.Client{ID: "a", SecretHash: hash, Legacy: oauth.Legacy{WSSE: "text", DigestSecretEnv: "GOOD"}}, "", "wsse: digest"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := legacyClients([]oauth.Client{tc.client}, getenv)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.NotContains(t, err.Error(), "another", "the secret is never in a message")
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tc.secret, got[0].DigestSecret)
		})
	}
}

// BenchmarkAuthMethods is the cost per sayHello call of each way of
// authenticating, beside an unauthenticated call, with the real OAuth
// server on an SQLite store as main wires it. A Basic or PasswordText
// secret is checked with bcrypt once, then from the server's cache; a
// digest never costs a bcrypt: its price is the throttle's and the
// nonce's writes.
func BenchmarkAuthMethods(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	pinned := testpki.SelfSigned(b, testpki.Options{})
	cfg := config.Default()
	cfg.SayHello.RequireToken = true
	cfg.OAuth.Clients = []oauth.Client{{
		ID: "bench", Secret: "bench-secret", Scopes: []string{"hello"},
		GrantTypes: []string{oauth.GrantClientCredentials},
		Legacy:     oauth.Legacy{Basic: true, WSSE: "digest", TLSThumbprint: pinned.Thumbprint()},
	}, {
		ID: "bench-text", Secret: "bench-text-secret", Scopes: []string{"hello"},
		GrantTypes: []string{oauth.GrantClientCredentials}, Legacy: oauth.Legacy{WSSE: "text"},
	}}
	authz, err := oauth.NewServer(cfg.OAuth, db, nil, nil)
	require.NoError(b, err)
	token, _, err := authz.IssueClientToken(ctx, "bench", nil)
	require.NoError(b, err)
	prot, err := protection(cfg, authz, db, false)
	require.NoError(b, err)
	binding, err := wsdl.Parse(wsdl.Document())
	require.NoError(b, err)
	core, err := gateway.NewCore(cfg.Greeting)
	require.NoError(b, err)
	newGateway := func(p *gateway.Protection) *gateway.Gateway {
		gw, err := gateway.New(gateway.Config{Service: core, Binding: binding, PublicURL: "http://bench", Protection: p})
		require.NoError(b, err)
		gw.SetReady(true)
		return gw
	}
	open, protected := newGateway(nil), newGateway(prot)

	const body = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">%s<s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></s:Body></s:Envelope>`
	envelope := func(header string) string { return strings.Replace(body, "%s", header, 1) }
	security := func(tok wsse.UsernameToken) string {
		var h bytes.Buffer
		h.WriteString("<s:Header>")
		tok.AppendSecurityHeader(&h, "s")
		h.WriteString("</s:Header>")
		return envelope(h.String())
	}
	for _, bc := range []struct {
		name string
		gw   *gateway.Gateway
		req  func() *http.Request
	}{
		{"None", open, func() *http.Request { return soapRequest(envelope("")) }},
		{"Bearer", protected, func() *http.Request {
			r := soapRequest(envelope(""))
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		}},
		{"Basic", protected, func() *http.Request {
			r := soapRequest(envelope(""))
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("bench:bench-secret")))
			return r
		}},
		{"WSSEText", protected, func() *http.Request {
			return soapRequest(security(wsse.UsernameToken{Username: "bench-text", Password: "bench-text-secret"}))
		}},
		{"WSSEDigest", protected, func() *http.Request {
			return soapRequest(security(wsse.NewUsernameToken("bench", "bench-secret", true, time.Now())))
		}},
		{"MTLS", protected, func() *http.Request {
			r := soapRequest(envelope(""))
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{pinned.Cert}}
			return r
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				req := bc.req() // a digest token is made afresh, outside the timer
				b.StartTimer()
				w := httptest.NewRecorder()
				bc.gw.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.name, w.Code, w.Body)
				}
			}
		})
	}
}

func soapRequest(envelope string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/SayHello/", strings.NewReader(envelope))
	r.Header.Set("Content-Type", "text/xml; charset=utf-8")
	r.RemoteAddr = "192.0.2.1:1234"
	return r
}
