package coro

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock in nanoseconds (the one time.Since uses),
// without time.Now's wall-clock read.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// timer is an entry of a loop's timer heap. fire runs on the loop thread when the
// deadline passes (from a scheduling decision, never inside a coroutine's slice).
type timer struct {
	when int64 // nanotime deadline
	idx  int   // position in the heap; -1 when not scheduled
	fire func(*timer)
	c    *Coro // the coroutine concerned, for fire's use
	arg  any   // anything else fire needs
}

// timerHeap is a binary min-heap on when. Hand-written instead of container/heap to
// avoid an interface call per comparison; each timer knows its index, so a cancelled
// timer is removed in O(log n) rather than left to expire.
type timerHeap struct {
	h []*timer
}

func (th *timerHeap) len() int { return len(th.h) }

// next returns the earliest deadline; the heap must not be empty.
func (th *timerHeap) next() int64 { return th.h[0].when }

// add schedules t at t.when. A t that is already scheduled is moved to its new place
// rather than added again: a second entry could never be removed (t.idx names only
// one), and a loop firing it would spin for ever. That happens when a coroutine is
// unwound out of a wait (Exit) before it could remove its timer, and waits again.
func (th *timerHeap) add(t *timer) {
	if i := t.idx; i >= 0 && i < len(th.h) && th.h[i] == t {
		if !th.down(i) {
			th.up(i)
		}
		return
	}
	t.idx = len(th.h)
	th.h = append(th.h, t)
	th.up(t.idx)
}

// remove takes t out of the heap; a no-op when t is not scheduled.
func (th *timerHeap) remove(t *timer) {
	i := t.idx
	if i < 0 || i >= len(th.h) || th.h[i] != t {
		return
	}
	last := len(th.h) - 1
	if i != last {
		th.h[i] = th.h[last]
		th.h[i].idx = i
	}
	th.h[last] = nil
	th.h = th.h[:last]
	t.idx = -1
	if i != last {
		if !th.down(i) {
			th.up(i)
		}
	}
}

func (th *timerHeap) up(i int) {
	h := th.h
	t := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if h[p].when <= t.when {
			break
		}
		h[i] = h[p]
		h[i].idx = i
		i = p
	}
	h[i] = t
	t.idx = i
}

// down sifts h[i] down and reports whether it moved.
func (th *timerHeap) down(i0 int) bool {
	h := th.h
	n := len(h)
	i := i0
	t := h[i]
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].when < h[l].when {
			m = r
		}
		if h[m].when >= t.when {
			break
		}
		h[i] = h[m]
		h[i].idx = i
		i = m
	}
	h[i] = t
	t.idx = i
	return i > i0
}

// clear unschedules every timer (the loop ended).
func (th *timerHeap) clear() {
	for i, t := range th.h {
		t.idx = -1
		th.h[i] = nil
	}
	th.h = th.h[:0]
}

// addTimer schedules t to fire at when (nanotime), moving it if it is scheduled.
func (s *Scheduler) addTimer(t *timer, when int64) {
	t.when = when
	s.timers.add(t)
}

// delTimer unschedules t; a no-op when it is not scheduled (fired or removed).
func (s *Scheduler) delTimer(t *timer) { s.timers.remove(t) }

// runTimers fires every timer due at now and reports whether any fired.
func (s *Scheduler) runTimers(now int64) bool {
	fired := false
	for len(s.timers.h) > 0 {
		t := s.timers.h[0]
		if t.when > now {
			break
		}
		s.timers.remove(t)
		fired = true
		t.fire(t)
	}
	return fired
}
