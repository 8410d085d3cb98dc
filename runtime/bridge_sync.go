package coro

import "fmt"

// The synchronisation primitives' methods as foreign callers (goroutines, coroutines of
// other loops) run them: each is the coroutine method's logic, run on the home loop by
// foreignOp or foreignWait (bridge.go), with the caller's proxy queued where a
// coroutine would park. Each begins by resolving the home loop: the first use of a
// zero value binds it, and a caller that turns out to be on that loop takes the
// coroutine path after all. None of them may call Yield or park: they run inside the
// loop's scheduling (drainInbox) or on the caller's goroutine.

// Mutex

func (m *Mutex) lockForeign() error {
	s, on := m.home.resolve()
	if on {
		return m.Lock()
	}
	return foreignWaitErr(s, WaitLock, func(bw *bridgeWait, err *error) bool {
		switch {
		case m.owner == nil:
			m.owner, m.depth = &bw.proxy, 1
		case isCaller(m.owner, bw.who):
			m.depth++
		default:
			// Granted means Unlock already made the proxy the owner.
			m.q.waitForeign(bw, 0, func(_ struct{}, e error, _ bool) { *err = e })
			return true
		}
		return false
	})
}

func (m *Mutex) tryLockForeign() bool {
	s, on := m.home.resolve()
	if on {
		return m.TryLock()
	}
	ok := false
	if foreignOp(s, func(bw *bridgeWait) {
		switch {
		case m.owner == nil:
			m.owner, m.depth = &bw.proxy, 1
		case isCaller(m.owner, bw.who):
			m.depth++
		default:
			return
		}
		ok = true
	}) != nil {
		return false
	}
	return ok
}

func (m *Mutex) unlockForeign() {
	s, _ := m.home.resolve()
	msg := ""
	foreignOp(s, func(bw *bridgeWait) {
		if !isCaller(m.owner, bw.who) {
			if m.owner == nil {
				msg = fmt.Sprintf("coro: Mutex.Unlock of an unlocked mutex by %s", bw.proxy.Name())
			} else {
				msg = fmt.Sprintf("coro: Mutex.Unlock by %s, but the mutex is owned by %s", bw.proxy.Name(), coroString(m.owner))
			}
			return
		}
		m.release()
	})
	if msg != "" {
		panic(msg) // in the caller, never on the loop
	}
}

// isCaller reports whether o (a primitive's owner) is the proxy of an earlier
// operation of the caller identified by who.
func isCaller(o *Coro, who uintptr) bool {
	return o != nil && o.bridge != nil && o.bridge.who == who
}

// RWMutex

func (rw *RWMutex) rlockForeign() error {
	s, on := rw.home.resolve()
	if on {
		return rw.RLock()
	}
	return foreignWaitErr(s, WaitLock, func(bw *bridgeWait, err *error) bool {
		if isCaller(rw.writer, bw.who) || (rw.writer == nil && rw.q.empty()) {
			rw.readers++
			return false
		}
		rw.q.waitForeign(bw, waitReader, func(_ struct{}, e error, granted bool) {
			*err = e
			if !granted {
				rw.grant()
			}
		})
		return true
	})
}

func (rw *RWMutex) lockForeign() error {
	s, on := rw.home.resolve()
	if on {
		return rw.Lock()
	}
	return foreignWaitErr(s, WaitLock, func(bw *bridgeWait, err *error) bool {
		if isCaller(rw.writer, bw.who) {
			rw.wdepth++
			return false
		}
		if rw.writer == nil && rw.readers == 0 && rw.q.empty() {
			rw.writer, rw.wdepth = &bw.proxy, 1
			return false
		}
		rw.q.waitForeign(bw, waitWriter, func(_ struct{}, e error, granted bool) {
			*err = e
			if !granted {
				rw.grant()
			}
		})
		return true
	})
}

