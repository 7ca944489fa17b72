// Package wsdl holds the HelloService contract: the WSDL document itself,
// embedded in the binary, and the facts of its SOAP binding, read from it
// once so that no other package repeats them as literals.
//
// The generated Go view of the same WSDL lives in package gen; regenerate it
// with `go generate ./wsdl` (or `make gen`).
package wsdl

//go:generate go tool gowsdl -d .. -p gen -o hello.go HelloService.wsdl

import (
	_ "embed"
	"errors"
	"fmt"

	"github.com/beevik/etree"
)

// Namespaces of WSDL 1.1 and its SOAP 1.1 binding extension
// (https://www.w3.org/TR/2001/NOTE-wsdl-20010315#_soap-b).
const (
	nsWSDL     = "http://schemas.xmlsoap.org/wsdl/"
	nsWSDLSOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
)

//go:embed HelloService.wsdl
var document []byte

// Document returns the embedded WSDL exactly as shipped.
func Document() []byte { return document }

// Operation is one operation of the SOAP binding, with what its wire format
// needs: names, action, namespace and the single part of each message.
type Operation struct {
	Name          string // operation name; the rpc wrapper element's local name
	SOAPAction    string // soap:operation/@soapAction
	Namespace     string // soap:body/@namespace of the input (and output)
	EncodingStyle string // soap:body/@encodingStyle, empty for literal use
	Style         string // "rpc" or "document"
	Use           string // "encoded" or "literal"
	InputPart     string // the input message's single part
	OutputPart    string // the output message's single part
	ResponseName  string // the rpc response wrapper: Name + "Response" (WSDL 1.1 §3.5)
}

// Binding is the service's SOAP binding as the WSDL describes it.
type Binding struct {
	Service    string // wsdl:service/@name
	Port       string // wsdl:port/@name
	Location   string // soap:address/@location as shipped
	Operations map[string]Operation
}

// Parse reads the binding facts from a WSDL 1.1 document. It understands
// what the HelloService WSDL uses: one service, one port, a SOAP 1.1
// binding, and messages of one part each.
func Parse(doc []byte) (*Binding, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("wsdl: %w", err)
	}
	defs := d.Root()
	if defs == nil || defs.Tag != "definitions" || defs.NamespaceURI() != nsWSDL {
		return nil, errors.New("wsdl: root is not wsdl:definitions")
	}

	port := first(defs, nsWSDL, "service", "port")
	if port == nil {
		return nil, errors.New("wsdl: no service port")
	}
	addr := child(port, nsWSDLSOAP, "address")
	if addr == nil {
		return nil, errors.New("wsdl: port has no soap:address")
	}
	b := &Binding{
		Service:    port.Parent().SelectAttrValue("name", ""),
		Port:       port.SelectAttrValue("name", ""),
		Location:   addr.SelectAttrValue("location", ""),
		Operations: map[string]Operation{},
	}

	binding := named(defs, nsWSDL, "binding", localName(port.SelectAttrValue("binding", "")))
	if binding == nil {
		return nil, fmt.Errorf("wsdl: port %q names no binding", b.Port)
	}
	soapBinding := child(binding, nsWSDLSOAP, "binding")
	if soapBinding == nil {
		return nil, errors.New("wsdl: binding is not a SOAP 1.1 binding")
	}
	style := soapBinding.SelectAttrValue("style", "document")

	portType := named(defs, nsWSDL, "portType", localName(binding.SelectAttrValue("type", "")))
	if portType == nil {
		return nil, errors.New("wsdl: binding names no portType")
	}

	for _, bop := range children(binding, nsWSDL, "operation") {
		name := bop.SelectAttrValue("name", "")
		pop := named(portType, nsWSDL, "operation", name)
		if pop == nil {
			return nil, fmt.Errorf("wsdl: operation %q is not in the portType", name)
		}
		op := Operation{Name: name, Style: style, ResponseName: name + "Response"}
		if so := child(bop, nsWSDLSOAP, "operation"); so != nil {
			op.SOAPAction = so.SelectAttrValue("soapAction", "")
			op.Style = so.SelectAttrValue("style", style)
		}
		if in := child(bop, nsWSDL, "input"); in != nil {
			body := child(in, nsWSDLSOAP, "body")
			if body == nil {
				return nil, fmt.Errorf("wsdl: %s input has no soap:body", name)
			}
			op.Namespace = body.SelectAttrValue("namespace", "")
			op.EncodingStyle = body.SelectAttrValue("encodingStyle", "")
			op.Use = body.SelectAttrValue("use", "literal")
		}
		var err error
		if op.InputPart, err = onlyPart(defs, child(pop, nsWSDL, "input")); err != nil {
			return nil, fmt.Errorf("wsdl: %s input: %w", name, err)
		}
		if op.OutputPart, err = onlyPart(defs, child(pop, nsWSDL, "output")); err != nil {
			return nil, fmt.Errorf("wsdl: %s output: %w", name, err)
		}
		b.Operations[name] = op
	}
	return b, nil
}

// onlyPart returns the name of the single part of the message that a
// portType input or output refers to.
func onlyPart(defs, io *etree.Element) (string, error) {
	if io == nil {
		return "", errors.New("missing")
	}
	msg := named(defs, nsWSDL, "message", localName(io.SelectAttrValue("message", "")))
	if msg == nil {
		return "", errors.New("names no message")
	}
	parts := children(msg, nsWSDL, "part")
	if len(parts) != 1 {
		return "", fmt.Errorf("message %q has %d parts, want 1", msg.SelectAttrValue("name", ""), len(parts))
	}
	return parts[0].SelectAttrValue("name", ""), nil
}

// children returns e's child elements with the given namespace and local name.
func children(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// child returns e's first child element with the given namespace and local name.
func child(e *etree.Element, ns, local string) *etree.Element {
	if cs := children(e, ns, local); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// first follows a path of local names in one namespace, taking the first
// match at each step.
func first(e *etree.Element, ns string, path ...string) *etree.Element {
	for _, local := range path {
		if e = child(e, ns, local); e == nil {
			return nil
		}
	}
	return e
}

// named returns e's child element of the given kind whose name attribute is name.
func named(e *etree.Element, ns, kind, name string) *etree.Element {
	for _, c := range children(e, ns, kind) {
		if c.SelectAttrValue("name", "") == name {
			return c
		}
	}
	return nil
}

// localName strips the prefix of a QName such as "tns:Hello_Binding".
func localName(qname string) string {
	for i := len(qname) - 1; i >= 0; i-- {
		if qname[i] == ':' {
			return qname[i+1:]
		}
	}
	return qname
}

// SoleOperation returns the binding's operation when it has exactly one,
// as the HelloService binding does.
func (b *Binding) SoleOperation() (Operation, error) {
	if len(b.Operations) != 1 {
		return Operation{}, fmt.Errorf("wsdl: the binding has %d operations, want 1", len(b.Operations))
	}
	for _, op := range b.Operations {
		return op, nil
	}
	panic("unreachable")
}

// WithLocation returns doc with every soap:address location set to location,
// so clients that read the served WSDL call this gateway rather than the
// address the document was first published with.
func WithLocation(doc []byte, location string) ([]byte, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("wsdl: %w", err)
	}
	n := 0
	for _, addr := range d.FindElements("//address") {
		if addr.NamespaceURI() == nsWSDLSOAP {
			addr.CreateAttr("location", location)
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("wsdl: no soap:address to rewrite")
	}
	return d.WriteToBytes()
}
