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
