package coro

import "unsafe"

// Cond is a condition variable for coroutines (Shrapnel's condition_variable):
// coroutines Wait on it until another coroutine wakes one, n or all of them.
//
// Unlike sync.Cond it needs no lock: coroutines switch only where they wait, so the
// check of the condition and the Wait that follows it cannot be split by another
// coroutine. A wake-up reaches only coroutines already waiting; it is not remembered
// for later ones (use Event for that). Waiters are woken in the order they came.
type Cond struct {
	home homeLoop
	q    waitq[struct{}]
}

// Wait waits until a Wake call releases the calling coroutine. It returns nil, the
// error given to RaiseAll, or the error that ended the wait (interrupt, ErrTimeout).
func (cv *Cond) Wait() error {
	s := cv.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return cv.waitForeign()
	}
	_, err, _ := cv.q.wait(s.coro(), WaitLock, 0)
	return err
}

// WakeOne wakes the longest waiter and reports whether there was one (sync.Cond's
// Signal).
func (cv *Cond) WakeOne() (woken bool) {
	return cv.wake(1, nil) == 1
}

// WakeN wakes up to n waiters, oldest first, and returns how many it woke.
func (cv *Cond) WakeN(n int) int {
	if n <= 0 {
		return 0
	}
	return cv.wake(n, nil)
}

// WakeAll wakes every waiter and returns how many it woke (sync.Cond's Broadcast).
func (cv *Cond) WakeAll() int {
	return cv.wake(-1, nil)
}

// RaiseAll wakes every waiter with err as the result of its Wait and returns how many
// it woke.
func (cv *Cond) RaiseAll(err error) int {
	return cv.wake(-1, err)
}

// wake releases up to n waiters (all when n < 0) with err as their result.
func (cv *Cond) wake(n int, err error) int {
	if s := cv.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		return cv.wakeForeign(n, err)
	}
	return cv.wake1(n, err)
}

func (cv *Cond) wake1(n int, err error) int {
	woken := 0
	for ; woken != n; woken++ {
		w := cv.q.next()
		if w == nil {
			break
		}
		w.err = err
		w.c.ready()
	}
	return woken
}

// Waiters returns how many coroutines and goroutines are waiting.
func (cv *Cond) Waiters() int {
	if s, on := cv.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = cv.q.len })
		return n
	}
	return cv.q.len
}

// Event is a flag that coroutines can wait for: once Set, Wait returns at once until
// Clear lowers it again (Python's threading.Event).
type Event struct {
	home homeLoop
	set  bool
	q    waitq[struct{}]
}

// Set raises the flag and wakes every waiting coroutine. They return nil even if the
// flag is cleared again before they run.
func (e *Event) Set() {
	if s := e.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		e.setForeign(true)
		return
	}
	e.set1()
}

func (e *Event) set1() {
	e.set = true
	for w := e.q.next(); w != nil; w = e.q.next() {
		w.c.ready()
	}
}

// Clear lowers the flag.
func (e *Event) Clear() {
	if s := e.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		e.setForeign(false)
		return
	}
	e.set = false
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool {
	if s, on := e.home.resolve(); !on {
		set := false
		foreignOp(s, func(*bridgeWait) { set = e.set })
		return set
	}
	return e.set
}

// Wait returns at once if the flag is raised, and otherwise waits until Set. It
// returns nil, or the error that ended the wait.
func (e *Event) Wait() error {
	s := e.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return e.waitForeign()
	}
	if e.set {
		return nil
	}
	_, err, _ := e.q.wait(s.coro(), WaitLock, 0)
	return err
}

// Waiters returns how many coroutines and goroutines are waiting.
func (e *Event) Waiters() int {
	if s, on := e.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = e.q.len })
		return n
	}
	return e.q.len
}
