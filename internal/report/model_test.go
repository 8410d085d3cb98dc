package report

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

func mustBuild(t *testing.T, p *format.Profile) *Model {
	t.Helper()
	m, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fn(t *testing.T, m *Model, name, kind string) *Function {
	t.Helper()
	for i := range m.Functions {
		if m.Functions[i].Name == name && m.Functions[i].Kind == kind {
			return &m.Functions[i]
		}
	}
	t.Fatalf("no %s function %q", kind, name)
	return nil
}

func TestClosure(t *testing.T) {
	p := synth.Hand()
	m := mustBuild(t, p)
	if len(m.Closure) != int(wire.NumCounters) {
		t.Fatalf("closure has %d entries, want one per quantity (%d)", len(m.Closure), wire.NumCounters)
	}
	for _, c := range m.Closure {
		if c.Diff != 0 || c.Relative != 0 {
			t.Errorf("consistent profile: %s closure %+v", c.Quantity, c)
		}
	}
	// Lose 50 ticks and 3 minor faults from one coroutine: the closure must say so.
	p.Coroutines[0].Counters[wire.Ticks] -= 50
	p.Coroutines[0].Counters[wire.Minflt] -= 3
	m = mustBuild(t, p)
	got := map[string]Closure{}
	for _, c := range m.Closure {
		got[c.Quantity] = c
	}
	if c := got["ticks"]; c.Diff != -50 || math.Abs(c.Relative-50.0/10000) > 1e-12 {
		t.Errorf("ticks closure %+v, want diff -50 of 10000", c)
	}
	if c := got["minflt"]; c.Diff != -3 {
		t.Errorf("minflt closure %+v, want diff -3", c)
	}
	if w := m.Closure[m.WorstClosure]; w.Quantity != "minflt" {
		t.Errorf("worst closure is %s, want minflt (3 of 13)", w.Quantity)
	}
	// Without rusage, only ticks and cpu are checked.
	p.Measured = format.MeasTicks | format.MeasCPU
	m = mustBuild(t, p)
	if len(m.Closure) != 2 {
		t.Errorf("ticks+cpu profile: %d closure entries, want 2", len(m.Closure))
	}
}

func TestBucketsAndCoroutines(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	if m.TotalTicks != 10000 || m.Total.Ticks() != 10000 || m.Wait.Ticks() != 1000 || m.Main.Ticks() != 1000 {
		t.Errorf("totals: elapsed %d total %d main %d wait %d", m.TotalTicks, m.Total.Ticks(), m.Main.Ticks(), m.Wait.Ticks())
	}
	if m.Busy.Ticks() != 9000 || m.Busy.Count(wire.Nvcsw) != 4 {
		t.Errorf("busy (total minus wait) = %+v", m.Busy)
	}
	if m.Coroutines[0].Name != "a" || m.Coroutines[1].Name != "b" {
		t.Errorf("coroutines not sorted by ticks: %s, %s", m.Coroutines[0].Name, m.Coroutines[1].Name)
	}
	a := m.Coroutines[0]
	if a.Value(wire.CPU) != 3e-6 || a.Samples != 4 || a.LongestSite != "main.a (a.go:1)" {
		t.Errorf("coroutine a: cpu %g samples %d longest site %q", a.Value(wire.CPU), a.Samples, a.LongestSite)
	}
	if got := strings.Join(m.Measured, ","); got != "ticks,cpu,utime,stime,minflt,majflt,inblock,oublock,nvcsw,nivcsw,samples,regions,slices" {
		t.Errorf("measured = %s", got)
	}
}

func TestSampledEstimates(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	if m.TotalSamples != 7 {
		t.Errorf("total samples %d, want 7", m.TotalSamples)
	}
	f := fn(t, m, "f", KindSampled)
	// Self: 3 of a's 4 samples, 2 of b's 2 (recursion leaf once).
	if f.Self.Samples != 5 || !f.Estimate || f.Self.Calls != 0 {
		t.Errorf("f self %+v estimate %v", f.Self, f.Estimate)
	}
	if want := uint64(6000*3/4 + 2000); f.Self.Ticks() != want {
		t.Errorf("f self ticks %d, want %d", f.Self.Ticks(), want)
	}
	// Cumulative: all of a's and b's samples; the recursive stack counts once.
	if f.Cumulative.Samples != 6 || f.Cumulative.Ticks() != 8000 || f.Cumulative.Count(wire.Minflt) != 12 {
		t.Errorf("f cumulative %+v", f.Cumulative)
	}
	g := fn(t, m, "g", KindSampled)
	// g: 1 of a's 4 samples; the unlabelled sample is not charged <main>'s ledger.
	if want := uint64(6000 / 4); g.Self.Ticks() != want || g.Self.Samples != 1 {
		t.Errorf("g self ticks %d samples %d, want %d, 1", g.Self.Ticks(), g.Self.Samples, want)
	}
	for _, fn := range m.Functions {
		if fn.Name == "unused" {
			t.Errorf("a function no sample touched has a row")
		}
	}
	// Call graph: f is called by main.a (a: 4 samples, b: 2) and by f (b's recursion).
	callers := map[string]Edge{}
	for _, e := range f.Callers {
		callers[e.Name] = e
		if e.Function < 0 || m.Functions[e.Function].Name != e.Name {
			t.Errorf("edge %+v does not index its function", e)
		}
	}
	if callers["main.a"].Count != 6 || callers["f"].Count != 2 {
		t.Errorf("f callers %+v", f.Callers)
	}
	if s := callers["main.a"].Share; math.Abs(s-6.0/8) > 1e-12 {
		t.Errorf("main.a share %g, want 0.75", s)
	}
	if len(f.Callees) != 2 {
		t.Errorf("f callees %+v, want g and f", f.Callees)
	}
}

func TestWaitSites(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	if len(m.WaitSites) != 2 {
		t.Fatalf("wait sites %+v, want 2 (read at f, sleep at g)", m.WaitSites)
	}
	r := m.WaitSites[0]
	if r.Reason != "read" || r.Site != "f (f.go:2)" || r.Count != 4 || r.Ticks != 500 || r.Coroutines != 2 || r.Seconds != 0.5 {
		t.Errorf("read site %+v", r)
	}
	if s := m.WaitSites[1]; s.Reason != "sleep" || s.Count != 7 || s.Coroutines != 1 {
		t.Errorf("sleep site %+v", s)
	}
}

func TestRegions(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	outer, inner := fn(t, m, "outer", KindRegion), fn(t, m, "inner", KindRegion)
	if outer.Estimate || outer.Self.Calls != 2 || outer.Cumulative.Ticks() != 500 || inner.Self.Ticks() != 200 {
		t.Errorf("regions: outer %+v inner %+v", outer, inner)
	}
	if len(inner.Callers) != 2 || inner.Callers[0].Name != "outer" || inner.Callers[0].Count != 3 ||
		inner.Callers[1].Name != TopLevel || inner.Callers[1].Function != -1 || inner.Callers[0].Share != 0.75 {
		t.Errorf("inner callers %+v", inner.Callers)
	}
	if len(outer.Callees) != 1 || outer.Callees[0].Name != "inner" {
		t.Errorf("outer callees %+v", outer.Callees)
	}
}

func TestFlame(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	root := m.Flame
	if root == nil || root.Value != 7 {
		t.Fatalf("flame root %+v, want 7 samples", root)
	}
	var sum uint64
	for _, c := range root.Children {
		sum += c.Value
	}
	if sum != 7 || root.Children[0].Name != "main.a" || root.Children[0].Value != 6 {
		t.Errorf("flame children %+v", root.Children)
	}
	b := m.FlameOf(2)
	// b: f <- f <- main.a twice.
	if b == nil || b.Value != 2 || b.Children[0].Children[0].Children[0].Name != "f" {
		t.Errorf("flame of b: %+v", b)
	}
	if m.FlameOf(99) != nil {
		t.Errorf("flame of an unknown coroutine is not nil")
	}
}

func TestDiagnose(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	cases := []struct {
		q    Quantities
		wall float64
		want string
	}{
		{Quantities{wire.CPU: 0.95}, 1, DiagCPU},
		{Quantities{wire.CPU: 0.95, wire.Utime: 0.2, wire.Stime: 0.75}, 1, DiagKernelCPU},
		{Quantities{wire.CPU: 0.95, wire.Minflt: 200000}, 1, DiagFaults},
		{Quantities{wire.CPU: 0.1, wire.Nvcsw: 3}, 1, DiagSyscall},
		{Quantities{wire.CPU: 0.1, wire.Nivcsw: 3}, 1, DiagPreempted},
		{Quantities{wire.CPU: 0.1, wire.Nvcsw: 3, wire.Inblock: 8}, 1, DiagDisk},
		{Quantities{wire.CPU: 0.9, wire.Majflt: 2}, 1, DiagDisk},
		{Quantities{wire.CPU: 0.1}, 1, DiagOffCPU},
	}
	for _, c := range cases {
		if got, ev := m.Diagnose(c.q, c.wall); got != c.want || len(ev) == 0 {
			t.Errorf("Diagnose(%+v, %g) = %q %q, want %q", c.q, c.wall, got, ev, c.want)
		}
	}
	if m.LongSlices[0].Diagnosis != DiagSyscall || m.LongSlices[1].Diagnosis != DiagCPU {
		t.Errorf("long slices diagnosed %q, %q", m.LongSlices[0].Diagnosis, m.LongSlices[1].Diagnosis)
	}
	if m.LongSlices[0].Seconds != 2 || m.LongSlices[1].Start != 1 {
		t.Errorf("long slice times %+v", m.LongSlices)
	}
	p := synth.Hand()
	p.Measured = format.MeasTicks
	if d, _ := mustBuild(t, p).Diagnose(Quantities{}, 1); d != DiagUnknown {
		t.Errorf("ticks-only diagnosis %q", d)
	}
}

// TestJSONKeys holds the keys docs/JSON.md (Stability) promises scripts.
func TestJSONKeys(t *testing.T) {
	b, err := json.Marshal(mustBuild(t, synth.Hand()))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"clock", "measured", "total_ticks", "main", "wait", "coroutines", "functions"} {
		if _, ok := v[k]; !ok {
			t.Errorf("model JSON lacks %q", k)
		}
	}
	clock := v["clock"].(map[string]any)
	for _, k := range []string{"source", "ticks_per_second", "invariant"} {
		if _, ok := clock[k]; !ok {
			t.Errorf("clock lacks %q", k)
		}
	}
	c0 := v["coroutines"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "name", "resumes", "ticks", "cpu", "utime", "stime", "minflt", "nivcsw"} {
		if _, ok := c0[k]; !ok {
			t.Errorf("coroutine lacks %q", k)
		}
	}
	f0 := v["functions"].([]any)[0].(map[string]any)
	for _, part := range []string{"self", "cumulative"} {
		q := f0[part].(map[string]any)
		for _, k := range []string{"ticks", "utime", "stime", "samples"} {
			if _, ok := q[k]; !ok {
				t.Errorf("function %s lacks %q", part, k)
			}
		}
	}
}

