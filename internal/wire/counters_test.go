package wire

import "testing"

func TestCounterNames(t *testing.T) {
	seen := map[string]Counter{}
	for c := range NumCounters {
		n := c.String()
		if n == "" || n == "counter?" {
			t.Errorf("counter %d has no name", c)
		}
		if prev, dup := seen[n]; dup {
			t.Errorf("counters %d and %d are both named %q", prev, c, n)
		}
		seen[n] = c
	}
	// The order is written into files (format encodes Counters in index order) and the
	// report's JSON keys follow it: pin it.
	want := [NumCounters]string{"ticks", "cpu", "utime", "stime", "minflt", "majflt", "inblock", "oublock", "nvcsw", "nivcsw"}
	if CounterNames != want {
		t.Errorf("CounterNames = %q, want %q", CounterNames, want)
	}
	if got := NumCounters.String(); got != "counter?" {
		t.Errorf("NumCounters.String() = %q", got)
	}
	for c := range NumCounters {
		if c.Estimate() != (c == Utime || c == Stime) {
			t.Errorf("%s: Estimate() = %v", c, c.Estimate())
		}
	}
	if Ticks.Unit() != UnitTicks || CPU.Unit() != UnitNanos || Stime.Unit() != UnitNanos || Nivcsw.Unit() != UnitCount {
		t.Errorf("units: ticks %v cpu %v stime %v nivcsw %v", Ticks.Unit(), CPU.Unit(), Stime.Unit(), Nivcsw.Unit())
	}
}

func TestCountersArithmetic(t *testing.T) {
	var a, b Counters
	for i := range a {
		a[i] = uint64(10 * (i + 1))
		b[i] = uint64(i + 1)
	}
	d := a.Sub(&b)
	for i := range d {
		if d[i] != uint64(9*(i+1)) {
			t.Fatalf("Sub[%s] = %d, want %d", Counter(i), d[i], 9*(i+1))
		}
	}
	s := b
	s.Add(d)
	if s != a {
		t.Fatalf("b + (a-b) = %v, want %v", s, a)
	}
	if a.Below(&b) || !b.Below(&a) || a.Below(&a) {
		t.Fatal("Below: a below b, or b not below a, or a below itself")
	}
	// One counter behind is enough to be below, and Max raises only that one.
	c := a
	c[Nivcsw] = 0
	if !c.Below(&a) {
		t.Fatal("a counter behind is not Below")
	}
	c[Ticks] = a[Ticks] + 5
	c.Max(&a)
	if c[Nivcsw] != a[Nivcsw] || c[Ticks] != a[Ticks]+5 {
		t.Fatalf("Max: nivcsw %d (want %d), ticks %d (want %d)", c[Nivcsw], a[Nivcsw], c[Ticks], a[Ticks]+5)
	}
}
