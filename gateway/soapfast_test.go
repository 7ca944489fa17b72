package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hellogw/hellogw/wsdl"
)

func helloOps(tb testing.TB) map[string]wsdl.Operation {
	tb.Helper()
	b, err := wsdl.Parse(wsdl.Document())
	if err != nil {
		tb.Fatal(err)
	}
	return b.Operations
}

// sameAsStrict fails t unless decodeEnvelope reads body to the call the
// fast path read, in the same version.
func sameAsStrict(t *testing.T, body []byte, charset string, fallback *soapVersion, action string, ops map[string]wsdl.Operation, v *soapVersion, c call) {
	t.Helper()
	sv, sc, err := decodeEnvelope(body, charset, fallback, action, ops)
	switch {
	case err != nil:
		t.Fatalf("fast path read %q from %q; the strict path refuses it: %v", *c.arg, body, err)
	case sv != v || sc.op != c.op:
		t.Fatalf("fast path read %s %s from %q; the strict path %s %s", v.name, c.op.Name, body, sv.name, sc.op.Name)
	case sc.arg == nil || *sc.arg != *c.arg:
		t.Fatalf("fast path read %q from %q; the strict path %v", *c.arg, body, sc.arg)
	}
}

// FuzzSOAPFastPath: on every input the fast path either declines (and
// the strict path answers alone) or reads the call the strict path reads:
// same version, operation and name. So the two paths agree on every input:
// same call, or the strict path's own fault.
func FuzzSOAPFastPath(f *testing.F) {
	files, err := filepath.Glob("../testdata/envelopes/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed envelopes: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, `"sayHello"`, "", false)
		f.Add(b, true, "", "utf-8", false)
	}
	for _, part := range []string{` xsi:type="xsd:string">O'Brien &lt;&amp;&gt; "名前" 😀`, `>Ada`, ` xmlns:x="urn:x" x:type="y:string">&quot;`} {
		f.Add([]byte(part), false, "", "UTF-8", true)
	}
	ops := helloOps(f)
	// One reader for every input, as one gateway has: its remembered heads
	// come from earlier inputs, and each later input that starts with one
	// of them is read from there.
	r := newFastReader(ops)
	f.Fuzz(func(t *testing.T, body []byte, is12 bool, action, charset string, inPart bool) {
		fallback := soap11
		if is12 {
			fallback = soap12
		}
		if inPart {
			// Splice the input into a PHP client's part, where the
			// fuzzer finds the attributes and text the fast path reads.
			body = slices.Concat([]byte(phpHead), body, []byte(phpTail))
		}
		v, c, ok := fastEnvelope(body, charset, action, ops)
		if ok {
			sameAsStrict(t, body, charset, fallback, action, ops, v, c)
		}
		// Twice: read, then from its head if it was remembered.
		for range 2 {
			rv, rc, rok := r.read(body, charset, action)
			if rok != ok || rok && (rv != v || rc.op != c.op || *rc.arg != *c.arg) {
				t.Fatalf("the reader read %v %v from %q; fastEnvelope %v %v", rok, rc.arg, body, ok, c.arg)
			}
		}
	})
}

// A PHP client's envelope, cut inside the start tag of its part.
const (
	phpHead = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:examples:helloservice" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:sayHello><firstName`
	phpTail = `</firstName></ns1:sayHello></SOAP-ENV:Body></SOAP-ENV:Envelope>
`
)

type envelopeCase struct {
	Name            string `json:"name"`
	File            string `json:"file"`
	ContentType     string `json:"content_type"`
	SOAPAction      string `json:"soap_action"`
	ContentEncoding string `json:"content_encoding"`
	WantFirstName   string `json:"want_first_name"`
	WantFault       string `json:"want_fault"`
}

