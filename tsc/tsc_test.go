package tsc

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

// hzAtInit is read by this test file's init, which the go tool runs after every init of
// the package proper (the package's own files are compiled first) and before any test:
// the calibration must not have happened yet, since only callers of Frequency pay for it.
var hzAtInit uint64

func init() { hzAtInit = cal.Hz }

func TestCalibrationIsLazy(t *testing.T) {
	if hzAtInit != 0 {
		t.Errorf("frequency already calibrated (%d Hz) when the package finished initialising", hzAtInit)
	}
}

// TestNowMonotonic reads the clock a million times on one OS thread and requires every
// reading to be at least the one before, and the clock to have advanced overall.
func TestNowMonotonic(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	checkMonotonic(t, Now, 1_000_000)
}

func checkMonotonic(t *testing.T, read func() uint64, n int) {
	t.Helper()
	first := read()
	prev := first
	for i := 1; i < n; i++ {
		now := read()
		if now < prev {
			t.Fatalf("reading %d went backwards: %d after %d (by %d ticks)", i, now, prev, prev-now)
		}
		prev = now
	}
	if prev == first {
		t.Fatalf("clock did not advance over %d readings: stuck at %d", n, first)
	}
}

// bracket pairs a tick reading with a CLOCK_MONOTONIC reading (time.Since on a time.Now
// value reads only the monotonic clock), keeping the try whose two tick readings are
// closest: the monotonic reading lies between them, so the pairing error is at most half
// that width. Written here independently of the package's own calibration stamps.
func bracket(start time.Time) (ticks uint64, mono time.Duration, width uint64) {
	width = math.MaxUint64
	for range 64 {
		a := Now()
		m := time.Since(start)
		b := Now()
		if b >= a && b-a < width {
			ticks, mono, width = a+(b-a)/2, m, b-a
		}
	}
	return ticks, mono, width
}

// TestFrequencyMatchesOneSecond measures the tick rate over one second of CLOCK_MONOTONIC
// and requires Frequency to be within 0.1% of it. The measurement's own error is bounded
// by the bracket widths; on a busy VM a bracket can come out wide, so a measurement whose
// bound exceeds a tenth of the tolerance is repeated (at most three times) rather than
// judged.
func TestFrequencyMatchesOneSecond(t *testing.T) {
	if !Invariant() {
		t.Skipf("source %s: the counter's rate is not invariant on this CPU, so it has no single frequency", Source())
	}
	hz := Frequency() // calibrate first, outside the measured second
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	const tolerance = 1e-3
	for attempt := 1; ; attempt++ {
		start := time.Now()
		t0, m0, w0 := bracket(start)
		time.Sleep(time.Second)
		t1, m1, w1 := bracket(start)
		if t1 <= t0 || m1 <= m0 {
			t.Fatalf("no progress over a second: ticks %d -> %d, monotonic %v -> %v", t0, t1, m0, m1)
		}
		elapsed := float64(t1 - t0)
		measured := elapsed * 1e9 / float64(m1-m0)
		bound := float64(w0+w1) / 2 / elapsed
		if bound > tolerance/10 && attempt < 3 {
			t.Logf("attempt %d: brackets of %d and %d ticks bound the error at %.2g, measuring again", attempt, w0, w1, bound)
			continue
		}
		rel := math.Abs(float64(hz)-measured) / measured
		t.Logf("source %s: Frequency %d, measured %.0f over %v (bound %.2g): off by %.2g", Source(), hz, measured, m1-m0, bound, rel)
		if rel > tolerance {
			t.Errorf("Frequency() = %d, but one second of CLOCK_MONOTONIC saw %.0f ticks: off by %.3f%% (> %.1f%%)",
				hz, measured, rel*100, tolerance*100)
		}
		return
	}
}

func TestCalibrated(t *testing.T) {
	c := Calibrated()
	if c.Hz != Frequency() {
		t.Errorf("Calibrated().Hz = %d, Frequency() = %d", c.Hz, Frequency())
	}
	if c.Hz == 0 {
		t.Fatal("Frequency() = 0")
	}
	if !hardware {
		if c.Hz != 1e9 || c.Windows != 0 {
			t.Errorf("monotonic fallback: got %+v, want Hz 1e9 and nothing measured", c)
		}
		return
	}
	if c.Windows != calWindows {
		t.Errorf("%d of %d calibration windows measured: %+v", c.Windows, calWindows, c)
	}
	if c.UsedReported {
		if c.Hz != c.Reported || !agrees(c.Measured, c.Reported) {
			t.Errorf("used the stated rate without the measurement agreeing: %+v", c)
		}
	} else if c.Hz != c.Measured {
		t.Errorf("Hz is neither the stated nor the measured rate: %+v", c)
	}
	t.Logf("%s: %+v", Source(), c)
}

// TestMeasureAgain repeats the calibration and requires the two to agree to 0.1%: the
// median of windows must not depend on the moment it was taken.
func TestMeasureAgain(t *testing.T) {
	if !hardware || !Invariant() {
		t.Skip("nothing to measure: fallback clock or non-invariant counter")
	}
	a, b := Calibrated(), measure(calWindows, calWindow)
	if rel := math.Abs(float64(a.Measured)-float64(b.Measured)) / float64(a.Measured); rel > 1e-3 {
		t.Errorf("two calibrations differ by %.3f%%: %d and %d", rel*100, a.Measured, b.Measured)
	}
}

func TestSource(t *testing.T) {
	want := []string{"monotonic"}
	if hardware {
		switch runtime.GOARCH {
		case "amd64":
			want = []string{"rdtscp", "rdtsc"}
		case "arm64":
			want = []string{"cntvct"}
		}
	}
	if !slices.Contains(want, Source()) {
		t.Errorf("Source() = %q on %s (hardware counter %v), want one of %q", Source(), runtime.GOARCH, hardware, want)
	}
}

func TestAgrees(t *testing.T) {
	for _, c := range []struct {
		measured, stated uint64
		want             bool
	}{
		{2_000_000_000, 2_000_000_000, true},
		{2_000_999_999, 2_000_000_000, true},  // 499.9995 ppm
		{2_001_000_001, 2_000_000_000, false}, // just over 500 ppm
		{1_999_000_000, 2_000_000_000, true},  // exactly 500 ppm below
		{2_100_000_000, 2_000_000_000, false}, // a 0x16 base clock that is 5% off
		{24_000_000, 19_200_000, false},       // a CNTFRQ left at another board's value
	} {
		if got := agrees(c.measured, c.stated); got != c.want {
			t.Errorf("agrees(%d, %d) = %v, want %v", c.measured, c.stated, got, c.want)
		}
	}
}

// TestNowUnorderedSameClock checks that NowUnordered reads the clock Now reads: each
// read falls between two ordered reads taken 200µs either side of it (far more than
// the out-of-order window an unordered read may slip by).
func TestNowUnorderedSameClock(t *testing.T) {
	for i := 0; i < 20; i++ {
		a := Now()
		time.Sleep(200 * time.Microsecond)
		u := NowUnordered()
		time.Sleep(200 * time.Microsecond)
		b := Now()
		if !(a < u && u < b) {
			t.Fatalf("NowUnordered %d not between the ordered reads %d and %d around it", u, a, b)
		}
	}
}
