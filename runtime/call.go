package coro

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Handing work to another loop.
//
// A coroutine, a socket and a synchronisation primitive belong to one loop, and only
// that loop's thread may touch them. (*Scheduler).Spawn is the safe way in from
// anywhere: the spawn is queued in the target loop's inbox and the coroutine is
// created on that loop's thread. Call adds the way back: the result travels to the
// caller's loop through the caller's inbox, like an Offload completion, so the
// calling coroutine parks (and its loop serves the others) instead of blocking its
// thread.

// callOp is one Call in flight: an offload completion carrying a value.
type callOp[T any] struct {
	offloadOp
	val T
}

// Call runs fn as a coroutine of loop s and returns its results. It is how a
// coroutine of one loop gets work done by another loop (whose sockets, primitives
// and coroutines it must not touch itself) and the answer back.
//
// From a coroutine of another loop, the caller parks (wait reason offload) until fn
// has returned; the result is delivered through the caller's loop inbox (one eventfd
// write), so neither thread blocks. If the wait is interrupted (Interrupt,
// WithTimeout), Call returns that error at once: fn still runs to its end on s and its
// result is dropped, so fn must not write to memory the caller reads after an error.
// From a coroutine of s itself, fn is simply called. From a goroutine outside every
// loop, Call blocks that goroutine until fn has returned.
//
// A panic in fn ends fn only and is returned as an error. fn runs when s's loop runs:
// a Call to a loop that is not running waits until it does.
func Call[T any](s *Scheduler, fn func() (T, error)) (T, error) {
	var zero T
	if s == nil {
		return zero, errors.New("coro: Call with a nil scheduler")
	}
	if fn == nil {
		return zero, errors.New("coro: Call with a nil function")
	}
	c := currentOrNil()
	if c != nil && c.s == s {
		return fn()
	}
	name := "coro.Call"
	if f := runtime.FuncForPC(**(**uintptr)(unsafe.Pointer(&fn))); f != nil {
		name = f.Name()
	}
	op := &callOp[T]{}
	run := func() {
		defer func() {
			if r := recover(); r != nil {
				op.err = fmt.Errorf("coro: function called on loop %d panicked: %v", s.loopID, r)
			}
		}()
		op.val, op.err = fn()
	}
	if c == nil {
		// A goroutine (or a thread no loop runs on): it may block.
		done := make(chan struct{})
		s.spawn(name, func() { defer close(done); run() }, callerPC())
		<-done
		return op.val, op.err
	}
	if c.s.killing {
		return zero, ErrExiting // a deferred call during the unwind: fn is not run (doc.go)
	}
	op.c = c
	home := c.s
	s.spawn(name, func() {
		run()
		home.inbox.post(inboxItem{kind: itemOffload, op: &op.offloadOp})
	}, callerPC())
	// As in Offload: whatever way the wait ends, a later completion must not wake c
	// from some other wait. abandoned is read by complete, on the caller's loop.
	defer func() { op.abandoned = true }()
	if err := c.park(WaitOffload); err != nil {
		return zero, err
	}
	return op.val, op.err
}