func (rw *RWMutex) tryLockForeign(read bool) bool {
	s, on := rw.home.resolve()
	if on {
		if read {
			return rw.TryRLock()
		}
		return rw.TryLock()
	}
	ok := false
	if foreignOp(s, func(bw *bridgeWait) {
		mine := isCaller(rw.writer, bw.who)
		switch {
		case read && (mine || (rw.writer == nil && rw.q.empty())):
			rw.readers++
		case !read && mine:
			rw.wdepth++
		case !read && rw.writer == nil && rw.readers == 0 && rw.q.empty():
			rw.writer, rw.wdepth = &bw.proxy, 1
		default:
			return
		}
		ok = true
	}) != nil {
		return false
	}
	return ok
}

func (rw *RWMutex) runlockForeign() {
	s, on := rw.home.resolve()
	if on {
		rw.RUnlock()
		return
	}
	msg := ""
	foreignOp(s, func(bw *bridgeWait) {
		if rw.readers == 0 {
			msg = fmt.Sprintf("coro: RWMutex.RUnlock by %s, but no read lock is held", bw.proxy.Name())
			return
		}
		rw.readers--
		if rw.readers == 0 {
			rw.grant()
		}
	})
	if msg != "" {
		panic(msg)
	}
}

func (rw *RWMutex) unlockForeign() {
	s, _ := rw.home.resolve()
	msg := ""
	foreignOp(s, func(bw *bridgeWait) {
		if !isCaller(rw.writer, bw.who) {
			if rw.writer == nil {
				msg = fmt.Sprintf("coro: RWMutex.Unlock by %s, but the write lock is not held", bw.proxy.Name())
			} else {
				msg = fmt.Sprintf("coro: RWMutex.Unlock by %s, but the write lock is owned by %s", bw.proxy.Name(), coroString(rw.writer))
			}
			return
		}
		rw.release()
	})
	if msg != "" {
		panic(msg)
	}
}

// Semaphore

func (s *Semaphore) acquireForeign(n int64) error {
	loop, on := s.home.resolve()
	if on {
		return s.Acquire(n)
	}
	return foreignWaitErr(loop, WaitLock, func(bw *bridgeWait, err *error) bool {
		if s.avail >= n && s.q.empty() {
			s.avail -= n
			return false
		}
		// Granted means grant() already deducted our permits.
		s.q.waitForeign(bw, n, func(_ struct{}, e error, granted bool) {
			*err = e
			if !granted {
				s.grant()
			}
		})
		return true
	})
}

func (s *Semaphore) tryAcquireForeign(n int64) bool {
	loop, on := s.home.resolve()
	if on {
		return s.TryAcquire(n)
	}
	ok := false
	if foreignOp(loop, func(*bridgeWait) {
		if s.avail >= n && s.q.empty() {
			s.avail -= n
			ok = true
		}
	}) != nil {
		return false
	}
	return ok
}

func (s *Semaphore) releaseForeign(n int64) {
	loop, on := s.home.resolve()
	if on {
		s.Release(n)
		return
	}
	foreignPost(loop, func() {
		s.avail += n
		s.grant()
	})
}

// InvertedSemaphore

func (s *InvertedSemaphore) addForeign(n int64) {
	loop, on := s.home.resolve()
	if on {
		s.add(n)
		return
	}
	foreignPost(loop, func() { s.add1(n) })
}

func (s *InvertedSemaphore) waitZeroForeign() error {
	loop, on := s.home.resolve()
	if on {
		return s.WaitZero()
	}
	return foreignWaitErr(loop, WaitLock, func(bw *bridgeWait, err *error) bool {
		if s.value == 0 {
			return false
		}
		s.q.waitForeign(bw, 0, func(_ struct{}, e error, _ bool) { *err = e })
		return true
	})
}

// Cond

