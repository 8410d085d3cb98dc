package profiler

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/tsc"
)

// symtab builds the profile's function and location tables, shared by the ledger's
// program counters and the CPU samples' stacks.
type symtab struct {
	p     *format.Profile
	funcs map[funcKey]uint32
	locs  map[locKey]format.LocID
	pcs   map[uintptr]format.LocID
}

type funcKey struct{ name, file string }

type locKey struct {
	fn   uint32
	line int64
}

func newSymtab(p *format.Profile) *symtab {
	return &symtab{p: p, funcs: make(map[funcKey]uint32), locs: make(map[locKey]format.LocID), pcs: make(map[uintptr]format.LocID)}
}

func (t *symtab) loc(name, file string, startLine, line int64) format.LocID {
	fk := funcKey{name, file}
	fi, ok := t.funcs[fk]
	if !ok {
		fi = uint32(len(t.p.Funcs))
		t.p.Funcs = append(t.p.Funcs, format.Func{Name: name, File: file, StartLine: startLine})
		t.funcs[fk] = fi
	}
	lk := locKey{fi, line}
	id, ok := t.locs[lk]
	if !ok {
		t.p.Locations = append(t.p.Locations, format.Location{Func: fi, Line: line})
		id = format.LocID(len(t.p.Locations)) // LocID is index+1
		t.locs[lk] = id
	}
	return id
}

// pc symbolises a program counter the runtime reported (a return address, as
// runtime.Callers gives: CallersFrames backs it up into the call instruction). Only
// the outermost frame of an inlined call is kept: the user's call site.
func (t *symtab) pc(pc uintptr) format.LocID {
	if pc == 0 {
		return 0
	}
	if id, ok := t.pcs[pc]; ok {
		return id
	}
	frames := runtime.CallersFrames([]uintptr{pc})
	var last runtime.Frame
	for {
		f, more := frames.Next()
		if f.Function != "" || f.File != "" {
			last = f
		}
		if !more {
			break
		}
	}
	var id format.LocID
	if last.Function == "" && last.File == "" {
		id = t.loc("?", "", 0, 0)
	} else {
		var start int64
		if last.Func != nil {
			// runtime.Frame has no start line; the entry's line is the next best.
			_, l := last.Func.FileLine(last.Entry)
			start = int64(l)
		}
		id = t.loc(last.Function, last.File, start, int64(last.Line))
	}
	t.pcs[pc] = id
	return id
}

