// Package tsc reads the CPU's time-stamp counter: the clock every profile figure is
// measured in. (Placeholder: the portable fallback only; the real implementation with
// RDTSCP/RDTSC and CNTVCT_EL0 arrives with the skeleton issue.)
package tsc

import "time"

var base = time.Now()

// Now returns the current tick count.
func Now() uint64 { return uint64(time.Since(base)) }

// Frequency returns ticks per second.
func Frequency() uint64 { return 1e9 }

// Invariant reports whether the tick rate is constant.
func Invariant() bool { return true }

// Source names the clock: "rdtscp", "rdtsc", "cntvct" or "monotonic".
func Source() string { return "monotonic" }
