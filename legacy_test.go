package main_test

// Legacy credentials end to end (SPEC "Legacy credentials"): real SOAP
// clients nobody here wrote, each with the credential it has always sent,
// against the binary with sayhello.require_token. Each is accepted with the
// right credential and refused with a wrong one, and where the credential
// has them, a replayed nonce, an old Created, an unknown certificate; and a
// client without the hello scope is refused.

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/testpki"
)

// legacyConfig registers one client per real client and credential; the
// *-noscope clients lack the hello scope. Secrets are plain, so that the
// digest clients' clear secret comes from the config.
const legacyConfig = `
sayhello:
  require_token: true
clients:
{{- range .}}
  - id: {{.ID}}
    secret: {{.ID}}-secret
    scopes: [{{.Scope}}]
    grant_types: [client_credentials]
    legacy: {{.Legacy}}
{{- end}}
`

type legacyClient struct{ ID, Scope, Legacy string }

// legacyPKI is the CA and certificates of a TLS test: the server's, the
// client CA, a pinned self-signed certificate, one under the CA with an
// Active Directory style subject, one of each without the hello scope,
// and one nobody registered.
type legacyPKI struct {
	dir                                      string
	serverCA                                 *testpki.Cert
	serverCert, serverKey, clientCAFile      string
	pinned, dn, pinnedNoScope, unknown       *testpki.Cert
	pinnedFiles, dnFiles, noScope, unknownFs [3]string // cert, key, both
}

func newLegacyPKI(t *testing.T) *legacyPKI {
	t.Helper()
	p := &legacyPKI{dir: t.TempDir(), serverCA: testpki.NewCA(t, "legacy test server CA")}
	p.serverCert, p.serverKey, _ = p.serverCA.Issue(t, testpki.Options{Server: true}).WriteFiles(t, p.dir, "server")
	clientCA := testpki.NewCA(t, "legacy test client CA")
	p.clientCAFile = filepath.Join(p.dir, "client-ca.pem")
	require.NoError(t, os.WriteFile(p.clientCAFile, clientCA.CertPEM(), 0o600))
	p.pinned = testpki.SelfSigned(t, testpki.Options{})
	p.dn = clientCA.Issue(t, testpki.Options{Subject: pkix.RDNSequence{
		{{Type: testpki.OIDDomainComponent, Value: "com"}}, {{Type: testpki.OIDDomainComponent, Value: "example"}}, {{Type: testpki.OIDOrganizationalUnit, Value: "Legacy Apps"}},
		{{Type: testpki.OIDUserID, Value: "svc42"}}, {{Type: testpki.OIDEmailAddress, Value: "svc42@example.com"}}, {{Type: testpki.OIDCommonName, Value: "Billing"}},
	}})
	p.pinnedNoScope = testpki.SelfSigned(t, testpki.Options{})
	p.unknown = testpki.SelfSigned(t, testpki.Options{})
	for files, c := range map[*[3]string]*testpki.Cert{&p.pinnedFiles: p.pinned, &p.dnFiles: p.dn, &p.noScope: p.pinnedNoScope, &p.unknownFs: p.unknown} {
		files[0], files[1], files[2] = c.WriteFiles(t, p.dir, c.Thumbprint()[:8])
	}
	return p
}

