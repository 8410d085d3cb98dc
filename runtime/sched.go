package coro

import (
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Scheduler is one event loop: a FIFO run queue of coroutines, a timer heap and an
// epoll poller, all driven from one locked OS thread by EventLoop. The package-level
// functions act on the default scheduler (loop 0).
//
// Switching. The participants are workers (switch.go): goroutines that each run one
// coroutine at a time, plus the goroutine running EventLoop (s.mainW, whose coroutine
// is s.main). Every participant that is not running is blocked on exactly one runtime
// coro object. The object that X is blocked on belongs to the worker X.on, and X.held
// is the participant blocked on X's own object. To run X, the running participant Y
// switches on X.on's object: X runs and Y is now blocked on that object, so Y.on =
// X.on and X.on.held = Y. This keeps the invariant with one runtime switch per
// transfer, whoever the two participants are.
//
// The scheduling decision is made on the goroutine that gives up control (pick), so a
// Yield from A to B costs one runtime switch and no trip through a scheduler
// goroutine. When a coroutine's function returns, its worker parks in a pool of idle
// workers and runs a later Spawn's coroutine. A worker whose goroutine ends (pool
// full, loop ending) leaves through the runtime's coroexit, which can only resume the
// participant blocked on its own object (w.held); if that is not the chosen next one,
// the woken participant forwards control (forward): one extra switch at most.
type Scheduler struct {
	loopID int
	hooks  coroHooks
	sw     coroSwitcher // hooks, if they implement hooks.Switcher; else nil
	// announced is the coroutine a Switch hook has already reported as resumed: its
	// resumption must not call Resume again.
	announced *Coro

	main    Coro    // the EventLoop goroutine, as the coroutine that runs the loop
	mainW   worker  // and as a switch participant
	free    *worker // idle workers, most recently used first
	nfree   int
	workers int   // worker goroutines alive, idle or not (tests check it)
	cur     *Coro // the running participant; &main while the loop itself runs
	curG    curGSlot

	runq  runQueue
	batch int // coroutines left to run before the next non-blocking poll

	live      int      // coroutines started and not yet exited
	liveList  coroList // the same coroutines, for listings and for unwinding at exit
	exitReq   bool     // Exit was called: the loop ends at the next scheduling point
	killing   bool     // the loop is unwinding the coroutines left after Exit
	running   atomic.Bool
	runsEnded atomic.Uint64 // counts finished runs of EventLoop, so a late Exit cannot end a later run

	timers timerHeap
	poll   poller
	inbox  inbox
	bridge loopBridge // foreign callers of the loop's objects (bridge.go)

	latency latencyState
	panicFn func(*PanicInfo)

	racer int // address announced to the race detector at every switch

	pcInPkg [pcCacheSize]pcClass // userPC's cache: is this return pc in package coro?
}

var nextID atomic.Uint64 // coroutine IDs are unique across all loops of the process

// defaultSched is the loop the package-level functions use.
var defaultSched = NewScheduler()

var loopCount atomic.Int32

// NewScheduler returns a new, idle event loop. Coroutines spawned on it run when its
// EventLoop is called.
func NewScheduler() *Scheduler {
	s := &Scheduler{loopID: int(loopCount.Add(1) - 1)}
	s.main.s = s
	s.main.w = &s.mainW
	s.mainW.s = s
	s.mainW.c = &s.main
	s.main.name = "<main>"
	s.main.state = StateRunning
	s.inbox.wakefd = -1
	s.poll.init()
	s.latency.threshold = defaultLatencyThreshold
	return s
}

// Default returns the default scheduler, the one the package-level functions use.
func Default() *Scheduler { return defaultSched }

// LoopID identifies the loop: 0 for the default one.
func (s *Scheduler) LoopID() int { return s.loopID }

// extraLoops lists the schedulers other than the default one whose loop is running, so
// that CurrentScheduler can find the caller's loop. Copy-on-write: readers load the
// slice without a lock.
var extraLoops atomic.Pointer[[]*Scheduler]

// CurrentScheduler returns the scheduler whose loop thread the caller runs on (from a
// coroutine, or a hook), or nil.
func CurrentScheduler() *Scheduler {
	g := getg()
	if defaultSched.curG.load() == g {
		return defaultSched
	}
	return otherScheduler(g)
}

// otherScheduler is CurrentScheduler's search of the loops other than the default.
func otherScheduler(g uintptr) *Scheduler {
	if p := extraLoops.Load(); p != nil {
		for _, s := range *p {
			if s.curG.load() == g {
				return s
			}
		}
	}
	return nil
}

// currentOrNil returns the running coroutine if the caller is one, else nil.
func currentOrNil() *Coro {
	s := defaultSched
	if g := getg(); s.curG.load() != g {
		if s = otherScheduler(g); s == nil {
			return nil
		}
	}
	if c := s.cur; c != &s.main {
		return c
	}
	return nil
}

// current returns the running coroutine; it panics when called from anything else, as
// every blocking call of this package must be made from a coroutine.
func current() *Coro {
	if c := currentOrNil(); c != nil {
		return c
	}
	notCoroutine(2)
	return nil
}

// notCoroutine panics for a coroutine-only call (Sleep, Yield, WithTimeout, Offload,
// Join, a wait from a hook) made elsewhere, naming the function skip frames up. Such a
// call cannot wait anywhere but in a coroutine; the message says what works instead.
func notCoroutine(skip int) {
	name := "this function"
	if pc, _, _, ok := runtime.Caller(skip); ok {
		if f := runtime.FuncForPC(pc); f != nil {
			name = strings.TrimPrefix(f.Name(), pkgPrefix)
		}
	}
	panic("coro: " + name + " called outside a coroutine: it parks the calling coroutine, so it must be called from a coroutine of a running event loop (start one with Spawn); from other goroutines use Spawn, Call, Interrupt, Exit, the synchronisation primitives and the sockets, which work anywhere")
}

// Current returns the running coroutine, or nil when the caller is not a coroutine.
func Current() *Coro { return currentOrNil() }

// Spawn starts fn as a new coroutine on the caller's loop (the default loop when the
// caller is not a coroutine). Safe from any goroutine, before or while the loop runs.
func Spawn(fn func()) *Coro {
	s := CurrentScheduler()
	if s == nil {
		s = defaultSched
	}
	return s.spawn("", fn, callerPC())
}

// SpawnNamed is Spawn with a name for listings and profiles.
func SpawnNamed(name string, fn func()) *Coro {
	s := CurrentScheduler()
	if s == nil {
		s = defaultSched
	}
	return s.spawn(name, fn, callerPC())
}

// Spawn starts fn as a new coroutine on s. Safe from any goroutine.
func (s *Scheduler) Spawn(fn func()) *Coro { return s.spawn("", fn, callerPC()) }

// SpawnNamed is Spawn with a name.
func (s *Scheduler) SpawnNamed(name string, fn func()) *Coro {
	return s.spawn(name, fn, callerPC())
}

// callerPC returns the pc of the call to the function that called callerPC: the Spawn
// call site. One frame from runtime.Callers, so it is cheap enough for every Spawn.
//
//go:noinline
func callerPC() uintptr {
	var pc [1]uintptr
	if runtime.Callers(3, pc[:]) == 0 {
		return 0
	}
	return pc[0]
}

func (s *Scheduler) spawn(name string, fn func(), pc uintptr) *Coro {
	if fn == nil {
		panic("coro: Spawn of a nil function")
	}
	c := &Coro{s: s, id: nextID.Add(1), name: name, fn: fn, fnPC: funcPC(fn), spawnPC: pc, gp: unsafe.Pointer(&noStack)}
	if s.curG.load() == getg() {
		// On the loop thread: create it now. The parent is nil when the loop itself
		// (a hook) spawns.
		var parent *Coro
		if s.cur != &s.main {
			parent = s.cur
			c.parent = parent.id
		}
		s.start(c, parent)
		return c
	}
	c.state = StateRunnable
	s.inbox.post(inboxItem{kind: itemSpawn, c: c})
	return c
}

// maxIdleWorkers bounds the pool of idle workers: a burst of spawns leaves at most
// this many goroutines (about 3 KiB each) waiting for reuse.
const maxIdleWorkers = 256

// start gives c a worker, idle or new (created on the loop thread: see newWorker),
// and queues c.
func (s *Scheduler) start(c *Coro, parent *Coro) {
	w := s.free
	if w != nil {
		s.free = w.free
		w.free = nil
		s.nfree--
	} else {
		w = newWorker(s)
		s.workers++
	}
	w.c = c
	c.w = w
	c.state = StateRunnable
	s.live++
	s.liveList.add(c)
	if h := s.hooks; h != nil {
		h.Spawn(c, parent)
	}
	s.runq.push(c)
}

// switchTo transfers control from the running participant from to to, and returns
// when from runs again. Yield and park carry the same few lines written out, as it
// does not inline (see handOff for why the call level matters).
func (s *Scheduler) switchTo(from, to *Coro) {
	fw := from.w
	s.cur = to
	s.handOff(fw, to.w)()
	raceAcquire(unsafe.Pointer(&s.racer))
	if s.cur != from {
		s.forward(fw)
	}
	s.curG.store(fw.g)
}

// forward is switchTo's rare path: fw was resumed by a worker that ended (its
// goroutine's exit resumes whoever is blocked on its object) having chosen someone
// else (s.cur) to run next, so fw passes control on, as many times as it takes until
// it is the chosen one, or is told to die.
//
//go:noinline
func (s *Scheduler) forward(fw *worker) {
	for s.cur.w != fw && !fw.die {
		s.handOff(fw, s.cur.w)()
		raceAcquire(unsafe.Pointer(&s.racer))
	}
}

// switchToW is switchTo for a worker that runs no coroutine (idle, or ending the
// pool): it returns when fw is chosen (s.cur is its new coroutine) or told to die.
func (s *Scheduler) switchToW(fw *worker, to *Coro) {
	s.cur = to
	s.handOff(fw, to.w)()
	raceAcquire(unsafe.Pointer(&s.racer))
	s.forward(fw)
	s.curG.store(fw.g)
}

// pick chooses the next participant to run: the head of the run queue, polling timers
// and the poller at the start of each batch so they are not starved by coroutines
// that keep yielding, and blocking in the poller when nothing is runnable. It returns
// &s.main when the loop must end (Exit, or no coroutine left).
func (s *Scheduler) pick() *Coro {
	// Fast path, inlined into the switch: the batch is not over and nothing came in.
	if s.batch > 0 && s.runq.size > 0 && !s.inbox.armed.Load() && !s.exitReq {
		s.batch--
		return s.runq.pop()
	}
	return s.pickSlow()
}

// pickDirect is pick when the scheduler has nothing to do first: the next coroutine
// of the run queue, or nil when the inbox, an Exit, or the end of a batch with timers
// or descriptors to poll needs pickSlow. (At the end of a batch with nothing to poll
// it starts the next batch, as pickSlow would.)
func (s *Scheduler) pickDirect() *Coro {
	if s.runq.size == 0 || s.inbox.armed.Load() || s.exitReq {
		return nil
	}
	if s.batch <= 0 {
		if s.timers.len() > 0 || s.poll.nfds > 0 {
			return nil
		}
		s.batch = s.runq.size
	}
	s.batch--
	return s.runq.pop()
}

func (s *Scheduler) pickSlow() *Coro {
	for {
		if s.inbox.armed.Load() {
			s.drainInbox()
		}
		if s.exitReq {
			return &s.main
		}
		if s.batch <= 0 {
			if s.timers.len() > 0 || s.poll.nfds > 0 {
				s.pollNow()
			}
			s.batch = s.runq.len()
		}
		if c := s.runq.pop(); c != nil {
			s.batch--
			return c
		}
		if s.live == 0 {
			return &s.main
		}
		s.pollWait()
	}
}

// Yield lets every other runnable coroutine run once, then returns.
func Yield() {
	c := current()
	s := c.s
	c.state = StateRunnable
	if s.latency.threshold > 0 { // s.sliceEnd(c), written out
		now := coarse.now.Load()
		if d := now - s.latency.stamp; d > s.latency.slices.mark {
			s.noteSlice(c, d) // a new longest slice, or one over the threshold
		}
		s.latency.stamp = now
		s.latency.cpuStamp = s.latency.cpuTick.Load()
		s.latency.slices.count++
	}
	s.runq.push(c)
	// to := s.pick() and s.switchTo(c, to), written out: switchTo does not inline.
	to := s.pickDirect()
	if to != nil {
		// A direct switch: the scheduler does no work between c and to.
		if h := s.hooks; h != nil {
			s.hookSwitch(h, c, StateRunnable, s.userPC(), to)
		}
	} else {
		if h := s.hooks; h != nil {
			h.Yield(c, StateRunnable, s.userPC())
		}
		to = s.pickSlow()
	}
	if to != c {
		w := c.w
		s.cur = to
		s.handOff(w, to.w)()
		raceAcquire(unsafe.Pointer(&s.racer))
		if s.cur != c {
			s.forward(w)
		}
		s.curG.store(w.g)
	}
	// resumed: the first thing a coroutine does when it runs again; the hook check
	// and the unwinding check are one branch
	c.state = StateRunning
	if s.hooks != nil || s.killing {
		s.resumedSlow(c)
	}
}

func (s *Scheduler) resumedSlow(c *Coro) {
	if s.announced == c {
		s.announced = nil // the Switch hook reported this resumption
	} else if h := s.hooks; h != nil {
		h.Resume(c)
	}
	if s.killing && !c.unwound {
		// Once: a Yield in a deferred call during the unwind returns normally, so the
		// deferred call runs to its end. The panic skips the blocking call's own
		// clean-up; Sleep's is taking its timer out of the heap.
		c.unwound = true
		s.delTimer(&c.sleep)
		panic(unwindSentinel)
	}
}

// park suspends c (the running coroutine) until c.ready() is called (it returns nil)
// or until c is interrupted or one of its timeouts fires (it returns that error). An
// interrupt that arrived while c was not parked is returned at once. Once ready() was
// called, park returns nil: a primitive that handed ownership to c never sees an
// error; when park returns an error, ready() was not called, so the primitive must
// remove c from its own queue.
func (c *Coro) park(reason WaitReason) error {
	if err := c.pending; err != nil {
		c.pending = nil
		return err
	}
	s := c.s
	if s.killing {
		// A deferred call of a coroutine being unwound after Exit: nothing would wake
		// it, and the loop must end, so the wait fails at once (doc.go, "Exit").
		return ErrExiting
	}
	c.state = StateWaiting
	c.reason = reason
	if s.latency.threshold > 0 { // s.sliceEnd(c), written out
		now := coarse.now.Load()
		if d := now - s.latency.stamp; d > s.latency.slices.mark {
			s.noteSlice(c, d) // a new longest slice, or one over the threshold
		}
		s.latency.stamp = now
		s.latency.cpuStamp = s.latency.cpuTick.Load()
		s.latency.slices.count++
	}
	var pc uintptr
	if h := s.hooks; h != nil {
		pc = s.userPC()
		h.WaitBegin(c, reason, pc)
	}
	// to := s.pick() and s.switchTo(c, to), written out: switchTo does not inline.
	to := s.pickDirect()
	if to != nil {
		// A direct switch: the scheduler does no work between c and to.
		if h := s.hooks; h != nil {
			s.hookSwitch(h, c, StateWaiting, pc, to)
		}
	} else {
		if h := s.hooks; h != nil {
			h.Yield(c, StateWaiting, pc)
		}
		to = s.pickSlow()
	}
	if to != c {
		w := c.w
		s.cur = to
		s.handOff(w, to.w)()
		raceAcquire(unsafe.Pointer(&s.racer))
		if s.cur != c {
			s.forward(w)
		}
		s.curG.store(w.g)
	}
	// resumed: the first thing a coroutine does when it runs again; the hook check
	// and the unwinding check are one branch
	c.state = StateRunning
	if s.hooks != nil || s.killing {
		s.resumedSlow(c)
	}
	err := c.wakeErr
	c.wakeErr = nil
	return err
}

// ready makes a parked coroutine runnable; park returns nil. Loop thread only; a no-op
// when c is not parked.
func (c *Coro) ready() {
	if c.state != StateWaiting {
		return
	}
	c.wake(nil)
}

// wake makes the parked c runnable with park returning err.
func (c *Coro) wake(err error) {
	if bw := c.bridge; bw != nil {
		bw.woken(err) // a foreign caller's stand-in (bridge.go): tell the caller
		return
	}
	s := c.s
	c.state = StateRunnable
	c.reason = WaitNone
	c.wakeErr = err
	if h := s.hooks; h != nil {
		h.WaitEnd(c)
	}
	s.runq.push(c)
}

// loop is a worker's life: run the assigned coroutine, then wait in the pool for the
// next one, until the pool is full or the loop ends.
func (w *worker) loop() {
	s := w.s
	raceAcquire(unsafe.Pointer(&s.racer))
	w.g = getg()
	w.gp = getgp()
	for {
		c := w.c
		c.run()
		// The worker may serve another coroutine from now on; c keeps no reference
		// (a stale c.w would hide a bug that treats an exited coroutine as live).
		w.c, c.w = nil, nil
		if s.killing || s.exitReq || s.nfree >= maxIdleWorkers {
			break
		}
		w.free = s.free
		s.free = w
		s.nfree++
		// Idle: pick the next coroutine; a spawn drained by pick may be given
		// this very worker, which then just goes on.
		if next := s.pick(); next.w != w {
			s.switchToW(w, next)
		} else {
			s.cur = next // no switch, so nobody else records who runs now
		}
		if w.die {
			break
		}
	}
	// End the goroutine. When loop returns, iter.Pull's goroutine exits and the
	// runtime's coroexit resumes the worker blocked on w's object (w.held), which
	// forwards control to s.cur if that is someone else (see forward).
	next := &s.main
	if !w.die {
		next = s.pick()
	}
	s.workers--
	h := w.held
	w.held = nil
	h.on = nil
	s.cur = next
	raceRelease(unsafe.Pointer(&s.racer))
}

// endIdleWorkers ends the goroutines of the pooled workers; called by the loop as it
// ends, since a worker can only be switched to on the thread that created it.
func (s *Scheduler) endIdleWorkers() {
	for s.free != nil {
		w := s.free
		s.free = w.free
		s.nfree--
		w.free = nil
		w.die = true
		// switch to w; its exit resumes someone who forwards back here (s.cur)
		mw := &s.mainW
		s.cur = &s.main
		s.handOff(mw, w)()
		raceAcquire(unsafe.Pointer(&s.racer))
		s.forward(mw)
		s.curG.store(mw.g)
	}
}

// run runs the coroutine's function on its worker. It must stay a real frame with c
// as its argument: Coroutines finds coroutines in stack dumps by it (introspect.go).
//
//go:noinline
func (c *Coro) run() {
	s := c.s
	c.g, c.gp = c.w.g, c.w.gp
	s.curG.store(c.g)
	s.resumed0(c)
	if !s.killing {
		c.call()
	}
	s.retire(c)
}

// zombie is where a coroutine whose function called runtime.Goexit (t.FailNow, for
// one) ends up. Goexit cannot be stopped, and if it ran to the end of the goroutine,
// iter.Pull would pass it on to the goroutine that the exit resumes, which may be the
// loop itself. So the goroutine stays parked forever instead, costing its stack; when
// another coroutine's exit resumes it, it only forwards control (switchTo's loop).
func (s *Scheduler) zombie(c *Coro) {
	s.switchTo(c, s.pick())
	panic("coro: a coroutine that ended with runtime.Goexit was resumed")
}

// resumed0 is the resumption (state, Resume hook) for a coroutine's first slice,
// which must not unwind (its function has not started; run skips it instead).
func (s *Scheduler) resumed0(c *Coro) {
	c.state = StateRunning
	if s.announced == c {
		s.announced = nil // the Switch hook reported this resumption
	} else if h := s.hooks; h != nil {
		h.Resume(c)
	}
}

// hookSwitch reports a direct switch from c to to: one Switch call where the hooks
// take it (and then no Resume for to), else Yield now and Resume when to runs.
func (s *Scheduler) hookSwitch(h coroHooks, c *Coro, state State, pc uintptr, to *Coro) {
	if sw := s.sw; sw != nil && sw.Switch(c, state, pc, to) {
		s.announced = to
		return
	}
	h.Yield(c, state, pc)
}

// call runs c's function, recovering a panic so that it ends this coroutine only. It
// reports false when the function called runtime.Goexit, which is still unwinding.
func (c *Coro) call() (returned bool) {
	ok := false
	defer func() {
		if ok {
			return
		}
		r := recover()
		returned = true
		if r == nil {
			returned = false
			c.s.retire(c)
			c.s.zombie(c)
			return
		}
		if r == unwindSentinel {
			return // the loop unwinding after Exit
		}
		c.panicked = true
		c.panicVal = r
		c.s.notifyPanic(c, r)
	}()
	c.fn()
	ok = true
	return true
}

// retire marks c exited and tells whoever cares.
func (s *Scheduler) retire(c *Coro) {
	c.state = StateExited
	c.reason = WaitNone
	s.live--
	s.liveList.remove(c)
	s.sliceEnd(c)
	if h := s.hooks; h != nil {
		h.Exit(c, c.panicked)
	}
	c.wakeJoiners()
	c.fn = nil
}

// EventLoop runs the default scheduler on the calling goroutine's OS thread until
// Exit is called or no coroutine is left.
func EventLoop() { defaultSched.EventLoop() }

// EventLoop runs s on the calling goroutine, locked to its OS thread for the whole
// run, until Exit is called or no coroutine is left. When it returns after Exit, the
// coroutines still alive have been unwound (their blocking call panicked with a private
// value the runtime recovers, so their deferred calls ran). Coroutines spawned from
// other goroutines after that wait for the next EventLoop. It may be called again.
func (s *Scheduler) EventLoop() {
	if !s.running.CompareAndSwap(false, true) {
		panic("coro: EventLoop called while this loop is already running")
	}
	if currentOrNil() != nil {
		s.running.Store(false)
		panic("coro: EventLoop called from a coroutine")
	}
	runtime.LockOSThread()
	if err := s.poll.open(); err != nil {
		runtime.UnlockOSThread()
		s.running.Store(false)
		panic(err)
	}
	s.register()
	s.main.g = getg()
	s.mainW.g = s.main.g
	s.main.gp = getgp()
	s.mainW.gp = s.main.gp
	s.cur = &s.main
	s.curG.store(s.main.g)
	s.inbox.attach(s.poll.wakeFD())
	s.bridge.start()
	s.latency.start()
	stopSignals := s.startSignals() // signal.go (socket layer): SIGINT/SIGTERM end the loop

	for {
		next := s.pick()
		if next == &s.main {
			if s.exitReq {
				s.exitReq = false
				if s.live > 0 {
					s.unwindAll()
					continue
				}
			}
			if s.live == 0 {
				break
			}
			continue
		}
		s.switchTo(&s.main, next)
	}

	s.endIdleWorkers()
	stopSignals()
	s.latency.stop()
	s.killing = false
	s.stopBridge()
	s.timers.clear()
	s.inbox.detach()
	s.curG.store(0)
	s.cur = nil
	s.unregister()
	runtime.UnlockOSThread()
	s.runsEnded.Add(1)
	s.running.Store(false)
}

// register makes a non-default loop visible to CurrentScheduler.
func (s *Scheduler) register() {
	if s == defaultSched {
		return
	}
	for {
		old := extraLoops.Load()
		var n []*Scheduler
		if old != nil {
			n = append(n, *old...)
		}
		n = append(n, s)
		if extraLoops.CompareAndSwap(old, &n) {
			return
		}
	}
}

func (s *Scheduler) unregister() {
	if s == defaultSched {
		return
	}
	for {
		old := extraLoops.Load()
		var n []*Scheduler
		for _, x := range *old {
			if x != s {
				n = append(n, x)
			}
		}
		if extraLoops.CompareAndSwap(old, &n) {
			return
		}
	}
}

// unwindSentinel is the panic value that unwinds coroutines left when the loop exits.
var unwindSentinel = new(int)

// unwindAll makes every live coroutine runnable with the unwinding flag set: each one
// panics with unwindSentinel from its blocking call (deferred calls run), and one that
// has not started yet exits without running its function.
func (s *Scheduler) unwindAll() {
	s.killing = true
	for c := s.liveList.head; c != nil; c = c.nextLive {
		if c.state == StateWaiting {
			c.wake(nil)
		}
	}
}

// Exit ends the event loop of the caller (the default loop when called from outside
// any loop). Called from a coroutine, it does not return: the loop ends and every
// coroutine left, this one included, is unwound (deferred calls run). From a deferred
// call during that unwind it returns (the loop is ending already).
func Exit() {
	if c := currentOrNil(); c != nil {
		c.s.exitReq = true
		Yield()
		return
	}
	defaultSched.Exit()
}

// Exit asks s's loop to end. Safe from any goroutine.
func (s *Scheduler) Exit() {
	if c := currentOrNil(); c != nil && c.s == s {
		s.exitReq = true
		Yield()
		return
	}
	gen := s.runsEnded.Load() // before the running check: see drainInbox
	if !s.running.Load() {
		return // nothing to end; an Exit must not end the next run
	}
	s.inbox.post(inboxItem{kind: itemExit, gen: gen})
}
