// Package gwtest holds what the tests of the gateway and of the packages
// behind it (migrate) share to drive a real gateway: building one on the
// local core, sending it a request, the sayHello request envelopes, and a
// JSON upstream.
package gwtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/wsdl"
)

// PublicURL is the public URL of the gateways NewGateway builds.
const PublicURL = "https://gw.example.net"

// SOAP envelope namespaces: SOAP 1.1 §4.1.2, SOAP 1.2 part 1 §5.1.
const (
	NSEnv11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NSEnv12 = "http://www.w3.org/2003/05/soap-envelope"
)

// NewGateway builds a gateway on the local core with the default template;
// mods adjust its config first.
func NewGateway(tb testing.TB, mods ...func(*gateway.Config)) *gateway.Gateway {
	tb.Helper()
	core, err := gateway.NewCore(gateway.DefaultTemplate)
	require.NoError(tb, err)
	binding, err := wsdl.Parse(wsdl.Document())
	require.NoError(tb, err)
	cfg := gateway.Config{Service: core, Binding: binding, PublicURL: PublicURL}
	for _, mod := range mods {
		mod(&cfg)
	}
	g, err := gateway.New(cfg)
	require.NoError(tb, err)
	g.SetReady(true)
	return g
}

// Do sends one request through the gateway's router; headers are name,
// value pairs.
func Do(g http.Handler, method, path, contentType string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	return w
}

// Envelope11 is a minimal SOAP 1.1 sayHello request.
func Envelope11(name string) string {
	return `<s:Envelope xmlns:s="` + NSEnv11 + `"><s:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>` +
		escape(name) + `</firstName></h:sayHello></s:Body></s:Envelope>`
}

// Envelope12 is a minimal SOAP 1.2 sayHello request.
func Envelope12(name string) string {
	return `<e:Envelope xmlns:e="` + NSEnv12 + `"><e:Body><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>` +
		escape(name) + `</firstName></h:sayHello></e:Body></e:Envelope>`
}

func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer does not fail
	return b.String()
}

// JSONAPI starts a real HTTP JSON HelloService, as a JSON backend calls
// it (POST …/sayHello, {"firstName"} → {"greeting"}), whose answers
// answer decides: a greeting, or an HTTP error status (0 for none). It is
// closed when the test ends; its base URL is returned.
func JSONAPI(tb testing.TB, answer func(firstName string) (greeting string, status int)) string {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			FirstName string `json:"firstName"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		greeting, status := answer(req.FirstName)
		if status != 0 {
			http.Error(w, "failing", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"greeting": greeting})
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// ClosedURL is the URL of a port that nothing listens on: an upstream
// that is down.
func ClosedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	u := "http://" + ln.Addr().String()
	require.NoError(tb, ln.Close())
	return u
}
