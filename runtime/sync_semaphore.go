package coro

import (
	"fmt"
	"unsafe"
)

// Semaphore is a counted semaphore for coroutines: a pool of permits that Acquire
// takes and Release puts back.
//
// The zero value holds no permits; NewSemaphore starts with some, or Release adds them.
// Waiters are served strictly in arrival order: a Release grants permits to the head of
// the queue while they suffice, deducting them before waking it, and a large request at
// the head is not overtaken by smaller ones behind it (so it cannot starve).
type Semaphore struct {
	home  homeLoop
	avail int64
	q     waitq[struct{}]
}

// NewSemaphore returns a semaphore holding n permits. A negative n is a debt: Releases
// must pay it back before any Acquire of a permit succeeds.
func NewSemaphore(n int64) *Semaphore {
	return &Semaphore{avail: n}
}

// Acquire takes n permits, waiting until they are available and every earlier waiter
// has been served. It returns nil with the permits taken, or the error that ended the
// wait with none taken. Acquire(0) returns at once.
func (s *Semaphore) Acquire(n int64) error {
	if n < 0 {
		return fmt.Errorf("coro: Semaphore.Acquire(%d): negative permit count", n)
	}
	if n == 0 {
		return nil
	}
	if l := s.home.p.Load(); l == nil || !l.runsHere(unsafe.Pointer(&l)) { // foreign (bridge.go)
		return s.acquireForeign(n)
	}
	if s.avail >= n && s.q.empty() {
		s.avail -= n
		return nil
	}
	// Granted means grant() already deducted our permits.
	_, err, granted := s.q.wait(current(), WaitLock, n)
	if !granted {
		s.grant() // a waiter queued behind us may be satisfied now
	}
	return err
}

// TryAcquire takes n permits if that needs no waiting and reports whether it did.
func (s *Semaphore) TryAcquire(n int64) (acquired bool) {
	if n < 0 {
		return false
	}
	if n == 0 {
		return true
	}
	if l := s.home.p.Load(); l == nil || !l.runsHere(unsafe.Pointer(&l)) { // foreign (bridge.go)
		return s.tryAcquireForeign(n)
	}
	if s.avail >= n && s.q.empty() {
		s.avail -= n
		return true
	}
	return false
}

// Release returns n permits and grants waiters that can now be served. A negative n
// panics.
func (s *Semaphore) Release(n int64) {
	if n < 0 {
		misuse("Semaphore.Release(%d): negative permit count", n)
	}
	if l := s.home.p.Load(); l == nil || !l.runsHere(unsafe.Pointer(&l)) { // foreign (bridge.go)
		s.releaseForeign(n)
		return
	}
	s.avail += n
	s.grant()
}

func (s *Semaphore) grant() {
	for w := s.q.first(); w != nil && w.n <= s.avail; w = s.q.first() {
		s.q.take(w)
		s.avail -= w.n
		w.c.ready()
	}
}

// Available returns the number of permits not taken.
func (s *Semaphore) Available() int64 {
	if loop, on := s.home.resolve(); !on {
		var n int64
		foreignOp(loop, func(*bridgeWait) { n = s.avail })
		return n
	}
	return s.avail
}

// Waiters returns how many coroutines and goroutines are waiting in Acquire.
func (s *Semaphore) Waiters() int {
	if loop, on := s.home.resolve(); !on {
		n := 0
		foreignOp(loop, func(*bridgeWait) { n = s.q.len })
		return n
	}
	return s.q.len
}

// InvertedSemaphore is a counter that coroutines wait on until it reaches zero
// (Shrapnel's inverted_semaphore): each piece of outstanding work Acquires, finishes
// with Release, and WaitZero waits until nothing is outstanding. Neither Acquire nor
// Release ever blocks.
//
// The wake-up is edge-triggered: when the value reaches zero every coroutine then
// waiting is released, and returns nil even if the value has left zero again by the
// time it runs.
type InvertedSemaphore struct {
	home  homeLoop
	value int64
	q     waitq[struct{}]
}

// Acquire adds n to the value.
func (s *InvertedSemaphore) Acquire(n int64) { s.add(n) }

// Release subtracts n from the value; reaching zero wakes all waiters.
func (s *InvertedSemaphore) Release(n int64) { s.add(-n) }

func (s *InvertedSemaphore) add(n int64) {
	if l := s.home.p.Load(); l == nil || !l.runsHere(unsafe.Pointer(&l)) { // foreign (bridge.go)
		s.addForeign(n)
		return
	}
	s.add1(n)
}

func (s *InvertedSemaphore) add1(n int64) {
	s.value += n
	if s.value != 0 {
		return
	}
	for w := s.q.next(); w != nil; w = s.q.next() {
		w.c.ready()
	}
}

// WaitZero returns at once if the value is zero, and otherwise waits until it becomes
// zero. It returns nil, or the error that ended the wait.
func (s *InvertedSemaphore) WaitZero() error {
	if l := s.home.p.Load(); l == nil || !l.runsHere(unsafe.Pointer(&l)) { // foreign (bridge.go)
		return s.waitZeroForeign()
	}
	if s.value == 0 {
		return nil
	}
	_, err, _ := s.q.wait(current(), WaitLock, 0)
	return err
}

// Value returns the current value.
func (s *InvertedSemaphore) Value() int64 {
	if loop, on := s.home.resolve(); !on {
		var v int64
		foreignOp(loop, func(*bridgeWait) { v = s.value })
		return v
	}
	return s.value
}

// Waiters returns how many coroutines and goroutines are waiting in WaitZero.
func (s *InvertedSemaphore) Waiters() int {
	if loop, on := s.home.resolve(); !on {
		n := 0
		foreignOp(loop, func(*bridgeWait) { n = s.q.len })
		return n
	}
	return s.q.len
}