// TestBadReferences: a profile whose indices point nowhere still builds.
func TestBadReferences(t *testing.T) {
	p := synth.Hand()
	p.Samples = append(p.Samples, format.Sample{CoroID: 77, Stack: []format.LocID{99, 0}, Count: 1})
	p.Locations = append(p.Locations, format.Location{Func: 42})
	p.RegionEdges = append(p.RegionEdges, format.RegionEdge{Caller: 5, Callee: 9})
	p.Coroutines[0].SpawnSite = 1000
	m := mustBuild(t, p)
	fn(t, m, "?", KindSampled)
	if _, err := Build(&format.Profile{}); err == nil {
		t.Error("a profile without loops built")
	}
}

// TestUnlabelledSamples: samples without a coroutine label (the scheduler, GC, other
// goroutines, the profiler itself) are not charged <main>'s exact ledger; they are
// rows of their own with their samples and pprof's CPU time, and nothing else.
func TestUnlabelledSamples(t *testing.T) {
	p := synth.Hand()
	// One sample of the profiler's own build after Stop: with the old rule it was
	// charged all of <main>'s 1000 ticks, 500 ns of CPU and a minor fault.
	p.Funcs = append(p.Funcs, format.Func{Name: "profiler.(*session).build", File: "build.go"})
	p.Locations = append(p.Locations, format.Location{Func: 4, Line: 9}) // LocID 4
	p.Samples = append(p.Samples, format.Sample{CoroID: 0, Stack: []format.LocID{4}, Count: 1, Nanos: 10_000_000})
	m := mustBuild(t, p)

	if m.UnlabelledSamples != 2 || math.Abs(m.UnlabelledCPU-0.02) > 1e-12 {
		t.Errorf("unlabelled samples %d cpu %g, want 2 and 0.02 s", m.UnlabelledSamples, m.UnlabelledCPU)
	}
	build := fn(t, m, "profiler.(*session).build", KindUnlabelled)
	for _, c := range []Cost{build.Self, build.Cumulative} {
		if c.Samples != 1 || c.Value(wire.CPU) != 0.01 || c.Ticks() != 0 || c.Value(wire.Utime) != 0 || c.Count(wire.Minflt) != 0 || c.Calls != 0 {
			t.Errorf("build's cost %+v, want 1 sample, 0.01 s cpu and nothing else", c)
		}
	}
	if !build.Estimate || build.File != "build.go" {
		t.Errorf("build row %+v", build)
	}
	for _, f := range m.Functions {
		if f.Name == "profiler.(*session).build" && f.Kind != KindUnlabelled {
			t.Errorf("build has a %s row: only unlabelled samples saw it", f.Kind)
		}
	}
	// g ran in coroutine a and outside any coroutine: one row of each kind.
	g, gu := fn(t, m, "g", KindSampled), fn(t, m, "g", KindUnlabelled)
	if g.Self.Samples != 1 || g.Self.Ticks() != 1500 || gu.Self.Samples != 1 || gu.Self.Ticks() != 0 || gu.Self.Value(wire.CPU) != 0.01 {
		t.Errorf("g sampled %+v, unlabelled %+v", g.Self, gu.Self)
	}
	// Nothing of <main> reaches the functions: the ticks of the sampled rows add up
	// to the coroutines' (a and b both have samples), exactly.
	var self, main Vec
	for _, f := range m.Functions {
		if f.Kind != KindRegion {
			self.Add(f.Self.Quantities.Vec())
		}
	}
	main = m.Main.Vec()
	if want := float64(6000 + 2000); self[wire.Ticks] != want || self[wire.Minflt] != 12 {
		t.Errorf("functions' self ticks %v minflt %v, want %v and 12 (the coroutines' alone; <main> has %v)",
			self[wire.Ticks], self[wire.Minflt], want, main[wire.Ticks])
	}
	if m.Main.Ticks() != 1000 {
		t.Errorf("<main> ticks %d, want its exact 1000", m.Main.Ticks())
	}
	// The flame graph keeps the unlabelled stacks under a root frame of their own.
	var unl *FlameNode
	for _, c := range m.Flame.Children {
		if c.Name == UnlabelledFrame {
			unl = c
		}
	}
	if unl == nil || unl.Value != 2 || len(unl.Children) != 2 {
		t.Fatalf("flame %+v: want %s with 2 samples in 2 stacks", m.Flame, UnlabelledFrame)
	}
	// Without cpu measured there is no CPU figure to give them.
	p.Measured = format.MeasTicks | format.MeasSamples
	m = mustBuild(t, p)
	if b := fn(t, m, "profiler.(*session).build", KindUnlabelled); b.Self.Value(wire.CPU) != 0 || m.UnlabelledCPU != 0 || b.Self.Samples != 1 {
		t.Errorf("ticks-only: build %+v, unlabelled cpu %g", b.Self, m.UnlabelledCPU)
	}
}
