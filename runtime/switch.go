package coro

import (
	"iter"
)

// The coroutine switch. Each coroutine runs on a worker, an iter.Pull coroutine: the
// runtime's coroutine switch (newcoro/coroswitch) behind iter.Pull's next and yield
// functions.
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

// pullCoro is the iter.Pull machinery of one worker.
type pullCoro struct {
	next   func() (struct{}, bool)
	yield  func(struct{}) bool // known once the worker has started
	parity bool                // the next switch on this object must use yield
}

// worker is a switch participant: a goroutine (an iter.Pull coroutine) that runs
// coroutines one after another. When a coroutine's function returns, its worker goes
// to the scheduler's pool of idle workers and runs the next coroutine spawned, so a
// Spawn usually costs no goroutine creation and an exit no extra switch. The
// goroutine running EventLoop is a worker too (Scheduler.mainW), without an object.
//
// Every worker that is not running is blocked on exactly one runtime coro object: the
// one of worker w.on. w.held is the worker blocked on w's own object.
type worker struct {
	s    *Scheduler
	pull pullCoro
	on   *worker
	held *worker
	g    uintptr // the goroutine's g, once started
	c    *Coro   // the coroutine it runs; nil while idle in the pool
	free *worker // next in the pool
	die  bool    // told to end (the loop is ending)
}

// newWorker creates a worker's goroutine, blocked until the first switch on it. It
// must be called on the loop's locked thread: the runtime records the thread and its
// lock count at creation and throws if a later switch happens elsewhere.
func newWorker(s *Scheduler) *worker {
	w := &worker{s: s}
	w.pull.next, _ = iter.Pull(iter.Seq[struct{}](w.body))
	w.on = w
	w.held = w
	return w
}

// switchOn swaps the caller with the worker blocked on z's object.
func switchOn(z *worker) {
	p := &z.pull
	if p.parity {
		p.parity = false
		p.yield(struct{}{})
	} else {
		p.parity = true
		p.next()
	}
}

// body is the worker's iterator function, run on its own goroutine.
func (w *worker) body(yield func(struct{}) bool) {
	w.pull.yield = yield
	w.loop()
}

// getg returns the running goroutine's g pointer, used only as an identity: it tells a
// coroutine (whose g the scheduler recorded) from any other goroutine without a
// goroutine-local variable, in about a nanosecond (getg_*.s).
func getg() uintptr
