package gateway

import (
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/beevik/etree"

	"github.com/hellogw/hellogw/wsdl"
)

// Namespaces an envelope may use. SOAP 1.1: https://www.w3.org/TR/2000/NOTE-SOAP-20000508/;
// SOAP 1.2: https://www.w3.org/TR/soap12-part1/.
const (
	nsSOAP11Env = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP11Enc = "http://schemas.xmlsoap.org/soap/encoding/"
	nsSOAP12Env = "http://www.w3.org/2003/05/soap-envelope"
	nsSOAP12Enc = "http://www.w3.org/2003/05/soap-encoding"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXSI1999   = "http://www.w3.org/1999/XMLSchema-instance" // still sent by old SOAP::Lite and Axis 1
	nsXSD       = "http://www.w3.org/2001/XMLSchema"
	nsXSD1999   = "http://www.w3.org/1999/XMLSchema"

	actorNext    = "http://schemas.xmlsoap.org/soap/actor/next"
	roleNext     = "http://www.w3.org/2003/05/soap-envelope/role/next"
	roleUltimate = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
)

// errNoDTD refuses DTDs: with none there are no entity tricks to play,
// and SOAP 1.1 §3 forbids them in a message anyway.
var errNoDTD = &Error{Kind: KindInvalid, Message: "DTDs and other XML directives are not accepted"}

// maxHrefHops bounds how many SOAP-encoding references one part may follow.
const maxHrefHops = 8

// call is a decoded SOAP request: which operation, with what argument.
type call struct {
	op  wsdl.Operation
	arg *string
	// security is the wsse:Security header targeted at the gateway, if
	// any: the caller's UsernameToken.
	security *securityHeader
}

// decodeEnvelope reads a SOAP 1.1 or 1.2 request envelope and finds the
// operation it calls and that operation's single part. It tolerates what
// real clients differ in: prefixes, namespaces on the rpc wrapper, qualified
// or unqualified parts, encodingStyle anywhere, href/multiRef encoding,
// xsi:type (honoured for base64Binary and hexBinary), charsets other than
// UTF-8 (charset is the Content-Type's parameter, "" when absent),
// comments and CDATA. What it refuses is decided by decodeCharset,
// readXML and envelopeParts.
//
// The returned version is that of the envelope, or fallback when the input
// is not a SOAP envelope at all; faults go out in that version.
func decodeEnvelope(body []byte, charset string, fallback *soapVersion, action string, ops map[string]wsdl.Operation) (*soapVersion, call, *Error) {
	body, err := decodeCharset(body, charset)
	if err != nil {
		return fallback, call{}, err
	}
	env, err := readXML(body, envelopeLimits)
	if err != nil {
		return fallback, call{}, err
	}
	v := versionByNamespace(env.NamespaceURI())
	if v == nil || env.Tag != "Envelope" {
		// SOAP 1.1 §4.4.1, SOAP 1.2 part 1 §5.4.7: an envelope in no
		// namespace we know is a VersionMismatch, answered in SOAP 1.1.
		return soap11, call{}, Errorf(KindVersionMismatch, "the root element is not a SOAP 1.1 or SOAP 1.2 Envelope")
	}
	header, bodyEl, err := v.envelopeParts(env)
	if err != nil {
		return v, call{}, err
	}
	var security *securityHeader
	if header != nil {
		sec, err := v.checkHeaders(header)
		if err != nil {
			return v, call{}, err
		}
		if sec != nil {
			security = readSecurityHeader(sec)
		}
	}
	wrapper := rpcWrapper(bodyEl)
	if wrapper == nil {
		return v, call{}, Errorf(KindInvalid, "the Body is empty; expected an operation element such as %s", anyOp(ops))
	}
	op, ok := ops[wrapper.Tag]
	if !ok {
		return v, call{}, Errorf(KindInvalid, "the Body calls an operation this service does not offer; it offers %s", anyOp(ops))
	}
	if !actionMatches(action, op) {
		return v, call{}, Errorf(KindInvalid, "the SOAPAction does not match operation %s (expected %q)", op.Name, op.SOAPAction)
	}

	part := findPart(wrapper, op.InputPart)
	if part == nil {
		return v, call{}, Errorf(KindInvalid, "%s has no %s part", op.Name, op.InputPart)
	}
	part, err = deref(env, part)
	if err != nil {
		return v, call{}, err
	}
	arg, err := partValue(part, op.InputPart)
	if err != nil {
		return v, call{}, err
	}
	return v, call{op: op, arg: arg, security: security}, nil
}

// envelopeParts returns the envelope's Header (nil when it has none) and
// its Body, refusing any other shape: SOAP 1.1 §4.1.1 and SOAP 1.2 part 1
// §5.1 allow one optional Header, first, then one Body. After the Body,
// SOAP 1.1 allows namespace-qualified elements of other namespaces;
// SOAP 1.2 allows nothing. Two Bodies or two Headers are refused rather
// than one picked: a firewall in front could read the other one.
func (v *soapVersion) envelopeParts(env *etree.Element) (header, body *etree.Element, err *Error) {
	for _, t := range env.Child {
		switch t := t.(type) {
		case *etree.CharData:
			if strings.TrimLeft(t.Data, " \t\r\n") != "" {
				return nil, nil, Errorf(KindInvalid, "the Envelope holds text; it may hold only a Header and a Body")
			}
		case *etree.Element:
			ns := t.NamespaceURI()
			switch {
			case ns == v.envNS && t.Tag == "Header" && header == nil && body == nil:
				header = t
			case ns == v.envNS && t.Tag == "Body" && body == nil:
				body = t
			case ns == v.envNS && t.Tag == "Header":
				return nil, nil, Errorf(KindInvalid, "the Envelope has a second Header, or a Header after its Body")
			case ns == v.envNS && t.Tag == "Body":
				return nil, nil, Errorf(KindInvalid, "the Envelope has two Bodies")
			case body == nil || v == soap12 || ns == "" || ns == v.envNS:
				return nil, nil, Errorf(KindInvalid, "the Envelope holds an element other than its Header and Body")
			}
		}
	}
	if body == nil {
		return nil, nil, Errorf(KindInvalid, "the envelope has no Body")
	}
	return header, body, nil
}

