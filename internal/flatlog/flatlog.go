// Package flatlog is a log/slog handler that writes exactly the bytes
// slog's TextHandler or JSONHandler would write for the same record, for a
// fraction of the cost, when the record is flat: attributes of kind
// string, int, uint, float, bool, duration and time, no groups, no
// WithAttrs, no source. A request log line is such a record. Anything else
// (a group, an Any value, a LogValuer that resolves to one, WithGroup,
// WithAttrs, AddSource) is handed to slog's own handler, built with the
// same options on the same writer, so the output never differs; only the
// cost does. FuzzSameAsSlog compares the two.
//
// It is hand-written because slog's handlers set up per-record state
// (a handleState, a prefix buffer, a group slice from a pool) and defer a
// recover for every value, and no maintained handler promises slog's exact
// bytes.
package flatlog

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Handler is a slog.Handler writing flat records itself and delegating
// every other record to slog's handler of the same format.
type Handler struct {
	json     bool
	seconds  bool // durations as float seconds, with rep nil (see NewJSONSecondsHandler)
	w        *lockedWriter
	level    slog.Leveler
	rep      func(groups []string, a slog.Attr) slog.Attr
	fallback slog.Handler // slog's own handler on the same writer and options
}

// NewTextHandler returns a handler writing what slog.NewTextHandler(w, opts) writes.
func NewTextHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, false)
}

// NewJSONHandler returns a handler writing what slog.NewJSONHandler(w, opts) writes.
func NewJSONHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	return newHandler(w, opts, true)
}

// NewJSONSecondsHandler returns a handler writing what slog.NewJSONHandler
// writes with every duration turned into float seconds
// ("duration":0.000024118) by SecondsForDurations before opts.ReplaceAttr,
// if any, sees it. slog writes a time.Duration in JSON as integer
// nanoseconds, which readers take for milliseconds or worse; seconds are
// the unit Prometheus uses for durations too. Without a ReplaceAttr of the
// caller's, a flat record is written with no ReplaceAttr call at all.
func NewJSONSecondsHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	o := slog.HandlerOptions{}
	if opts != nil {
		o = *opts
	}
	rep := o.ReplaceAttr
	if rep == nil {
		o.ReplaceAttr = SecondsForDurations
	} else {
		o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr { return rep(groups, SecondsForDurations(groups, a)) }
	}
	h := newHandler(w, &o, true)
	if fh, ok := h.(*Handler); ok && rep == nil {
		fh.rep, fh.seconds = nil, true // the same, inline
	}
	return h
}

// SecondsForDurations is a ReplaceAttr writing a duration as float
// seconds, slog.Float64(key, d.Seconds()); other attributes pass as they are.
func SecondsForDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

func newHandler(w io.Writer, opts *slog.HandlerOptions, json bool) slog.Handler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	lw := &lockedWriter{w: w}
	var fallback slog.Handler
	if json {
		fallback = slog.NewJSONHandler(lw, opts)
	} else {
		fallback = slog.NewTextHandler(lw, opts)
	}
	if opts.AddSource {
		return fallback // the source needs runtime.Callers; nothing to save
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{json: json, w: lw, level: level, rep: opts.ReplaceAttr, fallback: fallback}
}

// lockedWriter makes one Write per record atomic across this handler and
// its fallback, as slog's handlers do among themselves.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler; the result is slog's handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler { return h.fallback.WithAttrs(attrs) }

// WithGroup implements slog.Handler; the result is slog's handler.
func (h *Handler) WithGroup(name string) slog.Handler { return h.fallback.WithGroup(name) }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var arr [16]slog.Attr // on the stack, for the usual few
	attrs := arr[:0]
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if done, err := h.handle(r.Time, r.Level, r.Message, attrs); done {
		return err
	}
	return h.fallback.Handle(ctx, r)
}

