package migrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/migrate"
	"github.com/hellogw/hellogw/wsdl"
)

const trickyName = `O'Brien <&> "名前" 😀`

// newGateway, do and the request envelopes: see gwtest.
var (
	newGateway = gwtest.NewGateway
	do         = gwtest.Do
	envelope11 = gwtest.Envelope11
	envelope12 = gwtest.Envelope12
)

func ptr(s string) *string { return &s }

// greetingOf returns the greeting of the SOAP response w holds.
func greetingOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	entry := bodyEntry(t, w)
	require.NotEqual(t, "Fault", entry.Tag, w.Body.String())
	require.Len(t, entry.ChildElements(), 1)
	return entry.ChildElements()[0].Text()
}

// faultOf returns the code (its local name) and the reason of the SOAP
// 1.1 or 1.2 fault w holds.
func faultOf(t *testing.T, w *httptest.ResponseRecorder) (code, reason string) {
	t.Helper()
	fault := bodyEntry(t, w)
	require.Equal(t, "Fault", fault.Tag, w.Body.String())
	// SOAP 1.1 §4.4 faultcode and faultstring, SOAP 1.2 part 1 §5.4 Code and Reason.
	codeEl, reasonEl := fault.SelectElement("faultcode"), fault.SelectElement("faultstring")
	if fault.NamespaceURI() == gwtest.NSEnv12 {
		codeEl, reasonEl = fault.FindElement("Code/Value"), fault.FindElement("Reason/Text")
	}
	require.NotNil(t, codeEl)
	require.NotNil(t, reasonEl)
	_, code, _ = strings.Cut(codeEl.Text(), ":")
	return code, reasonEl.Text()
}

// bodyEntry returns the first element in the Body of the SOAP envelope w
// holds, read by namespace.
func bodyEntry(t *testing.T, w *httptest.ResponseRecorder) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(w.Body.Bytes()), "not well-formed XML: %s", w.Body)
	env := doc.Root()
	require.Contains(t, []string{gwtest.NSEnv11, gwtest.NSEnv12}, env.NamespaceURI())
	body := env.SelectElement("Body")
	require.NotNil(t, body)
	require.NotEmpty(t, body.ChildElements())
	return body.ChildElements()[0]
}

// problemDetail returns the detail of the problem (RFC 9457) w holds.
func problemDetail(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p struct{ Detail string }
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), w.Body.String())
	return p.Detail
}

// sayHelloOp is the binding's one operation, as the backends are built from it.
func sayHelloOp(tb testing.TB) wsdl.Operation {
	tb.Helper()
	b, err := wsdl.Parse(wsdl.Document())
	require.NoError(tb, err)
	require.Len(tb, b.Operations, 1)
	for _, op := range b.Operations {
		return op
	}
	return wsdl.Operation{}
}

// upstreamGateway serves a gateway on the local core with template over
// real HTTP: the upstream that both backends can call.
func upstreamGateway(tb testing.TB, template string) *httptest.Server {
	tb.Helper()
	core, err := gateway.NewCore(template)
	require.NoError(tb, err)
	g := newGateway(tb, func(c *gateway.Config) { c.Service = core })
	srv := httptest.NewServer(g)
	tb.Cleanup(srv.Close)
	return srv
}

// backendKinds builds each upstream backend against an upstream gateway.
var backendKinds = []struct {
	name string
	make func(tb testing.TB, op wsdl.Operation, cfg migrate.UpstreamConfig) gen.Hello_PortType
	path string // where on an upstream gateway the backend posts
}{
	{"JSON", func(tb testing.TB, op wsdl.Operation, cfg migrate.UpstreamConfig) gen.Hello_PortType {
		b, err := migrate.NewJSONBackend(op, cfg)
		require.NoError(tb, err)
		return b
	}, ""},
	{"SOAP", func(tb testing.TB, op wsdl.Operation, cfg migrate.UpstreamConfig) gen.Hello_PortType {
		b, err := migrate.NewSOAPBackend(op, cfg)
		require.NoError(tb, err)
		return b
	}, "/SayHello/"},
}

func kindOf(t *testing.T, err error) gateway.Kind {
	t.Helper()
	var e *gateway.Error
	require.True(t, errors.As(err, &e), "want a *gateway.Error, got %T %v", err, err)
	return e.Kind
}

