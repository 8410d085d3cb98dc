package coro

// Cond is a condition variable for coroutines (Shrapnel's condition_variable):
// coroutines Wait on it until another coroutine wakes one, n or all of them.
//
// Unlike sync.Cond it needs no lock: coroutines switch only where they wait, so the
// check of the condition and the Wait that follows it cannot be split by another
// coroutine. A wake-up reaches only coroutines already waiting; it is not remembered
// for later ones (use Event for that). Waiters are woken in the order they came.
type Cond struct {
	q waitq[struct{}]
}

// Wait waits until a Wake call releases the calling coroutine. It returns nil, the
// error given to RaiseAll, or the error that ended the wait (interrupt, ErrTimeout).
func (cv *Cond) Wait() error {
	_, err, _ := cv.q.wait(current(), WaitLock, 0)
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

// Waiters returns how many coroutines are waiting.
func (cv *Cond) Waiters() int { return cv.q.len }

// Event is a flag that coroutines can wait for: once Set, Wait returns at once until
// Clear lowers it again (Python's threading.Event).
type Event struct {
	set bool
	q   waitq[struct{}]
}

// Set raises the flag and wakes every waiting coroutine. They return nil even if the
// flag is cleared again before they run.
func (e *Event) Set() {
	e.set = true
	for w := e.q.next(); w != nil; w = e.q.next() {
		w.c.ready()
	}
}

// Clear lowers the flag.
func (e *Event) Clear() { e.set = false }

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool { return e.set }

// Wait returns at once if the flag is raised, and otherwise waits until Set. It
// returns nil, or the error that ended the wait.
func (e *Event) Wait() error {
	if e.set {
		return nil
	}
	_, err, _ := e.q.wait(current(), WaitLock, 0)
	return err
}

// Waiters returns how many coroutines are waiting.
func (e *Event) Waiters() int { return e.q.len }
