// Package tsc reads the CPU's time-stamp counter: the clock every profile figure is
// measured in.
//
// Now returns a raw tick count in one short instruction sequence (about 20 ns, see
// docs/PERFORMANCE.md): RDTSCP (or a fenced RDTSC) on amd64, the generic timer's virtual
// counter CNTVCT_EL0 on arm64, and the monotonic clock in nanoseconds everywhere else, or
// on amd64 and arm64 when built with -tags purego. Ticks mean nothing by themselves;
// Frequency says how many make a second and the conversions (ToDuration, ToSeconds,
// FromDuration, and Rate for a frequency read from a profile recorded on another machine)
// turn them into time without overflow.
//
// # Frequency
//
// The tick rate is measured once, the first time anyone asks (about 100 ms, see
// calibrate.go), against CLOCK_MONOTONIC, so programs that never ask pay nothing at
// start-up. Where the hardware states the rate exactly (CPUID leaf 0x15 with a crystal
// frequency on Intel, CNTFRQ_EL0 on arm64) the stated value is used if the measurement
// confirms it, which makes the figure identical from run to run; otherwise the measurement
// wins. CPUID leaf 0x16's base frequency is only compared. Calibrated tells which happened.
// The "cpu MHz" line of /proc/cpuinfo is never read: it is the current, scaled core
// clock, not the counter's rate.
//
// # Invariance
//
// On x86 the counter ticks at a constant rate through frequency and power-state changes
// only where CPUID 0x80000007 EDX bit 8 says so; Invariant reports it. Without it,
// ticks are not time, and Frequency is only an average over the calibration.
package tsc

// Source names the clock behind Now: "rdtscp", "rdtsc" (fenced), "cntvct" (arm64) or
// "monotonic" (the portable fallback, whose ticks are nanoseconds).
func Source() string { return source }

// Invariant reports whether the tick rate is constant, so that ticks convert to time
// with one frequency. It is true for the arm64 generic timer and for the monotonic
// fallback, and on x86 whatever CPUID 0x80000007 EDX bit 8 says.
func Invariant() bool { return invariant }
