package gateway

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// xmlLimits bounds what one parse may build. A sayHello envelope, even with
// a WS-Security header, has a few dozen elements; these limits are two
// orders of magnitude above that and far below what 1 MiB of empty
// elements, attributes or nesting would make.
type xmlLimits struct {
	Depth           int // elements open at once
	Elements        int // elements in the document
	Attrs           int // attributes in the document, namespace declarations included
	AttrsPerElement int
	NameBytes       int // bytes of one element or attribute name, prefix included
	TokenBytes      int // bytes of input one token may span: a start tag with all its attributes, a text
	Tokens          int // tokens of any kind: tags, text, comments, processing instructions
}

// envelopeLimits are the limits of a request envelope.
var envelopeLimits = xmlLimits{Depth: 32, Elements: 512, Attrs: 1024, AttrsPerElement: 64, NameBytes: 256, TokenBytes: 128 << 10, Tokens: 4096}

// The reserved namespaces of Namespaces in XML 1.0 (third edition) §3.
const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// errNotWellFormed is the fault for anything XML 1.0 or Namespaces in XML
// refuse. Its words are the gateway's own: the parser's message would
// quote the caller's names.
var errNotWellFormed = &Error{Kind: KindInvalid, Message: "the request is not well-formed XML"}

// errTooComplex is the fault for a document over envelopeLimits.
var errTooComplex = &Error{Kind: KindInvalid, Message: "the request has more elements, attributes, nesting or longer names than a sayHello call can need"}

// readXML is the one strict reader of request XML: it is where the gateway
// decides what XML it accepts. body must already be UTF-8 (see decodeCharset).
// It drives encoding/xml's tokenizer in strict mode and builds the etree
// tree itself, checking each token against lim before it adds it, and
// checking what encoding/xml's tokenizer does not:
//
//   - one root element, with nothing but comments, processing
//     instructions and white space before or after it (XML 1.0 §2.1, [1] document);
//   - an XML declaration only at the very start (XML 1.0 §2.8, [23] XMLDecl),
//     and no other processing instruction whose target is "xml" (§2.6);
//   - no DTD or other directive (SOAP 1.1 §3, SOAP 1.2 part 1 §5);
//   - end tags that match their start tags (XML 1.0 §3, WFC: Element Type Match);
//   - no attribute twice on an element, by name or by expanded name
//     (XML 1.0 §3.1 WFC: Unique Att Spec; Namespaces in XML §6.3);
//   - every prefix declared, names with at most one colon, no empty prefix
//     declaration, and the reserved prefixes and namespaces left alone
//     (Namespaces in XML §3, §5).
//
// A later fast path must refuse exactly what this refuses.
func readXML(body []byte, lim xmlLimits) (*etree.Element, *Error) {
	if err := checkCharRefs(body); err != nil {
		return nil, err
	}
	in := &tokenReader{b: body}
	d := xml.NewDecoder(in)
	d.Strict = true
	// The body is UTF-8 by now; decodeCharset checked that the declaration
	// agrees with the charset it was read in.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	var (
		root, top    *etree.Element
		scopes       []nsScope // one per open element
		elems, attrs int
		tokens       int
		seen         = make(map[xml.Name]bool, 8)
		closedRoot   bool
	)
	for {
		offset := d.InputOffset()
		in.end = int(offset) + lim.TokenBytes
		tok, err := d.RawToken()
		if errors.Is(err, errTokenTooLong) {
			return nil, errTooComplex
		}
		if errors.Is(err, io.EOF) {
			if root == nil || top != nil {
				return nil, errNotWellFormed // no root, or an element left open
			}
			return root, nil
		}
		if err != nil {
			return nil, errNotWellFormed
		}
		if tokens++; tokens > lim.Tokens {
			return nil, errTooComplex
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if closedRoot {
				return nil, errNotWellFormed // a second root
			}
			if len(scopes) == lim.Depth || elems == lim.Elements || len(t.Attr) > lim.AttrsPerElement ||
				attrs+len(t.Attr) > lim.Attrs || !nameFits(t.Name, lim) {
				return nil, errTooComplex
			}
			elems++
			attrs += len(t.Attr)
			scope, ferr := declare(t.Attr)
			if ferr != nil {
				return nil, ferr
			}
			scopes = append(scopes, scope)
			if _, ok := lookup(scopes, t.Name.Space); !ok || strings.Contains(t.Name.Local, ":") {
				return nil, errNotWellFormed
			}
			clear(seen)
			for _, a := range t.Attr {
				if !nameFits(a.Name, lim) {
					return nil, errTooComplex
				}
				if seen[a.Name] || strings.Contains(a.Name.Local, ":") {
					return nil, errNotWellFormed
				}
				seen[a.Name] = true
			}
			if ferr := uniqueExpanded(scopes, t.Attr); ferr != nil {
				return nil, ferr
			}
			e := etree.NewElement(qname(t.Name))
			for _, a := range t.Attr {
				e.CreateAttr(qname(a.Name), a.Value)
			}
			if top == nil {
				root = e
			} else {
				top.AddChild(e)
			}
			top = e
		case xml.EndElement:
			if top == nil || top.Space != t.Name.Space || top.Tag != t.Name.Local {
				return nil, errNotWellFormed
			}
			scopes = scopes[:len(scopes)-1]
			top = top.Parent()
			closedRoot = top == nil
		case xml.CharData:
			if top == nil {
				if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
					return nil, errNotWellFormed // text before or after the root
				}
				continue
			}
			top.CreateText(string(t))
		case xml.Comment:
			if top != nil {
				top.CreateComment(string(t))
			}
		case xml.ProcInst:
			// XML 1.0 §2.8: the declaration comes first or not at all;
			// §2.6: other targets matching [Xx][Mm][Ll] are reserved.
			if strings.EqualFold(t.Target, "xml") &&
				(t.Target != "xml" || offset != 0 || !bytes.HasPrefix(bytes.TrimLeft(t.Inst, " \t\r\n"), []byte("version"))) {
				return nil, errNotWellFormed
			}
			// Any other processing instruction is ignored (SOAP 1.2 part 1 §5).
		case xml.Directive:
			return nil, errNoDTD
		}
	}
}

