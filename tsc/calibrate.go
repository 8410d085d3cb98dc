package tsc

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Calibration tells how Frequency was found, for a profile header or a bug report.
type Calibration struct {
	Hz           uint64  // ticks per second: what Frequency returns
	Measured     uint64  // median of the window rates against CLOCK_MONOTONIC; 0 where not measured
	Windows      int     // number of windows measured
	Spread       float64 // (max-min)/median of the window rates: how steady the counter looked
	Reported     uint64  // the rate the hardware states; 0 if it states none
	ReportedBy   string  // "cpuid 0x15", "cpuid 0x16", "cntfrq_el0", or ""
	UsedReported bool    // Hz is Reported: stated as exact, and the measurement agreed
}

// Calibration parameters.
//
// Each window is bounded by two stamps: a tick reading, a monotonic reading and a tick
// reading, kept from the try in which the two tick readings are closest, so the monotonic
// reading is known to lie within a few dozen nanoseconds of the tick midpoint even when the
// thread was preempted during some tries. That error, against a 20 ms window, is about
// 1e-6; a longer window would shrink it further but delay the first caller of Frequency.
// Five contiguous windows (100 ms in all, paid once per process) give a median: one window
// can be spoiled by what the stamps cannot see (a hypervisor pausing or migrating the VM,
// a TSC offset rewritten across the window), and the median ignores up to two such windows
// where a mean would carry their error in. The spread is kept to show how steady the
// counter was.
const (
	calWindows = 5
	calWindow  = 20 * time.Millisecond
	stampTries = 16
	// agreePPM is how close the measurement must come to a rate the hardware states as
	// exact for that rate to be used: crystals are specified to ±100 ppm or better and the
	// measurement is good to a few ppm, so 500 ppm only rejects a wrong statement.
	agreePPM = 500
)

var (
	calOnce sync.Once
	cal     Calibration
)

// Frequency returns the tick rate in ticks per second. The first call measures it (about
// 100 ms, see Calibration); later calls return the stored value at the cost of an atomic
// load. Under the monotonic fallback it is exactly 1e9 and nothing is measured.
func Frequency() uint64 {
	calOnce.Do(calibrate)
	return cal.Hz
}

// Calibrated returns how Frequency was found, calibrating first if nobody has asked yet.
func Calibrated() Calibration {
	calOnce.Do(calibrate)
	return cal
}

// stamp is a tick reading paired with a monotonic reading taken at the same moment, to
// within width ticks.
type stamp struct {
	ticks uint64
	mono  time.Duration
	width uint64
}

// takeStamp brackets a monotonic reading between two tick readings and keeps the
// narrowest of several tries. time.Since on a time.Now value reads only the monotonic
// clock, which is CLOCK_MONOTONIC on Linux.
func takeStamp(start time.Time) stamp {
	best := stamp{width: math.MaxUint64}
	for range stampTries {
		t0 := Now()
		m := time.Since(start)
		t1 := Now()
		if w := t1 - t0; t1 >= t0 && w < best.width {
			best = stamp{ticks: t0 + w/2, mono: m, width: w}
		}
	}
	return best
}

func calibrate() {
	cal = measure(calWindows, calWindow)
}

// measure returns the calibration from n contiguous windows of length window.
func measure(n int, window time.Duration) Calibration {
	if !hardware {
		return Calibration{Hz: 1e9}
	}
	// The thread may move between CPUs from one stamp to the next, and nothing here pins
	// it: pinning would change the caller's thread. The counters of different CPUs agree
	// wherever the counter is invariant (Linux checks at boot and otherwise stops using
	// the TSC as its clocksource), a move inside a stamp shows as a wide or backward
	// bracket that takeStamp discards, and the median discards a window spoiled by one
	// between stamps.
	start := time.Now()
	rates := make([]float64, 0, n)
	prev := takeStamp(start)
	for range n {
		time.Sleep(window)
		next := takeStamp(start)
		if dm := next.mono - prev.mono; dm > 0 && next.ticks > prev.ticks {
			rates = append(rates, float64(next.ticks-prev.ticks)*1e9/float64(dm))
		}
		prev = next
	}
	c := Calibration{Windows: len(rates)}
	var exact bool
	c.Reported, c.ReportedBy, exact = reported()
	if len(rates) > 0 {
		slices.Sort(rates)
		med := rates[len(rates)/2]
		c.Measured = uint64(math.Round(med))
		c.Spread = (rates[len(rates)-1] - rates[0]) / med
	}
	switch {
	case exact && c.Measured != 0 && agrees(c.Measured, c.Reported):
		c.Hz, c.UsedReported = c.Reported, true
	case c.Measured != 0:
		c.Hz = c.Measured
	default:
		// The counter never advanced across a window. There is no rate to give; 1e9 keeps
		// conversions defined (they divide by it) and Spread/Windows show the failure.
		c.Hz = 1e9
	}
	return c
}

// agrees reports whether measured lies within agreePPM of stated.
func agrees(measured, stated uint64) bool {
	diff := float64(measured) - float64(stated)
	return math.Abs(diff) <= float64(stated)*agreePPM/1e6
}
