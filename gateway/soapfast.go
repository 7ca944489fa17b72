package gateway

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/hellogw/hellogw/wsdl"
)

// The SOAP fast path: a scanner over the body, no tree, for the envelope
// real clients send (PHP ext/soap, node-soap, SOAP::Lite's plain call,
// zeep, suds):
//
//	[<?xml version="1.0" encoding="utf-8"?>]
//	<E:Envelope ns-declarations [E:encodingStyle]>
//	  [<E:Header/>]
//	  <E:Body [E:encodingStyle]>
//	    <op ns-declarations [E:encodingStyle]>
//	      <part [xsi:type="…:string"] [E:encodingStyle]>text</part>
//	    </op>
//	  </E:Body>
//	</E:Envelope>
//
// in UTF-8, where text holds the five predefined entities at most. It
// answers only "this call" or "not mine": anything else (references,
// base64 and other typed parts, CDATA, comments, character references,
// another charset, a header entry, a DTD, a second part, an unexpected
// attribute, carriage returns, whatever is odd) goes to decodeEnvelope
// unchanged, which alone decides what is refused, and how. So a fast answer
// must be the answer decodeEnvelope gives for the same input:
// FuzzSOAPFastPath checks exactly that, and TestSOAPFastPathCaptures that
// every captured real client's plain call is read here.
//
// Hand-written because no XML reader for Go reads a known shape without
// building tokens or a tree: encoding/xml's tokenizer alone allocates per
// token, and etree adds an element per node.

// fastLimits keep the scanner's fixed arrays fixed: a real envelope
// declares a handful of namespaces and names of a few dozen bytes.
const (
	fastMaxAttrs = 12 // attributes of one element
	fastMaxDecls = 24 // namespace declarations in scope
	fastMaxName  = 64 // bytes of a qualified name
)

type fastAttr struct{ prefix, local, value string }

type fastDecl struct {
	prefix, uri string
	depth       int
}

// fastCursor is where the scanner is in the body. Its strings are views
// of the body (see fastCursor.start): nothing is copied but the name.
type fastCursor struct {
	b string
	i int
}

// fastScan holds the scanner's state; it lives on the caller's stack.
type fastScan struct {
	fastCursor
	depth int
	decls [fastMaxDecls]fastDecl
	nd    int
	attrs [fastMaxAttrs]fastAttr
	na    int
}

// fastTag is a start tag as read: its qualified name as written (for the
// end tag), the namespace it resolves to, and whether it is empty (<a/>).
type fastTag struct {
	qname, local, ns string
	empty            bool
}

// fastEnvelope reads body if it has the shape above and returns the call;
// ok is false when it leaves body to decodeEnvelope. charset is the
// Content-Type's charset parameter ("" when absent).
func fastEnvelope(body []byte, charset, action string, ops map[string]wsdl.Operation) (v *soapVersion, c call, ok bool) {
	var s fastScan
	if !s.fastCursor.start(body, charset) {
		return nil, call{}, false
	}
	h, ok := s.head(action, ops)
	if !ok {
		return nil, call{}, false
	}
	return s.fastCursor.finish(&h)
}

// fastHead is what an envelope's bytes up to the end of its part's start
// tag say: the scanner reads them the same, to the same call, whatever
// follows, since it never looks back and decides nothing in them on a
// byte past them. The rest is the part's text and the end tags.
type fastHead struct {
	prefix, action           string
	v                        *soapVersion
	op                       wsdl.Operation
	env, body, wrapper, part fastTag
}

// start sets c to read body, unless the charset is not UTF-8.
func (c *fastCursor) start(body []byte, charset string) bool {
	if charset != "" && !strings.EqualFold(charset, "utf-8") {
		return false
	}
	// A view of the body, not a copy: body is not written during the scan,
	// and the one string that outlives it (the name) is copied out.
	c.b = unsafe.String(unsafe.SliceData(body), len(body))
	return true
}

