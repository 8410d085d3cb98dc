package coro

import (
	"iter"
)

// The coroutine switch. Each coroutine is an iter.Pull coroutine: the runtime's
// coroutine switch (newcoro/coroswitch) behind iter.Pull's next and yield functions.
// Those two are only usable through iter.Pull (the linker refuses a direct
// go:linkname to them outside package iter).
//
// iter.Pull looks asymmetric (yield returns to whoever called next), but underneath
// both next and yield are the same operation: coroswitch(c), "swap the calling
// goroutine with the one blocked on c". Nothing checks which goroutine calls them;
// iter.Pull only checks that calls alternate next, yield, next, ... on each object. So
// any participant can switch to any other through the object that other one is blocked
// on, calling next or yield according to that object's parity (see switchOn). This
// gives one runtime switch per transfer between two coroutines, where the classic
// design (every coroutine yields to a scheduler goroutine, which calls next on the
// following one) pays two.

// pullCoro is the iter.Pull machinery of one coroutine.
type pullCoro struct {
	next   func() (struct{}, bool)
	yield  func(struct{}) bool // known once the coroutine has started
	parity bool                // the next switch on this object must use yield
}

// newPull creates c's goroutine, blocked until the first switch on it. It must be
// called on the loop's locked thread: the runtime records the thread and its lock
// count at creation and throws if a later switch happens elsewhere.
func newPull(c *Coro) {
	c.pull.next, _ = iter.Pull(iter.Seq[struct{}](c.body))
}

// switchOn swaps the caller with the participant blocked on z's object.
func switchOn(z *Coro) {
	p := &z.pull
	if p.parity {
		p.parity = false
		p.yield(struct{}{})
	} else {
		p.parity = true
		p.next()
	}
}

// body is the coroutine's iterator function, run on its own goroutine.
func (c *Coro) body(yield func(struct{}) bool) {
	c.pull.yield = yield
	c.run()
}

// getg returns the running goroutine's g pointer, used only as an identity: it tells a
// coroutine (whose g the scheduler recorded) from any other goroutine without a
// goroutine-local variable, in about a nanosecond (getg_*.s).
func getg() uintptr
