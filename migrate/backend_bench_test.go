package migrate_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/migrate"
)

// BenchmarkBridge measures the bridged paths over loopback HTTP, each
// beside the same call made straight to the upstream in the same run:
// "direct" is client → upstream, "hellogw" is client → hellogw → upstream,
// so the difference is what the gateway adds (its codecs, the backend's
// encoding and decoding, and the second hop). The upstream is a gateway on
// its own core, speaking JSON and SOAP.
func BenchmarkBridge(b *testing.B) {
	op := sayHelloOp(b)
	up := upstreamGateway(b, gateway.DefaultTemplate)
	bridge := func(svc gen.Hello_PortType) string {
		srv := httptest.NewServer(newGateway(b, func(c *gateway.Config) { c.Service = svc }))
		b.Cleanup(srv.Close)
		return srv.URL
	}
	jsonBackend, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: up.URL})
	if err != nil {
		b.Fatal(err)
	}
	soapBackend, err := migrate.NewSOAPBackend(op, migrate.UpstreamConfig{URL: up.URL + "/SayHello/"})
	if err != nil {
		b.Fatal(err)
	}
	viaJSON, viaSOAP := bridge(jsonBackend), bridge(soapBackend)

	jsonBody, soapBody := `{"firstName":"Ada"}`, envelope11("Ada")
	for _, bc := range []struct {
		name, url, contentType, body string
	}{
		{"JSON/direct", up.URL + "/sayHello", "application/json", jsonBody},
		{"JSON/hellogw", viaJSON + "/sayHello", "application/json", jsonBody},
		{"SOAP/direct", up.URL + "/SayHello/", "text/xml; charset=utf-8", soapBody},
		{"SOAP/hellogw", viaSOAP + "/SayHello/", "text/xml; charset=utf-8", soapBody},
		{"SOAPtoJSON/hellogw", viaJSON + "/SayHello/", "text/xml; charset=utf-8", soapBody},
		{"JSONtoSOAP/hellogw", viaSOAP + "/sayHello", "application/json", jsonBody},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("POST", bc.url, strings.NewReader(bc.body))
				req.Header.Set("Content-Type", bc.contentType)
				req.Header.Set("SOAPAction", `"sayHello"`)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