// TestSOAPFastPathCaptures: every envelope a real client sent (the
// captures in testdata/envelopes) takes the fast path and reads as the
// strict path reads it, except those whose part is not plain text, which
// the fast path leaves to the strict path by design: SOAP::Lite's base64
// for non-ASCII strings and its multiRef references.
func TestSOAPFastPathCaptures(t *testing.T) {
	raw, err := os.ReadFile("../testdata/envelopes/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []envelopeCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	ops := helloOps(t)
	captures := 0
	for _, tc := range cases {
		if !strings.HasPrefix(tc.File, "ok-") && !strings.HasPrefix(tc.File, "bad-") {
			captures++
		}
		t.Run(tc.Name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("../testdata/envelopes", tc.File))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ContentEncoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err == nil {
					body, err = io.ReadAll(io.LimitReader(zr, 1<<20))
				}
				if err != nil {
					return // a corrupt stream (bad-gzip-*): refused before any decoding
				}
			}
			media, params, _ := mime.ParseMediaType(tc.ContentType)
			fallback, action := soap11, tc.SOAPAction
			if media == "application/soap+xml" {
				fallback, action = soap12, params["action"]
			}
			v, c, ok := fastEnvelope(body, params["charset"], action, ops)
			if ok {
				sameAsStrict(t, body, params["charset"], fallback, action, ops, v, c)
				if tc.WantFirstName != "" && *c.arg != tc.WantFirstName {
					t.Errorf("fast path read %q, want %q", *c.arg, tc.WantFirstName)
				}
			}
			if strings.HasPrefix(tc.File, "ok-") || strings.HasPrefix(tc.File, "bad-") {
				return // hand-made: either path may answer
			}
			notPlain := bytes.Contains(body, []byte("base64")) || bytes.Contains(body, []byte("href="))
			if ok == notPlain {
				t.Errorf("captured from a real client: fast path %v, part plain text %v\n%s", ok, !notPlain, body)
			}
		})
	}
	if captures < 20 {
		t.Errorf("only %d real-client captures in cases.json", captures)
	}
}

// BenchmarkSOAPFastPath reads a PHP client's envelope: Scan reads it
// whole every time, Remembered from the head the reader remembered.
func BenchmarkSOAPFastPath(b *testing.B) {
	body, err := os.ReadFile("../testdata/envelopes/php-wsdl-ada.xml")
	if err != nil {
		b.Fatal(err)
	}
	ops := helloOps(b)
	r := newFastReader(ops)
	for name, read := range map[string]func() bool{
		"Scan":       func() bool { _, _, ok := fastEnvelope(body, "utf-8", `"sayHello"`, ops); return ok },
		"Remembered": func() bool { _, _, ok := r.read(body, "utf-8", `"sayHello"`); return ok },
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if !read() {
					b.Fatal("not read")
				}
			}
		})
	}
}

// TestFastReaderHeads: after one PHP envelope, the reader reads the next
// ones from the head it remembered, and still reads each as the strict
// path does: another name, a name with entities, an empty part; a broken
// rest, another SOAPAction or another charset is not read from it.
func TestFastReaderHeads(t *testing.T) {
	ops := helloOps(t)
	r := newFastReader(ops)
	head := phpHead + ` xsi:type="xsd:string">`
	for _, tc := range []struct {
		name, body, action, charset string
		ok                          bool
	}{
		{"First", head + `Ada` + phpTail, `"sayHello"`, "utf-8", true},
		{"OtherName", head + `Bob` + phpTail, `"sayHello"`, "utf-8", true},
		{"Entities", head + `O&apos;Brien &lt;3` + phpTail, `"sayHello"`, "", true},
		{"SpaceBeforeEnd", head + `Ada</firstName >  </ns1:sayHello></SOAP-ENV:Body></SOAP-ENV:Envelope>`, `"sayHello"`, "utf-8", true},
		{"ErrBrokenRest", head + `Ada</firstName></ns1:sayHello></SOAP-ENV:Body>`, `"sayHello"`, "utf-8", false},
		{"ErrTextAfter", head + `Ada` + phpTail + `x`, `"sayHello"`, "utf-8", false},
		{"ErrCharRef", head + `&#65;da` + phpTail, `"sayHello"`, "utf-8", false},
		{"ErrOtherAction", head + `Ada` + phpTail, `"urn:other#other"`, "utf-8", false},
		{"ErrOtherCharset", head + `Ada` + phpTail, `"sayHello"`, "iso-8859-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c, ok := r.read([]byte(tc.body), tc.charset, tc.action)
			if ok != tc.ok {
				t.Fatalf("read %v, want %v", ok, tc.ok)
			}
			if ok {
				sameAsStrict(t, []byte(tc.body), tc.charset, soap11, tc.action, ops, v, c)
			}
		})
	}
	if got := r.heads[1].Load(); got == nil || got.prefix != head {
		t.Errorf("remembered head %+v, want the PHP client's, once", got)
	}
	if got := r.heads[2].Load(); got != nil {
		t.Errorf("a second head %q remembered, want one", got.prefix)
	}
}
