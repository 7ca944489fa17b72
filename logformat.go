package main

import "log/slog"

// secondsForDurations is the JSON log handler's ReplaceAttr. slog writes a
// time.Duration in JSON as integer nanoseconds ("duration":24118), which
// readers take for milliseconds or worse; it is written as seconds, a
// float ("duration":0.000024118), the unit Prometheus uses for durations
// too. The text format keeps slog's readable form (duration=24.118µs).
func secondsForDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}
