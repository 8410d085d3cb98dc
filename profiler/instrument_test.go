package profiler

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
)

// instrTestFuncs registers this test's functions once, as an instrumented package's
// generated init would.
var instrTestFuncs = sync.OnceValue(func() uint32 {
	return instrRegister(
		[]string{"t.outer", "t.inner", "t.sleepy", "t.region"},
		[]string{"/src/t.go", "/src/t.go", "/src/t.go", "/src/t.go"},
		[]int32{10, 20, 30, 40})
})

// The functions as coro-instrument rewrites them: one deferred Leave of an Enter.
func tOuter(base uint32) {
	defer instrLeave(instrEnter(base + 0))
	for j := 0; j < 3; j++ {
		tInner(base, 1)
	}
	coro.Yield()
}

func tInner(base uint32, depth int) {
	defer instrLeave(instrEnter(base + 1))
	if depth > 0 {
		tInner(base, depth-1) // recursion: counted once in cumulative
	}
	burnCPU(100 * time.Microsecond)
}

func tSleepy(base uint32) {
	defer instrLeave(instrEnter(base + 2))
	coro.Sleep(30 * time.Millisecond) // parked: the function's clock pauses
}

// TestInstrumentedFunctions: the entry points charge each function exactly like a
// region (calls, edges, recursion once, self + callees = cumulative, a park pauses the
// clock), as a function of kind exact with its file and line, apart from a
// profiler.Region of the same name; conservation still closes.
func TestInstrumentedFunctions(t *testing.T) {
	base := instrTestFuncs()
	p := runProfiled(t, nil, func() {
		for i := 0; i < 5; i++ {
			tOuter(base)
		}
		func() {
			defer Region("t.outer")() // same name as a function: a separate row
		}()
	}, func() { tSleepy(base) })
	checkConservation(t, p)
	idx := map[string]int32{}
	var region *format.Region
	for i := range p.Regions {
		r := &p.Regions[i]
		if !r.Func {
			region = r
			continue
		}
		idx[r.Name] = int32(i)
		if r.File != "/src/t.go" {
			t.Errorf("%s: file %q", r.Name, r.File)
		}
	}
	if region == nil || region.Name != "t.outer" || region.Calls != 1 {
		t.Fatalf("the profiler.Region t.outer is not a row of its own: %+v", p.Regions)
	}
	outer, inner, sleepy := p.Regions[idx["t.outer"]], p.Regions[idx["t.inner"]], p.Regions[idx["t.sleepy"]]
	if outer.Calls != 5 || inner.Calls != 30 || sleepy.Calls != 1 {
		t.Errorf("calls outer %d inner %d sleepy %d, want 5, 30, 1", outer.Calls, inner.Calls, sleepy.Calls)
	}
	if outer.Line != 10 || inner.Line != 20 {
		t.Errorf("lines %d %d, want 10 20", outer.Line, inner.Line)
	}
	edges := map[[2]int32]uint64{}
	for _, e := range p.RegionEdges {
		edges[[2]int32{e.Caller, e.Callee}] = e.Calls
	}
	for k, n := range map[[2]int32]uint64{
		{-1, idx["t.outer"]}:             5,
		{idx["t.outer"], idx["t.inner"]}: 15,
		{idx["t.inner"], idx["t.inner"]}: 15,
		{-1, idx["t.sleepy"]}:            1,
	} {
		if edges[k] != n {
			t.Errorf("edge %v: %d calls, want %d", k, edges[k], n)
		}
	}
	if outer.Cumulative[wire.Ticks] != outer.Self[wire.Ticks]+inner.Cumulative[wire.Ticks] {
		t.Errorf("outer cumulative %d != self %d + inner %d", outer.Cumulative[wire.Ticks], outer.Self[wire.Ticks], inner.Cumulative[wire.Ticks])
	}
	if inner.Cumulative[wire.CPU] < uint64(15*100*time.Microsecond) {
		t.Errorf("inner cumulative CPU %v, burned at least 1.5ms", time.Duration(inner.Cumulative[wire.CPU]))
	}
	// Parked 30ms: the frame's clock paused, so it holds at most its coroutine's own
	// running time (which excludes the park: a few microseconds here), exactly, however
	// loaded the machine; a frame charged through the park would hold 30ms more.
	if sc := coroByName(t, p, "body1"); sleepy.Cumulative[wire.Ticks] > sc.Counters[wire.Ticks] || sc.Waits[coro.WaitSleep].Ticks == 0 {
		t.Errorf("sleepy charged %d ticks, its coroutine ran %d and slept %d", sleepy.Cumulative[wire.Ticks], sc.Counters[wire.Ticks], sc.Waits[coro.WaitSleep].Ticks)
	}
	c := coroByName(t, p, "body0")
	if outer.Cumulative[wire.Ticks] > c.Counters[wire.Ticks] {
		t.Errorf("outer cumulative %d exceeds its coroutine's ticks %d", outer.Cumulative[wire.Ticks], c.Counters[wire.Ticks])
	}
}

