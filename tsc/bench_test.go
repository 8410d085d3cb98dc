package tsc

import (
	"testing"
	"time"
)

// sink keeps the compiler from discarding the clock reads.
var sink uint64

// BenchmarkNow and the time.* benchmarks run in the same process so their ratio, not the
// absolute numbers, is what a noisy machine can be trusted with.
func BenchmarkNow(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += Now()
	}
	sink = s
}

// BenchmarkTimeNow is what a profiler built on the standard library pays per stamp: it
// reads both the wall and the monotonic clock.
func BenchmarkTimeNow(b *testing.B) {
	var s uint64
	for b.Loop() {
		s += uint64(time.Now().UnixNano())
	}
	sink = s
}

// BenchmarkTimeSince reads the monotonic clock alone (vDSO clock_gettime on Linux): the
// cheapest standard-library clock, and the fallback's Now.
func BenchmarkTimeSince(b *testing.B) {
	start := time.Now()
	var s uint64
	for b.Loop() {
		s += uint64(time.Since(start))
	}
	sink = s
}

func BenchmarkFrequency(b *testing.B) {
	Frequency()
	var s uint64
	for b.Loop() {
		s += Frequency()
	}
	sink = s
}

func BenchmarkToDuration(b *testing.B) {
	r := Rate(2_596_098_000)
	var s uint64
	t := uint64(123_456_789_012)
	for b.Loop() {
		s += uint64(r.Duration(t))
		t++
	}
	sink = s
}

// BenchmarkNowVsTime times blocks of reads of each clock in turn and keeps each clock's
// fastest block. On a machine shared with other work a separate benchmark per clock
// measures the neighbours as much as the clock; the fastest of thousands of interleaved
// blocks is what a read costs when nothing intervenes, and the ratios come from the same
// moments. Reported as ns per read of each clock and as ratios to Now.
func BenchmarkNowVsTime(b *testing.B) {
	const block = 512
	var best [3]time.Duration
	keep := func(i int, d time.Duration) {
		if best[i] == 0 || d < best[i] {
			best[i] = d
		}
	}
	epoch := time.Now()
	var s uint64
	for b.Loop() {
		t := time.Now()
		for range block {
			s += Now()
		}
		keep(0, time.Since(t))

		t = time.Now()
		for range block {
			s += uint64(time.Now().UnixNano())
		}
		keep(1, time.Since(t))

		t = time.Now()
		for range block {
			s += uint64(time.Since(epoch))
		}
		keep(2, time.Since(t))
	}
	sink = s
	per := func(i int) float64 { return float64(best[i]) / block }
	b.ReportMetric(per(0), "ns/tsc.Now")
	b.ReportMetric(per(1), "ns/time.Now")
	b.ReportMetric(per(2), "ns/time.Since")
	b.ReportMetric(per(1)/per(0), "time.Now/tsc.Now")
	b.ReportMetric(per(2)/per(0), "time.Since/tsc.Now")
}
