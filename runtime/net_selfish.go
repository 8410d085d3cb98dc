package coro

import (
	"sync"
	"sync/atomic"
)

// Selfishness, after Shrapnel: a coroutine whose socket calls keep succeeding without
// waiting (data is always there, the send buffer always has room) never reaches a
// scheduling point, and would starve every other coroutine. So each loop counts the
// I/O calls in a row that did not block; when one coroutine reaches the limit, it
// yields (to the back of the run queue) and the count starts again. A call that parks,
// or another coroutine's I/O, resets the count.

// DefaultSelfishness is the number of consecutive non-blocking I/O calls after which a
// coroutine yields, unless changed with SetSelfishness. Small enough that a hot
// connection lets the others in every few calls; large enough that the extra yields
// cost a few percent at most (see docs/PERFORMANCE.md).
const DefaultSelfishness = 16

// netLoopState is a loop's socket-layer state, kept outside Scheduler so the socket
// layer owns it; found by loop ID without a map lookup.
type netLoopState struct {
	limit  int   // yield after this many non-blocking calls in a row; <= 0: never
	last   *Coro // the coroutine the streak belongs to
	streak int
}

var (
	netStatesMu sync.Mutex
	netStates   atomic.Pointer[[]*netLoopState] // by loop ID; copy-on-write
)

// netStateOf returns s's socket-layer state, creating it on first use.
func netStateOf(s *Scheduler) *netLoopState {
	if p := netStates.Load(); p != nil && s.loopID < len(*p) {
		if st := (*p)[s.loopID]; st != nil {
			return st
		}
	}
	netStatesMu.Lock()
	defer netStatesMu.Unlock()
	var n []*netLoopState
	if p := netStates.Load(); p != nil {
		n = append(n, *p...)
	}
	for len(n) <= s.loopID {
		n = append(n, nil)
	}
	if n[s.loopID] == nil {
		n[s.loopID] = &netLoopState{limit: DefaultSelfishness}
	}
	netStates.Store(&n)
	return n[s.loopID]
}

// SetSelfishness sets, for the default loop, how many socket calls in a row that did
// not have to wait a coroutine may make before it yields to the others; n <= 0 turns
// the yielding off. It returns the previous value.
func SetSelfishness(n int) int { return defaultSched.SetSelfishness(n) }

// SetSelfishness is the per-loop form of the package-level SetSelfishness.
// Safe from any goroutine: the change is made on s's loop, as SetLatencyWarning's.
func (s *Scheduler) SetSelfishness(n int) int {
	st := netStateOf(s)
	var prev int
	s.onLoop(func() {
		prev = st.limit
		st.limit = n
		st.streak = 0
	})
	return prev
}

// nonBlocking records a socket call that completed without waiting, and yields when
// the running coroutine has made limit of them in a row.
func (fd *netFD) nonBlocking() {
	st := fd.ns
	if st.limit <= 0 {
		return
	}
	s := fd.pd.s
	c := s.cur
	if c == nil || c == &s.main || s.curG.load() != getg() {
		return // not a coroutine of this loop (e.g. main before EventLoop)
	}
	if c != st.last {
		st.last, st.streak = c, 0
	}
	st.streak++
	if st.streak >= st.limit {
		st.streak = 0
		Yield()
	}
}

// parked records that the running coroutine waited: the streak starts again.
func (st *netLoopState) parked() {
	st.last, st.streak = nil, 0
}