// head reads the envelope up to the end of its part's start tag.
func (s *fastScan) head(action string, ops map[string]wsdl.Operation) (h fastHead, ok bool) {
	if !s.xmlDecl() {
		return h, false
	}
	s.space()
	if h.env, ok = s.startTag(); !ok || h.env.empty || h.env.local != "Envelope" {
		return h, false
	}
	if h.v = versionByNamespace(h.env.ns); h.v == nil || !s.onlyEncodingStyle(h.v) {
		return h, false
	}
	v := h.v

	s.space()
	if h.body, ok = s.startTag(); !ok || h.body.ns != v.envNS || !s.onlyEncodingStyle(v) {
		return h, false
	}
	if h.body.local == "Header" { // an empty Header (suds sends one)
		if s.na > 0 || !h.body.empty && !(s.spaceThen() && s.endTag(h.body)) {
			return h, false
		}
		s.space()
		if h.body, ok = s.startTag(); !ok || h.body.ns != v.envNS || !s.onlyEncodingStyle(v) {
			return h, false
		}
	}
	if h.body.local != "Body" || h.body.empty {
		return h, false
	}

	s.space()
	if h.wrapper, ok = s.startTag(); !ok || h.wrapper.empty || !s.onlyEncodingStyle(v) {
		return h, false
	}
	op, known := ops[h.wrapper.local]
	if !known || !actionMatches(action, op) {
		return h, false
	}
	h.op, h.action = op, action

	s.space()
	if h.part, ok = s.startTag(); !ok || !s.partAttrs(v) {
		return h, false
	}
	h.prefix = s.b[:s.i]
	return h, true
}

// finish reads the rest of an envelope whose head is h: the part's text
// and the end tags, which need no namespaces in scope.
func (c *fastCursor) finish(h *fastHead) (v *soapVersion, _ call, ok bool) {
	name := ""
	if !h.part.empty {
		if name, ok = c.text(); !ok || !c.endTag(h.part) {
			return nil, call{}, false
		}
	}
	if !(c.spaceThen() && c.endTag(h.wrapper) && c.spaceThen() && c.endTag(h.body) && c.spaceThen() && c.endTag(h.env)) {
		return nil, call{}, false
	}
	if c.space(); c.i != len(c.b) {
		return nil, call{}, false
	}
	return h.v, call{op: h.op, arg: &name}, true
}

// fastReader is fastEnvelope with the heads of the envelopes it read last
// remembered: a client sends the same bytes up to its part in every call,
// and comparing them with a head read before (a memcmp) costs a fraction
// of reading them again. The heads are bounded in number and size.
//
// A head is remembered only the second time it is read (admission): a
// miss notes a hash of its head in a small table, and a later miss whose
// head's hash is there is remembered. So a stream of heads each seen once
// (many clients, heads with per-call content, a caller rotating them)
// costs a hash on top of the scan and evicts nothing, while a client's
// head is remembered on its second call (BenchmarkFastReaderMisses).
type fastReader struct {
	ops   map[string]wsdl.Operation
	heads [fastHeads]atomic.Pointer[fastHead]
	next  atomic.Uint32
	seed  maphash.Seed
	seen  [fastSeen]atomic.Uint64 // hashes of missed heads, by their low bits
}

const (
	fastHeads       = 8    // heads remembered
	fastMaxHeadSize = 4096 // bytes of one head
	fastSeen        = 64   // missed heads' hashes kept (a power of two)
)

func newFastReader(ops map[string]wsdl.Operation) *fastReader {
	return &fastReader{ops: ops, seed: maphash.MakeSeed()}
}

// read is fastEnvelope(body, charset, action, r.ops): the same answer for
// every input (FuzzSOAPFastPath).
func (r *fastReader) read(body []byte, charset, action string) (v *soapVersion, c call, ok bool) {
	var cur fastCursor
	if !cur.start(body, charset) {
		return nil, call{}, false
	}
	for i := range r.heads {
		if h := r.heads[i].Load(); h != nil && h.action == action && strings.HasPrefix(cur.b, h.prefix) {
			cur.i = len(h.prefix)
			return cur.finish(h)
		}
	}
	var s fastScan
	s.fastCursor = cur
	h, ok := s.head(action, r.ops)
	if !ok {
		return nil, call{}, false
	}
	if v, c, ok = s.fastCursor.finish(&h); ok && len(h.prefix) <= fastMaxHeadSize && r.seenBefore(h.prefix) {
		r.remember(h.prefix, action)
	}
	return v, c, ok
}

