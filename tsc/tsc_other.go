//go:build !(amd64 || arm64) || !gc || purego

package tsc

import "time"

// epoch anchors the fallback clock. time.Since on a time.Now value reads only the
// runtime's monotonic clock (CLOCK_MONOTONIC on Linux, through the vDSO), not the wall
// clock, so Now costs one clock read.
var epoch = time.Now()

// Now returns nanoseconds of the monotonic clock since the package was initialised: the
// portable fallback, used where no cheap hardware counter is known and under -tags purego.
func Now() uint64 { return uint64(time.Since(epoch)) }

// NowUnordered is Now: the monotonic clock has no cheaper unordered read.
func NowUnordered() uint64 { return Now() }

// Fallback ticks are nanoseconds of a clock that never changes pace.
const (
	source    = "monotonic"
	invariant = true
)

// reported: the fallback's rate is known by definition; nothing to ask the hardware.
func reported() (hz uint64, by string, exact bool) { return 0, "", false }

// hardware is false: ticks are nanoseconds, Frequency is exactly 1e9, nothing to measure.
const hardware = false
