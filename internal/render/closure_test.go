package render

import (
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// TestClosureExactOnly: utime and stime split each bucket's exact CPU time, so they
// need not close; an error there must not be reported as the closure error, which
// covers ticks, cpu and the rusage counters only.
func TestClosureExactOnly(t *testing.T) {
	p := synth.Hand()
	p.Coroutines[0].Counters[wire.Utime] += 7 // the per-bucket split drifts; every exact quantity still closes
	p.Coroutines[0].Counters[wire.Stime] -= 7
	m := mustBuild(t, p)
	if m.WorstClosure < 0 || m.Closure[m.WorstClosure].Diff != 0 || m.Closure[m.WorstClosure].Estimate {
		t.Errorf("worst closure %+v: want an exact quantity, closed", m.Closure[m.WorstClosure])
	}
	txt, ok := m.closureText()
	if !ok || !strings.HasPrefix(txt, "0: every exact quantity closes exactly (8 checks over 1 loop)") {
		t.Errorf("closure text %q ok=%v", txt, ok)
	}
	if m.WorstEstimateClosure < 0 {
		t.Fatal("no utime/stime closure")
	}
	if e := m.Closure[m.WorstEstimateClosure]; !e.Estimate || e.Quantity != "stime" || e.Diff != -7 {
		t.Errorf("worst estimate closure %+v, want stime -7 (7 of 1100)", e)
	}
	if e := m.estimateClosureText(); !strings.HasPrefix(e, "≈") || !strings.Contains(e, "stime") {
		t.Errorf("estimate closure text %q", e)
	}
	for _, c := range m.Closure {
		if c.Estimate != (c.Quantity == "utime" || c.Quantity == "stime") {
			t.Errorf("closure %s estimate=%v", c.Quantity, c.Estimate)
		}
	}
	// An exact quantity off by one still leads the header, however small.
	p.Coroutines[0].Counters[wire.Nivcsw]++
	m = mustBuild(t, p)
	if txt, _ := m.closureText(); !strings.Contains(txt, "nivcsw") {
		t.Errorf("closure text %q does not name nivcsw", txt)
	}
	// Without rusage there is no estimate closure.
	p.Measured = format.MeasTicks | format.MeasCPU
	if m = mustBuild(t, p); m.WorstEstimateClosure != -1 || m.estimateClosureText() != "" {
		t.Errorf("ticks+cpu profile: estimate closure %d %q", m.WorstEstimateClosure, m.estimateClosureText())
	}
}
