package gateway_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/gwtest"
	"github.com/hellogw/hellogw/internal/wsse"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.xml from the gateway's answers")

const (
	nsEnv11 = gwtest.NSEnv11
	nsEnv12 = gwtest.NSEnv12
)

// envelope11 and envelope12: minimal sayHello requests (gwtest).
var (
	envelope11 = gwtest.Envelope11
	envelope12 = gwtest.Envelope12
)

// soapAnswer is a parsed response envelope: a greeting or a fault.
type soapAnswer struct {
	envNS    string
	greeting *string
	code     string // the fault code's local name
	subcode  string // a WS-Security fault code's local name
	reason   string
}

// wsseCode returns the local name of a fault code in the WS-Security
// namespace.
func wsseCode(t *testing.T, e *etree.Element) string {
	t.Helper()
	prefix, local, _ := strings.Cut(e.Text(), ":")
	require.Equal(t, wsse.NS, lookupNS(e, prefix), "fault code %q is not in the WS-Security namespace", e.Text())
	return local
}

// parseAnswer reads a response envelope by namespace, never by prefix.
func parseAnswer(t *testing.T, body []byte) soapAnswer {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(body), "response is not well-formed XML: %s", body)
	env := doc.Root()
	require.Equal(t, "Envelope", env.Tag)
	a := soapAnswer{envNS: env.NamespaceURI()}
	require.Contains(t, []string{nsEnv11, nsEnv12}, a.envNS)
	bodyEl := env.SelectElement("Body")
	require.NotNil(t, bodyEl)
	first := bodyEl.ChildElements()[0]
	if first.Tag == "Fault" && first.NamespaceURI() == a.envNS {
		var code *etree.Element
		if a.envNS == nsEnv11 {
			code = first.SelectElement("faultcode")
			a.reason = first.SelectElement("faultstring").Text()
		} else {
			code = first.FindElement("Code/Value")
			a.reason = first.FindElement("Reason/Text").Text()
			if sub := first.FindElement("Code/Subcode/Value"); sub != nil {
				a.subcode = wsseCode(t, sub)
			}
		}
		prefix, local, _ := strings.Cut(code.Text(), ":")
		if a.envNS == nsEnv11 && lookupNS(code, prefix) == wsse.NS {
			// WS-Security 1.1 §12: in SOAP 1.1 the fault code is the wsse one.
			a.code, a.subcode = "Client", wsseCode(t, code)
			return a
		}
		require.Equal(t, a.envNS, lookupNS(code, prefix), "fault code %q is not in the envelope namespace", code.Text())
		a.code = local
		return a
	}
	require.Equal(t, "sayHelloResponse", first.Tag)
	require.Equal(t, "urn:examples:helloservice", first.NamespaceURI())
	g := first.SelectElement("greeting")
	require.NotNil(t, g, "no greeting part in %s", body)
	text := g.Text()
	a.greeting = &text
	return a
}

func lookupNS(e *etree.Element, prefix string) string {
	for ; e != nil; e = e.Parent() {
		if a := e.SelectAttr("xmlns:" + prefix); a != nil {
			return a.Value
		}
	}
	return ""
}

func decodeFault(t *testing.T, w *httptest.ResponseRecorder) soapAnswer {
	t.Helper()
	a := parseAnswer(t, w.Body.Bytes())
	require.Nil(t, a.greeting, "want a fault, got a greeting")
	return a
}

// soapCase is one entry of testdata/envelopes/cases.json.
type soapCase struct {
	Name            string  `json:"name"`
	File            string  `json:"file"`
	ContentType     string  `json:"content_type"`
	SOAPAction      string  `json:"soap_action"`
	NoSOAPAction    bool    `json:"no_soap_action"`
	ContentEncoding string  `json:"content_encoding"`
	WantFirstName   *string `json:"want_first_name"`
	WantFault       string  `json:"want_fault"`
	FaultContains   string  `json:"fault_contains"`
	FaultExcludes   string  `json:"fault_excludes"`
}

// TestEnvelopes sends every envelope in testdata/envelopes, those real
// clients sent and the hand-made tolerated and rejected shapes, and checks
// the answer that cases.json expects.
func TestEnvelopes(t *testing.T) {
	raw, err := os.ReadFile("../testdata/envelopes/cases.json")
	require.NoError(t, err)
	var cases []soapCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)

	g := newGateway(t)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("../testdata/envelopes", tc.File))
			require.NoError(t, err)
			headers := []string{}
			if !tc.NoSOAPAction {
				headers = append(headers, "SOAPAction", tc.SOAPAction)
			}
			if tc.ContentEncoding != "" {
				headers = append(headers, "Content-Encoding", tc.ContentEncoding)
			}
			w := do(g, "POST", "/SayHello/", tc.ContentType, bytes.NewReader(body), headers...)
			a := parseAnswer(t, w.Body.Bytes())

			wantCT := "text/xml; charset=utf-8"
			if a.envNS == nsEnv12 {
				wantCT = "application/soap+xml; charset=utf-8"
			}
			assert.Equal(t, wantCT, w.Header().Get("Content-Type"))

			if tc.WantFirstName != nil {
				require.Equal(t, 200, w.Code, "%s", w.Body)
				require.NotNil(t, a.greeting, "want a greeting, got fault %s: %s", a.code, a.reason)
				assert.Equal(t, "Hello, "+*tc.WantFirstName+"!", *a.greeting)
				return
			}
			assert.Equal(t, 500, w.Code)
			assert.Equal(t, tc.WantFault, a.code, "faultstring: %s", a.reason)
			assert.NotEmpty(t, a.reason)
			if tc.FaultContains != "" {
				assert.Contains(t, a.reason, tc.FaultContains)
			}
			if tc.FaultExcludes != "" {
				assert.NotContains(t, w.Body.String(), tc.FaultExcludes)
			}
		})
	}
}