// rpcWrapper returns the Body's operation element: its first child that is
// not an independent multiRef (SOAP 1.1 §5.2.1 puts those beside it).
func rpcWrapper(body *etree.Element) *etree.Element {
	var first *etree.Element
	for _, c := range body.ChildElements() {
		if first == nil {
			first = c
		}
		if c.SelectAttr("id") == nil {
			return c
		}
	}
	return first
}

func anyOp(ops map[string]wsdl.Operation) string {
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// actionMatches accepts the SOAPAction forms clients send: the WSDL's value,
// quoted or not, empty or absent, or a URI ending in #op or /op.
func actionMatches(action string, op wsdl.Operation) bool {
	a := strings.Trim(strings.TrimSpace(action), `"`)
	return a == "" || a == op.SOAPAction || a == op.Name ||
		strings.HasSuffix(a, "#"+op.Name) || strings.HasSuffix(a, "/"+op.Name)
}

// findPart finds a part of an rpc wrapper by local name, qualified or not,
// and failing that by position (SOAP 1.1 §7.1: parts are positional, and
// some clients name them c-gensym1 or arg0).
func findPart(wrapper *etree.Element, name string) *etree.Element {
	parts := wrapper.ChildElements()
	for _, p := range parts {
		if p.Tag == name {
			return p
		}
	}
	if len(parts) > 0 {
		return parts[0]
	}
	return nil
}

// deref follows SOAP-encoding references: SOAP 1.1 href="#id" (§5.4.1) and
// SOAP 1.2 enc:ref="id" (part 2 §3.1.5.1) to the element carrying that id.
func deref(env, part *etree.Element) (*etree.Element, *Error) {
	for hops := 0; ; hops++ {
		id, ok := reference(part)
		if !ok {
			return part, nil
		}
		if hops == maxHrefHops {
			return nil, Errorf(KindInvalid, "too many SOAP-encoding references (the limit is %d)", maxHrefHops)
		}
		target := findByID(env, id)
		if target == nil {
			return nil, Errorf(KindInvalid, "a SOAP-encoding reference points to no element of the envelope")
		}
		part = target
	}
}

func reference(e *etree.Element) (string, bool) {
	for _, a := range e.Attr {
		switch {
		case a.Key == "href" && a.Space == "" && strings.HasPrefix(a.Value, "#"):
			return a.Value[1:], true
		case a.Key == "ref" && a.NamespaceURI() == nsSOAP12Enc:
			return a.Value, true
		}
	}
	return "", false
}

func findByID(e *etree.Element, id string) *etree.Element {
	for _, c := range e.ChildElements() {
		for _, a := range c.Attr {
			if a.Key == "id" && a.Value == id && (a.Space == "" || a.NamespaceURI() == nsSOAP12Enc) {
				return c
			}
		}
		if found := findByID(c, id); found != nil {
			return found
		}
	}
	return nil
}

// partValue returns the text of a simple-typed part, decoded where its
// xsi:type says the text is an encoding of the value.
func partValue(part *etree.Element, name string) (*string, *Error) {
	var xsiType string
	for _, a := range part.Attr {
		if ns := a.NamespaceURI(); ns != nsXSI && ns != nsXSI1999 {
			continue
		}
		switch a.Key {
		case "nil", "null":
			if a.Value == "true" || a.Value == "1" {
				return nil, Errorf(KindInvalid, "%s is nil", name)
			}
		case "type":
			xsiType = a.Value
		}
	}
	for _, c := range part.Child {
		if _, ok := c.(*etree.Element); ok {
			return nil, Errorf(KindInvalid, "%s must be a string, not a structure", name)
		}
	}
	text := part.Text()

	switch typeName(part, xsiType) {
	case "base64Binary", "base64":
		b, err := base64.StdEncoding.DecodeString(stripSpace(text))
		if err != nil {
			return nil, Errorf(KindInvalid, "%s is typed base64Binary but is not valid base64", name)
		}
		text = string(b)
	case "hexBinary":
		b, err := hex.DecodeString(stripSpace(text))
		if err != nil {
			return nil, Errorf(KindInvalid, "%s is typed hexBinary but is not valid hex", name)
		}
		text = string(b)
	}
	return &text, nil
}

// typeName resolves an xsi:type QName against the element's namespaces and
// returns its local name when it is an XML Schema or SOAP-encoding type.
func typeName(e *etree.Element, qname string) string {
	if qname == "" {
		return ""
	}
	prefix, local, ok := strings.Cut(qname, ":")
	if !ok {
		prefix, local = "", qname
	}
	switch lookupPrefix(e, prefix) {
	case nsXSD, nsXSD1999, nsSOAP11Enc, nsSOAP12Enc:
		return local
	}
	return ""
}

// lookupPrefix finds the namespace bound to prefix in scope at e.
// etree resolves element and attribute names but not QNames in values.
func lookupPrefix(e *etree.Element, prefix string) string {
	for ; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" || a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}