// build turns the closed ledger into a format.Profile. Utime and Stime become the
// estimates described in doc.go; everything else is copied as counted.
func (s *session) build() *format.Profile {
	p := &format.Profile{
		Clock: format.Clock{Source: tsc.Source(), TicksPerSecond: tsc.Frequency(), Invariant: tsc.Invariant()},
		Meta:  s.meta,
	}
	sym := newSymtab(p)

	p.Measured = format.MeasTicks
	switch {
	case s.opts.ticksOnly:
	case s.opts.noRusage:
		p.Measured |= format.MeasCPU
	default:
		p.Measured |= format.MeasCPU | format.MeasRusage
	}
	if s.opts.slices > 0 {
		p.Measured |= format.MeasSlices
	}

	regions := profops.NewRegions(p)
	var notes []string
	for i, l := range s.ledgers() {
		notes = l.notes(notes)
		l.addLoop(p, sym, regions)
		p.SlicesDropped += l.ringDrops
		if i == 0 {
			continue // the primary's span is the session's (finish set it)
		}
		// The run spans every loop's ledger.
		if l.start[wire.Ticks] < p.Meta.StartTick && l.start[wire.Ticks] != 0 {
			p.Meta.StartTick = l.start[wire.Ticks]
		}
		if l.stop[wire.Ticks] > p.Meta.StopTick {
			p.Meta.StopTick = l.stop[wire.Ticks]
		}
	}
	if len(p.Regions) > 0 {
		p.Measured |= format.MeasRegions
	}
	slices.SortFunc(p.Loops, func(a, b format.Loop) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(p.Coroutines, func(a, b format.Coroutine) int { return cmp.Compare(a.ID, b.ID) })
	if len(s.peers) > 0 {
		// Each ledger's ring is in time order; merged, oldest first again.
		slices.SortStableFunc(p.Slices, func(a, b format.Slice) int { return cmp.Compare(a.Start, b.Start) })
	}
	slices.SortFunc(p.LongSlices, func(a, b format.LongSlice) int { return cmp.Compare(b.Counters[wire.Ticks], a.Counters[wire.Ticks]) })
	if len(p.LongSlices) > numLongSlices {
		p.LongSlices = p.LongSlices[:numLongSlices]
	}

	s.stopSampling(sym, p)
	if len(p.Samples) > 0 {
		p.Measured |= format.MeasSamples
	}
	p.Meta.Notes = append(append([]string(nil), s.meta.Notes...), notes...) // stopSampling may have added one
	return p
}

// notes appends what a reader must know about this loop's ledger: that it spans
// several runs of the loop (the gaps between them are in no bucket and not in its
// Total), and any reading that went backwards (charged as no change).
func (l *ledger) notes(notes []string) []string {
	if l.segments > 1 {
		gap := tsc.ToDuration(l.gapTicks)
		notes = append(notes, fmt.Sprintf("loop %d ran %d times in the session: its ledger has one segment per run, each stamped on the thread that ran it; the %v between runs is in no bucket and not in the loop's total", l.loopID, l.segments, gap.Round(time.Microsecond)))
	}
	if l.backwards > 0 {
		notes = append(notes, fmt.Sprintf("loop %d: %d stamps read a clock or counter lower than the stamp before; those deltas were charged as zero", l.loopID, l.backwards))
	}
	return notes
}

// addLoop adds one loop's ledger to p: its format.Loop, its coroutines with their wait
// sites, its slices and long slices (tagged with the loop), and its regions merged by
// name (profops.Regions, which print-profile's -merge uses too). Utime and Stime
// become the estimates described in doc.go, split in this loop's own thread-wide
// ratio where a bucket has none of its own.
func (l *ledger) addLoop(p *format.Profile, sym *symtab, regions *profops.Regions) {
	total := l.total
	tu, ts := total[wire.Utime], total[wire.Stime]
	est := func(c format.Counters) format.Counters {
		if l.clk.ticksOnly || l.clk.noRusage {
			c[wire.Utime], c[wire.Stime] = 0, 0
			return c
		}
		c[wire.Utime], c[wire.Stime] = split(c[wire.CPU], c[wire.Utime], c[wire.Stime], tu, ts)
		return c
	}
	p.Loops = append(p.Loops, format.Loop{ID: l.loopID, Total: est(total), Main: est(l.main), Wait: est(l.wait)})

	for _, r := range l.coros {
		c := format.Coroutine{
			ID: r.id, ParentID: r.parentID, Loop: l.loopID, Name: r.name,
			SpawnSite: sym.pc(r.spawnPC), Exited: r.exited, Panicked: r.panicked,
			Resumes: r.resumes, Counters: est(r.acc), Runnable: r.runnable,
			Waits: r.waits, LongestSlice: r.longest, LongestSite: sym.pc(r.longestPC),
		}
		p.Coroutines = append(p.Coroutines, c)
		for _, st := range r.sites {
			p.WaitSites = append(p.WaitSites, format.WaitSite{
				CoroID: r.id, Reason: uint8(st.reason), Site: sym.pc(st.pc), Count: st.count, Ticks: st.ticks,
			})
		}
	}

	rs := make([]format.Region, len(l.regions.stats))
	for i, st := range l.regions.stats {
		rs[i] = format.Region{Name: st.name, Calls: st.calls, Self: st.self, Cumulative: st.cum, Func: st.fn, File: st.file, Line: st.line}
	}
	es := make([]format.RegionEdge, len(l.regions.edge))
	for i, e := range l.regions.edge {
		es[i] = format.RegionEdge{Caller: e.caller, Callee: e.callee, Calls: e.calls, Cumulative: e.cum}
	}
	local := regions.Add(rs, es, est)
	for _, r := range l.coros {
		for _, g := range r.regs {
			p.RegionCoros = append(p.RegionCoros, format.RegionCoro{
				CoroID: r.id, Region: local[g.idx], Calls: g.calls, Self: est(g.self), Cumulative: est(g.cum),
			})
		}
	}

	if l.ring != nil {
		n := l.ringNext
		if l.ringFull {
			n = len(l.ring)
		}
		first := 0
		if l.ringFull {
			first = l.ringNext
		}
		for i := 0; i < n; i++ {
			e := &l.ring[(first+i)%len(l.ring)]
			p.Slices = append(p.Slices, format.Slice{
				CoroID: e.id, Loop: l.loopID, Start: e.start, End: e.end,
				State: uint8(e.state), Reason: uint8(e.reason), Site: sym.pc(e.pc),
			})
		}
	}
	for _, x := range l.long[:l.longN] {
		p.LongSlices = append(p.LongSlices, format.LongSlice{
			CoroID: x.rec.id, Loop: l.loopID, Start: x.start, Counters: est(x.c),
			State: uint8(x.state), Reason: uint8(x.reason), Site: sym.pc(x.pc),
		})
	}
}

// split divides the exact CPU time cpu into user and system parts in the ratio u:s of
// getrusage's own (tick-sampled) times for the same bucket, or the thread-wide ratio
// tu:ts when the bucket's are both zero. With no ratio at all it calls everything user
// time. u+s of the result is exactly cpu.
func split(cpu, u, s, tu, ts uint64) (uint64, uint64) {
	if u+s == 0 {
		u, s = tu, ts
	}
	if u+s == 0 {
		return cpu, 0
	}
	d := u + s
	if d < u { // u+s overflowed: halve both, the ratio survives
		u, d = u/2, u/2+s/2
	}
	user := tsc.MulDiv(cpu, u, d) // <= cpu, since u <= d
	return user, cpu - user
}
