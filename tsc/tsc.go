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
// # Ordering
//
// Now is ordered: on amd64 RDTSCP (or MFENCE; LFENCE; RDTSC) waits until every earlier
// instruction has executed, on arm64 an ISB goes before the counter read. NowUnordered
// is the bare read (RDTSC; MRS CNTVCT_EL0), about half the price on amd64, which the CPU
// may execute some way ahead of the instructions before it (within its out-of-order
// window: at most a few hundred instructions, tens of nanoseconds), or after later ones
// have started.
//
// What ordering buys is a stamp that cannot land inside the work before it. That
// matters where two stamps bound one interval that is compared with something outside
// the stream of stamps: a calibration window against CLOCK_MONOTONIC, a region whose
// start and end must bracket exactly its own code, a stamp taken beside another clock's
// reading. It does not matter for a stream of contiguous stamps where each stamp ends
// one interval and begins the next (the profiler's switch stamps, see profiler/doc.go):
// a stamp taken early or late moves a few cycles from one interval to its neighbour,
// never out of the sum, and the total from the first stamp to the last is exact as long
// as those two are ordered.
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
