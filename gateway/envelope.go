package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/unicode"

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
// UTF-8, comments and CDATA. It refuses DTDs outright.
//
// The returned version is that of the envelope, or fallback when the input
// is not a SOAP envelope at all; faults go out in that version.
func decodeEnvelope(body []byte, fallback *soapVersion, action string, ops map[string]wsdl.Operation) (*soapVersion, call, *Error) {
	body, err := toUTF8(body)
	if err != nil {
		return fallback, call{}, err
	}
	if err := checkCharRefs(body); err != nil {
		return fallback, call{}, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.CharsetReader = charsetReader
	if err := doc.ReadFromBytes(body); err != nil {
		if bytes.Contains(body, []byte("<!DOCTYPE")) {
			return fallback, call{}, errNoDTD // the parse failed on what the DTD declares
		}
		return fallback, call{}, errorf(KindInvalid, "the request is not well-formed XML: %v", err)
	}
	if hasDirective(&doc.Element) {
		return fallback, call{}, errNoDTD
	}

	env := doc.Root()
	if env == nil {
		return fallback, call{}, errorf(KindInvalid, "the request has no root element")
	}
	v := versionByNamespace(env.NamespaceURI())
	if v == nil || env.Tag != "Envelope" {
		// SOAP 1.1 §4.4.1, SOAP 1.2 part 1 §5.4.7: an envelope in no
		// namespace we know is a VersionMismatch, answered in SOAP 1.1.
		return soap11, call{}, errorf(KindVersionMismatch,
			"the root element {%s}%s is not a SOAP 1.1 or SOAP 1.2 Envelope", env.NamespaceURI(), env.Tag)
	}

	var header, bodyEl *etree.Element
	for _, c := range env.ChildElements() {
		if c.NamespaceURI() != v.envNS {
			continue
		}
		switch c.Tag {
		case "Header":
			header = c
		case "Body":
			bodyEl = c
		}
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
	if bodyEl == nil {
		return v, call{}, errorf(KindInvalid, "the envelope has no Body")
	}
	wrapper := rpcWrapper(bodyEl)
	if wrapper == nil {
		return v, call{}, errorf(KindInvalid, "the Body is empty; expected an operation element such as %s", anyOp(ops))
	}
	op, ok := ops[wrapper.Tag]
	if !ok {
		return v, call{}, errorf(KindInvalid, "unknown operation %q; this service offers %s", wrapper.Tag, anyOp(ops))
	}
	if !actionMatches(action, op) {
		return v, call{}, errorf(KindInvalid, "SOAPAction %q does not match operation %s (expected %q)", action, op.Name, op.SOAPAction)
	}

	part := findPart(wrapper, op.InputPart)
	if part == nil {
		return v, call{}, errorf(KindInvalid, "%s has no %s part", op.Name, op.InputPart)
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

// toUTF8 turns a UTF-16 body (which the XML parser cannot start reading)
// into UTF-8; other charsets are converted while parsing, by charsetReader.
func toUTF8(body []byte) ([]byte, *Error) {
	if len(body) < 2 || !(body[0] == 0xFE && body[1] == 0xFF || body[0] == 0xFF && body[1] == 0xFE) {
		return body, nil
	}
	out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(body)
	if err != nil {
		return nil, errorf(KindInvalid, "the UTF-16 request body is corrupt")
	}
	return out, nil
}

// checkCharRefs refuses character references to surrogates, which are
// not XML 1.0 Chars. encoding/xml turns &#xD800; into U+FFFD instead of
// failing, which would change the caller's name without a word; no XML
// library for Go does better, so this small scan does it. CDATA sections
// and comments are skipped: references mean nothing there.
func checkCharRefs(body []byte) *Error {
	for i := 0; i < len(body); i++ {
		if body[i] == '<' {
			for _, skip := range [...][2]string{{"<![CDATA[", "]]>"}, {"<!--", "-->"}} {
				if bytes.HasPrefix(body[i:], []byte(skip[0])) {
					end := bytes.Index(body[i+len(skip[0]):], []byte(skip[1]))
					if end < 0 {
						return nil // unterminated: the parser reports it
					}
					i += len(skip[0]) + end + len(skip[1]) - 1
					break
				}
			}
			continue
		}
		if body[i] != '&' || i+1 == len(body) || body[i+1] != '#' {
			continue
		}
		ref := body[i+2:]
		if end := bytes.IndexByte(ref, ';'); end >= 0 {
			ref = ref[:end]
		}
		base := 10
		if len(ref) > 0 && ref[0] == 'x' {
			base, ref = 16, ref[1:]
		}
		if n, err := strconv.ParseUint(string(ref), base, 32); err == nil && n >= 0xD800 && n <= 0xDFFF {
			return errorf(KindInvalid, "the request is not well-formed XML: a character reference to U+%04X, a surrogate, which XML 1.0 cannot carry", n)
		}
	}
	return nil
}

// charsetReader converts the charset an XML declaration names into UTF-8,
// using the WHATWG encoding labels (ISO-8859-1, windows-1252, Shift_JIS…).
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	if strings.HasPrefix(strings.ToLower(label), "utf-16") {
		return input, nil // already converted by toUTF8
	}
	r, err := charset.NewReaderLabel(label, input)
	if err != nil {
		return nil, fmt.Errorf("unsupported charset %q", label)
	}
	return r, nil
}

// hasDirective reports a <!DOCTYPE …> or other directive anywhere.
func hasDirective(e *etree.Element) bool {
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return true
		case *etree.Element:
			if hasDirective(t) {
				return true
			}
		}
	}
	return false
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
			return nil, errorf(KindInvalid, "too many SOAP-encoding references (the limit is %d)", maxHrefHops)
		}
		target := findByID(env, id)
		if target == nil {
			return nil, errorf(KindInvalid, "reference to id %q, which no element has", id)
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
				return nil, errorf(KindInvalid, "%s is nil", name)
			}
		case "type":
			xsiType = a.Value
		}
	}
	for _, c := range part.Child {
		if _, ok := c.(*etree.Element); ok {
			return nil, errorf(KindInvalid, "%s must be a string, not a structure", name)
		}
	}
	text := part.Text()

	switch typeName(part, xsiType) {
	case "base64Binary", "base64":
		b, err := base64.StdEncoding.DecodeString(stripSpace(text))
		if err != nil {
			return nil, errorf(KindInvalid, "%s is typed base64Binary but is not valid base64", name)
		}
		text = string(b)
	case "hexBinary":
		b, err := hex.DecodeString(stripSpace(text))
		if err != nil {
			return nil, errorf(KindInvalid, "%s is typed hexBinary but is not valid hex", name)
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
