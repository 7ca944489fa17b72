package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/hellogw/hellogw/gen"
	"github.com/hellogw/hellogw/internal/wsse"
	"github.com/hellogw/hellogw/wsdl"
)

// SOAPBackend answers sayHello by calling a legacy HelloService over
// SOAP 1.1, exactly as the WSDL binding describes the call: every name,
// the SOAPAction, the namespace and the encoding come from the
// wsdl.Operation it is built with.
//
//   - SOAP 1.1 §6.1.1: POST with Content-Type text/xml and the operation's
//     soapAction as a quoted SOAPAction header.
//   - WSDL 1.1 §3.5 (soap:body) and SOAP 1.1 §7.1 (RPC): the Body holds one
//     element named after the operation, in the soap:body namespace, with
//     one accessor per part, named after the part.
//   - WSDL 1.1 §3.5 use="encoded", SOAP 1.1 §4.1.1 and §5: the encodingStyle
//     attribute names the encoding, and each part carries its xsi:type.
//   - SOAP 1.1 §6.2 and §4.4: a fault comes back as HTTP 500 with a Fault
//     element in the Body.
//   - With a WS-Security identity, a wsse:Security header block holding a
//     UsernameToken (WS-Security 1.1 §5, UsernameToken Profile 1.1),
//     marked mustUnderstand (SOAP 1.1 §4.2.3) so that an upstream that
//     does not check it refuses the call instead of ignoring it.
type SOAPBackend struct {
	up     *upstream
	op     wsdl.Operation
	header http.Header
	wsse   *UpstreamIdentity // nil unless the identity is IdentityWSSE
	open   string            // the request envelope's start tag
	head   string            // from the Body up to the part's text
	tail   string            // and after it
}

var _ gen.Hello_PortType = (*SOAPBackend)(nil)

// NewSOAPBackend returns a backend that calls op on the SOAP endpoint
// cfg.URL.
func NewSOAPBackend(op wsdl.Operation, cfg UpstreamConfig) (*SOAPBackend, error) {
	up, err := newUpstream(cfg)
	if err != nil {
		return nil, err
	}
	b := &SOAPBackend{up: up, op: op, header: http.Header{
		"Content-Type": {soap11.contentType},
		"Accept":       {"text/xml"},
		// SOAP 1.1 §6.1.1: the header's value is a quoted URI.
		"Soapaction": {`"` + op.SOAPAction + `"`},
	}}
	if cfg.Identity.Kind == IdentityWSSE {
		b.wsse = &cfg.Identity
	}
	b.open, b.head, b.tail = requestFrame(op)
	return b, nil
}

// requestFrame lays out the rpc request envelope for op around its one
// part's text (SOAP 1.1 §7.1, WSDL 1.1 §3.5): the same shape as the
// gateway's own responses, with the operation and its input part; a
// Header may go between open and head.
func requestFrame(op wsdl.Operation) (open, head, tail string) {
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

// SayHello implements gen.Hello_PortType.
func (b *SOAPBackend) SayHello(firstName *string) (*string, error) {
	return b.SayHelloContext(context.Background(), firstName)
}

// SayHelloContext implements gen.Hello_PortType. It checks firstName with
// ValidateFirstName (KindInvalid) before it calls the upstream; upstream
// failures, a SOAP Fault among them, are KindBadGateway, KindTimeout or
// KindUnavailable.
func (b *SOAPBackend) SayHelloContext(ctx context.Context, firstName *string) (*string, error) {
	if err := ValidateFirstName(firstName); err != nil {
		return nil, err
	}
	var body bytes.Buffer
	body.Grow(len(b.open) + len(b.head) + len(*firstName) + len(b.tail) + 16)
	body.WriteString(b.open)
	if b.wsse != nil {
		// A fresh token for each call: a digest's Nonce is single-use.
		body.WriteString(`<SOAP-ENV:Header>`)
		wsse.NewUsernameToken(b.wsse.Username, b.wsse.Password, b.wsse.Digest, time.Now()).AppendSecurityHeader(&body, "SOAP-ENV")
		body.WriteString(`</SOAP-ENV:Header>`)
	}
	body.WriteString(b.head)
	xml.EscapeText(&body, []byte(*firstName)) // \t \n \r as character references, which no parser normalises
	body.WriteString(b.tail)
	return b.up.call(ctx, b.header, body.Bytes(), b.decode)
}

// decode reads the upstream's envelope with the tolerance the gateway has
// for its own callers (envelope.go): by namespace, never by prefix; the
// response element by local name in whatever namespace; the part by name
// or else by position; href/multiRef references; xsi:type honoured;
// other charsets and BOMs. A DTD is refused. A Fault is an error that
// names the fault code; its faultstring is not passed on, as a service
// may quote the caller's input in it.
func (b *SOAPBackend) decode(status int, _ string, body []byte) (string, *Error) {
	if status != http.StatusOK && status != http.StatusInternalServerError {
		return "", b.up.badAnswer("HTTP %d", status)
	}
	env, v, err := readEnvelope(body)
	if err != nil {
		return "", b.up.badAnswer("HTTP %d with a body that is not a SOAP envelope: %s", status, err.Message)
	}
	var bodyEl *etree.Element
	for _, c := range env.ChildElements() {
		if c.NamespaceURI() == v.envNS && c.Tag == "Body" {
			bodyEl = c
		}
	}
	if bodyEl == nil {
		return "", b.up.badAnswer("HTTP %d with an envelope that has no Body", status)
	}
	entry := rpcWrapper(bodyEl)
	switch {
	case entry == nil:
		return "", b.up.badAnswer("HTTP %d with an empty Body", status)
	case entry.Tag == "Fault" && entry.NamespaceURI() == v.envNS:
		return "", b.up.badAnswer("a SOAP Fault (%s)", faultCodeOf(entry, v))
	case status != http.StatusOK:
		return "", b.up.badAnswer("HTTP %d without a SOAP Fault", status)
	case entry.Tag != b.op.ResponseName:
		return "", b.up.badAnswer("%s, not %s", entry.Tag, b.op.ResponseName)
	}
	part := findPart(entry, b.op.OutputPart)
	if part == nil {
		return "", b.up.badAnswer("a %s without a %s", b.op.ResponseName, b.op.OutputPart)
	}
	part, err = deref(env, part)
	if err != nil {
		return "", b.up.badAnswer("a %s whose %s %s", b.op.ResponseName, b.op.OutputPart, err.Message)
	}
	greeting, err := partValue(part, b.op.OutputPart)
	if err != nil {
		return "", b.up.badAnswer("a %s whose %s", b.op.ResponseName, err.Message)
	}
	if err := checkText(*greeting); err != nil { // base64 can decode to anything
		return "", b.up.badAnswer("a %s that %s", b.op.OutputPart, err.Message)
	}
	return *greeting, nil
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
		return nil, nil, errorf(KindInvalid, "the root element is {%s}%s", env.NamespaceURI(), env.Tag)
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
