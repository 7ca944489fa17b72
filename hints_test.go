package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/hellogw/hellogw/internal/syncbuf"
)

func TestAddrHints(t *testing.T) {
	for addr, want := range map[string]string{
		"18110":          "-addr 18110: use host:port such as 127.0.0.1:18110 (or :18110 for every interface)",
		"localhost":      `-addr "localhost": missing port in address: use host:port such as 127.0.0.1:8080`,
		"127.0.0.1:80:1": `-addr "127.0.0.1:80:1": too many colons in address: use host:port such as 127.0.0.1:8080`,
	} {
		var out syncbuf.Buffer
		assert.Equal(t, 2, NewMain(&out).Main(t.Context(), []string{"-addr", addr}), addr)
		assert.Equal(t, "hellogw: "+want+"\n", out.String(), addr)
	}
	var out syncbuf.Buffer
	assert.Equal(t, 2, NewMain(&out).Main(t.Context(), []string{"serve"}))
	assert.Contains(t, out.String(), `unexpected argument "serve" (the subcommands are hash-secret and perform; see -h)`)
}

// -h lists the subcommands before the flags.
func TestUsageListsSubcommands(t *testing.T) {
	var out syncbuf.Buffer
	assert.Equal(t, 0, NewMain(&out).Main(t.Context(), []string{"-h"}))
	help := out.String()
	for _, want := range []string{
		"hellogw [flags]",
		"hellogw hash-secret [-generate]",
		"hellogw perform authorization-code",
		"-addr string",
		"-public-url string",
	} {
		assert.Contains(t, help, want)
	}
	assert.Less(t, strings.Index(help, "hash-secret"), strings.Index(help, "-addr string"), "subcommands first")
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
