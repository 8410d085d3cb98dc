package coro

import (
	"iter"
	"unsafe"
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
	next  func() (struct{}, bool)
	yield func(struct{}) bool // known once the worker has started

	// sw is next (sw[0]) and yield (sw[1]) seen as one function type, so that
	// handOff makes one indirect call and stays within the compiler's inlining budget
	// (two calls exceed it). struct{} takes no register and no stack slot, so
	// func() (struct{}, bool) and func(struct{}) bool are both called exactly as a
	// func() bool is: no argument, the bool in the first result register.
	// TestSwitchFuncViews checks both. parity indexes it: the next switch on this
	// object must use yield when it is 1.
	sw     [2]func() bool
	parity uint8
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
	g    uintptr        // the goroutine's g, once started
	gp   unsafe.Pointer // the same, as a pointer (onStackOf)
	c    *Coro          // the coroutine it runs; nil while idle in the pool
	free *worker        // next in the pool
	die  bool           // told to end (the loop is ending)
}

// newWorker creates a worker's goroutine, blocked until the first switch on it. It
// must be called on the loop's locked thread: the runtime records the thread and its
// lock count at creation and throws if a later switch happens elsewhere.
func newWorker(s *Scheduler) *worker {
	w := &worker{s: s}
	w.pull.next, _ = iter.Pull(iter.Seq[struct{}](w.body))
	w.pull.sw[0] = *(*func() bool)(unsafe.Pointer(&w.pull.next))
	w.on = w
	w.held = w
	return w
}

// handOff prepares the switch from the running participant fw to the worker tw (the
// one running the chosen coroutine, or to be): fw will block on the object tw is
// blocked on. It returns the function that performs the switch; the caller calls it
// at once, and it returns when fw runs again. The caller sets s.cur first, and calls
// raceAcquire and checks whether fw is the one chosen (see forward) after. So every
// switch reads
//
//	s.handOff(fw, tw)()
//	raceAcquire(unsafe.Pointer(&s.racer))
//
// handOff inlines (it makes no call; TestHandOffInlines checks it) and the switch is
// called from the caller's own frame. That matters: after a goroutine switch every
// return until the next switch is mispredicted (the CPU's return-address stack holds
// the other goroutine's calls), so each call level between the user's code and the
// runtime switch costs several nanoseconds per switch (docs/PERFORMANCE.md, Yield
// ping-pong). A helper that made the call itself would not inline: an indirect
// call alone costs 57 of the compiler's budget of 80.
func (s *Scheduler) handOff(fw, tw *worker) func() bool {
	z := tw.on
	tw.on = nil
	fw.on = z
	z.held = fw
	raceRelease(unsafe.Pointer(&s.racer))
	i := z.pull.parity & 1
	z.pull.parity = i ^ 1
	return z.pull.sw[i]
}

// body is the worker's iterator function, run on its own goroutine.
func (w *worker) body(yield func(struct{}) bool) {
	w.pull.yield = yield
	w.pull.sw[1] = *(*func() bool)(unsafe.Pointer(&w.pull.yield))
	w.loop()
}

// getg returns the running goroutine's g pointer, used only as an identity: it tells a
// coroutine (whose g the scheduler recorded) from any other goroutine without a
// goroutine-local variable, in about a nanosecond (getg_*.s).
func getg() uintptr

// getgp is getg as a pointer: the runtime's g of the calling goroutine, whose first
// field is its stack's bounds (runtime/runtime2.go: g.stack, {lo, hi uintptr}, at
// offset 0 since Go 1.0; TestOnStackOf checks it). See onStackOf.
func getgp() unsafe.Pointer

// onStackOf reports whether p, the address of a local variable of the caller, lies on
// the stack of c's goroutine: whether the caller runs on c's goroutine, without a
// call (getg is one; measured ~2.5ns on Mutex.Unlock). The bounds are read as they
// are now; a goroutine's stack moves only at its own calls (growth) or its synchronous
// safe points (shrinking), so for c's own goroutine they cannot change under the
// test, and another goroutine's stack never overlaps c's.
func onStackOf(c *Coro, p unsafe.Pointer) bool {
	st := (*[2]uintptr)(c.gp)
	a := uintptr(p)
	return a >= st[0] && a < st[1]
}
