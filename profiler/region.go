package profiler

import (
	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// noop is what Region returns when it does not record: one shared func value, so the
// off path neither allocates nor builds a closure.
var noop = func() {}

// Region marks an exact region of the calling coroutine, closed by calling the func it
// returns:
//
//	defer profiler.Region("parse")()
//
// Regions nest. Each is charged like a function in Shrapnel's profiler: its calls,
// its self and cumulative ticks, CPU time and rusage counters, and the calls between
// regions (caller -> callee). A region's clock runs only while its coroutine runs: a
// Sleep or a blocking read inside it pauses it, so its figures are the coroutine's own
// work. When no session runs, or the caller is not a coroutine of the profiled loop,
// Region costs one atomic load and returns a shared no-op.
//
// Each Region and each close takes a stamp (one TSC read, plus two system calls unless
// TicksOnly), so mark coarse units of work, not tight loops.
func Region(name string) func() {
	s := active.Load()
	if s == nil {
		return noop
	}
	return s.ledgerHere().regionBegin(name)
}

// regionTable holds the regions and edges of one ledger (loop thread only).
type regionTable struct {
	index map[string]int32 // regions by name
	funcs []int32          // instrumented functions by id (instrument.go); -1: not yet called
	stats []regionStat
	edges map[[2]int32]int32
	edge  []edgeStat
}

type regionStat struct {
	name  string
	fn    bool   // an instrumented function (instrument.go), not a profiler.Region
	file  string // instrumented functions: where the function is declared
	line  int32
	calls uint64
	self  format.Counters // raw
	cum   format.Counters // raw
}

type edgeStat struct {
	caller, callee int32
	calls          uint64
	cum            format.Counters
}

// coroRegion is one coroutine's share of one region: the same figures as regionStat,
// charged only while that coroutine ran the region.
type coroRegion struct {
	idx   int32
	calls uint64
	self  format.Counters // raw
	cum   format.Counters // raw
}

// regionFrame is one open region of one coroutine.
type regionFrame struct {
	idx   int32
	edge  int32
	slot  int32           // index into the coroutine's regs
	start format.Counters // the coroutine's totals when it opened
	child format.Counters // cumulative of the regions it called
}

func (t *regionTable) init() {
	t.index = make(map[string]int32)
	t.edges = make(map[[2]int32]int32)
}

func (t *regionTable) lookup(name string) int32 {
	if i, ok := t.index[name]; ok {
		return i
	}
	i := int32(len(t.stats))
	t.index[name] = i
	t.stats = append(t.stats, regionStat{name: name})
	return i
}

func (t *regionTable) edgeOf(caller, callee int32) int32 {
	k := [2]int32{caller, callee}
	if i, ok := t.edges[k]; ok {
		return i
	}
	i := int32(len(t.edge))
	t.edges[k] = i
	t.edge = append(t.edge, edgeStat{caller: caller, callee: callee})
	return i
}

// regionBegin opens a region on the running coroutine. It refuses (no-op) unless the
// caller is the coroutine the ledger is charging now, on this ledger's loop: that
// check also keeps other goroutines away from the ledger.
func (l *ledger) regionBegin(name string) func() {
	// Thread check first: only the loop thread may read the ledger's state.
	if coro.CurrentScheduler() != l.sched {
		return noop
	}
	c := coro.Current()
	if c == nil || l.state != stateRunning {
		return noop
	}
	r, ok := rt.HookData(c).(*coroRec)
	if !ok || r.l != l || l.cur != r {
		return noop
	}
	l.stamp(true) // r.acc is now the coroutine's exact total up to this instant
	depth := r.pushRegion(l.regions.lookup(name))
	for len(r.ends) <= depth {
		k := len(r.ends)
		r.ends = append(r.ends, func() { r.regionEnd(k) })
	}
	return r.ends[depth]
}

// pushRegion opens a frame of region idx on r, after a stamp, and returns its depth.
func (r *coroRec) pushRegion(idx int32) int {
	t := &r.l.regions
	caller := int32(-1)
	if n := len(r.stack); n > 0 {
		caller = r.stack[n-1].idx
	}
	e := t.edgeOf(caller, idx)
	t.stats[idx].calls++
	t.edge[e].calls++
	slot := r.regSlot(idx)
	r.regs[slot].calls++
	r.stack = append(r.stack, regionFrame{idx: idx, edge: e, slot: slot, start: r.acc})
	return len(r.stack) - 1
}

// regSlot returns the index of region idx in r.regs, adding it on first use. A
// coroutine that enters few regions keeps them in a slice it scans; a map indexes them
// once there are many.
func (r *coroRec) regSlot(idx int32) int32 {
	if r.regAt != nil {
		if s, ok := r.regAt[idx]; ok {
			return s
		}
	} else {
		for s := range r.regs {
			if r.regs[s].idx == idx {
				return int32(s)
			}
		}
	}
	s := int32(len(r.regs))
	r.regs = append(r.regs, coroRegion{idx: idx})
	if r.regAt == nil && len(r.regs) > 8 {
		r.regAt = make(map[int32]int32, 16)
		for k := range r.regs {
			r.regAt[r.regs[k].idx] = int32(k)
		}
	} else if r.regAt != nil {
		r.regAt[idx] = s
	}
	return s
}

// regionEnd closes the region at depth k (and any left open inside it, which a
// missing close would otherwise leave running forever). A stale call (after Stop,
// twice, or once the depth was closed) does nothing.
func (r *coroRec) regionEnd(k int) {
	l := r.l
	if coro.CurrentScheduler() != l.sched || coro.Current() == nil {
		return // not on the loop (only the loop thread may touch the ledger)
	}
	if l.state != stateRunning || k >= len(r.stack) || l.cur == nil {
		return
	}
	l.stamp(true)
	for len(r.stack) > k {
		r.popRegion()
	}
}

// popRegion closes the innermost open region at the coroutine's current totals.
func (r *coroRec) popRegion() {
	t := &r.l.regions
	n := len(r.stack) - 1
	f := &r.stack[n]
	cum := r.acc.Sub(&f.start)
	self := cum.Sub(&f.child)
	st := &t.stats[f.idx]
	st.self.Add(self)
	own := &r.regs[f.slot]
	own.self.Add(self)
	t.edge[f.edge].cum.Add(cum)
	// Recursion counted once: an inner call of a region already open adds nothing to
	// its cumulative figure, since the outer call's cumulative already includes it.
	outer := false
	for i := 0; i < n; i++ {
		if r.stack[i].idx == f.idx {
			outer = true
			break
		}
	}
	if !outer {
		st.cum.Add(cum)
		own.cum.Add(cum)
	}
	if n > 0 {
		r.stack[n-1].child.Add(cum)
	}
	r.stack = r.stack[:n]
}

// closeRegions closes every open region (at Exit, and at Stop).
func (r *coroRec) closeRegions() {
	for len(r.stack) > 0 {
		r.popRegion()
	}
}
