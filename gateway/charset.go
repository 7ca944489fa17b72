package gateway

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

var (
	errCharsetUnknown = &Error{Kind: KindUnsupportedType, Message: "the request names a charset this service does not read; send UTF-8, UTF-16, ISO-8859-1 or windows-1252"}
	errCharsetInvalid = &Error{Kind: KindInvalid, Message: "the request body is not valid text in the charset it is declared in"}
	// errNotUTF8: bytes that are not UTF-8, sent without a charset, are
	// most often ISO-8859-1 or windows-1252 from an older client.
	errNotUTF8         = &Error{Kind: KindInvalid, Message: "the request is not valid UTF-8, which XML is read as when no charset is named: name its charset in the Content-Type (text/xml; charset=ISO-8859-1) or the XML declaration"}
	errCharsetConflict = &Error{Kind: KindInvalid, Message: "the request's charset and its XML declaration's encoding disagree about the text; name one charset, or make them agree"}
)

// xmlDeclEncoding finds the encoding an XML declaration at the start of a
// document names (XML 1.0 §4.3.3, [80] EncodingDecl).
var xmlDeclEncoding = regexp.MustCompile(`^<\?xml[ \t\r\n][^>]*?\bencoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z][A-Za-z0-9._-]*)["']`)

// decodeCharset returns body as UTF-8, without a byte order mark. It reads
// body in the charset RFC 7303 §3.2 says: the BOM's, else the Content-Type
// charset parameter's (header; "" when absent), else the XML declaration's,
// else UTF-8. Labels are IANA charset names (RFC 7303 §3.2), read with
// golang.org/x/text's IANA index, not the WHATWG one: that one reads
// us-ascii and iso-8859-1 as windows-1252 and knows x-user-defined, which
// is no charset at all.
//
// A declaration that names another charset than the one that won must read
// the body to the same text, or the request is refused: an XML firewall
// that trusts the declaration would otherwise see another name than the
// gateway, and a mislabelled José must not turn into JosÃ©.
func decodeCharset(body []byte, header string) ([]byte, *Error) {
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		enc, body = unicode.UTF8, body[3:]
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		enc, body = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), body[2:]
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		enc, body = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), body[2:]
	case header != "":
		var err *Error
		if enc, err = lookupCharset(header); err != nil {
			return nil, err
		}
	// XML 1.0 Appendix F.1: UTF-16 without a BOM shows in its first bytes.
	case bytes.HasPrefix(body, []byte{'<', 0, '?', 0}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case bytes.HasPrefix(body, []byte{0, '<', 0, '?'}):
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	default:
		m := xmlDeclEncoding.FindSubmatch(body)
		if m == nil {
			// UTF-8 (XML 1.0 §4.3.3, RFC 7303 §3.2).
			if !utf8.Valid(body) {
				return nil, errNotUTF8
			}
			return body, nil
		}
		e, err := lookupCharset(string(m[1]))
		if err != nil {
			return nil, err
		}
		return decodeIn(e, body)
	}

	text, err := decodeIn(enc, body)
	if err != nil {
		return nil, err
	}
	m := xmlDeclEncoding.FindSubmatch(text)
	if m == nil {
		if !utf8.Valid(text) { // only UTF-8 is passed through unread
			return nil, errCharsetInvalid
		}
		return text, nil
	}
	declared, err := lookupCharset(string(m[1]))
	if err != nil {
		return nil, err
	}
	if sameCharset(enc, declared) {
		return text, nil
	}
	if other, err := decodeIn(declared, body); err != nil || !bytes.Equal(other, text) {
		return nil, errCharsetConflict
	}
	return text, nil
}

// lookupCharset finds the encoding an IANA charset label names. It never
// quotes the label back: labels are the caller's input.
func lookupCharset(label string) (encoding.Encoding, *Error) {
	e, err := ianaindex.IANA.Encoding(strings.TrimSpace(label))
	if err != nil || e == nil { // unknown, or registered but not implemented (UTF-32)
		return nil, errCharsetUnknown
	}
	return e, nil
}

// decodeIn converts body from enc to UTF-8. x/text decoders replace what
// they cannot read with U+FFFD; that would change a name without a word,
// so it is refused instead (a literal U+FFFD in a non-UTF-8 body is too).
// UTF-8 is returned as is (decodeCharset checks it); US-ASCII is read
// strictly (RFC 20): a byte over 0x7F is an error, not windows-1252.
func decodeIn(enc encoding.Encoding, body []byte) ([]byte, *Error) {
	switch name, _ := ianaindex.IANA.Name(enc); name {
	case "UTF-8":
		return body, nil
	case "US-ASCII":
		for _, c := range body {
			if c >= utf8.RuneSelf {
				return nil, errCharsetInvalid
			}
		}
		return body, nil
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return nil, errCharsetInvalid
	}
	return out, nil
}

// sameCharset reports whether two encodings read bytes alike; the UTF-16
// forms count as one, since the BOM or the first bytes told the byte order.
func sameCharset(a, b encoding.Encoding) bool {
	na, _ := ianaindex.IANA.Name(a)
	nb, _ := ianaindex.IANA.Name(b)
	return na == nb || strings.HasPrefix(na, "UTF-16") && strings.HasPrefix(nb, "UTF-16")
}