func TestSOAPAction(t *testing.T) {
	g := newGateway(t)
	for _, tc := range []struct {
		action string
		ok     bool
	}{
		{`"sayHello"`, true},
		{`sayHello`, true},
		{`""`, true},
		{``, true},
		{`"urn:examples:helloservice#sayHello"`, true},
		{`http://www.examples.com/SayHello/sayHello`, true},
		{`"deleteEverything"`, false},
		{`"urn:other#sayGoodbye"`, false},
	} {
		t.Run(tc.action, func(t *testing.T) {
			w := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(envelope11("Ada")), "SOAPAction", tc.action)
			a := parseAnswer(t, w.Body.Bytes())
			if tc.ok {
				require.Equal(t, 200, w.Code, "%s", w.Body)
				assert.Equal(t, "Hello, Ada!", *a.greeting)
				return
			}
			assert.Equal(t, 500, w.Code)
			assert.Equal(t, "Client", a.code)
			assert.Contains(t, a.reason, "does not match operation sayHello")
		})
	}
}

func TestSOAP12(t *testing.T) {
	g := newGateway(t)
	t.Run("OKAction", func(t *testing.T) {
		w := do(g, "POST", "/SayHello", `application/soap+xml; charset=utf-8; action="sayHello"`, strings.NewReader(envelope12("Ada")))
		require.Equal(t, 200, w.Code, "%s", w.Body)
		assert.Equal(t, "application/soap+xml; charset=utf-8", w.Header().Get("Content-Type"))
		a := parseAnswer(t, w.Body.Bytes())
		assert.Equal(t, nsEnv12, a.envNS)
		assert.Equal(t, "Hello, Ada!", *a.greeting)
	})
	t.Run("ErrAction", func(t *testing.T) {
		w := do(g, "POST", "/SayHello", `application/soap+xml; action="other"`, strings.NewReader(envelope12("Ada")))
		a := decodeFault(t, w)
		assert.Equal(t, "Sender", a.code)
	})
	t.Run("ErrEmptyIsSender", func(t *testing.T) {
		w := do(g, "POST", "/SayHello", `application/soap+xml`, strings.NewReader(envelope12("")))
		assert.Equal(t, 500, w.Code)
		a := decodeFault(t, w)
		assert.Equal(t, nsEnv12, a.envNS)
		assert.Equal(t, "Sender", a.code)
	})
	t.Run("OK11EnvelopeUnderSOAP12Type", func(t *testing.T) {
		w := do(g, "POST", "/SayHello", `application/soap+xml`, strings.NewReader(envelope11("Ada")))
		require.Equal(t, 200, w.Code)
		assert.Equal(t, nsEnv11, parseAnswer(t, w.Body.Bytes()).envNS, "answered in the envelope's own version")
	})
}

func TestSOAPContentType(t *testing.T) {
	g := newGateway(t)
	for _, ct := range []string{"", "text/xml", "text/xml; charset=ISO-8859-1", "application/xml", "TEXT/XML"} {
		w := do(g, "POST", "/SayHello/", ct, strings.NewReader(envelope11("Ada")))
		assert.Equal(t, 200, w.Code, "Content-Type %q: %s", ct, w.Body)
	}
	w := do(g, "POST", "/SayHello/", "application/x-www-form-urlencoded", strings.NewReader("firstName=Ada"))
	a := decodeFault(t, w)
	assert.Equal(t, "Client", a.code)
	assert.Contains(t, a.reason, "send text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)")
}

// TestSOAPGolden pins the exact bytes of the answers, which real clients
// parse: regenerate with `go test ./gateway -run TestSOAPGolden -update`.
func TestSOAPGolden(t *testing.T) {
	g := newGateway(t)
	for _, tc := range []struct {
		golden, contentType, body string
	}{
		{"soap11-ok.xml", "text/xml", envelope11(`O'Brien <&> "名前" 😀`)},
		{"soap12-ok.xml", "application/soap+xml", envelope12(`O'Brien <&> "名前" 😀`)},
		{"soap11-fault-client.xml", "text/xml", envelope11("")},
		{"soap12-fault-sender.xml", "application/soap+xml", envelope12("")},
		{"soap11-fault-versionmismatch.xml", "text/xml", `<e:Envelope xmlns:e="urn:not-soap"><e:Body/></e:Envelope>`},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			w := do(g, "POST", "/SayHello/", tc.contentType, strings.NewReader(tc.body))
			path := filepath.Join("../testdata/golden", tc.golden)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, w.Body.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), w.Body.String())
		})
	}
}

// TestSOAPRoundTrip checks that any name XML can carry comes back exactly,
// whatever characters it holds.
func TestSOAPRoundTrip(t *testing.T) {
	g := newGateway(t)
	for _, name := range []string{
		`O'Brien <&> "名前" 😀`, "tab\there", "new\nline", "carriage\rreturn", "]]>", "\u00a0nbsp", "\U0010FFFF", " spaced ",
	} {
		for _, env := range []string{envelope11(name), envelope12(name)} {
			w := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(env))
			require.Equal(t, 200, w.Code, "%q: %s", name, w.Body)
			assert.Equal(t, "Hello, "+name+"!", *parseAnswer(t, w.Body.Bytes()).greeting, "%q", name)
		}
	}
}
