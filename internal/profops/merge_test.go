package profops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

func mustBuild(t *testing.T, p *format.Profile) *report.Model {
	t.Helper()
	m, err := report.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func funcByName(m *report.Model, name, kind string) *report.Function {
	for i := range m.Functions {
		if m.Functions[i].Name == name && m.Functions[i].Kind == kind {
			return &m.Functions[i]
		}
	}
	return nil
}

// TestMergeSums: merging two synthetic profiles sums every bucket, keeps conservation
// exact, and adds up samples, region calls and elapsed ticks.
func TestMergeSums(t *testing.T) {
	a := synth.Profile(21, synth.Options{Coroutines: 30, Samples: 200, Regions: 4, Slices: 50, LongSlices: 3})
	b := synth.Profile(22, synth.Options{Coroutines: 17, Samples: 90, Regions: 6, Loops: 2, Slices: 40, LongSlices: 2})
	merged, err := profops.Merge([]profops.Input{{"a.bin", a}, {"b.bin", b}})
	if err != nil {
		t.Fatal(err)
	}
	ma, mb, mm := mustBuild(t, a), mustBuild(t, b), mustBuild(t, merged)

	if got, want := len(mm.Coroutines), len(a.Coroutines)+len(b.Coroutines); got != want {
		t.Errorf("%d coroutines, want %d", got, want)
	}
	if got, want := len(merged.Loops), len(a.Loops)+len(b.Loops); got != want {
		t.Errorf("%d loops, want %d", got, want)
	}
	if got, want := mm.TotalTicks, ma.TotalTicks+mb.TotalTicks; got != want {
		t.Errorf("total_ticks %d, want %d", got, want)
	}
	for _, pair := range []struct {
		name          string
		got, in1, in2 report.Quantities
	}{{"total", mm.Total, ma.Total, mb.Total}, {"main", mm.Main, ma.Main, mb.Main}, {"wait", mm.Wait, ma.Wait, mb.Wait}} {
		want := pair.in1.Vec()
		in2 := pair.in2.Vec()
		for q := range want {
			want[q] += in2[q]
		}
		gv := pair.got.Vec()
		for q := range wire.NumCounters {
			if d := gv[q] - want[q]; d > 1e-3 || d < -1e-3 {
				t.Errorf("%s %s: %v, want %v", pair.name, q, gv[q], want[q])
			}
		}
	}
	for _, c := range mm.Closure {
		if c.Diff != 0 {
			t.Errorf("closure broken by the merge: %+v", c)
		}
	}
	if got, want := mm.TotalSamples, ma.TotalSamples+mb.TotalSamples; got != want {
		t.Errorf("%d samples, want %d", got, want)
	}
	// Functions merge by name: cumulative samples add up.
	for _, f := range mm.Functions {
		var want uint64
		var calls uint64
		for _, m := range []*report.Model{ma, mb} {
			if g := funcByName(m, f.Name, f.Kind); g != nil {
				want += g.Cumulative.Samples
				calls += g.Cumulative.Calls
			}
		}
		if f.Cumulative.Samples != want || f.Cumulative.Calls != calls {
			t.Errorf("%s %s: samples %d calls %d, want %d %d", f.Kind, f.Name, f.Cumulative.Samples, f.Cumulative.Calls, want, calls)
		}
	}
	// Coroutine IDs are unique and names survive.
	names := map[string]int{}
	for _, c := range append(append([]format.Coroutine{}, a.Coroutines...), b.Coroutines...) {
		names[c.Name]++
	}
	for _, c := range mm.Coroutines {
		names[c.Name]--
	}
	for n, k := range names {
		if k != 0 {
			t.Errorf("coroutine name %q: %d left over", n, k)
		}
	}
	// The timelines lie end to end inside the merged run.
	for _, s := range merged.Slices {
		if s.Start < merged.Meta.StartTick || s.End > merged.Meta.StopTick {
			t.Fatalf("slice %+v outside [%d, %d]", s, merged.Meta.StartTick, merged.Meta.StopTick)
		}
	}
	// A merged profile has no one pid: the note names each input's.
	if want := fmt.Sprintf("merged 2 profiles: a.bin (pid %d), b.bin (pid %d)", a.Meta.PID, b.Meta.PID); merged.Meta.PID != 0 || !strings.Contains(merged.Meta.Notes[0], want) {
		t.Errorf("pid %d, notes %q, want a note with %q", merged.Meta.PID, merged.Meta.Notes, want)
	}
	if merged.Meta.Duration != a.Meta.Duration+b.Meta.Duration {
		t.Errorf("duration %v, want %v", merged.Meta.Duration, a.Meta.Duration+b.Meta.Duration)
	}
}

// TestMergeHand: two hand-made profiles with known numbers, one on a clock twice as
// fast, so its ticks are halved.
func TestMergeHand(t *testing.T) {
	a, b := synth.Hand(), synth.Hand()
	b.Clock.TicksPerSecond = 2000
	b.Regions = b.Regions[:1]
	b.RegionEdges = b.RegionEdges[:1]
	merged, err := profops.Merge([]profops.Input{{"a", a}, {"b", b}})
	if err != nil {
		t.Fatal(err)
	}
	m := mustBuild(t, merged)
	// a: 10000 ticks; b: 10000 ticks at 2000/s = 5000 at 1000/s.
	if m.Total.Ticks() != 15000 || m.TotalTicks != 15000 {
		t.Errorf("total ticks %d, elapsed %d, want 15000", m.Total.Ticks(), m.TotalTicks)
	}
	// CPU is in nanoseconds, not ticks: it adds up unchanged.
	if m.Total.Value(wire.CPU)*1e9 != 2*float64(a.Loops[0].Total[wire.CPU]) {
		t.Errorf("total cpu %v", m.Total.Value(wire.CPU))
	}
	outer := funcByName(m, "outer", report.KindRegion)
	inner := funcByName(m, "inner", report.KindRegion)
	if outer == nil || inner == nil || outer.Self.Calls != 4 || outer.Self.Ticks() != 450 || inner.Self.Calls != 4 {
		t.Errorf("regions outer %+v inner %+v", outer, inner)
	}
	// The scheduler's sample (g, outside coroutines) appears once with both counts.
	n := 0
	for _, s := range merged.Samples {
		if s.CoroID == 0 {
			n++
			if s.Count != 2 {
				t.Errorf("merged <main> sample count %d, want 2", s.Count)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d samples outside coroutines, want 1", n)
	}
	if !strings.Contains(strings.Join(merged.Meta.Notes, "\n"), "b: ticks converted from 2000 to 1000 ticks/s") {
		t.Errorf("notes %q", merged.Meta.Notes)
	}
}

func TestMergeRefusesDifferentMeasures(t *testing.T) {
	a := synth.Profile(1, synth.Options{Coroutines: 3})
	b := synth.Profile(2, synth.Options{Coroutines: 3, TicksOnly: true})
	_, err := profops.Merge([]profops.Input{{"full.bin", a}, {"ticks.bin", b}})
	if err == nil || !strings.Contains(err.Error(), "ticks.bin (measured ticks only)") {
		t.Errorf("merge of different measured sets: %v", err)
	}
	// Samples present in one input only are fine.
	c := synth.Profile(3, synth.Options{Coroutines: 3, Samples: 4})
	if _, err := profops.Merge([]profops.Input{{"a", a}, {"c", c}}); err != nil {
		t.Error(err)
	}
}

// TestMergePerCoroutineRows: a coroutine's share of an exact row survives a merge with
// its coroutine's new ID and the row's new index; a function and a profiler.Region of
// one name stay two rows.
func TestMergePerCoroutineRows(t *testing.T) {
	mk := func(seed int64) *format.Profile {
		p := synth.Profile(seed, synth.Options{Coroutines: 3, Regions: 2})
		p.Regions = append(p.Regions, format.Region{Name: p.Regions[0].Name, Func: true, File: "/f.go", Line: 3, Calls: 4})
		p.RegionCoros = []format.RegionCoro{
			{CoroID: p.Coroutines[1].ID, Region: int32(len(p.Regions) - 1), Calls: 4},
			{CoroID: p.Coroutines[2].ID, Region: 0, Calls: p.Regions[0].Calls},
		}
		return p
	}
	a, b := mk(31), mk(32)
	merged, err := profops.Merge([]profops.Input{{"a.bin", a}, {"b.bin", b}})
	if err != nil {
		t.Fatal(err)
	}
	if err := merged.Validate(); err != nil {
		t.Fatal(err)
	}
	var fn, region = -1, -1
	for i, r := range merged.Regions {
		if r.Name == a.Regions[0].Name {
			if r.Func {
				fn = i
			} else {
				region = i
			}
		}
	}
	if fn < 0 || region < 0 || merged.Regions[fn].Calls != 8 {
		t.Fatalf("function and region of one name: %+v", merged.Regions)
	}
	if len(merged.RegionCoros) != 4 {
		t.Fatalf("%d per-coroutine rows, want 4: %+v", len(merged.RegionCoros), merged.RegionCoros)
	}
	names := map[uint64]string{}
	for _, c := range merged.Coroutines {
		names[c.ID] = c.Name
	}
	for _, g := range merged.RegionCoros {
		if g.Calls == 4 && (int(g.Region) != fn || (names[g.CoroID] != a.Coroutines[1].Name && names[g.CoroID] != b.Coroutines[1].Name)) {
			t.Errorf("the function's row went to region %d, coroutine %q", g.Region, names[g.CoroID])
		}
	}
}
