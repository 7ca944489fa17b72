package gateway

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// FuzzEscapeText: escapeText writes what xml.EscapeText writes.
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"Hello, Ada!", "O'Brien <&> \"名前\" 😀", "a\tb\nc\rd", "\x01\xff\uFFFE\u2028", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		escapeText(&got, s)
		if err := xml.EscapeText(&want, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%q: escapeText %q, xml.EscapeText %q", s, got.Bytes(), want.Bytes())
		}
	})
}
