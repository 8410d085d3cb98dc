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
// loop, Call blocks that goroutine until fn has returned, or returns ErrLoopExited if
// s's run ends first.
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
				if r == unwindSentinel {
					op.err = ErrLoopExited // s's run ended while fn waited
					return
				}
				op.err = fmt.Errorf("coro: function called on loop %d panicked: %v", s.loopID, r)
			}
		}()
		op.val, op.err = fn()
	}
	if c == nil {
		// A goroutine (or a thread no loop runs on): it blocks until fn has run. The
		// wait is registered with s's bridge (bridge.go), so that a run of s that ends
		// before the coroutine has run fn (an Exit drained in the same batch: a
		// coroutine started while the loop unwinds never runs its function) releases
		// it with ErrLoopExited instead of leaving it blocked.
		pc := callerPC()
		bw := newBridgeWait(s)
		bw.run(WaitOffload, func(mode bridgeMode) bool {
			if mode == modeExited {
				op.err = ErrLoopExited
				return false
			}
			bw.block(func(err error) {
				if err != nil {
					op.err = err
				}
			})
			co := &Coro{s: s, id: nextID.Add(1), name: name, spawnPC: pc, gp: unsafe.Pointer(&noStack)}
			co.fn = func() {
				defer func() {
					if bw.proxy.state == StateWaiting {
						bw.proxy.wake(nil)
					}
				}()
				run()
			}
			co.fnPC = funcPC(co.fn)
			if mode == modeOnLoop {
				s.start(co, nil)
			} else {
				// s is not running: the coroutine waits in its inbox for the next run.
				co.state = StateRunnable
				s.inbox.post(inboxItem{kind: itemSpawn, c: co})
			}
			return true
		})
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