func TestBackendsRoundTrip(t *testing.T) {
	op := sayHelloOp(t)
	up := upstreamGateway(t, "Hi {firstName}.")
	for _, k := range backendKinds {
		t.Run(k.name, func(t *testing.T) {
			b := k.make(t, op, migrate.UpstreamConfig{URL: up.URL + k.path})
			for _, name := range []string{"Ada", trickyName, "tab\tnew\nline\r", strings.Repeat("é", gateway.MaxFirstName)} {
				got, err := b.SayHelloContext(t.Context(), &name)
				require.NoError(t, err)
				assert.Equal(t, "Hi "+name+".", *got)
			}
			t.Run("ErrInvalidNeverSent", func(t *testing.T) {
				var calls atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
				defer srv.Close()
				b := k.make(t, op, migrate.UpstreamConfig{URL: srv.URL})
				for _, name := range []*string{nil, new(string), ptr("A\x01")} {
					_, err := b.SayHelloContext(t.Context(), name)
					assert.Equal(t, gateway.KindInvalid, kindOf(t, err))
				}
				assert.Zero(t, calls.Load(), "an invalid name must not reach the upstream")
			})
		})
	}
}

// TestBackendsThroughRouter checks that a bridged answer and a bridged
// failure leave by every wire format in front as the codecs define.
func TestBackendsThroughRouter(t *testing.T) {
	op := sayHelloOp(t)
	up := upstreamGateway(t, gateway.DefaultTemplate)
	for _, k := range backendKinds {
		t.Run(k.name, func(t *testing.T) {
			g := newGateway(t, func(c *gateway.Config) { c.Service = k.make(t, op, migrate.UpstreamConfig{URL: up.URL + k.path}) })
			w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"O'Brien <&> \"名前\" 😀"}`))
			require.Equal(t, 200, w.Code, w.Body.String())
			assert.JSONEq(t, `{"greeting":"Hello, O'Brien <&> \"名前\" 😀!"}`, w.Body.String())
			w = do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11(trickyName)), "SOAPAction", `"sayHello"`)
			require.Equal(t, 200, w.Code, w.Body.String())
			assert.Equal(t, "Hello, "+trickyName+"!", greetingOf(t, w))

			down := gwtest.ClosedURL(t)
			g = newGateway(t, func(c *gateway.Config) { c.Service = k.make(t, op, migrate.UpstreamConfig{URL: down + k.path}) })
			w = do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`))
			require.Equal(t, http.StatusBadGateway, w.Code, w.Body.String())
			assert.Contains(t, problemDetail(t, w), "upstream "+down+" cannot be reached")
			w = do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Ada")))
			code, reason := faultOf(t, w)
			assert.Equal(t, "Server", code)
			assert.Contains(t, reason, "upstream "+down)
			w = do(g, "POST", "/SayHello/", `application/soap+xml; action="sayHello"`, strings.NewReader(envelope12("Ada")))
			code, _ = faultOf(t, w)
			assert.Equal(t, "Receiver", code)
		})
	}
}

