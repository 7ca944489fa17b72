package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/syncbuf"
	"github.com/hellogw/hellogw/oauth"
)

func TestAddrHints(t *testing.T) {
	for addr, want := range map[string]string{
		"18110":          `-addr "18110": a port alone is not an address: use host:port such as -addr 127.0.0.1:18110 (or :18110 for every interface)`,
		"localhost":      `-addr "localhost": missing port in address: use host:port such as -addr 127.0.0.1:8080 (or :PORT for every interface)`,
		"127.0.0.1:80:1": `-addr "127.0.0.1:80:1": too many colons in address: use host:port such as -addr 127.0.0.1:8080 (or :PORT for every interface)`,
	} {
		var out syncbuf.Buffer
		assert.Equal(t, 2, NewMain(&out).Main(t.Context(), []string{"-addr", addr}), addr)
		assert.Equal(t, "hellogw: "+want+"\n", out.String(), addr)
	}
	var out syncbuf.Buffer
	assert.Equal(t, 2, NewMain(&out).Main(t.Context(), []string{"serve"}))
	assert.Contains(t, out.String(), `unexpected argument "serve" (the subcommands are hash-secret, perform and migrate; see -h)`)
}

// -admin-hosts: names without ports, and only with -admin-addr.
func TestAdminHostsHints(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-admin-addr", "127.0.0.1:0", "-admin-hosts", "hellogw:9090"}, `-admin-hosts "hellogw:9090": give host names separated by commas, without ports, such as -admin-hosts hellogw,hellogw.monitoring.svc`},
		{[]string{"-admin-addr", "127.0.0.1:0", "-admin-hosts", "a,,b"}, `-admin-hosts "a,,b": give host names separated by commas, without ports, such as -admin-hosts hellogw,hellogw.monitoring.svc`},
		{[]string{"-admin-hosts", "hellogw"}, `-admin-hosts needs -admin-addr: they are the admin listener's names`},
	} {
		var out syncbuf.Buffer
		assert.Equal(t, 2, NewMain(&out).Main(t.Context(), tc.args), tc.args)
		assert.Equal(t, "hellogw: "+tc.want+"\n", out.String(), tc.args)
	}
}

// -h lists the subcommands before the flags.
func TestUsageListsSubcommands(t *testing.T) {
	var out, errOut syncbuf.Buffer
	m := NewMain(&errOut)
	m.Stdout = &out
	assert.Equal(t, 0, m.Main(t.Context(), []string{"-h"}))
	assert.Empty(t, errOut.String(), "asked for: on standard output")
	help := out.String()
	for _, want := range []string{
		"hellogw [flags]",
		"hellogw hash-secret [-generate]",
		"hellogw perform authorization-code",
		"hellogw migrate status|set|pause|resume|rollback|ramp",
		"-addr string",
		"-public-url string",
	} {
		assert.Contains(t, help, want)
	}
	assert.Less(t, strings.Index(help, "hash-secret"), strings.Index(help, "-addr string"), "subcommands first")
}

// require_token with no clients starts, but says that no one can get a
// token.
func TestRequireTokenWithoutClientsWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hellogw.yaml")
	require.NoError(t, os.WriteFile(path, []byte("sayhello:\n  require_token: true\n"), 0o600))
	g := startInProcess(t, "-config", path)
	var warned bool
	for _, l := range g.lines() {
		warned = warned || l["level"] == "WARN" && l["msg"] == "sayhello.require_token is on but the config registers no clients, so no one can get a token: add a client under clients (README, Walkthrough; examples/oauth.yaml has one)"
	}
	assert.True(t, warned, "%s", g.out)
	for _, l := range startInProcess(t, "-config", filepath.Join("examples", "oauth.yaml")).lines() {
		assert.NotEqual(t, "WARN", l["level"], "a client is registered: %v", l)
	}
}

// A wildcard -addr without -public-url serves a WSDL that points at
// localhost: the gateway says so, and how to fix it.
func TestWildcardAddrWarns(t *testing.T) {
	const warning = "listening on every interface, but the WSDL's soap:address and the OAuth issuer say localhost, which other machines cannot reach: set -public-url to the address clients use"
	warned := func(g *inProcess) bool {
		for _, l := range g.lines() {
			if l["level"] == "WARN" && l["msg"] == warning {
				return true
			}
		}
		return false
	}
	g := startInProcess(t, "-addr", "0.0.0.0:0")
	assert.True(t, warned(g), "wildcard, no -public-url:\n%s", g.out)
	assert.False(t, warned(startInProcess(t, "-addr", "0.0.0.0:0", "-public-url", "https://gw.example.net")), "-public-url given")
	assert.False(t, warned(startInProcess(t)), "loopback")
}

