package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"

	"github.com/hellogw/hellogw/oauth"
)

// Error is a problem in a config file, told in the file's own terms: where
// (file, line, key path) and what to do about it.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem has no single line
	Path string // the key path, such as tokens.access_ttl or clients[0].secret; "" for the whole file
	Msg  string // what is wrong, and the fix
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config ")
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// document is a parsed config file: its name and its YAML tree.
type document struct {
	file string
	root *yaml.Node // the top mapping; nil for an empty file
}

// parse reads a YAML document. yaml.v3 decodes it, but goccy/go-yaml's
// parser finds syntax errors first: it names the line an indentation error
// is on, where yaml.v3 often names the line of the block it breaks.
func parse(file string, data []byte) (*document, error) {
	if _, err := parser.ParseBytes(data, 0); err != nil {
		return nil, syntaxError(file, err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	d := &document{file: file}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		d.root = n.Content[0]
	}
	return d, nil
}

// syntaxError says where the YAML syntax breaks and, for the usual causes,
// how to mend it.
func syntaxError(file string, err error) error {
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil {
		return &Error{File: file, Msg: err.Error()}
	}
	line := se.Token.Position.Line
	msg := se.Message
	switch {
	case strings.HasPrefix(msg, "mapping value is not allowed"):
		// The offending ":" follows the token, which may be a plain scalar
		// that ran on over the next lines (a key indented too deep reads
		// as the continuation of the value before it): count its lines.
		line += strings.Count(strings.TrimRight(se.Token.Origin, " \t\n"), "\n")
		msg = "a key where a value was expected: check the indentation (keys of one mapping start in the same column) and that a value with \": \" in it is quoted"
	case strings.HasPrefix(msg, "value is not allowed"):
		msg = "unexpected key here: check the indentation (keys of one mapping start in the same column; the keys of a list item line up under the first one, after \"- \")"
	case strings.Contains(msg, "tab character"), strings.Contains(msg, "'\t'"):
		msg = "a tab in the indentation: indent with spaces"
	case strings.Contains(msg, "already defined"):
		msg = strings.Replace(msg, "mapping key", "key", 1) + ": give each key once"
	case strings.Contains(msg, "could not find end character"):
		msg += ": close the quote"
	}
	return &Error{File: file, Line: line, Msg: msg}
}

// durationType is time.Duration, which YAML spells as a string.
var durationType = reflect.TypeFor[time.Duration]()

// check walks n against the Go type t that it will be decoded into, and
// reports the first key that t does not have and the first value that
// does not fit, with its line and key path. yaml.v3's own errors name Go
// types ("field greting not found in type config.Config", "cannot
// unmarshal !!str `1 hour` into time.Duration"); these name the file's.
func (d *document) check(n *yaml.Node, t reflect.Type, path string) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return d.check(n.Alias, t, path)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // an empty value keeps the default
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			return d.errAt(n, path, "use a Go duration such as 1h, 30m or 1500ms")
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return d.errAt(n, path, fmt.Sprintf("%q is not a duration: use a Go duration such as 1h, 30m or 1500ms", n.Value))
		}
		return nil
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "use a mapping of keys (key: value, on lines indented under it)")
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				return d.errAt(k, join(path, k.Value), unknownKey(k.Value, fields))
			}
			if err := d.check(v, f, join(path, k.Value)); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, path, "use a list: [a, b] or one \"- item\" a line")
		}
		for i, item := range n.Content {
			if err := d.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	// A scalar: let yaml.v3 decode it into its type, and say what fits.
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, path, "use a single value, not a list or a mapping")
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return d.errAt(n, path, fmt.Sprintf("%q is not %s", n.Value, kindName(t, path)))
	}
	return nil
}

// wholeExamples are examples of the whole-number keys, by key name (the
// last of a path, without an index): a value that fits the key.
var wholeExamples = map[string]string{
	"max_body_bytes": "1048576",
	"max_conns":      "64",
	"failures":       "5",
	"max_in_flight":  "16",
	"sample_size":    "20",
	"weight":         "30",
	"steps":          "25",
	"min_calls":      "20",
}

// kindName names what a scalar of type t at path must be, with an example.
func kindName(t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean: use true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		key, _, _ := strings.Cut(path[strings.LastIndexByte(path, '.')+1:], "[")
		if ex, ok := wholeExamples[key]; ok {
			return "a whole number: use digits only, such as " + ex
		}
		return "a whole number: use digits only, without a unit"
	case reflect.Float32, reflect.Float64:
		return "a number, such as 0.5"
	}
	return "a string: quote it"
}

// yamlFields maps the YAML keys of struct type t to their types, inline
// structs' keys included; fields tagged "-" are not keys.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default
		}
		m[name] = f.Type
	}
	return m
}

// unknownKey says a key is not one of fields, suggesting the nearest.
func unknownKey(key string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3 // a suggestion must be within two edits
	for k := range fields {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", best)
	}
	return "unknown key; the keys here are " + strings.Join(slices.Sorted(maps.Keys(fields)), ", ")
}

// editDistance is the Levenshtein distance between a and b. Hand-written:
// a dozen lines do not warrant a dependency.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *document) errAt(n *yaml.Node, path, msg string) *Error {
	return &Error{File: d.file, Line: n.Line, Path: path, Msg: msg}
}

// at returns an Error for the key path p (a.b[2].c), on the line of the
// deepest part of p the file has: the key itself, or the mapping a missing
// key belongs in. Without a file (the embedded defaults) it has no line.
func (d *document) at(p, msg string) *Error {
	e := &Error{File: d.file, Path: p, Msg: msg}
	n := d.root
	if n != nil {
		e.Line = n.Line
	}
	for part := range strings.SplitSeq(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		n = child(n, key)
		if n == nil {
			return e
		}
		e.Line = n.Line
		for rest != "" {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			rest = strings.TrimPrefix(rest, "[")
			i, err := strconv.Atoi(idx)
			if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return e
			}
			n = n.Content[i]
			e.Line = n.Line
		}
	}
	return e
}

// child returns the value of key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// Explain puts an error of the OAuth section (an *oauth.ConfigError, from
// oauth.NewServer) in the config file's terms; other errors pass as they
// are. file is the config file that was loaded, "" for the defaults.
func Explain(file string, err error) error {
	var ce *oauth.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	d := &document{file: file}
	if file == "" {
		d.file = "(embedded defaults)"
	} else if data, rerr := os.ReadFile(file); rerr == nil {
		if parsed, perr := parse(file, data); perr == nil {
			d = parsed
		}
	}
	return d.at(ce.Path, ce.Msg)
}
