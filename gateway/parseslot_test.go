package gateway

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hellogw/hellogw/wsdl"
)

// TestParseSlots: with every parse slot taken, a request waits, and one
// whose context ends first is answered with a Server fault rather than
// parsed; once a slot is free, requests parse again.
func TestParseSlots(t *testing.T) {
	core, err := NewCore(DefaultTemplate)
	if err != nil {
		t.Fatal(err)
	}
	binding, err := wsdl.Parse(wsdl.Document())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Service: core, Binding: binding})
	if err != nil {
		t.Fatal(err)
	}
	// A body the fast path declines, so that it takes the strict path.
	const body = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><!-- strict --><h:sayHello xmlns:h="urn:examples:helloservice"><firstName>Ada</firstName></h:sayHello></s:Body></s:Envelope>`
	post := func(ctx context.Context) string {
		req := httptest.NewRequestWithContext(ctx, "POST", "/SayHello/", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		return w.Body.String()
	}

	for range cap(g.parses) {
		g.parses <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if got := post(ctx); !strings.Contains(got, "SOAP-ENV:Server") || !strings.Contains(got, "busy") {
		t.Fatalf("with every slot taken: %s", got)
	}
	<-g.parses
	if got := post(t.Context()); !strings.Contains(got, "Hello, Ada!") {
		t.Fatalf("with a slot free: %s", got)
	}
}