// seenBefore reports whether a head's hash is in the table of missed
// heads, and notes it there if not; one slot per hash's low bits, the
// newest hash wins it. The hash is of the bytes alone: a head admitted
// with another SOAPAction is remembered with this one, as fastHead wants.
// Races between requests only lose or repeat an admission.
func (r *fastReader) seenBefore(prefix string) bool {
	sum := maphash.String(r.seed, prefix)
	slot := &r.seen[sum%fastSeen]
	if slot.Load() == sum {
		slot.Store(0)
		return true
	}
	slot.Store(sum)
	return false
}

// remember keeps a copy of a head read from a body, read again from the
// copy: its strings must not be views of a pooled body buffer.
func (r *fastReader) remember(prefix, action string) {
	var s fastScan
	s.b = strings.Clone(prefix)
	h, ok := s.head(strings.Clone(action), r.ops)
	if !ok || len(h.prefix) != len(prefix) {
		return // cannot be: the same bytes read the same
	}
	r.heads[r.next.Add(1)%fastHeads].Store(&h)
}

// xmlDecl reads an XML declaration at the very start (XML 1.0 §2.8 [23]):
// version 1.0, encoding UTF-8 if any, standalone if any, in that order.
func (s *fastScan) xmlDecl() bool {
	if !strings.HasPrefix(s.b, "<?xml") {
		return true
	}
	s.i = len("<?xml")
	for n, want := range [...]string{"version", "encoding", "standalone"} {
		save := s.i
		if !s.space() {
			if n == 0 {
				return false // the version is required
			}
			break
		}
		if !strings.HasPrefix(s.b[s.i:], want) {
			if n == 0 {
				return false
			}
			s.i = save
			break
		}
		s.i += len(want)
		val, ok := s.eqValue()
		if !ok {
			return false
		}
		switch n {
		case 0:
			ok = val == "1.0"
		case 1:
			ok = strings.EqualFold(val, "utf-8")
		case 2:
			ok = val == "yes" || val == "no"
		}
		if !ok {
			return false
		}
	}
	s.space()
	if !strings.HasPrefix(s.b[s.i:], "?>") {
		return false
	}
	s.i += 2
	return true
}

// space skips XML white space (§2.3 [3] S) and reports whether there was any.
func (s *fastCursor) space() bool {
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
	return s.i > start
}

// spaceThen skips white space and reports success, for chaining.
func (s *fastCursor) spaceThen() bool { s.space(); return true }

// name reads a qualified name: NCName or NCName:NCName, in ASCII.
func (s *fastCursor) name() (prefix, local string, ok bool) {
	b, start := s.b, s.i
	i, colon := start, -1
	for ; i < len(b) && i-start <= fastMaxName; i++ {
		switch class := nameByte[b[i]]; {
		case class == nameStart:
		case class == nameChar:
			if i == start || i == colon+1 {
				return "", "", false
			}
		case b[i] == ':' && colon < 0 && i > start:
			colon = i
		default:
			goto done
		}
	}
done:
	s.i = i
	if i == start || i-start > fastMaxName || i == colon+1 {
		return "", "", false
	}
	if colon < 0 {
		return "", b[start:i], true
	}
	return b[start:colon], b[colon+1 : i], true
}

// nameByte classifies the ASCII bytes of an NCName (Namespaces in XML §3):
// those that may start one, and those that may only follow.
var nameByte = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = nameStart, nameStart
	}
	t['_'] = nameStart
	for c := '0'; c <= '9'; c++ {
		t[c] = nameChar
	}
	t['-'], t['.'] = nameChar, nameChar
	return t
}()

