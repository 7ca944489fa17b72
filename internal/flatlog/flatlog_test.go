package flatlog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hellogw/hellogw/internal/flatlog"
)

// replacers are the ReplaceAttr functions the comparison runs with: none,
// one that turns durations into float seconds and drops the time (as a
// deployment logging for machines might), one that renames and rewrites
// the built-in keys, and one that turns attributes into kinds flatlog
// hands to slog.
var replacers = []func([]string, slog.Attr) slog.Attr{
	nil,
	func(groups []string, a slog.Attr) slog.Attr {
		switch {
		case a.Key == slog.TimeKey && len(groups) == 0:
			return slog.Attr{}
		case a.Value.Kind() == slog.KindDuration:
			return slog.Float64(a.Key, a.Value.Duration().Seconds())
		}
		return a
	},
	func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.LevelKey:
			return slog.String("severity", a.Value.String())
		case slog.MessageKey:
			return slog.Attr{}
		case slog.TimeKey:
			if a.Value.Kind() == slog.KindTime {
				return slog.Int64("ts", a.Value.Time().UnixMilli())
			}
		case "s":
			return slog.Attr{Key: "", Value: a.Value}
		}
		return a
	},
	func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		if a.Key == "i" && a.Value.Kind() == slog.KindInt64 {
			return slog.Any("i", []int{int(a.Value.Int64())})
		}
		if a.Key == "b" && a.Value.Kind() == slog.KindBool {
			return slog.Group("g", slog.Bool("b", a.Value.Bool()))
		}
		return a
	},
}

type valuer struct{ v slog.Value }

func (v valuer) LogValue() slog.Value { return v.v }

// FuzzSameAsSlog logs one record through flatlog (Handle, and
// HandleAttrs) and through slog's handler of the same format and options,
// and wants the same bytes.
func FuzzSameAsSlog(f *testing.F) {
	f.Add("request", "path", "/SayHello/", int64(200), uint64(7), 0.25, true, int64(1234567), int64(1_765_000_000), int64(123456789), 0, 0, uint8(0))
	f.Add("", "", "", int64(-1), uint64(0), 1e-7, false, int64(-1), int64(0), int64(0), -18000, 4, uint8(255))
	f.Add("a b=c\n", "k\"ey", "O'Brien <&> \"名前\" 😀\u2028\x01\xff", int64(math.MinInt64), uint64(math.MaxUint64), 1e21, true, int64(math.MaxInt64), int64(-62135596801), int64(999999999), 3600, -4, uint8(6))
	f.Add("x", "y", "\\", int64(0), uint64(1), math.NaN(), false, int64(0), int64(253402300800), int64(1), 0, 8, uint8(9))
	f.Add("request", "duration", "ok", int64(200), uint64(0), 0.5, false, int64(24118), int64(1_765_000_000), int64(500_000_000), 3600, 0, uint8(0))
	f.Fuzz(func(t *testing.T, msg, key, s string, i int64, u uint64, fl float64, bl bool, d, sec, nsec int64, zone int, level int, mode uint8) {
		zone %= 24 * 3600
		when := time.Unix(sec, nsec).In(time.FixedZone("z", zone))
		if mode&1 != 0 {
			when = time.Time{} // slog then writes no time
		}
		attrs := []slog.Attr{
			slog.String(key, s), slog.String("s", s), slog.Int64("i", i), slog.Uint64("u", u),
			slog.Float64("f", fl), slog.Bool("b", bl), slog.Duration("d", time.Duration(d)), slog.Time("t", when),
		}
		// Only records of plain values take flatlog's own path; these kinds
		// send the record to slog's handler, so most inputs go without them.
		if mode&8 != 0 {
			attrs = append(attrs, slog.Any("lv", valuer{slog.StringValue(s)}), slog.Attr{})
		}
		switch mode >> 1 & 3 {
		case 1:
			attrs = append(attrs, slog.Group("g", slog.String("k", s)))
		case 2:
			attrs = append(attrs, slog.Any("err", errors.New(s)))
		case 3:
			attrs = append(attrs, slog.Any("lvl", slog.Level(level)))
		}
		// format 0 is text, 1 JSON, 2 JSON with durations in seconds.
		for format := range 3 {
			for ri, rep := range replacers {
				opts := &slog.HandlerOptions{Level: slog.Level(level % 16), ReplaceAttr: rep}
				var got, want bytes.Buffer
				var fh, sh slog.Handler
				switch format {
				case 0:
					fh, sh = flatlog.NewTextHandler(&got, opts), slog.NewTextHandler(&want, opts)
				case 1:
					fh, sh = flatlog.NewJSONHandler(&got, opts), slog.NewJSONHandler(&want, opts)
				case 2:
					fh = flatlog.NewJSONSecondsHandler(&got, opts)
					sopts := *opts
					sopts.ReplaceAttr = flatlog.SecondsForDurations
					if rep != nil {
						sopts.ReplaceAttr = func(g []string, a slog.Attr) slog.Attr { return rep(g, flatlog.SecondsForDurations(g, a)) }
					}
					sh = slog.NewJSONHandler(&want, &sopts)
				}
				lv := slog.Level(level)
				if fh.Enabled(context.Background(), lv) != sh.Enabled(context.Background(), lv) {
					t.Fatalf("Enabled(%v) differs", lv)
				}
				r := slog.NewRecord(when, lv, msg, 0)
				r.AddAttrs(attrs...)
				if err := fh.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if err := sh.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("format %d replacer %d:\nflatlog %q\nslog    %q", format, ri, got.Bytes(), want.Bytes())
				}
				// HandleAttrs writes the same record, given by its parts.
				got.Reset()
				if err := fh.(*flatlog.Handler).HandleAttrs(context.Background(), when, lv, msg, attrs...); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("HandleAttrs, format %d replacer %d:\nflatlog %q\nslog    %q", format, ri, got.Bytes(), want.Bytes())
				}
			}
		}
	})
}

