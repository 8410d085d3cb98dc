package profiler

import (
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname

	coro "github.com/coroprof/coroprof/runtime"
)

// The entry points of code built with cmd/coro-instrument. An instrumented package
// calls them through //go:linkname declarations the tool generates (it adds no import,
// so the compile needs no new import configuration): instrRegister once at package
// initialisation, and at the start of every instrumented function
//
//	defer instrLeave(instrEnter(id))
//
// Each function is charged as an exact region of kind "function": the same ledger as
// profiler.Region (calls, self and cumulative counters, caller -> callee edges,
// recursion counted once per outermost frame), keyed by the function's id instead of a
// name so that a call costs no map lookup. The one-argument //go:linkname lines below
// let the linker accept those references (Go 1.23+ refuses a pull that the defining
// package did not allow).

// instrFuncs is the process-wide table of instrumented functions, filled as packages
// initialise (instrRegister) and read by sessions when a function is first called.
var instrFuncs struct {
	mu    sync.Mutex
	names []string
	files []string
	lines []int32
	n     atomic.Uint32
}

// instrFunc returns the registered name, file and line of function id.
func instrFunc(id uint32) (name, file string, line int32) {
	instrFuncs.mu.Lock()
	defer instrFuncs.mu.Unlock()
	return instrFuncs.names[id], instrFuncs.files[id], instrFuncs.lines[id]
}

//go:linkname instrRegister
func instrRegister(names, files []string, lines []int32) uint32 {
	if len(names) != len(files) || len(names) != len(lines) {
		panic("profiler: instrRegister: mismatched tables (coro-instrument and profiler versions differ)")
	}
	instrFuncs.mu.Lock()
	defer instrFuncs.mu.Unlock()
	base := uint32(len(instrFuncs.names))
	instrFuncs.names = append(instrFuncs.names, names...)
	instrFuncs.files = append(instrFuncs.files, files...)
	instrFuncs.lines = append(instrFuncs.lines, lines...)
	instrFuncs.n.Store(uint32(len(instrFuncs.names)))
	return base
}

// instrEnter opens function id's frame on the calling coroutine and returns the token
// instrLeave closes it with; 0 (nothing to close) when no session runs, or the caller
// is not the coroutine the ledger charges now. Off, it costs one atomic load.
//
//go:linkname instrEnter
func instrEnter(id uint32) uint64 {
	s := active.Load()
	if s == nil {
		return 0
	}
	return s.ledgerHere().funcBegin(id)
}

// instrLeave closes the frame instrEnter opened. A token from another session, or
// one whose frame was already closed (Stop, Exit), does nothing.
//
//go:linkname instrLeave
func instrLeave(token uint64) {
	if token == 0 {
		return
	}
	s := active.Load()
	if s == nil {
		return
	}
	l := s.ledgerHere()
	if uint32(token>>32) != l.instrGen {
		return
	}
	c := coro.Current()
	if c == nil || coro.CurrentScheduler() != l.sched {
		return
	}
	r, ok := rt.HookData(c).(*coroRec)
	if !ok || r.l != l {
		return
	}
	r.regionEnd(int(uint32(token)) - 1)
}

// instrGens numbers ledgers for instrument tokens, so a frame opened in one session is
// never closed in the next.
var instrGens atomic.Uint32

// funcBegin is regionBegin for an instrumented function.
func (l *ledger) funcBegin(id uint32) uint64 {
	if coro.CurrentScheduler() != l.sched {
		return 0
	}
	c := coro.Current()
	if c == nil || l.state != stateRunning {
		return 0
	}
	r, ok := rt.HookData(c).(*coroRec)
	if !ok || r.l != l || l.cur != r {
		return 0
	}
	l.stamp(true)
	idx := l.regions.funcIndex(id)
	depth := r.pushRegion(idx)
	return uint64(l.instrGen)<<32 | uint64(depth+1)
}

// funcIndex returns the region index of instrumented function id in this session,
// creating its record on the first call.
func (t *regionTable) funcIndex(id uint32) int32 {
	if int(id) < len(t.funcs) && t.funcs[id] >= 0 {
		return t.funcs[id]
	}
	for int(id) >= len(t.funcs) {
		t.funcs = append(t.funcs, -1)
	}
	name, file, line := instrFunc(id)
	i := int32(len(t.stats))
	t.stats = append(t.stats, regionStat{name: name, fn: true, file: file, line: line})
	t.funcs[id] = i
	return i
}