// HandleAttrs handles the record slog.NewRecord(t, level, msg, 0) with
// attrs added, as Handle does, without building it: no copy of attrs, and
// no allocation for the attributes past the five a Record holds inline.
// It is for a caller that logs one line per request (the gateway).
func (h *Handler) HandleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs ...slog.Attr) error {
	if done, err := h.handle(t, level, msg, attrs); done {
		return err
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	return h.fallback.Handle(ctx, r)
}

// handle writes a flat record; done is false, and nothing written, when
// the record is not flat.
func (h *Handler) handle(t time.Time, level slog.Level, msg string, attrs []slog.Attr) (done bool, err error) {
	if h.rep != nil {
		// ReplaceAttr must not be called for a record slog's handler then
		// writes (it would be called twice). Without one, format finds a
		// kind it cannot write itself (appendValue), in the same pass.
		for _, a := range attrs {
			if !fastKind(a.Value.Kind()) {
				return false, nil
			}
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 { // as slog does: keep no huge buffer
			*bp = (*bp)[:0]
			bufPool.Put(bp)
		}
	}()
	b, ok := h.format((*bp)[:0], t, level, msg, attrs)
	*bp = b
	if !ok {
		return false, nil
	}
	_, err = h.w.Write(b)
	return true, err
}

func fastKind(k slog.Kind) bool {
	switch k {
	case slog.KindString, slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	}
	return false
}

// format lays the record out as slog's commonHandler.handle does: time,
// level, msg, then the attributes; ok is false where it cannot.
func (h *Handler) format(b []byte, t time.Time, level slog.Level, msg string, attrs []slog.Attr) ([]byte, bool) {
	if h.json {
		b = append(b, '{')
	}
	sep := ""
	ok := true
	if !t.IsZero() {
		t = t.Round(0) // strip the monotonic reading, as slog does
		var sec *formattedSecond
		if h.rep == nil && h.json {
			sec = secondOf(t)
		}
		switch {
		case sec != nil:
			// What appendValue writes for it, without a Value.
			b = append(b, `"`+slog.TimeKey+`":"`...)
			b = append(b, sec.head...)
			b = appendNanos(b, t.Nanosecond())
			b = append(b, sec.zone...)
			b = append(b, '"')
			sep = ","
		case h.rep == nil:
			b, ok = h.appendPair(b, sep, slog.TimeKey, slog.TimeValue(t), slog.KindTime)
			sep = h.attrSep()
		default:
			b, sep, ok = h.appendAttr(b, sep, slog.Time(slog.TimeKey, t))
		}
		if !ok {
			return b, false
		}
	}
	switch {
	case h.rep == nil && h.json:
		// A level's name is letters, digits, '+' and '-': nothing to escape.
		b = append(b, sep...)
		b = append(b, `"`+slog.LevelKey+`":"`...)
		b = append(b, level.String()...)
		b = append(b, `","`+slog.MessageKey+`":"`...)
		b = appendEscapedJSONString(b, msg)
		b = append(b, '"')
	case h.rep == nil:
		b, _ = h.appendPair(b, sep, slog.LevelKey, slog.StringValue(level.String()), slog.KindString)
		sep = h.attrSep()
		b, _ = h.appendPair(b, sep, slog.MessageKey, slog.StringValue(msg), slog.KindString)
	default:
		if b, sep, ok = h.appendAttr(b, sep, slog.Any(slog.LevelKey, level)); !ok {
			return b, false
		}
		if b, sep, ok = h.appendAttr(b, sep, slog.String(slog.MessageKey, msg)); !ok {
			return b, false
		}
	}
	switch {
	case h.rep == nil && h.json:
		// The request line's case, spelt out: no separator to choose, and
		// strings, ints and durations written here, not through appendPair.
		for _, a := range attrs {
			b = append(b, ',', '"')
			b = appendEscapedJSONString(b, a.Key)
			b = append(b, '"', ':')
			switch k := a.Value.Kind(); k {
			case slog.KindString:
				b = append(b, '"')
				b = appendEscapedJSONString(b, a.Value.String())
				b = append(b, '"')
			case slog.KindInt64:
				b = strconv.AppendInt(b, a.Value.Int64(), 10)
			case slog.KindDuration:
				if h.seconds {
					b, ok = appendSeconds(b, a.Value.Duration())
				} else {
					b = strconv.AppendInt(b, int64(a.Value.Duration()), 10)
				}
			default:
				b, ok = h.appendValue(b, a.Value, k)
			}
			if !ok {
				return b, false
			}
		}
	case h.rep == nil:
		// appendPair (appendValue) refuses a LogValuer, an Any, a Group.
		for _, a := range attrs {
			if b, ok = h.appendPair(b, sep, a.Key, a.Value, a.Value.Kind()); !ok {
				return b, false
			}
			sep = h.attrSep()
		}
	default:
		for _, a := range attrs {
			if b, sep, ok = h.appendAttr(b, sep, a); !ok {
				return b, false
			}
		}
	}
	if h.json {
		b = append(b, '}')
	}
	return append(b, '\n'), true
}

func (h *Handler) attrSep() string {
	if h.json {
		return ","
	}
	return " "
}

// appendAttr is slog's handleState.appendAttr for a flat attribute,
// ReplaceAttr applied (with no groups: this handler never has any). The
// kind is read once per step: Value.Kind is a type switch.
func (h *Handler) appendAttr(b []byte, sep string, a slog.Attr) ([]byte, string, bool) {
	k := a.Value.Kind()
	if k == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		k = a.Value.Kind()
	}
	if h.rep != nil && k != slog.KindGroup {
		a = h.rep(nil, a)
		if k = a.Value.Kind(); k == slog.KindLogValuer {
			a.Value = a.Value.Resolve()
			k = a.Value.Kind()
		}
	}
	if k == slog.KindAny {
		switch v := a.Value.Any().(type) {
		case nil:
			if a.Key == "" {
				return b, sep, true // an empty Attr is elided
			}
			return b, sep, false
		case slog.Level:
			// Level's MarshalText and MarshalJSON both write its String.
			a.Value, k = slog.StringValue(v.String()), slog.KindString
		default:
			return b, sep, false
		}
	}
	b, ok := h.appendPair(b, sep, a.Key, a.Value, k)
	return b, h.attrSep(), ok
}

func (h *Handler) appendPair(b []byte, sep, key string, v slog.Value, k slog.Kind) ([]byte, bool) {
	b = append(b, sep...)
	b = h.appendString(b, key)
	if h.json {
		b = append(b, ':')
	} else {
		b = append(b, '=')
	}
	return h.appendValue(b, v, k)
}

func (h *Handler) appendString(b []byte, s string) []byte {
	if h.json {
		b = append(b, '"')
		b = appendEscapedJSONString(b, s)
		return append(b, '"')
	}
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// appendValue writes v, of kind k.
func (h *Handler) appendValue(b []byte, v slog.Value, k slog.Kind) ([]byte, bool) {
	switch k {
	case slog.KindString:
		return h.appendString(b, v.String()), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindFloat64:
		if h.json {
			return appendJSONFloat(b, v.Float64())
		}
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindDuration:
		if h.json {
			return strconv.AppendInt(b, int64(v.Duration()), 10), true // as json.Marshal does
		}
		return append(b, v.Duration().String()...), true
	case slog.KindTime:
		t := v.Time()
		sec := secondOf(t)
		if !h.json {
			if sec == nil {
				return appendRFC3339Millis(b, t), true
			}
			// What appendRFC3339Millis writes: exactly three digits.
			ms := t.Nanosecond() / 1e6
			b = append(b, sec.head...)
			b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
			return append(b, sec.zone...), true
		}
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false // slog writes an error beside it; let it
		}
		b = append(b, '"')
		if sec == nil {
			b = t.AppendFormat(b, time.RFC3339Nano)
		} else {
			b = append(b, sec.head...)
			b = appendNanos(b, t.Nanosecond())
			b = append(b, sec.zone...)
		}
		return append(b, '"'), true
	}
	return b, false
}

// formattedSecond is the start and the end of a time in RFC 3339 as
// time.RFC3339Nano lays it out, "2006-01-02T15:04:05" and "Z07:00", for
// one second in one location: the parts every line logged in that second
// shares. Formatting them is most of the cost of a time.
type formattedSecond struct {
	unix       int64
	loc        *time.Location
	head, zone string
}

// lastSecond is the second most recently formatted.
var lastSecond atomic.Pointer[formattedSecond]

// secondOf returns the formatted parts of t's second, or nil for a year
// outside 0–9999, which RFC 3339 cannot write in four digits.
func secondOf(t time.Time) *formattedSecond {
	unix, loc := t.Unix(), t.Location()
	if s := lastSecond.Load(); s != nil && s.unix == unix && s.loc == loc {
		return s
	}
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil
	}
	s := &formattedSecond{unix: unix, loc: loc, head: t.Format("2006-01-02T15:04:05"), zone: t.Format("Z07:00")}
	lastSecond.Store(s)
	return s
}

