package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
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
		// Three times: read, read and remember its head (the second time
		// it is seen), read from that head.
		for range 3 {
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

// BenchmarkSOAPFastPath reads PHP clients' envelopes with fastEnvelope
// (Scan, the whole envelope every time) and with one fastReader (Reader),
// fed: Repeated, one envelope again and again (what wrk sends); Rotation,
// 1,000 envelopes with distinct heads in turn, none remembered; Useful,
// the heads of 8 clients each every other request, one-off heads between
// them (4,096 distinct, in turn).
func BenchmarkSOAPFastPath(b *testing.B) {
	ops := helloOps(b)
	useful, oneOffs := phpBodies("u", fastHeads), phpBodies("o", 4096)
	var interleaved [][]byte // u0 o0 u1 o1 … u7 o7 u0 o8 …
	for i, o := range oneOffs {
		interleaved = append(interleaved, useful[i%len(useful)], o)
	}
	for _, bc := range []struct {
		name       string
		bodies     [][]byte // read in turn
		remembered [][]byte // read twice before
	}{
		{"Repeated", phpBodies("ns1", 1), phpBodies("ns1", 1)},
		{"Rotation", phpBodies("r", 1000), nil},
		{"Useful", interleaved, useful},
	} {
		r := newFastReader(ops)
		for _, body := range bc.remembered {
			for range 2 {
				r.read(body, "utf-8", `"sayHello"`)
			}
		}
		for name, read := range map[string]func([]byte) bool{
			"Scan":   func(body []byte) bool { _, _, ok := fastEnvelope(body, "utf-8", `"sayHello"`, ops); return ok },
			"Reader": func(body []byte) bool { _, _, ok := r.read(body, "utf-8", `"sayHello"`); return ok },
		} {
			b.Run(bc.name+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(bc.bodies[0])))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if !read(bc.bodies[i%len(bc.bodies)]) {
						b.Fatal("not read")
					}
					i++
				}
			})
		}
	}
}

// phpBodies is n PHP envelopes whose heads differ: the namespace prefix
// of the operation is prefix and a number (prefix itself when n is 1).
func phpBodies(prefix string, n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		p := prefix
		if n > 1 {
			p = fmt.Sprintf("%s%d", prefix, i)
		}
		bodies[i] = []byte(strings.ReplaceAll(phpHead+` xsi:type="xsd:string">Ada`+phpTail, "ns1", p))
	}
	return bodies
}

// TestFastReaderHeads: after two PHP envelopes with the same head (the
// second remembers it), the reader reads the next ones from that head, and still reads each as the strict
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
		{"Second", head + `Bob` + phpTail, `"sayHello"`, "utf-8", true},
		{"OtherName", head + `Eve` + phpTail, `"sayHello"`, "utf-8", true},
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

// TestFastReaderAdmission: heads read once each, in a rotation longer
// than the table of missed heads, are never remembered; 8 remembered
// heads stay remembered through 10,000 one-off heads read between them.
func TestFastReaderAdmission(t *testing.T) {
	ops := helloOps(t)
	r := newFastReader(ops)
	rotation := phpBodies("r", 1000)
	for range 3 {
		for _, body := range rotation {
			if _, _, ok := r.read(body, "utf-8", `"sayHello"`); !ok {
				t.Fatalf("not read: %q", body)
			}
		}
	}
	for i := range r.heads {
		if h := r.heads[i].Load(); h != nil {
			t.Fatalf("a rotated head remembered: %q", h.prefix)
		}
	}

	useful := phpBodies("u", fastHeads)
	for _, body := range useful {
		for range 2 {
			r.read(body, "utf-8", `"sayHello"`)
		}
	}
	for i, o := range phpBodies("o", 10000) {
		for _, body := range [][]byte{useful[i%len(useful)], o} {
			if _, _, ok := r.read(body, "utf-8", `"sayHello"`); !ok {
				t.Fatalf("not read: %q", body)
			}
		}
	}
	var got []string
	for i := range r.heads {
		if h := r.heads[i].Load(); h != nil {
			got = append(got, h.prefix[strings.Index(h.prefix, "<SOAP-ENV:Body><")+16:][:2])
		}
	}
	slices.Sort(got)
	if want := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}; !slices.Equal(got, want) {
		t.Errorf("remembered %q, want %q", got, want)
	}
}
