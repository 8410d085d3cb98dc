package synth

import (
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// Hand returns a small consistent profile with hand-picked numbers, for tests that
// check figures worked out by hand: one loop, two coroutines whose counters, with
// <main> and <wait>, add up exactly to the loop's total. Each call returns a new
// profile.
func Hand() *format.Profile {
	a := format.Counters{wire.Ticks: 6000, wire.CPU: 3000, wire.Utime: 2000, wire.Stime: 1000, wire.Minflt: 8, wire.Nvcsw: 4}
	b := format.Counters{wire.Ticks: 2000, wire.CPU: 1000, wire.Utime: 1000, wire.Minflt: 4, wire.Nivcsw: 2}
	main := format.Counters{wire.Ticks: 1000, wire.CPU: 500, wire.Utime: 500, wire.Minflt: 1}
	wait := format.Counters{wire.Ticks: 1000, wire.CPU: 100, wire.Stime: 100, wire.Nvcsw: 10}
	var total format.Counters
	for _, c := range []format.Counters{a, b, main, wait} {
		total.Add(c)
	}
	p := &format.Profile{
		Version:  1,
		Clock:    format.Clock{Source: "rdtsc", TicksPerSecond: 1000, Invariant: true},
		Measured: format.MeasTicks | format.MeasCPU | format.MeasRusage | format.MeasSamples | format.MeasRegions | format.MeasSlices,
		Meta: format.Meta{Program: "demo", Args: []string{"-x"}, Host: "h", GoVersion: "go1.26",
			Duration: 10 * time.Second, StartTick: 100, StopTick: 10100, SampleRate: 100},
		Loops: []format.Loop{{ID: 1, Total: total, Main: main, Wait: wait}},
		Coroutines: []format.Coroutine{
			{ID: 2, Loop: 1, Name: "b", Resumes: 5, Counters: b},
			{ID: 1, Loop: 1, Name: "a", Resumes: 10, Counters: a, LongestSlice: 900, LongestSite: 1},
		},
		Funcs: []format.Func{{Name: "main.a", File: "a.go"}, {Name: "f", File: "f.go"}, {Name: "g"}, {Name: "unused"}},
		// Locations 1..3 are main.a, f, g.
		Locations: []format.Location{{Func: 0, Line: 1}, {Func: 1, Line: 2}, {Func: 2, Line: 3}},
		Samples: []format.Sample{
			{CoroID: 1, Stack: []format.LocID{2, 1}, Count: 3},                 // f <- main.a
			{CoroID: 1, Stack: []format.LocID{3, 2, 1}, Count: 1},              // g <- f <- main.a
			{CoroID: 2, Stack: []format.LocID{2, 2, 1}, Count: 2},              // f <- f <- main.a (recursion)
			{CoroID: 0, Stack: []format.LocID{3}, Count: 1, Nanos: 10_000_000}, // g outside any coroutine
		},
		Regions: []format.Region{
			{Name: "outer", Calls: 2, Self: format.Counters{wire.Ticks: 300}, Cumulative: format.Counters{wire.Ticks: 500}},
			{Name: "inner", Calls: 4, Self: format.Counters{wire.Ticks: 200}, Cumulative: format.Counters{wire.Ticks: 200}},
		},
		RegionEdges: []format.RegionEdge{
			{Caller: -1, Callee: 0, Calls: 2},
			{Caller: 0, Callee: 1, Calls: 3},
			{Caller: -1, Callee: 1, Calls: 1},
		},
		Slices: []format.Slice{{CoroID: 1, Loop: 1, Start: 200, End: 300, State: 2, Reason: 2}},
		WaitSites: []format.WaitSite{
			{CoroID: 1, Reason: 2, Site: 2, Count: 3, Ticks: 300},
			{CoroID: 2, Reason: 2, Site: 2, Count: 1, Ticks: 200},
			{CoroID: 2, Reason: 1, Site: 3, Count: 7, Ticks: 100},
		},
		LongSlices: []format.LongSlice{
			{CoroID: 1, Loop: 1, Start: 1100, Counters: format.Counters{wire.Ticks: 1000, wire.CPU: 950_000_000}, State: 0},
			{CoroID: 2, Loop: 1, Start: 3100, Counters: format.Counters{wire.Ticks: 2000, wire.CPU: 100_000_000, wire.Nvcsw: 3}, State: 0},
		},
	}
	return p
}