// Every error before the server runs is one line, "hellogw: " what is
// wrong and the fix, naming the flag or the environment variable the user
// set; a bad setting exits 2, anything else that stops the start exits 1.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyAddr := busy.Addr().String()
	_, busyPort, _ := net.SplitHostPort(busyAddr)
	var nextPort int
	fmt.Sscan(busyPort, &nextPort)
	nextPort++

	hash, err := oauth.HashSecret("billing-secret")
	require.NoError(t, err)
	legacy := func(name, legacySection string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(`sayhello:
  require_token: true
clients:
  - id: billing
    secret_hash: "`+hash+`"
    scopes: [hello]
    grant_types: [client_credentials]
    legacy:
`+legacySection), 0o600))
		return path
	}
	dnConfig := legacy("dn.yaml", "      tls_subject_dn: \"CN=Billing,DC=example,DC=com\"\n")
	digestConfig := legacy("digest.yaml", "      wsse: digest\n      digest_secret_env: HELLOGW_TEST_UNSET_SECRET\n")

	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"PortTooBig", []string{"-addr", "127.0.0.1:99999"}, nil, 2,
			`-addr "127.0.0.1:99999": port "99999" is not a number from 0 to 65535: use host:port such as -addr 127.0.0.1:8080 (or :PORT for every interface)`},
		{"PortNotNumber", []string{"-addr", "127.0.0.1:8080x"}, nil, 2,
			`-addr "127.0.0.1:8080x": port "8080x" is not a number from 0 to 65535: use host:port such as -addr 127.0.0.1:8080 (or :PORT for every interface)`},
		{"NotAnIP", []string{"-addr", "256.1.1.1:80"}, nil, 2,
			`-addr "256.1.1.1:80": "256.1.1.1" is not an IP address: use host:port such as -addr 127.0.0.1:8080 (or :PORT for every interface)`},
		{"AddrFromEnv", nil, map[string]string{"HELLOGW_ADDR": "nonsense"}, 2,
			`HELLOGW_ADDR "nonsense": missing port in address: use host:port such as HELLOGW_ADDR=127.0.0.1:8080 (or :PORT for every interface)`},
		{"AdminAddr", []string{"-admin-addr", "bogus"}, nil, 2,
			`-admin-addr "bogus": missing port in address: use host:port such as -admin-addr 127.0.0.1:8080 (or :PORT for every interface)`},
		{"PublicURLNotURL", []string{"-public-url", "not a url"}, nil, 2,
			`-public-url "not a url": not an absolute http or https URL: give the base URL clients reach the gateway at, such as -public-url https://gw.example.net`},
		{"PublicURLScheme", []string{"-public-url", "ftp://gw.example.net"}, nil, 2,
			`-public-url "ftp://gw.example.net": not an absolute http or https URL: give the base URL clients reach the gateway at, such as -public-url https://gw.example.net`},
		{"PublicURLFromEnv", nil, map[string]string{"HELLOGW_PUBLIC_URL": "/hello"}, 2,
			`HELLOGW_PUBLIC_URL "/hello": not an absolute http or https URL: give the base URL clients reach the gateway at, such as HELLOGW_PUBLIC_URL=https://gw.example.net`},
		{"LogFormatFromEnv", nil, map[string]string{"HELLOGW_LOG_FORMAT": "xml"}, 2,
			`HELLOGW_LOG_FORMAT must be text or json, not "xml"`},
		{"AddrBusy", []string{"-addr", busyAddr}, nil, 1,
			fmt.Sprintf(`-addr %q: cannot listen: address already in use: another program (another hellogw?) listens there: stop it, or choose a free port, such as -addr 127.0.0.1:%d`, busyAddr, nextPort)},
		{"AddrBusyFromEnv", nil, map[string]string{"HELLOGW_ADDR": busyAddr}, 1,
			fmt.Sprintf(`HELLOGW_ADDR %q: cannot listen: address already in use: another program (another hellogw?) listens there: stop it, or choose a free port, such as HELLOGW_ADDR=127.0.0.1:%d`, busyAddr, nextPort)},
		{"AdminAddrBusy", []string{"-addr", "127.0.0.1:0", "-admin-addr", busyAddr}, nil, 1,
			fmt.Sprintf(`-admin-addr %q: cannot listen: address already in use: another program (another hellogw?) listens there: stop it, or choose a free port, such as -admin-addr 127.0.0.1:%d`, busyAddr, nextPort)},
		{"ConfigMissing", []string{"-addr", "127.0.0.1:0", "-config", "/nonexistent.yaml"}, nil, 1,
			`config /nonexistent.yaml: cannot read it: no such file or directory: give the path of a YAML config file (examples/ has some), or no -config for the embedded defaults`},
		{"SubjectDNWithoutCA", []string{"-addr", "127.0.0.1:0", "-config", dnConfig}, nil, 1,
			`config ` + dnConfig + `: client "billing": legacy.tls_subject_dn needs the CA bundle that issued the client certificates: start hellogw with -tls-cert, -tls-key and -tls-client-ca (or HELLOGW_TLS_CLIENT_CA), or remove tls_subject_dn`},
		{"DigestSecretUnset", []string{"-addr", "127.0.0.1:0", "-config", digestConfig}, nil, 1,
			`config ` + digestConfig + `: client "billing": the environment variable HELLOGW_TEST_UNSET_SECRET (legacy.digest_secret_env) is empty or unset: export HELLOGW_TEST_UNSET_SECRET=<the client's clear secret> before starting hellogw`},
		{"TLSFileMissing", []string{"-addr", "127.0.0.1:0", "-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", filepath.Join(dir, "none.key")}, nil, 1,
			`-tls-cert ` + filepath.Join(dir, "none.pem") + ` / -tls-key ` + filepath.Join(dir, "none.key") + `: open ` + filepath.Join(dir, "none.pem") + `: no such file or directory: give a PEM certificate chain and its private key`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out syncbuf.Buffer
			args := append([]string{"-store", filepath.Join(t.TempDir(), "hellogw.db")}, c.args...)
			assert.Equal(t, c.code, NewMain(&out).Main(t.Context(), args))
			assert.Equal(t, "hellogw: "+c.want+"\n", out.String())
		})
	}
}
