//go:build !(amd64 || arm64) || !gc || purego

package tsc

import (
	"testing"
	"time"
)

// TestFallbackIsNanoseconds: the fallback's ticks are nanoseconds of the monotonic clock,
// so Now advances by what the same clock shows in between, and conversions are the
// identity.
func TestFallbackIsNanoseconds(t *testing.T) {
	if Frequency() != 1e9 || Source() != "monotonic" || !Invariant() {
		t.Fatalf("fallback: Frequency %d, Source %q, Invariant %v; want 1e9, monotonic, true", Frequency(), Source(), Invariant())
	}
	// The inner monotonic interval lies inside the two Now readings and those lie inside
	// the outer interval, all on one clock, so Now's advance is bracketed exactly: no
	// allowance for being preempted in between is needed (a fixed one, 100 ms, could be
	// exceeded on a loaded machine).
	outerStart := time.Now()
	a := Now()
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	elapsed := time.Since(start)
	b := Now()
	outer := time.Since(outerStart)
	if got := time.Duration(b - a); got < elapsed || got > outer {
		t.Errorf("Now advanced %v around a monotonic interval of %v, inside one of %v", got, elapsed, outer)
	}
	if ToDuration(123_456_789) != 123_456_789 || FromDuration(987_654_321) != 987_654_321 {
		t.Error("conversions at 1e9 ticks per second are not the identity")
	}
}
