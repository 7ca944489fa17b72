package gateway

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FuzzJSONFastPath: whenever the fast path reads a name, json/v2 (the
// decoder handleJSON falls back to) reads the same request without error
// and the same name. What the fast path declines goes to json/v2 itself,
// so every input gets json/v2's answer or error.
func FuzzJSONFastPath(f *testing.F) {
	for _, s := range []string{
		`{"firstName":"Ada"}`, ` {"firstName" : "O'Brien <&> 名前 😀"}` + "\n", `{"firstName":""}`,
		`{"firstName":"Ada","firstName":"Eve"}`, `{"firstName":null}`, `{"firstName":"A\u0064a"}`,
		`{"FirstName":"Ada"}`, `{"firstName":"Ada"}x`, "{\"firstName\":\"\xff\"}", `{"firstName":"Ada"`,
		`{"firstName":"Ada", "other": 1}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		name, ok := jsonFirstName(body)
		if !ok {
			return
		}
		var req sayHelloRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("fast path read %q from %q; json/v2: %v", name, body, err)
		}
		if req.FirstName == nil || *req.FirstName != name {
			t.Fatalf("fast path read %q from %q; json/v2 read %v", name, body, req.FirstName)
		}
	})
}

// TestJSONFastPathShapes: what clients send takes the fast path; what it
// must leave to json/v2 does not.
func TestJSONFastPathShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"firstName":"Ada"}`:              "Ada",
		"{ \"firstName\" : \"Ada\" }\r\n":  "Ada",
		`{"firstName":"O'Brien <&> 名前 😀"}`: "O'Brien <&> 名前 😀",
		`{"firstName":""}`:                 "",
	} {
		if got, ok := jsonFirstName([]byte(body)); !ok || got != want {
			t.Errorf("%q: got %q, %v; want %q", body, got, ok, want)
		}
	}
	for _, body := range []string{
		`{"firstName":"A\"da"}`, `{"firstName":null}`, `{"firstName":"Ada","x":1}`, `{"firstName":"Ada"}}`,
		"{\"firstName\":\"\xc3\"}", "{\"firstName\":\"a\tb\"}", `{"firstname":"Ada"}`, `{"firstName":"Ada"`,
	} {
		if got, ok := jsonFirstName([]byte(body)); ok {
			t.Errorf("%q took the fast path (%q)", body, got)
		}
	}
}

// FuzzJSONQuote: appendJSONQuote writes what jsontext.AppendQuote writes,
// after what the buffer held.
func FuzzJSONQuote(f *testing.F) {
	for _, s := range []string{"Hello, Ada!", "", `Hello, "Ada"!`, `a\b`, "tab\t", "\x7f", "O'Brien <&> 名前 😀", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := jsontext.AppendQuote([]byte("x"), s)
		if got := appendJSONQuote([]byte("x"), s); !bytes.Equal(got, want) {
			t.Fatalf("%q: wrote %q, jsontext %q", s, got, want)
		}
	})
}

// BenchmarkJSONQuote quotes a greeting: jsontext.AppendQuote, and
// appendJSONQuote.
func BenchmarkJSONQuote(b *testing.B) {
	buf := make([]byte, 0, 64)
	for name, quote := range map[string]func([]byte, string) []byte{
		"jsontext": func(b []byte, s string) []byte { b, _ = jsontext.AppendQuote(b, s); return b },
		"plain":    appendJSONQuote,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				buf = quote(buf[:0], "Hello, Ada!")
			}
		})
	}
}