func (cv *Cond) waitForeign() error {
	s, on := cv.home.resolve()
	if on {
		return cv.Wait()
	}
	return foreignWaitErr(s, WaitLock, func(bw *bridgeWait, err *error) bool {
		cv.q.waitForeign(bw, 0, func(_ struct{}, e error, _ bool) { *err = e })
		return true
	})
}

func (cv *Cond) wakeForeign(n int, err error) int {
	s, on := cv.home.resolve()
	if on {
		return cv.wake1(n, err)
	}
	woken := 0
	foreignOp(s, func(*bridgeWait) { woken = cv.wake1(n, err) })
	return woken
}

// Event

func (e *Event) waitForeign() error {
	s, on := e.home.resolve()
	if on {
		return e.Wait()
	}
	return foreignWaitErr(s, WaitLock, func(bw *bridgeWait, err *error) bool {
		if e.set {
			return false
		}
		e.q.waitForeign(bw, 0, func(_ struct{}, werr error, _ bool) { *err = werr })
		return true
	})
}

// setForeign sets (or clears) the flag from a foreign caller.
func (e *Event) setForeign(set bool) {
	s, on := e.home.resolve()
	if on {
		if set {
			e.set1()
		} else {
			e.set = false
		}
		return
	}
	foreignPost(s, func() {
		if set {
			e.set1()
		} else {
			e.set = false
		}
	})
}

// Fifo

func (f *Fifo[T]) pushForeign(v T, front bool) {
	s, on := f.home.resolve()
	if on {
		f.push1(v, front)
		return
	}
	foreignPost(s, func() { f.push1(v, front) })
}

func (f *Fifo[T]) popForeign() (T, error) {
	var v T
	s, on := f.home.resolve()
	if on {
		return f.Pop()
	}
	var err error
	if ferr := foreignWait(s, WaitChannel, func(bw *bridgeWait) bool {
		if f.n > 0 {
			v = f.take()
			return false
		}
		f.q.waitForeign(bw, 0, func(val T, e error, _ bool) { v, err = val, e })
		return true
	}); ferr != nil {
		var zero T
		return zero, ferr
	}
	return v, err
}

func (f *Fifo[T]) popAllForeign() ([]T, error) {
	s, on := f.home.resolve()
	if on {
		return f.PopAll()
	}
	var out []T
	var err error
	if ferr := foreignWait(s, WaitChannel, func(bw *bridgeWait) bool {
		if f.n > 0 {
			out = f.takeAll(nil)
			return false
		}
		f.q.waitForeign(bw, 0, func(val T, e error, granted bool) {
			if granted && e == nil {
				out = []T{val}
			}
			err = e
		})
		return true
	}); ferr != nil {
		return nil, ferr
	}
	return out, err
}

// Channel

func (ch *Channel[T]) sendForeign(v T, e error) error {
	s, on := ch.home.resolve()
	if on {
		return ch.send(v, e)
	}
	return foreignWaitErr(s, WaitChannel, func(bw *bridgeWait, err *error) bool {
		if ch.closed {
			*err = ErrChannelClosed
			return false
		}
		if ch.handOff(v, e) {
			return false
		}
		ch.senders = true
		// Granted means a receiver copied the value out (and cleared err).
		w := ch.q.waitForeign(bw, 0, func(_ T, werr error, _ bool) { *err = werr })
		w.val, w.err = v, e
		return true
	})
}

func (ch *Channel[T]) receiveForeign() (T, error) {
	s, on := ch.home.resolve()
	if on {
		return ch.Receive()
	}
	var v T
	var err error
	if ferr := foreignWait(s, WaitChannel, func(bw *bridgeWait) bool {
		var ok bool
		if v, err, ok = ch.takeOff(); ok {
			return false
		}
		if ch.closed {
			err = ErrChannelClosed
			return false
		}
		ch.senders = false
		ch.q.waitForeign(bw, 0, func(val T, werr error, _ bool) { v, err = val, werr })
		return true
	}); ferr != nil {
		var zero T
		return zero, ferr
	}
	return v, err
}