// TestInstrumentedOffLoop: with no session, from a plain goroutine during a session,
// and across sessions the entry points do nothing (token 0, or a stale token ignored),
// and with no session they do not allocate.
func TestInstrumentedOffLoop(t *testing.T) {
	base := instrTestFuncs()
	if tok := instrEnter(base); tok != 0 {
		t.Fatalf("no session: token %d, want 0", tok)
	}
	if a := testing.AllocsPerRun(1000, func() { instrLeave(instrEnter(base)) }); a != 0 {
		t.Errorf("off: %.1f allocations per call", a)
	}
	var stale uint64
	var fromGoroutine uint64
	p := runProfiled(t, nil, func() {
		stale = instrEnter(base + 1) // left open: closed at Stop
		done := make(chan uint64)
		go func() { done <- instrEnter(base) }()
		for {
			select {
			case fromGoroutine = <-done:
				return
			default:
				coro.Yield()
			}
		}
	})
	if fromGoroutine != 0 {
		t.Errorf("plain goroutine during a session: token %d, want 0", fromGoroutine)
	}
	if stale == 0 {
		t.Fatal("a coroutine of the profiled loop got no token")
	}
	var inner *format.Region
	for i := range p.Regions {
		if p.Regions[i].Name == "t.inner" {
			inner = &p.Regions[i]
		}
	}
	if inner == nil || inner.Calls != 1 {
		t.Fatalf("the frame left open is not closed at Stop: %+v", p.Regions)
	}
	// The next session ignores the old token.
	p2 := runProfiled(t, nil, func() {
		defer instrLeave(instrEnter(base + 0))
		instrLeave(stale) // would close t.outer's frame (depth 0) if taken for this session's
		burnCPU(2 * time.Millisecond)
	})
	checkConservation(t, p2)
	for _, r := range p2.Regions {
		switch r.Name {
		case "t.inner":
			t.Errorf("a stale token touched the next session: %+v", r)
		case "t.outer":
			if r.Cumulative[wire.CPU] < uint64(2*time.Millisecond) {
				t.Errorf("t.outer charged %v of the 2ms it burned: a stale token closed it early", time.Duration(r.Cumulative[wire.CPU]))
			}
		}
	}
}

//go:noinline
func plainCall(x int) int { return x + 1 }

//go:noinline
func instrumentedCall(base uint32, x int) int {
	defer instrLeave(instrEnter(base + 1))
	return x + 1
}