// configs writes the config of the HTTP gateways, for Basic and
// WS-Security, and that of the HTTPS ones, which ask for client
// certificates.
func (p *legacyPKI) configs(t *testing.T) (plain, secure string) {
	t.Helper()
	clients := []legacyClient{
		{"php-basic", "hello", "{basic: true}"},
		{"perl-basic", "hello", "{basic: true}"},
		{"zeep-text", "hello", "{wsse: text}"},
		{"zeep-digest", "hello", "{wsse: digest}"},
		{"node-digest", "hello", "{wsse: digest}"},
		{"cert-pinned", "hello", `{tls_thumbprint: "sha256 Fingerprint=` + colonHex(p.pinned.Thumbprint()) + `"}`},
		// The subject as `openssl x509 -noout -subject` prints it.
		{"cert-dn", "hello", `{tls_subject_dn: "subject=DC = com, DC = example, OU = Legacy Apps, UID = svc42, emailAddress = svc42@example.com, CN = Billing"}`},
		{"basic-noscope", "read", "{basic: true}"},
		{"wsse-noscope", "read", "{wsse: digest}"},
		{"cert-noscope", "read", "{tls_thumbprint: " + p.pinnedNoScope.Thumbprint() + "}"},
	}
	write := func(name string, clients []legacyClient) string {
		var cfg strings.Builder
		require.NoError(t, template.Must(template.New("").Parse(legacyConfig)).Execute(&cfg, clients))
		f := filepath.Join(p.dir, name)
		require.NoError(t, os.WriteFile(f, []byte(cfg.String()), 0o600))
		return f
	}
	// A subject DN needs the client CA, which only the HTTPS gateway has.
	withoutDN := slices.DeleteFunc(slices.Clone(clients), func(c legacyClient) bool { return c.ID == "cert-dn" })
	return write("plain.yaml", withoutDN), write("secure.yaml", clients)
}

func colonHex(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}

// wantGreeting and wantRefused check a client command's outcome.
func wantGreeting(t *testing.T, res clientResult, name string) {
	t.Helper()
	require.Equal(t, 0, res.code, "%s", res)
	assert.Equal(t, "Hello, "+name+"!\n", res.stdout, "%s", res)
}

func wantRefused(t *testing.T, res clientResult, contains string) {
	t.Helper()
	require.Equal(t, 1, res.code, "%s", res)
	assert.Contains(t, res.stdout, contains, "%s", res)
}