// appendNanos writes a fraction of a second as time.RFC3339Nano does
// (".999999999"): a point and up to nine digits, trailing zeros dropped,
// nothing when it is zero.
func appendNanos(b []byte, ns int) []byte {
	if ns == 0 {
		return b
	}
	var d [10]byte
	d[0] = '.'
	for i := 9; i > 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 10
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}

// appendRFC3339Millis is slog's text time format: RFC 3339 with exactly
// three digits of milliseconds, truncated.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the 4th digit
}

// appendJSONFloat writes f as encoding/json does (slog's JSONHandler calls
// json.Marshal for floats): 'f' format, 'e' for very small or very large
// magnitudes, with a one-digit negative exponent. NaN and ±Inf are errors
// there; ok is false for them.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendSeconds writes d in seconds as appendJSONFloat writes d.Seconds().
// From 1 µs to 1 s, that is the decimal d / 10^9 itself: d.Seconds() is
// then float64(d) / 1e9, the float nearest it, and no other decimal of
// nine digits or fewer is as near to that float, so it is the shortest
// that reads back as it ('f' format: appendJSONFloat takes 'e' below
// 1e-6). strconv's shortest formatting costs ten times as much.
func appendSeconds(b []byte, d time.Duration) ([]byte, bool) {
	if d < time.Microsecond || d >= time.Second {
		return appendJSONFloat(b, d.Seconds())
	}
	digits := [11]byte{'0', '.'}
	for i, n := 10, int(d); i >= 2; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	end := len(digits)
	for digits[end-1] == '0' {
		end--
	}
	return append(b, digits[:end]...), true
}

// safe reports an ASCII byte that a JSON string holds as is (slog's safeSet).
func safe(c byte) bool { return c >= 0x20 && c != '"' && c != '\\' }

// plainJSON holds the bytes safe accepts, as a table.
var plainJSON = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = safe(byte(c))
	}
	return t
}()

// needsQuoting is slog's rule for a text value: quote anything empty, with
// a space, '=', a byte JSON would escape (but a backslash), or a rune that
// is invalid, a space or not printable.
func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c == ' ' || c == '=' || !safe(c)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

const hex = "0123456789abcdef"

// appendEscapedJSONString is slog's JSON string escape: \" \\ \n \r \t,
// \u00XX for other control bytes, \ufffd for invalid UTF-8, and U+2028
// and U+2029 escaped.
func appendEscapedJSONString(b []byte, s string) []byte {
	i := 0
	for i < len(s) && plainJSON[s[i]] { // the usual case, one load a byte
		i++
	}
	if i == len(s) {
		return append(b, s...)
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if safe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\')
			switch c {
			case '\\', '"':
				b = append(b, c)
			case '\n':
				b = append(b, 'n')
			case '\r':
				b = append(b, 'r')
			case '\t':
				b = append(b, 't')
			default:
				b = append(b, 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
