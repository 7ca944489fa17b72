package gateway_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzStrictXML checks that the gateway never accepts a body that a strict
// XML 1.0 + Namespaces reader refuses: encoding/xml in strict mode, with
// one root, nothing but white space, comments and processing instructions
// around it, no DTD, and every prefix declared. The reference below is
// written independently of the gateway's reader on purpose.
func FuzzStrictXML(f *testing.F) {
	for _, b := range envelopeSeeds(f) {
		f.Add(b)
	}
	g := newGateway(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if bytes.HasPrefix(body, []byte{0xFE, 0xFF}) || bytes.HasPrefix(body, []byte{0xFF, 0xFE}) {
			return // a UTF-16 BOM outranks the header (RFC 7303 §3.2); the reference reads UTF-8
		}
		w := do(g, "POST", "/SayHello/", "text/xml; charset=utf-8", bytes.NewReader(body))
		if w.Code != 200 {
			return
		}
		if err := strictlyWellFormed(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF})); err != nil {
			t.Fatalf("accepted, but a strict reader refuses it: %v\n%q", err, body)
		}
	})
}

func strictlyWellFormed(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // the header said UTF-8
	depth, roots := 0, 0
	for {
		tok, err := d.Token() // Token, unlike RawToken, checks that end tags match
		if errors.Is(err, io.EOF) {
			if roots != 1 {
				return errors.New("not exactly one root")
			}
			return undeclaredPrefix(body)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return errors.New("text outside the root")
			}
		case xml.Directive:
			return errors.New("a directive")
		}
	}
}

// undeclaredPrefix finds an element or attribute prefix that no ancestor
// declares (Namespaces in XML §5).
func undeclaredPrefix(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	var scopes [][]string
	declared := func(p string) bool {
		if p == "" || p == "xml" || p == "xmlns" {
			return true
		}
		for _, s := range scopes {
			for _, q := range s {
				if q == p {
					return true
				}
			}
		}
		return false
	}
	for {
		tok, err := d.RawToken()
		if err != nil {
			return nil // the strict pass has read it all
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var s []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					s = append(s, a.Name.Local)
				}
			}
			scopes = append(scopes, s)
			if !declared(t.Name.Space) {
				return errors.New("an undeclared element prefix")
			}
			for _, a := range t.Attr {
				if !declared(a.Name.Space) {
					return errors.New("an undeclared attribute prefix")
				}
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
}

// TestEnvelopeLimits sends envelopes just within and just past each limit
// on what one parse may build, made at run time: within, the call answers;
// past, it is a Client fault in the gateway's words.
func TestEnvelopeLimits(t *testing.T) {
	g := newGateway(t)
	inHeader := func(blocks string) string {
		return strings.Replace(envelope11("Ada"), "<s:Body>", "<s:Header>"+blocks+"</s:Header><s:Body>", 1)
	}
	nested := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	attrs := func(n, valueBytes int) string {
		var b strings.Builder
		b.WriteString("<a")
		for i := range n {
			fmt.Fprintf(&b, ` a%d="%s"`, i, strings.Repeat("v", valueBytes))
		}
		return b.String() + "/>"
	}
	for _, tc := range []struct {
		desc, body string
		ok         bool
	}{
		{"Depth", inHeader(nested(28)), true}, // Envelope, Header and 28 more: 30 of 32
		{"ErrDepth", inHeader(nested(31)), false},
		{"Elements", inHeader(strings.Repeat("<a/>", 500)), true},
		{"ErrElements", inHeader(strings.Repeat("<a/>", 520)), false},
		{"AttrsPerElement", inHeader(attrs(64, 1)), true},
		{"ErrAttrsPerElement", inHeader(attrs(65, 1)), false},
		{"ErrAttrs", inHeader(strings.Repeat(attrs(60, 1), 18)), false},
		{"NameBytes", inHeader("<" + strings.Repeat("n", 255) + "/>"), true},
		{"ErrNameBytes", inHeader("<" + strings.Repeat("n", 256) + "/>"), false},
		{"TokenBytes", inHeader("<!--" + strings.Repeat("c", 100<<10) + "-->"), true},
		{"ErrTokenBytes", inHeader("<!--" + strings.Repeat("c", 130<<10) + "-->"), false},
		{"ErrTokenBytesInAttributes", inHeader(attrs(40, 4<<10)), false},
		{"ErrTokens", inHeader(strings.Repeat("<!---->", 4100)), false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			w := do(g, "POST", "/SayHello/", "text/xml", strings.NewReader(tc.body))
			a := parseAnswer(t, w.Body.Bytes())
			if tc.ok {
				require.Equal(t, 200, w.Code, "%s", w.Body)
				return
			}
			assert.Equal(t, "Client", a.code)
			assert.Contains(t, a.reason, "more elements, attributes, nesting or longer names than a sayHello call can need")
		})
	}
}
