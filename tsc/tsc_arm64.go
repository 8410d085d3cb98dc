//go:build arm64 && gc && !purego

package tsc

// Now returns the current count of the generic timer's virtual counter (CNTVCT_EL0),
// ordered after every instruction before it (see tsc_arm64.s). Linux lets user space read
// it directly; it is what the vDSO's clock_gettime reads too.
func Now() uint64

// NowUnordered reads CNTVCT_EL0 without the ISB that orders Now: the read may be
// performed ahead of earlier instructions (see the package comment, "Ordering").
func NowUnordered() uint64

// cntfrq reads CNTFRQ_EL0, the counter rate firmware programmed at boot.
func cntfrq() uint64

// The generic timer ticks at a fixed rate by architecture, whatever the core clock does.
const (
	source    = "cntvct"
	invariant = true
)

// reported returns CNTFRQ_EL0. The architecture defines the counter's rate as this value,
// so it is exact when firmware set it right; some boards' firmware did not, which is why
// the value is used only when the measurement confirms it.
func reported() (hz uint64, by string, exact bool) {
	if f := cntfrq(); f != 0 {
		return f, "cntfrq_el0", true
	}
	return 0, "", false
}

// hardware is true where Now reads a counter whose rate must be found.
const hardware = true