const (
	nameStart = 1
	nameChar  = 2
)

// plainAttrByte holds the bytes eqValue takes in a value: printable ASCII
// but '<' and '&'.
var plainAttrByte = func() (t [256]bool) {
	for c := 0x20; c <= 0x7E; c++ {
		t[c] = c != '<' && c != '&'
	}
	return t
}()

// eqValue reads Eq and a quoted attribute value of printable ASCII other
// than '<' and '&' (no references, no normalisation to do).
func (s *fastCursor) eqValue() (string, bool) {
	s.space()
	if s.i == len(s.b) || s.b[s.i] != '=' {
		return "", false
	}
	s.i++
	s.space()
	if s.i == len(s.b) || s.b[s.i] != '"' && s.b[s.i] != '\'' {
		return "", false
	}
	end := strings.IndexByte(s.b[s.i+1:], s.b[s.i])
	if end < 0 {
		return "", false
	}
	val := s.b[s.i+1 : s.i+1+end]
	for i := 0; i < len(val); i++ {
		if !plainAttrByte[val[i]] {
			return "", false
		}
	}
	s.i += end + 2
	return val, true
}

// startTag reads a start tag: its namespace declarations go into scope,
// its other attributes into s.attrs. Refused: anything but a start tag,
// a repeated attribute, a declaration Namespaces in XML §3 forbids or
// this scanner does not take (xmlns="", the xml prefix), an undeclared
// prefix.
func (s *fastScan) startTag() (t fastTag, ok bool) {
	if s.i == len(s.b) || s.b[s.i] != '<' {
		return t, false
	}
	s.i++
	start := s.i
	prefix, local, ok := s.name()
	if !ok {
		return t, false
	}
	t.qname, t.local = s.b[start:s.i], local
	s.depth++
	s.na = 0
	for {
		hadSpace := s.space()
		if strings.HasPrefix(s.b[s.i:], "/>") {
			s.i += 2
			t.empty = true
			break
		}
		if strings.HasPrefix(s.b[s.i:], ">") {
			s.i++
			break
		}
		if !hadSpace {
			return t, false
		}
		ap, al, ok := s.name()
		if !ok {
			return t, false
		}
		val, ok := s.eqValue()
		if !ok {
			return t, false
		}
		switch {
		case ap == "xmlns" || ap == "" && al == "xmlns":
			p := al
			if ap == "" {
				p = ""
			}
			if p == "xmlns" || p == "xml" || val == "" || val == nsXML || val == nsXMLNS || s.nd == fastMaxDecls || s.declaredHere(p) {
				return t, false
			}
			s.decls[s.nd] = fastDecl{prefix: p, uri: val, depth: s.depth}
			s.nd++
		default:
			if s.na == fastMaxAttrs {
				return t, false
			}
			for _, a := range s.attrs[:s.na] {
				if a.local == al { // by local name: stricter than XML needs
					return t, false
				}
			}
			s.attrs[s.na] = fastAttr{prefix: ap, local: al, value: val}
			s.na++
		}
	}
	if prefix == "xml" || prefix == "xmlns" {
		return t, false
	}
	if t.ns, ok = s.lookup(prefix); !ok {
		return t, false
	}
	for i := range s.attrs[:s.na] {
		a := &s.attrs[i]
		if a.prefix == "" || a.prefix == "xml" {
			return t, false // no unqualified or xml: attribute is one of ours
		}
		if a.prefix, ok = s.lookup(a.prefix); !ok { // now the namespace
			return t, false
		}
	}
	if t.empty {
		s.pop()
	}
	return t, true
}

func (s *fastScan) declaredHere(prefix string) bool {
	for _, d := range s.decls[:s.nd] {
		if d.depth == s.depth && d.prefix == prefix {
			return true
		}
	}
	return false
}

// lookup resolves a prefix in scope; "" is always bound (to no namespace
// when undeclared), any other prefix only when declared.
func (s *fastScan) lookup(prefix string) (string, bool) {
	for i := s.nd - 1; i >= 0; i-- {
		if s.decls[i].prefix == prefix {
			return s.decls[i].uri, true
		}
	}
	return "", prefix == ""
}

