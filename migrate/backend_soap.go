package migrate

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/hellogw/hellogw/gateway"
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
		"Content-Type": {gateway.SOAP11ContentType},
		"Accept":       {"text/xml"},
		// SOAP 1.1 §6.1.1: the header's value is a quoted URI.
		"Soapaction": {`"` + op.SOAPAction + `"`},
	}}
	if cfg.Identity.Kind == IdentityWSSE {
		b.wsse = &cfg.Identity
	}
	b.open, b.head, b.tail = gateway.RPCRequestFrame(op)
	return b, nil
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
	if err := gateway.ValidateFirstName(firstName); err != nil {
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

// decode reads the upstream's envelope (gateway.ReadRPCResponse). A
// Fault is an error that names the fault code; its faultstring is not
// passed on, as a service may quote the caller's input in it.
func (b *SOAPBackend) decode(status int, _ string, body []byte) (string, *gateway.Error) {
	if status != http.StatusOK && status != http.StatusInternalServerError {
		return "", b.up.badAnswer("HTTP %d", status)
	}
	greeting, fault, err := gateway.ReadRPCResponse(body, b.op)
	switch {
	case fault != "":
		return "", b.up.badAnswer("a SOAP Fault (%s)", fault)
	case err != nil:
		return "", b.up.badAnswer("HTTP %d with %s", status, err.Message)
	case status != http.StatusOK:
		return "", b.up.badAnswer("HTTP %d without a SOAP Fault", status)
	}
	return greeting, nil
}
