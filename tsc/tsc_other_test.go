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
	// The two monotonic readings lie inside the two Now readings, so Now must advance by
	// at least what they saw; the upper bound only allows for being preempted in between.
	a := Now()
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	elapsed := time.Since(start)
	b := Now()
	if got := time.Duration(b - a); got < elapsed || got > elapsed+100*time.Millisecond {
		t.Errorf("Now advanced %v around a monotonic interval of %v", got, elapsed)
	}
	if ToDuration(123_456_789) != 123_456_789 || FromDuration(987_654_321) != 987_654_321 {
		t.Error("conversions at 1e9 ticks per second are not the identity")
	}
}
