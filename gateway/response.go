package gateway

import (
	"bytes"
	"encoding/xml"

	"github.com/hellogw/hellogw/wsdl"
)

// responseFrame is an rpc response envelope cut around its one value, built
// once per operation and version from the WSDL binding, so that answering
// is two copies and an escape.
type responseFrame struct {
	head, tail  string
	contentType []string // the Content-Type header value
}

// newResponseFrame lays out the rpc response for op (SOAP 1.1 §7.1, WSDL
// 1.1 §3.5): a wrapper named op.ResponseName in the binding's namespace,
// holding the output part, with encodingStyle and xsi:type when the body
// use is "encoded". SOAP 1.2 adds rpc:result naming the return value
// (SOAP 1.2 part 2 §4.2.3).
func newResponseFrame(v *soapVersion, op wsdl.Operation) responseFrame {
	env := "SOAP-ENV"
	if v == soap12 {
		env = "env"
	}
	var head bytes.Buffer
	head.WriteString(xml.Header)
	head.WriteString(`<` + env + `:Envelope xmlns:` + env + `="` + v.envNS + `"`)
	encoded := op.Use == "encoded"
	if encoded {
		head.WriteString(` xmlns:xsd="` + nsXSD + `" xmlns:xsi="` + nsXSI + `"`)
	}
	head.WriteString(`><` + env + `:Body><ns1:` + op.ResponseName + ` xmlns:ns1="` + attr(op.Namespace) + `"`)
	if encoded {
		style := op.EncodingStyle
		if v == soap12 {
			style = v.encNS
		}
		head.WriteString(` ` + env + `:encodingStyle="` + attr(style) + `"`)
	}
	head.WriteString(`>`)
	if v == soap12 {
		head.WriteString(`<rpc:result xmlns:rpc="http://www.w3.org/2003/05/soap-rpc">` + op.OutputPart + `</rpc:result>`)
	}
	head.WriteString(`<` + op.OutputPart)
	if encoded {
		head.WriteString(` xsi:type="xsd:string"`)
	}
	head.WriteString(`>`)
	return responseFrame{
		contentType: []string{v.contentType},
		head:        head.String(),
		tail:        `</` + op.OutputPart + `></ns1:` + op.ResponseName + `></` + env + `:Body></` + env + `:Envelope>`,
	}
}

// append writes the envelope carrying value. The escape (xml.EscapeText's)
// escapes markup and replaces any character XML cannot carry, so the
// envelope is well-formed whatever an upstream handed back.
func (f responseFrame) append(b *bytes.Buffer, value string) {
	b.WriteString(f.head)
	escapeText(b, value)
	b.WriteString(f.tail)
}

func attr(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
