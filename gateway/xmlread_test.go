package gateway_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzStrictXML checks that the gateway never accepts a body that a strict
// XML 1.0 + Namespaces reader refuses: encoding/xml in strict mode, with
// one root, nothing but white space, comments and processing instructions
// around it, no DTD, and every prefix declared. The reference below is
// written independently of the gateway's reader on purpose.
func FuzzStrictXML(f *testing.F) {
	files, err := filepath.Glob("../testdata/envelopes/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed envelopes: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
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
