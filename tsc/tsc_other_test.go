//go:build !(amd64 || arm64) || !gc || purego

package tsc

import (
	"testing"
	"time"
)

// TestFallbackIsNanoseconds: the fallback's ticks are nanoseconds of the monotonic clock,
// so Now advances by a sleep's length read from the same clock, and conversions are
// the identity.
func TestFallbackIsNanoseconds(t *testing.T) {
	if Frequency() != 1e9 || Source() != "monotonic" || !Invariant() {
		t.Fatalf("fallback: Frequency %d, Source %q, Invariant %v; want 1e9, monotonic, true", Frequency(), Source(), Invariant())
	}
	a := Now()
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	b := Now()
	elapsed := time.Since(start)
	if got := time.Duration(b - a); got < elapsed-time.Millisecond || got > elapsed+time.Millisecond {
		t.Errorf("Now advanced %v while the monotonic clock advanced %v", got, elapsed)
	}
	if ToDuration(123_456_789) != 123_456_789 || FromDuration(987_654_321) != 987_654_321 {
		t.Error("conversions at 1e9 ticks per second are not the identity")
	}
}