// TestRequestLine checks the gateway's request line, the record this
// package exists for, in both formats and through a Logger, and that
// WithAttrs and WithGroup still write what slog writes.
func TestRequestLine(t *testing.T) {
	for _, json := range []bool{false, true} {
		var got, want bytes.Buffer
		var fl, sl *slog.Logger
		if json {
			fl, sl = slog.New(flatlog.NewJSONHandler(&got, nil)), slog.New(slog.NewJSONHandler(&want, nil))
		} else {
			fl, sl = slog.New(flatlog.NewTextHandler(&got, nil)), slog.New(slog.NewTextHandler(&want, nil))
		}
		for _, l := range []*slog.Logger{fl, sl} {
			l.LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("request_id", "3f2a9c-1"), slog.String("method", "POST"), slog.String("path", "/SayHello/"),
				slog.Int("status", 200), slog.String("wire", "soap11"), slog.String("outcome", "ok"),
				slog.Duration("duration", 48*time.Microsecond), slog.String("remote", "127.0.0.1"))
			l.Debug("hidden")
			l.With("component", "oauth").WithGroup("g").Warn("grouped", "k", 1)
		}
		// The time differs between the two loggers' records; compare the rest.
		g, w := stripTimes(got.Bytes()), stripTimes(want.Bytes())
		if !bytes.Equal(g, w) || bytes.Count(g, []byte("\n")) != 2 {
			t.Errorf("json=%v:\nflatlog %s\nslog    %s", json, g, w)
		}
	}
}

func stripTimes(b []byte) []byte {
	var out []byte
	for line := range bytes.Lines(b) {
		if i := bytes.Index(line, []byte("level")); i > 0 {
			line = line[i:]
		}
		out = append(out, line...)
	}
	return out
}

// TestAddSource: with AddSource the handler is slog's own.
func TestAddSource(t *testing.T) {
	var got bytes.Buffer
	slog.New(flatlog.NewJSONHandler(&got, &slog.HandlerOptions{AddSource: true})).Info("x")
	if !bytes.Contains(got.Bytes(), []byte(`"source":{`)) {
		t.Errorf("no source in %s", got.Bytes())
	}
}