// TestBackendFailures runs each upstream misbehaviour against both backends.
func TestBackendFailures(t *testing.T) {
	op := sayHelloOp(t)
	soapFault := `<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
		`<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>db down for Ada</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`
	for _, tc := range []struct {
		desc    string
		backend string // "" for both
		handler http.HandlerFunc
		kind    gateway.Kind
		message string // after "upstream http://host "
	}{
		{"ErrHTTP500", "", answer(500, "text/plain", "boom"), gateway.KindBadGateway, "answered HTTP 500"},
		{"ErrHTTP404", "", answer(404, "text/html", "<h1>no</h1>"), gateway.KindBadGateway, "answered HTTP 404"},
		{"ErrRedirect", "", answer(302, "text/plain", ""), gateway.KindBadGateway, "answered HTTP 302"},
		{"ErrGarbageJSON", "JSON", answer(200, "application/json", "{not json"), gateway.KindBadGateway, "not a sayHello response"},
		{"ErrNotJSON", "JSON", answer(200, "text/html", "<html>"), gateway.KindBadGateway, `Content-Type "text/html", not JSON`},
		{"ErrNoGreeting", "JSON", answer(200, "application/json", `{"hello":"x"}`), gateway.KindBadGateway, "without a greeting"},
		{"ErrGreetingNotString", "JSON", answer(200, "application/json", `{"greeting":42}`), gateway.KindBadGateway, "not a sayHello response"},
		{"ErrGreetingNotXMLText", "JSON", answer(200, "application/json", `{"greeting":"a\u0000b"}`), gateway.KindBadGateway, "XML 1.0 cannot carry"},
		{"ErrGarbageXML", "SOAP", answer(200, "text/xml", "<oops"), gateway.KindBadGateway, "not a SOAP envelope"},
		{"ErrNotEnvelope", "SOAP", answer(200, "text/xml", "<html/>"), gateway.KindBadGateway, "not a SOAP envelope"},
		{"ErrDTD", "SOAP", answer(200, "text/xml", `<!DOCTYPE x [<!ENTITY e "x">]><x/>`), gateway.KindBadGateway, "not a SOAP envelope"},
		{"ErrFault", "SOAP", answer(500, "text/xml", soapFault), gateway.KindBadGateway, "answered a SOAP Fault (SOAP-ENV:Server)"},
		{"ErrWrongElement", "SOAP", answer(200, "text/xml", strings.Replace(soapFault, "Fault", "Other", 2)), gateway.KindBadGateway, "answered HTTP 200 with Other, not sayHelloResponse"},
		{"ErrNilGreeting", "SOAP", answer(200, "text/xml", soapResponse(`<greeting xsi:nil="true"/>`)), gateway.KindBadGateway, "greeting is nil"},
		{"ErrHTTP500NotFault", "SOAP", answer(500, "text/xml", soapResponse(`<greeting>x</greeting>`)), gateway.KindBadGateway, "answered HTTP 500 without a SOAP Fault"},
		{"ErrSlow", "", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // then net/http notices the caller hang up
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, gateway.KindTimeout, "did not answer within 200ms"},
		{"ErrHangsUp", "", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, gateway.KindBadGateway, "broke off the call"},
	} {
		for _, k := range backendKinds {
			if tc.backend != "" && tc.backend != k.name {
				continue
			}
			t.Run(tc.desc+"/"+k.name, func(t *testing.T) {
				var calls atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					tc.handler(w, r)
				}))
				defer srv.Close()
				b := k.make(t, op, migrate.UpstreamConfig{URL: srv.URL, Timeout: 200 * time.Millisecond})
				start := time.Now()
				_, err := b.SayHelloContext(t.Context(), ptr("Ada"))
				assert.Less(t, time.Since(start), time.Second, "a failing call must end within its timeout")
				require.Error(t, err)
				assert.Equal(t, tc.kind, kindOf(t, err), "%v", err)
				assert.Contains(t, err.Error(), "upstream "+srv.URL+" ")
				assert.Contains(t, err.Error(), tc.message)
				assert.NotContains(t, err.Error(), "Ada", "an upstream error must not quote the name")
				assert.Equal(t, int32(1), calls.Load(), "a request that reached the upstream is never retried")
			})
		}
	}
}

func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		if status == http.StatusFound {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// soapResponse wraps part in a sayHelloResponse envelope.
func soapResponse(part string) string {
	return `<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
		`xmlns:xsd="http://www.w3.org/2001/XMLSchema"><S:Body><r:sayHelloResponse xmlns:r="urn:examples:helloservice">` + part +
		`</r:sayHelloResponse></S:Body></S:Envelope>`
}

// TestSOAPBackendTolerance feeds the SOAP backend answers shaped as real
// SOAP stacks shape them.
func TestSOAPBackendTolerance(t *testing.T) {
	op := sayHelloOp(t)
	for _, tc := range []struct {
		desc, body string
	}{
		{"Plain", soapResponse(`<greeting xsi:type="xsd:string">Hello, Ada!</greeting>`)},
		{"NoXSIType", soapResponse(`<greeting>Hello, Ada!</greeting>`)},
		{"PartByPosition", soapResponse(`<s-gensym3 xsi:type="xsd:string">Hello, Ada!</s-gensym3>`)},
		{"PartQualified", soapResponse(`<r:greeting>Hello, Ada!</r:greeting>`)},
		{"OtherNamespace", strings.Replace(soapResponse(`<greeting>Hello, Ada!</greeting>`), "urn:examples:helloservice", "urn:other", 1)},
		{"Base64", soapResponse(`<greeting xsi:type="xsd:base64Binary">SGVsbG8sIEFkYSE=</greeting>`)},
		{"CDATA", soapResponse(`<greeting><![CDATA[Hello, ]]>Ada!</greeting>`)},
		{"MultiRef", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
			`<ns1:sayHelloResponse xmlns:ns1="urn:examples:helloservice"><greeting href="#id0"/></ns1:sayHelloResponse>` +
			`<multiRef id="id0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xsd:string" xmlns:xsd="http://www.w3.org/2001/XMLSchema">Hello, Ada!</multiRef>` +
			`</soapenv:Body></soapenv:Envelope>`},
		{"ISO88591", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + strings.Replace(soapResponse("<greeting>Hello, Ad\xe1!</greeting>"), `<?xml version="1.0"?>`, "", 1)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			srv := httptest.NewServer(answer(200, "text/xml; charset=utf-8", tc.body))
			defer srv.Close()
			b, err := migrate.NewSOAPBackend(op, migrate.UpstreamConfig{URL: srv.URL})
			require.NoError(t, err)
			got, err := b.SayHelloContext(t.Context(), ptr("Ada"))
			require.NoError(t, err)
			want := "Hello, Ada!"
			if tc.desc == "ISO88591" {
				want = "Hello, Adá!"
			}
			assert.Equal(t, want, *got)
		})
	}
}