// pop leaves the element at s.depth: its declarations go out of scope.
func (s *fastScan) pop() {
	for s.nd > 0 && s.decls[s.nd-1].depth == s.depth {
		s.nd--
	}
	s.depth--
}

// endTag reads the end tag of t, which must be the next thing, and
// leaves t's scope.
func (s *fastScan) endTag(t fastTag) bool {
	if !s.fastCursor.endTag(t) {
		return false
	}
	s.pop()
	return true
}

// endTag reads the end tag of t, which must be the next thing.
func (s *fastCursor) endTag(t fastTag) bool {
	if !strings.HasPrefix(s.b[s.i:], "</") || !strings.HasPrefix(s.b[s.i+2:], t.qname) {
		return false
	}
	s.i += 2 + len(t.qname)
	s.space()
	if s.i == len(s.b) || s.b[s.i] != '>' {
		return false
	}
	s.i++
	return true
}

// onlyEncodingStyle accepts the attributes of the last start tag when the
// only one is the envelope namespace's encodingStyle.
func (s *fastScan) onlyEncodingStyle(v *soapVersion) bool {
	for _, a := range s.attrs[:s.na] {
		if a.prefix != v.envNS || a.local != "encodingStyle" {
			return false
		}
	}
	return true
}

// partAttrs accepts the part's attributes when they are encodingStyle and
// an xsi:type naming a string type ("xsd:string", "soapenc:string"…),
// which decodeEnvelope reads as the text itself whatever its prefix is
// bound to.
func (s *fastScan) partAttrs(v *soapVersion) bool {
	for _, a := range s.attrs[:s.na] {
		switch {
		case a.prefix == v.envNS && a.local == "encodingStyle":
		case (a.prefix == nsXSI || a.prefix == nsXSI1999) && a.local == "type":
			p, local, found := strings.Cut(a.value, ":")
			if !found {
				p, local = "", p
			}
			if local != "string" || found && !isNCName(p) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isNCName(n string) bool {
	s := fastCursor{b: n}
	p, _, ok := s.name()
	return ok && p == "" && s.i == len(n)
}

// text reads character data up to the next '<' and returns it, decoded,
// as a new string. It takes UTF-8 of XML 1.0 Chars (§2.2) but carriage
// returns (which the parser would normalise, §2.11), and the five
// predefined entities (§4.6); a character reference, "]]>" or anything
// else it leaves to the strict path.
func (s *fastCursor) text() (string, bool) {
	start := s.i
	plain := true
	for s.i < len(s.b) && s.b[s.i] != '<' {
		c := s.b[s.i]
		switch {
		case c == '&':
			_, n := entity(s.b[s.i:])
			if n == 0 {
				return "", false
			}
			plain = false
			s.i += n
			continue
		case c == ']' && strings.HasPrefix(s.b[s.i:], "]]>"):
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s.b[s.i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return "", false
			}
			s.i += size
			continue
		case c < 0x20 && c != '\t' && c != '\n':
			return "", false
		}
		s.i++
	}
	raw := s.b[start:s.i]
	if plain {
		return strings.Clone(raw), true
	}
	var out strings.Builder
	out.Grow(len(raw))
	for len(raw) > 0 {
		amp := strings.IndexByte(raw, '&')
		if amp < 0 {
			out.WriteString(raw)
			break
		}
		out.WriteString(raw[:amp])
		c, n := entity(raw[amp:])
		out.WriteByte(c)
		raw = raw[amp+n:]
	}
	return out.String(), true
}

// entity reads one of XML's predefined entity references (§4.6) at the
// start of t: the character and the length, or 0 for anything else.
func entity(t string) (byte, int) {
	for _, e := range [...]struct {
		ref string
		c   byte
	}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}} {
		if strings.HasPrefix(t, e.ref) {
			return e.c, len(e.ref)
		}
	}
	return 0, 0
}
