package gateway

import (
	"encoding/xml"
	"strings"

	"github.com/beevik/etree"

	"github.com/hellogw/hellogw/wsdl"
)

// The client side of the SOAP codec: what a backend that calls a SOAP
// service (migrate.SOAPBackend) needs to write a call and read the answer
// by the same rules the gateway applies to its own callers.

// SOAP11ContentType is the Content-Type of a SOAP 1.1 message (SOAP 1.1
// §6.1.1: text/xml), in the UTF-8 the gateway writes.
const SOAP11ContentType = "text/xml; charset=utf-8"

// RPCRequestFrame lays out the SOAP 1.1 rpc request envelope calling op
// around its one input part's text (SOAP 1.1 §7.1, WSDL 1.1 §3.5): the
// same shape as the gateway's own responses, with the operation and its
// input part, and encodingStyle and xsi:type when the binding's use is
// "encoded". open ends with the Envelope's start tag (prefix SOAP-ENV), so
// a SOAP-ENV:Header may go between open and head; the part's text, escaped,
// goes between head and tail.
func RPCRequestFrame(op wsdl.Operation) (open, head, tail string) {
	encoded := op.Use == "encoded"
	var h strings.Builder
	h.WriteString(xml.Header)
	h.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + nsSOAP11Env + `"`)
	if encoded {
		h.WriteString(` xmlns:xsd="` + nsXSD + `" xmlns:xsi="` + nsXSI + `"`)
	}
	h.WriteString(`>`)
	open = h.String()
	h.Reset()
	h.WriteString(`<SOAP-ENV:Body><ns1:` + op.Name + ` xmlns:ns1="` + attr(op.Namespace) + `"`)
	if encoded {
		h.WriteString(` SOAP-ENV:encodingStyle="` + attr(op.EncodingStyle) + `"`)
	}
	h.WriteString(`><` + op.InputPart)
	if encoded {
		h.WriteString(` xsi:type="xsd:string"`)
	}
	h.WriteString(`>`)
	return open, h.String(), `</` + op.InputPart + `></ns1:` + op.Name + `></SOAP-ENV:Body></SOAP-ENV:Envelope>`
}

// ReadRPCResponse reads a SOAP service's answer to a call of op with the
// tolerance the gateway has for its own callers (decodeEnvelope): SOAP 1.1
// or 1.2, by namespace, never by prefix; the response element by local
// name in whatever namespace; the output part by name or else by position;
// href/multiRef references; xsi:type honoured; other charsets and BOMs; a
// DTD refused; the same size limits.
//
// It returns the output part's text, checked with CheckText; or, when the
// Body holds a Fault, its code as sent (SOAP 1.1 §4.4 faultcode, SOAP 1.2
// part 1 §5.4.6 Code/Value), cut to 100 bytes. The faultstring is not
// returned: a service may quote the caller's input in it. Otherwise err
// says what the answer is instead, as a phrase that never quotes the
// answer's text ("an envelope that has no Body").
func ReadRPCResponse(body []byte, op wsdl.Operation) (text, faultCode string, err *Error) {
	env, v, err := readEnvelope(body)
	if err != nil {
		return "", "", Errorf(KindInvalid, "a body that is not a SOAP envelope: %s", err.Message)
	}
	var bodyEl *etree.Element
	for _, c := range env.ChildElements() {
		if c.NamespaceURI() == v.envNS && c.Tag == "Body" {
			bodyEl = c
		}
	}
	if bodyEl == nil {
		return "", "", Errorf(KindInvalid, "an envelope that has no Body")
	}
	entry := rpcWrapper(bodyEl)
	switch {
	case entry == nil:
		return "", "", Errorf(KindInvalid, "an empty Body")
	case entry.Tag == "Fault" && entry.NamespaceURI() == v.envNS:
		return "", faultCodeOf(entry, v), nil
	case entry.Tag != op.ResponseName:
		return "", "", Errorf(KindInvalid, "%s, not %s", entry.Tag, op.ResponseName)
	}
	part := findPart(entry, op.OutputPart)
	if part == nil {
		return "", "", Errorf(KindInvalid, "a %s without a %s", op.ResponseName, op.OutputPart)
	}
	part, err = deref(env, part)
	if err != nil {
		return "", "", Errorf(KindInvalid, "a %s whose %s %s", op.ResponseName, op.OutputPart, err.Message)
	}
	value, err := partValue(part, op.OutputPart)
	if err != nil {
		return "", "", Errorf(KindInvalid, "a %s whose %s", op.ResponseName, err.Message)
	}
	if err := CheckText(*value); err != nil { // base64 can decode to anything
		return "", "", Errorf(KindInvalid, "a %s that %s", op.OutputPart, err.Message)
	}
	return *value, "", nil
}

// readEnvelope parses body as a SOAP 1.1 (or 1.2) envelope, with the same
// charset handling, strictness and limits as decodeEnvelope.
func readEnvelope(body []byte) (*etree.Element, *soapVersion, *Error) {
	body, err := decodeCharset(body, "")
	if err != nil {
		return nil, nil, err
	}
	env, err := readXML(body, envelopeLimits)
	if err != nil {
		return nil, nil, err
	}
	v := versionByNamespace(env.NamespaceURI())
	if v == nil || env.Tag != "Envelope" {
		return nil, nil, Errorf(KindInvalid, "the root element is {%s}%s", env.NamespaceURI(), env.Tag)
	}
	return env, v, nil
}

// faultCodeOf returns a Fault's code as sent: SOAP 1.1 §4.4 faultcode, or
// SOAP 1.2 part 1 §5.4.6 Code/Value.
func faultCodeOf(fault *etree.Element, v *soapVersion) string {
	code := "no fault code"
	for _, c := range fault.ChildElements() {
		switch {
		case v == soap11 && c.Tag == "faultcode":
			code = strings.TrimSpace(c.Text())
		case v == soap12 && c.Tag == "Code" && c.NamespaceURI() == v.envNS:
			if val := c.SelectElement("Value"); val != nil {
				code = strings.TrimSpace(val.Text())
			}
		}
	}
	if len(code) > maxFaultCode {
		code = strings.ToValidUTF8(code[:maxFaultCode], "") + "…"
	}
	return code
}

// maxFaultCode bounds how much of an upstream's fault code is repeated.
const maxFaultCode = 100
