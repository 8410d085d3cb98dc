package profiler

import (
	"fmt"
	"runtime"
)

// What the profiler can measure per thread depends on the OS (README.md, Platforms):
// TSC ticks (or the arm64 counter, or the monotonic clock) everywhere; the thread CPU
// clock (CLOCK_THREAD_CPUTIME_ID) where clock_gettime has it; getrusage's counters only
// where getrusage can read one thread (RUSAGE_THREAD: Linux, FreeBSD, OpenBSD), since a
// process-wide figure would charge other threads' work to the loop's buckets. The
// platform_GOOS.go files say which; a session fits its options to them and notes what
// it left out, and the profile's Measured field then names only what was measured.

// clockCaps says which per-thread clocks this OS has.
type clockCaps struct {
	cpu    bool // CLOCK_THREAD_CPUTIME_ID
	rusage bool // getrusage(RUSAGE_THREAD)
}

// threadClocks is this OS's clockCaps (platform_GOOS.go); a variable so tests can take
// clocks away and check the profile and report on a Linux machine.
var threadClocks = platformClocks

// fitPlatform turns off what caps cannot measure and returns one note per thing left
// out.
func (o *options) fitPlatform(caps clockCaps) []string {
	var notes []string
	if !caps.cpu && !o.ticksOnly {
		o.ticksOnly = true
		notes = append(notes, fmt.Sprintf("%s has no per-thread CPU clock: ticks only (no CPU time, no rusage counters)", runtime.GOOS))
	}
	if !caps.rusage && !o.ticksOnly && !o.noRusage {
		o.noRusage = true
		notes = append(notes, fmt.Sprintf("%s has no per-thread getrusage (RUSAGE_THREAD): ticks and the thread CPU clock only, no rusage counters", runtime.GOOS))
	}
	if o.reconcile && (o.ticksOnly || o.noRusage) && len(notes) > 0 {
		notes = append(notes, "ReconciledCPU needs per-thread rusage: ignored")
	}
	return notes
}
