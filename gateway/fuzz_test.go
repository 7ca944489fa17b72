package gateway_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// FuzzDecodeEnvelope posts arbitrary bodies to the SOAP port. Whatever the
// input, the answer is a well-formed envelope: a greeting (HTTP 200) or a
// fault (HTTP 500), never a panic or broken XML. Seeds: every envelope in
// testdata/envelopes; `make fuzz` explores further.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, b := range envelopeSeeds(f) {
		f.Add(b, false)
		f.Add(b, true)
	}

	g := newGateway(f)
	f.Fuzz(func(t *testing.T, body []byte, soap12 bool) {
		ct := "text/xml; charset=utf-8"
		if soap12 {
			ct = "application/soap+xml; charset=utf-8"
		}
		w := do(g, "POST", "/SayHello/", ct, bytes.NewReader(body))
		if w.Code != 200 && w.Code != 500 {
			t.Fatalf("status %d", w.Code)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(w.Body.Bytes()); err != nil {
			t.Fatalf("answer is not well-formed XML: %v\n%s", err, w.Body)
		}
		root := doc.Root()
		if root == nil || root.Tag != "Envelope" {
			t.Fatalf("answer is not an envelope: %s", w.Body)
		}
		isFault := bytes.Contains(w.Body.Bytes(), []byte(":Fault>"))
		if (w.Code == 500) != isFault {
			t.Fatalf("status %d with body %s", w.Code, w.Body)
		}
		if w.Code == 200 {
			greeting := root.FindElement("Body/sayHelloResponse/greeting")
			if greeting == nil || !strings.HasPrefix(greeting.Text(), "Hello, ") {
				t.Fatalf("no greeting in %s", w.Body)
			}
		}
	})
}

// envelopeSeeds returns every envelope in testdata/envelopes, the seeds of
// the fuzz targets that post envelopes.
func envelopeSeeds(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob("../testdata/envelopes/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed envelopes: %v", err)
	}
	seeds := make([][]byte, 0, len(files))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}
