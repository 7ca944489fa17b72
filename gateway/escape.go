package gateway

import (
	"bytes"
	"encoding/xml"
	"unicode/utf8"
)

// escapeText writes s escaped as xml.EscapeText escapes it, byte for byte
// (FuzzEscapeText), but copies s as is when nothing in it needs escaping,
// as in nearly every greeting: xml.EscapeText takes a []byte (a copy of
// the string) and writes rune by rune.
func escapeText(b *bytes.Buffer, s string) {
	if plainText(s) {
		b.WriteString(s)
		return
	}
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}

// plainText reports whether xml.EscapeText would leave s unchanged: valid
// UTF-8 of XML 1.0 Chars (https://www.w3.org/TR/xml/#NT-Char) without
// markup characters, quotes, or the tab, newline and carriage return it
// writes as character references.
func plainText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}
