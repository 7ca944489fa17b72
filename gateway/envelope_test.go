package gateway_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnvelopeEncodings covers the SOAP-encoding forms that no captured
// client sent: hexBinary, SOAP-ENC:base64, the 1999 schema namespaces of
// old toolkits, SOAP 1.2 enc:ref, and reference chains and cycles.
func TestEnvelopeEncodings(t *testing.T) {
	const env11 = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>%s</s:Body></s:Envelope>`
	const env12 = `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:enc="http://www.w3.org/2003/05/soap-encoding"><e:Body>%s</e:Body></e:Envelope>`
	op := func(part string) string {
		return `<h:sayHello xmlns:h="urn:examples:helloservice">` + part + `</h:sayHello>`
	}
	g := newGateway(t)
	for _, tc := range []struct {
		desc, envelope, body string
		want                 string // greeting name; "" means a Client/Sender fault
		fault                string
	}{
		{"OKHexBinary", env11, op(`<firstName xsi:type="xsd:hexBinary">416461</firstName>`), "Ada", ""},
		{"OKSOAPENCBase64", env11, op(`<firstName xsi:type="enc:base64">QWRh</firstName>`), "Ada", ""},
		{"OK1999Namespaces", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/1999/XMLSchema-instance" xmlns:d="http://www.w3.org/1999/XMLSchema"><s:Body>%s</s:Body></s:Envelope>`,
			op(`<firstName i:type="d:base64Binary">QWRh</firstName>`), "Ada", ""},
		{"OKStringTypeKeepsText", env11, op(`<firstName xsi:type="xsd:string">QWRh</firstName>`), "QWRh", ""},
		{"OKSOAP12Ref", env12, op(`<firstName enc:ref="n1"/>`) + `<v enc:id="n1">Ada</v>`, "Ada", ""},
		{"OKHrefChain", env11, op(`<firstName href="#a"/>`) + `<m id="a" href="#b"/><m id="b">Ada</m>`, "Ada", ""},
		{"ErrHrefCycle", env11, op(`<firstName href="#a"/>`) + `<m id="a" href="#b"/><m id="b" href="#a"/>`, "", "too many SOAP-encoding references"},
		{"ErrHexBinary", env11, op(`<firstName xsi:type="xsd:hexBinary">zz</firstName>`), "", "not valid hex"},
		{"ErrNil1999", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/1999/XMLSchema-instance"><s:Body>%s</s:Body></s:Envelope>`,
			op(`<firstName i:null="1"/>`), "", "firstName is nil"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			ct := "text/xml"
			if tc.envelope == env12 {
				ct = "application/soap+xml"
			}
			w := do(g, "POST", "/SayHello/", ct, strings.NewReader(strings.Replace(tc.envelope, "%s", tc.body, 1)))
			a := parseAnswer(t, w.Body.Bytes())
			if tc.want != "" {
				require.Equal(t, 200, w.Code, "%s", w.Body)
				assert.Equal(t, "Hello, "+tc.want+"!", *a.greeting)
				return
			}
			assert.Equal(t, 500, w.Code)
			assert.Contains(t, []string{"Client", "Sender"}, a.code)
			assert.Contains(t, a.reason, tc.fault)
		})
	}
}