func TestLegacyClients(t *testing.T) {
	requireClientTool(t, "php-soap", "php", "-r", `exit(class_exists("SoapClient") ? 0 : 1);`)
	requireClientTool(t, "libsoap-lite-perl", "perl", "-MSOAP::Lite", "-e", "1")
	requireClientTool(t, "python3-zeep", "/usr/bin/python3", "-c", "import zeep")
	requireClientTool(t, "curl", "curl", "--version")
	p := newLegacyPKI(t)
	// Every client runs from 127.0.0.1, and failed attempts from one
	// address are throttled: each client gets a gateway of its own, which
	// is a store of its own.
	plainCfg, secureCfg := p.configs(t)
	plain := func(t *testing.T) (endpoint string, gw *clientsGateway) {
		gw = startClientsGateway(t, "-config", plainCfg, "-store", filepath.Join(t.TempDir(), "hellogw.db"))
		t.Cleanup(func() {
			for _, secret := range []string{"php-basic-secret", "zeep-text-secret", "zeep-digest-secret", "node-digest-secret"} {
				assert.NotContains(t, gw.logs(), secret, "secrets are never logged")
			}
		})
		return gw.URL + "/SayHello/", gw
	}
	trusting := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.serverCA.Pool()}}}
	secure := func(t *testing.T) (endpoint string, gw *clientsGateway) {
		gw = startGateway(t, trusting, "-config", secureCfg, "-store", filepath.Join(t.TempDir(), "hellogw.db"),
			"-tls-cert", p.serverCert, "-tls-key", p.serverKey, "-tls-client-ca", p.clientCAFile)
		return gw.URL + "/SayHello/", gw
	}
	php := func(args ...string) []string { return append([]string{"php", "testdata/clients/legacy.php"}, args...) }
	serverCA := filepath.Join(p.dir, "server-ca.pem")
	require.NoError(t, os.WriteFile(serverCA, p.serverCA.CertPEM(), 0o600))
	// logged checks that the request log names the client and the method.
	logged := func(t *testing.T, gw *clientsGateway, method, client string) {
		t.Helper()
		waitLog(t, gw, `"auth":"`+method+`","client":"`+client+`"`, 1)
	}

	t.Run("PHP/Basic", func(t *testing.T) {
		endpoint, gw := plain(t)
		for _, n := range clientsTestNames {
			wantGreeting(t, runClientCommand(t, nil, php(endpoint, n.name, "basic", "php-basic", "php-basic-secret")...), n.name)
		}
		wantRefused(t, runClientCommand(t, nil, php(endpoint, "Ada", "basic", "php-basic", "wrong")...), "not accepted")
		wantRefused(t, runClientCommand(t, nil, php(endpoint, "Ada", "basic", "zeep-text", "zeep-text-secret")...), "not accepted")
		wantRefused(t, runClientCommand(t, nil, php(endpoint, "Ada", "basic", "basic-noscope", "basic-noscope-secret")...), "scope hello")
		logged(t, gw, "basic", "php-basic")
	})
	// LWP sends Basic credentials only after a 401 that offers Basic.
	t.Run("Perl/Basic", func(t *testing.T) {
		endpoint, gw := plain(t)
		perl := func(id, secret string) []string {
			return []string{"perl", "testdata/clients/basic.pl", endpoint, clientsTestName, id, secret}
		}
		wantGreeting(t, runClientCommand(t, nil, perl("perl-basic", "perl-basic-secret")...), clientsTestName)
		// LWP retries with the credentials, and when that 401 comes back
		// reports the first one; the log shows the attempt was made.
		wantRefused(t, runClientCommand(t, nil, perl("perl-basic", "wrong")...), "authentication is required")
		waitLog(t, gw, `"method":"basic","client_known":true`, 1)
		wantRefused(t, runClientCommand(t, nil, perl("basic-noscope", "basic-noscope-secret")...), "scope hello")
		logged(t, gw, "basic", "perl-basic")
	})

	// suds hands Basic credentials to urllib, which sends them only after
	// a 401 offering Basic.
	t.Run("Suds/Basic", func(t *testing.T) {
		requireClientTool(t, "python3-suds", "/usr/bin/python3", "-c", "import suds")
		endpoint, gw := plain(t)
		suds := func(id, secret string) []string {
			return []string{"/usr/bin/python3", "testdata/clients/suds_basic.py", endpoint, clientsTestName, id, secret}
		}
		wantGreeting(t, runClientCommand(t, nil, suds("perl-basic", "perl-basic-secret")...), clientsTestName)
		wantRefused(t, runClientCommand(t, nil, suds("perl-basic", "wrong")...), "HTTP 401")
		wantRefused(t, runClientCommand(t, nil, suds("basic-noscope", "basic-noscope-secret")...), "HTTP 403")
		logged(t, gw, "basic", "perl-basic")
	})

	zeep := func(endpoint string, args ...string) []string {
		return append([]string{"/usr/bin/python3", "testdata/clients/zeep_wsse.py", endpoint}, args...)
	}
	t.Run("Zeep/Text", func(t *testing.T) {
		endpoint, gw := plain(t)
		wantGreeting(t, runClientCommand(t, nil, zeep(endpoint, clientsTestName, "zeep-text", "zeep-text-secret", "text")...), clientsTestName)
		wantRefused(t, runClientCommand(t, nil, zeep(endpoint, "Ada", "zeep-text", "wrong", "text")...), "FailedAuthentication")
		wantRefused(t, runClientCommand(t, nil, zeep(endpoint, "Ada", "zeep-digest", "zeep-digest-secret", "text")...), "FailedAuthentication")
		logged(t, gw, "wsse", "zeep-text")
	})
	t.Run("Zeep/Digest", func(t *testing.T) {
		endpoint, gw := plain(t)
		wantGreeting(t, runClientCommand(t, nil, zeep(endpoint, clientsTestName, "zeep-digest", "zeep-digest-secret", "digest")...), clientsTestName)
		wantRefused(t, runClientCommand(t, nil, zeep(endpoint, "Ada", "zeep-digest", "wrong", "digest")...), "FailedAuthentication")
		wantRefused(t, runClientCommand(t, nil, zeep(endpoint, "Ada", "wsse-noscope", "wsse-noscope-secret", "digest")...), "scope hello")

		now := time.Now().UTC().Format(time.RFC3339)
		replay := zeep(endpoint, "Ada", "zeep-digest", "zeep-digest-secret", "digest", "nonce-"+now, now)
		wantGreeting(t, runClientCommand(t, nil, replay...), "Ada")
		wantRefused(t, runClientCommand(t, nil, replay...), "FailedAuthentication")

		old := time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
		wantRefused(t, runClientCommand(t, nil, zeep(endpoint, "Ada", "zeep-digest", "zeep-digest-secret", "digest", "old-nonce", old)...), "MessageExpired")
		logged(t, gw, "wsse", "zeep-digest")
	})
	t.Run("Node/WSSecurity", func(t *testing.T) {
		endpoint, gw := plain(t)
		env := []string{"NODE_PATH=" + installNodeSoap(t)}
		node := func(id, secret string) []string {
			return []string{"node", "testdata/clients/node/legacy.js", endpoint, clientsTestName, "wsse", id, secret}
		}
		last := filepath.Join(t.TempDir(), "last.xml")
		wantGreeting(t, runClientCommand(t, append(env, "LAST_REQUEST_FILE="+last), node("node-digest", "node-digest-secret")...), clientsTestName)
		wantRefused(t, runClientCommand(t, env, node("node-digest", "wrong")...), "FailedAuthentication")
		wantRefused(t, runClientCommand(t, append(env, "CLOCK_SKEW_MS=-600000"), node("node-digest", "node-digest-secret")...), "MessageExpired")
		wantRefused(t, runClientCommand(t, env, node("wsse-noscope", "wsse-noscope-secret")...), "scope hello")
		logged(t, gw, "wsse", "node-digest")

		// The envelope node-soap sent, nonce and all, sent again.
		sent, err := os.ReadFile(last)
		require.NoError(t, err)
		require.Contains(t, string(sent), "PasswordDigest")
		resp, err := http.Post(endpoint, "text/xml; charset=utf-8", strings.NewReader(string(sent)))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
		assert.Contains(t, string(body), "FailedAuthentication")
	})

	t.Run("PHP/Certificate", func(t *testing.T) {
		endpoint, gw := secure(t)
		wantGreeting(t, runClientCommand(t, nil, php(endpoint, clientsTestName, "cert", p.pinnedFiles[2], serverCA)...), clientsTestName)
		wantGreeting(t, runClientCommand(t, nil, php(endpoint, "Ada", "cert", p.dnFiles[2], serverCA)...), "Ada")
		wantRefused(t, runClientCommand(t, nil, php(endpoint, "Ada", "cert", p.unknownFs[2], serverCA)...), "not registered")
		wantRefused(t, runClientCommand(t, nil, php(endpoint, "Ada", "cert", p.noScope[2], serverCA)...), "scope hello")
		logged(t, gw, "mtls", "cert-pinned")
		logged(t, gw, "mtls", "cert-dn")
	})
	t.Run("Node/ClientSSLSecurity", func(t *testing.T) {
		endpoint, gw := secure(t)
		env := []string{"NODE_PATH=" + installNodeSoap(t)}
		node := func(files [3]string) []string {
			return []string{"node", "testdata/clients/node/legacy.js", endpoint, "Ada", "cert", files[1], files[0], serverCA}
		}
		wantGreeting(t, runClientCommand(t, env, node(p.pinnedFiles)...), "Ada")
		wantGreeting(t, runClientCommand(t, env, node(p.dnFiles)...), "Ada")
		wantRefused(t, runClientCommand(t, env, node(p.unknownFs)...), "not registered")
		wantRefused(t, runClientCommand(t, env, node(p.noScope)...), "scope hello")
		logged(t, gw, "mtls", "cert-dn")
	})
	// Behind a proxy that terminated TLS: the certificate in its
	// Client-Cert header (RFC 9440) counts from a trusted proxy only.
	t.Run("Curl/TrustedProxy", func(t *testing.T) {
		plainYAML, err := os.ReadFile(plainCfg)
		require.NoError(t, err)
		proxied := filepath.Join(t.TempDir(), "proxied.yaml")
		require.NoError(t, os.WriteFile(proxied, append(plainYAML, "trusted_proxies: [127.0.0.1/32]\n"...), 0o600))
		sf := func(c *testpki.Cert) string {
			return "Client-Cert: :" + base64.StdEncoding.EncodeToString(c.Cert.Raw) + ":"
		}
		curl := func(gw *clientsGateway, header string) string {
			res := runClientCommand(t, nil, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", header,
				"-H", "Content-Type: application/json", "--data", `{"firstName":"Ada"}`, gw.URL+"/sayHello")
			require.Equal(t, 0, res.code, "%s", res)
			return res.stdout
		}
		trusted := startClientsGateway(t, "-config", proxied, "-store", filepath.Join(t.TempDir(), "hellogw.db"))
		assert.Equal(t, "200", curl(trusted, sf(p.pinned)))
		assert.Equal(t, "401", curl(trusted, sf(p.unknown)))
		assert.Equal(t, "403", curl(trusted, sf(p.pinnedNoScope)))
		assert.Equal(t, "401", curl(trusted, "Client-Cert: :bm90IGEgY2VydGlmaWNhdGU=:"))
		logged(t, trusted, "mtls", "cert-pinned")
		_, untrusted := plain(t)
		assert.Equal(t, "401", curl(untrusted, sf(p.pinned)), "from a peer that is no trusted proxy the header is ignored")
	})
	t.Run("Curl/Certificate", func(t *testing.T) {
		_, gw := secure(t)
		curl := func(files [3]string) string {
			res := runClientCommand(t, nil, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", serverCA,
				"--cert", files[0], "--key", files[1], "-H", "Content-Type: application/json", "--data", `{"firstName":"Ada"}`,
				gw.URL+"/sayHello")
			require.Equal(t, 0, res.code, "%s", res)
			return res.stdout
		}
		assert.Equal(t, "200", curl(p.pinnedFiles))
		assert.Equal(t, "200", curl(p.dnFiles))
		assert.Equal(t, "401", curl(p.unknownFs))
		assert.Equal(t, "403", curl(p.noScope))
	})
}

// TestMultiNodeNonce: two nodes on one PostgreSQL share the nonces, so a
// UsernameToken accepted at node A is a replay at node B.
func TestMultiNodeNonce(t *testing.T) {
	requireClientTool(t, "python3-zeep", "/usr/bin/python3", "-c", "import zeep")
	nodes := startNodes(t, 2, `
sayhello:
  require_token: true
clients:
  - id: zeep-digest
    secret: zeep-digest-secret
    scopes: [hello]
    grant_types: [client_credentials]
    legacy: {wsse: digest}
`)
	now := time.Now().UTC().Format(time.RFC3339)
	zeep := func(gw *clientsGateway) clientResult {
		return runClientCommand(t, nil, "/usr/bin/python3", "testdata/clients/zeep_wsse.py", gw.URL+"/SayHello/", "Ada",
			"zeep-digest", "zeep-digest-secret", "digest", "multi-node-"+now, now)
	}
	wantGreeting(t, zeep(nodes[0]), "Ada")
	wantRefused(t, zeep(nodes[1]), "FailedAuthentication")
	wantRefused(t, zeep(nodes[0]), "FailedAuthentication")
}
