package gateway

import (
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonFirstName reads the one shape nearly every JSON caller sends,
// {"firstName":"…"} with optional white space and a string without
// escapes, straight from the bytes: no reflection, no decoder state, one
// allocation for the name. ok is false for anything else, even a valid
// request (escapes, null, other members, duplicates), which then goes to
// go-json-experiment/json, the one authority on what is accepted
// (FuzzJSONFastPath checks the two agree). Hand-written because no JSON
// library decodes one known member without per-call set-up.
func jsonFirstName(body []byte) (name string, ok bool) {
	const key = `"firstName"`
	i := skipJSONSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return "", false
	}
	i = skipJSONSpace(body, i+1)
	if len(body)-i < len(key) || string(body[i:i+len(key)]) != key {
		return "", false
	}
	i = skipJSONSpace(body, i+len(key))
	if i == len(body) || body[i] != ':' {
		return "", false
	}
	i = skipJSONSpace(body, i+1)
	if i == len(body) || body[i] != '"' {
		return "", false
	}
	start := i + 1
	end := start
	// RFC 8259 §7: any character but '"', '\\' and controls stands for
	// itself; the text must be UTF-8 (§8.1), which json/v2 enforces too.
	for end < len(body) && body[end] != '"' {
		if c := body[end]; c < 0x20 || c == '\\' {
			return "", false
		}
		end++
	}
	if end == len(body) || !utf8.Valid(body[start:end]) {
		return "", false
	}
	i = skipJSONSpace(body, end+1)
	if i == len(body) || body[i] != '}' {
		return "", false
	}
	if skipJSONSpace(body, i+1) != len(body) {
		return "", false
	}
	return string(body[start:end]), true
}

// skipJSONSpace skips RFC 8259 §2 white space from i.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// appendJSONQuote is jsontext.AppendQuote for a valid UTF-8 string (a
// greeting, checked by the core or the backend codec): a string of
// printable ASCII but '"' and '\\', which RFC 8259 §7 lets stand for
// themselves and jsontext writes as they are, is copied between quotes
// after one comparison a byte; any other goes to jsontext
// (FuzzJSONQuote). 215 instructions a greeting instead of 305
// (BenchmarkJSONQuote, callgrind).
func appendJSONQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b, _ = jsontext.AppendQuote(b, s)
			return b
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