// benchmarkLine logs the gateway's request line as gateway.observe does:
// through HandleAttrs when the handler has it, else a record handed to the
// handler, no Logger in between.
func benchmarkLine(b *testing.B, h slog.Handler) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		attrs := [...]slog.Attr{
			slog.String("request_id", "3f2a9c8e1d0b-1a"), slog.String("method", "POST"), slog.String("path", "/SayHello/"),
			slog.Int("status", 200), slog.String("wire", "soap11"), slog.String("outcome", "ok"),
			slog.Duration("duration", 48*time.Microsecond), slog.String("remote", "127.0.0.1"), slog.String("auth", "none"),
		}
		var err error
		if fh, ok := h.(*flatlog.Handler); ok {
			err = fh.HandleAttrs(ctx, time.Now(), slog.LevelInfo, "request", attrs[:]...)
		} else {
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
			r.AddAttrs(attrs[:]...)
			err = h.Handle(ctx, r)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFlatJSON(b *testing.B) { benchmarkLine(b, flatlog.NewJSONHandler(io.Discard, nil)) }
func BenchmarkSlogJSON(b *testing.B) { benchmarkLine(b, slog.NewJSONHandler(io.Discard, nil)) }
func BenchmarkFlatText(b *testing.B) { benchmarkLine(b, flatlog.NewTextHandler(io.Discard, nil)) }
func BenchmarkSlogText(b *testing.B) { benchmarkLine(b, slog.NewTextHandler(io.Discard, nil)) }

func BenchmarkFlatJSONSeconds(b *testing.B) {
	benchmarkLine(b, flatlog.NewJSONSecondsHandler(io.Discard, nil))
}

func BenchmarkFlatJSONReplace(b *testing.B) {
	benchmarkLine(b, flatlog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: flatlog.SecondsForDurations}))
}

func BenchmarkSlogJSONReplace(b *testing.B) {
	benchmarkLine(b, slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: flatlog.SecondsForDurations}))
}

// TestTimesInOneSecond: lines logged within one second share its
// formatted date and zone; every fraction is still written as slog writes
// it, in each format, and a second in another zone is not taken for it.
func TestTimesInOneSecond(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("ist", 5*3600+1800), time.FixedZone("neg", -3600)}
	for _, loc := range zones {
		for _, ns := range []int64{0, 1, 100, 1000, 120_000_000, 500_000_000, 999_000_000, 999_999_999} {
			when := time.Unix(1_765_000_000, ns).In(loc)
			for format := range 2 {
				var got, want bytes.Buffer
				var fh, sh slog.Handler = flatlog.NewTextHandler(&got, nil), slog.NewTextHandler(&want, nil)
				if format == 1 {
					fh, sh = flatlog.NewJSONHandler(&got, nil), slog.NewJSONHandler(&want, nil)
				}
				r := slog.NewRecord(when, slog.LevelInfo, "m", 0)
				r.AddAttrs(slog.Time("t", when.Add(time.Hour)))
				if err := fh.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if err := sh.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("format %d, %v:\nflatlog %q\nslog    %q", format, when, got.Bytes(), want.Bytes())
				}
			}
		}
	}
}

func TestSecondsForDurations(t *testing.T) {
	a := flatlog.SecondsForDurations(nil, slog.Duration("timeout", 1500*time.Millisecond))
	if a.Key != "timeout" || a.Value.Kind() != slog.KindFloat64 || a.Value.Float64() != 1.5 {
		t.Errorf("got %v, want timeout=1.5 (a float)", a)
	}
	if b := flatlog.SecondsForDurations(nil, slog.String("path", "/x")); !b.Equal(slog.String("path", "/x")) {
		t.Errorf("got %v, want it unchanged", b)
	}
}

// TestSecondsLikeSlog: durations from below a microsecond to past a
// second, the request line's range, written in seconds as slog writes
// them with SecondsForDurations.
func TestSecondsLikeSlog(t *testing.T) {
	var got, want bytes.Buffer
	fh := flatlog.NewJSONSecondsHandler(&got, nil)
	sh := slog.NewJSONHandler(&want, &slog.HandlerOptions{ReplaceAttr: flatlog.SecondsForDurations})
	rng := rand.New(rand.NewPCG(1, 2))
	ds := []time.Duration{0, 1, 999, 1000, 1001, 1010, 24118, 100_000, 999_999, 1_000_000, 123_456_789, 500_000_000, 999_999_999, time.Second, time.Second + 1, -1000, -24118}
	for range 200_000 {
		ds = append(ds, time.Duration(rng.Int64N(int64(2*time.Second))))
	}
	for d := time.Duration(990); d < 3000; d++ {
		ds = append(ds, d)
	}
	for _, d := range ds {
		got.Reset()
		want.Reset()
		r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
		r.AddAttrs(slog.Duration("d", d))
		if err := fh.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if err := sh.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d ns:\nflatlog %s\nslog    %s", d, got.Bytes(), want.Bytes())
		}
	}
}