// BenchmarkInstrumentedCall is the cost of one call of an instrumented function (the
// deferred Leave of an Enter that coro-instrument inserts) beside a plain call, with the
// profiler off, ticks-only and the full ledger: the overhead docs/PERFORMANCE.md quotes.
// Each op is one call, made from a coroutine of the profiled loop.
func BenchmarkInstrumentedCall(b *testing.B) {
	base := instrTestFuncs()
	for _, m := range []struct {
		name    string
		opts    []Option // nil: no session
		instrum bool
	}{
		{"plain", nil, false},
		{"off", nil, true},
		{"ticks", []Option{TicksOnly()}, true},
		{"full", []Option{}, true},
	} {
		b.Run(m.name, func(b *testing.B) {
			n := b.N
			sink := 0
			defer coro.SetLatencyWarning(coro.SetLatencyWarning(0)) // one long slice, on purpose
			var cpu cpuMeter
			coro.Spawn(func() {
				b.ResetTimer()
				cpu.start()
				if m.instrum {
					for i := 0; i < n; i++ {
						sink = instrumentedCall(base, sink)
					}
				} else {
					for i := 0; i < n; i++ {
						sink = plainCall(sink)
					}
				}
				cpu.stop(b)
			})
			if m.opts == nil {
				coro.EventLoop()
				return
			}
			opts := append([]Option{File(b.TempDir() + "/p.bin"), SampleRate(0)}, m.opts...)
			if err := Go(coro.EventLoop, opts...); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestInstrumentedPerCoroutine: each coroutine's share of each function is recorded
// (calls, self, cumulative), and the shares add up to the function's totals exactly.
func TestInstrumentedPerCoroutine(t *testing.T) {
	base := instrTestFuncs()
	p := runProfiled(t, nil,
		func() {
			for i := 0; i < 3; i++ {
				tOuter(base)
			}
		},
		func() {
			for i := 0; i < 2; i++ {
				tOuter(base)
			}
			tInner(base, 2)
		})
	checkConservation(t, p)
	byCoro := map[uint64]string{}
	for _, c := range p.Coroutines {
		byCoro[c.ID] = c.Name
	}
	calls := map[[2]string]uint64{}
	var sum = make([]format.RegionCoro, len(p.Regions))
	for _, g := range p.RegionCoros {
		calls[[2]string{byCoro[g.CoroID], p.Regions[g.Region].Name}] = g.Calls
		s := &sum[g.Region]
		s.Calls += g.Calls
		s.Self.Add(g.Self)
		s.Cumulative.Add(g.Cumulative)
	}
	for k, n := range map[[2]string]uint64{
		{"body0", "t.outer"}: 3, {"body0", "t.inner"}: 18,
		{"body1", "t.outer"}: 2, {"body1", "t.inner"}: 12 + 3,
	} {
		if calls[k] != n {
			t.Errorf("%s in %s: %d calls, want %d (all: %v)", k[1], k[0], calls[k], n, calls)
		}
	}
	// Every exact counter adds up; utime and stime are estimates split per row from
	// the exact CPU time, so their sums may differ from the totals' split by rounding.
	for i, r := range p.Regions {
		if sum[i].Calls != r.Calls {
			t.Errorf("%s: per-coroutine calls add up to %d, the total is %d", r.Name, sum[i].Calls, r.Calls)
		}
		for q := range wire.NumCounters {
			if q == wire.Utime || q == wire.Stime {
				continue
			}
			if sum[i].Self[q] != r.Self[q] || sum[i].Cumulative[q] != r.Cumulative[q] {
				t.Errorf("%s %s: per-coroutine rows add up to self %d cumulative %d, the totals are %d %d", r.Name, wire.CounterNames[q], sum[i].Self[q], sum[i].Cumulative[q], r.Self[q], r.Cumulative[q])
			}
		}
	}
}

// TestInstrumentedSeveralLoops: instrumented calls on two loops profiled by one session
// land in each loop's own ledger (each loop closes exactly), are merged by name into one
// row per function with the calls of both loops, and each coroutine's share names its
// own loop's calls.
func TestInstrumentedSeveralLoops(t *testing.T) {
	base := instrTestFuncs()
	loops := []*coro.Scheduler{coro.NewScheduler(), coro.NewScheduler()}
	for i, s := range loops {
		n := i + 1 // loop 0's coroutine calls tOuter once, loop 1's twice
		s.SpawnNamed(fmt.Sprintf("caller-%d", i), func() {
			for k := 0; k < n; k++ {
				tOuter(base)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "multi.bin")
	err := Go(func() {
		done := make(chan struct{})
		go func() { defer close(done); loops[1].EventLoop() }()
		loops[0].EventLoop()
		<-done
	}, File(path), Loop(loops[0]), Loops(loops[1]))
	if err != nil {
		t.Fatalf("Go: %v", err)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLoopConservation(t, p)
	var outer, inner *format.Region
	idx := map[string]int32{}
	for i := range p.Regions {
		r := &p.Regions[i]
		idx[r.Name] = int32(i)
		switch r.Name {
		case "t.outer":
			outer = r
		case "t.inner":
			inner = r
		}
	}
	if outer == nil || inner == nil || outer.Calls != 3 || inner.Calls != 18 || !outer.Func {
		t.Fatalf("rows merged over the loops: outer %+v inner %+v, want 3 and 18 calls", outer, inner)
	}
	names := map[uint64]string{}
	for _, c := range p.Coroutines {
		names[c.ID] = c.Name
	}
	got := map[string]uint64{}
	for _, g := range p.RegionCoros {
		if g.Region == idx["t.outer"] {
			got[names[g.CoroID]] = g.Calls
		}
	}
	if got["caller-0"] != 1 || got["caller-1"] != 2 {
		t.Errorf("t.outer's calls per coroutine %v, want caller-0: 1, caller-1: 2", got)
	}
}