// errTokenTooLong stops the tokenizer in the middle of a token.
var errTokenTooLong = errors.New("token too long")

// tokenReader is what encoding/xml reads the body from: it refuses to give
// one token more than xmlLimits.TokenBytes, so that the tokenizer never
// builds a token (a start tag with 100 000 attributes, a 1 MiB name)
// beyond that, whatever the body's size. It is an io.ByteReader, which
// encoding/xml reads byte by byte without a buffer of its own, so the
// bound holds to the byte (give or take the tokenizer's one byte of
// look-ahead).
type tokenReader struct {
	b   []byte
	pos int
	end int // where the current token must have ended
}

func (r *tokenReader) ReadByte() (byte, error) {
	if r.pos == len(r.b) {
		return 0, io.EOF
	}
	if r.pos >= r.end {
		return 0, errTokenTooLong
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// Read is never called by encoding/xml, which takes the io.ByteReader; it
// makes tokenReader an io.Reader, as xml.NewDecoder's signature asks.
func (r *tokenReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// nsScope is the namespace declarations of one element.
type nsScope map[string]string

// declare reads the namespace declarations among attrs (Namespaces in XML
// §3), refusing those the recommendation forbids.
func declare(attrs []xml.Attr) (nsScope, *Error) {
	var s nsScope
	for _, a := range attrs {
		var prefix string
		switch {
		case a.Name.Space == "xmlns":
			prefix = a.Name.Local
			// §3: xmlns is never declared, xml only to its own namespace,
			// and no prefix is bound to "" (undeclaring is XML 1.1 only).
			if prefix == "xmlns" || a.Value == "" || a.Value == nsXMLNS ||
				(prefix == "xml") != (a.Value == nsXML) {
				return nil, errNotWellFormed
			}
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value == nsXML || a.Value == nsXMLNS {
				return nil, errNotWellFormed
			}
		default:
			continue
		}
		if s == nil {
			s = make(nsScope, 2)
		}
		s[prefix] = a.Value
	}
	return s, nil
}

// lookup finds the namespace a prefix is bound to, innermost first. The
// empty prefix is always bound (to no namespace unless declared), and so
// is xml (Namespaces in XML §3).
func lookup(scopes []nsScope, prefix string) (string, bool) {
	switch prefix {
	case "":
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i][""]; ok {
				return ns, true
			}
		}
		return "", true
	case "xml":
		return nsXML, true
	case "xmlns":
		return nsXMLNS, true
	}
	for i := len(scopes) - 1; i >= 0; i-- {
		if ns, ok := scopes[i][prefix]; ok {
			return ns, true
		}
	}
	return "", false
}

// uniqueExpanded refuses an undeclared attribute prefix, and two attributes
// with one expanded name under different prefixes (Namespaces in XML §6.3).
// Unprefixed attributes are in no namespace (§6.2).
func uniqueExpanded(scopes []nsScope, attrs []xml.Attr) *Error {
	for i, a := range attrs {
		if a.Name.Space == "" || a.Name.Space == "xmlns" {
			continue
		}
		ns, ok := lookup(scopes, a.Name.Space)
		if !ok {
			return errNotWellFormed
		}
		for _, b := range attrs[:i] {
			if b.Name.Local == a.Name.Local && b.Name.Space != "" && b.Name.Space != "xmlns" {
				if nb, _ := lookup(scopes, b.Name.Space); nb == ns {
					return errNotWellFormed
				}
			}
		}
	}
	return nil
}

func nameFits(n xml.Name, lim xmlLimits) bool {
	return len(n.Space)+len(n.Local) < lim.NameBytes
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
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
			return Errorf(KindInvalid, "the request is not well-formed XML: a character reference to a surrogate, which XML 1.0 cannot carry")
		}
	}
	return nil
}