// TestSOAPBackendRequest checks the call on the wire against the binding.
func TestSOAPBackendRequest(t *testing.T) {
	op := sayHelloOp(t)
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		answer(200, "text/xml", soapResponse(`<greeting>ok</greeting>`))(w, r)
	}))
	defer srv.Close()
	b, err := migrate.NewSOAPBackend(op, migrate.UpstreamConfig{URL: srv.URL + "/legacy/hello.php"})
	require.NoError(t, err)
	_, err = b.SayHelloContext(t.Context(), ptr(trickyName))
	require.NoError(t, err)

	assert.Equal(t, "/legacy/hello.php", got.URL.Path)
	assert.Equal(t, `"`+op.SOAPAction+`"`, got.Header.Get("SOAPAction"))
	assert.Equal(t, "text/xml; charset=utf-8", got.Header.Get("Content-Type"))
	s := string(body)
	for _, want := range []string{
		`<ns1:` + op.Name + ` xmlns:ns1="` + op.Namespace + `" SOAP-ENV:encodingStyle="` + op.EncodingStyle + `">`,
		`<` + op.InputPart + ` xsi:type="xsd:string">O&#39;Brien &lt;&amp;&gt; &#34;名前&#34; 😀</` + op.InputPart + `>`,
		`xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"`,
	} {
		assert.Contains(t, s, want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestUpstreamHeaders checks that the caller's request id passes through,
// and no credential unless an identity is configured (identity_test.go).
func TestUpstreamHeaders(t *testing.T) {
	op := sayHelloOp(t)
	headers := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		answer(200, "application/json", `{"greeting":"hi"}`)(w, r)
	}))
	defer srv.Close()
	b, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: srv.URL})
	require.NoError(t, err)

	g := newGateway(t, func(c *gateway.Config) { c.Service = b })
	w := do(g, "POST", "/sayHello", "application/json", strings.NewReader(`{"firstName":"Ada"}`), "X-Request-Id", "req-42", "Authorization", "Bearer s3cret")
	require.Equal(t, 200, w.Code, w.Body.String())
	h := <-headers
	assert.Equal(t, "req-42", h.Get("X-Request-Id"))
	assert.Empty(t, h.Get("Authorization"))
}

// TestBreaker checks that the breaker opens after the configured number
// of failures in a row, fails fast while open, and closes again after a
// successful trial call.
func TestBreaker(t *testing.T) {
	op := sayHelloOp(t)
	var healthy atomic.Bool
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if healthy.Load() {
			answer(200, "application/json", `{"greeting":"hi"}`)(w, r)
			return
		}
		answer(503, "text/plain", "")(w, r)
	}))
	defer srv.Close()
	b, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: srv.URL, BreakerFailures: 3, BreakerCooldown: 200 * time.Millisecond})
	require.NoError(t, err)
	for range 3 {
		_, err := b.SayHelloContext(t.Context(), ptr("Ada"))
		assert.Equal(t, gateway.KindBadGateway, kindOf(t, err))
	}
	_, err = b.SayHelloContext(t.Context(), ptr("Ada"))
	assert.Equal(t, gateway.KindUnavailable, kindOf(t, err))
	assert.Contains(t, err.Error(), "upstream "+srv.URL+" is failing")
	assert.Equal(t, int32(3), calls.Load(), "an open breaker must not call the upstream")

	t.Run("CanceledCallersDoNotCount", func(t *testing.T) {
		time.Sleep(250 * time.Millisecond) // half-open: one trial
		healthy.Store(true)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := b.SayHelloContext(ctx, ptr("Ada"))
		require.Error(t, err)
		got, err := b.SayHelloContext(t.Context(), ptr("Ada"))
		require.NoError(t, err, "the trial call closes the breaker")
		assert.Equal(t, "hi", *got)
	})
}

// TestUpstreamMetrics checks hellogw_upstream_duration_seconds: one
// histogram shared by every upstream on a registry, by upstream and outcome.
func TestUpstreamMetrics(t *testing.T) {
	op := sayHelloOp(t)
	reg := prometheus.NewRegistry()
	up := upstreamGateway(t, gateway.DefaultTemplate)
	down := gwtest.ClosedURL(t)
	for _, u := range []string{up.URL, down} {
		b, err := migrate.NewJSONBackend(op, migrate.UpstreamConfig{URL: u, Registerer: reg, BreakerFailures: 1})
		require.NoError(t, err)
		for range 2 {
			_, _ = b.SayHelloContext(t.Context(), ptr("Ada"))
		}
	}
	calls := map[string]uint64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		require.Equal(t, "hellogw_upstream_duration_seconds", mf.GetName())
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			calls[labels["upstream"]+" "+labels["outcome"]] = m.GetHistogram().GetSampleCount()
		}
	}
	assert.Equal(t, map[string]uint64{
		up.URL + " ok":        2,
		down + " bad_gateway": 1,
		down + " unavailable": 1, // the breaker opened after one failure
	}, calls)
}
