package coro

import (
	"errors"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Calling in from other goroutines (doc.go, "Calling in from other goroutines").
//
// Every synchronisation primitive and socket belongs to one loop, its home: the loop of
// the first coroutine that used it, or the default loop when a goroutine used it first.
// Its state is only ever touched by code running on that loop's thread, so the
// coroutine paths take no lock. A caller that is not on the home loop's thread (a plain
// goroutine, an Offload goroutine, a coroutine of another loop) is foreign: it never
// touches the state itself but has its operation run on the home loop, posted through
// the loop's inbox (one eventfd write per batch, inbox.go), and waits for the outcome.
// A foreign goroutine waits on a Go channel; a coroutine of another loop parks and is
// woken through its own loop's inbox. Neither blocks the home loop.
//
// An operation that has to wait (a Receive with no sender, a Lock of a held mutex)
// queues the caller in the primitive's ordinary wait queue through a stand-in, the
// proxy: a Coro value that is never scheduled, parked (StateWaiting) for as long as the
// caller waits. Wakers on the loop treat it like any waiting coroutine (grant, then
// ready()), so coroutines and foreign callers share one FIFO, and a wake-up of the proxy
// (Coro.wake) hands the outcome to the caller instead of queueing anything to run.
//
// While the home loop is not running, nothing runs on its thread: a foreign operation
// is then run by the caller itself, under the loop's bridge lock, which the loop also
// takes when it starts and ends, so the two never overlap. When a run of the loop ends,
// every foreign caller still waiting on one of its objects is released with
// ErrLoopExited.

// ErrLoopExited is what a goroutine (or a coroutine of another loop) waiting on an
// object of a loop gets when that loop's run ends (Exit, or no coroutine left) before
// the wait was over: nothing would ever complete it.
var ErrLoopExited = errors.New("coro: the event loop the object belongs to ended while the caller was waiting on it")

// homeLoop records the loop an object belongs to. It is set once, by the first user.
type homeLoop struct {
	p atomic.Pointer[Scheduler]
}

// resolve returns the object's loop, binding it on first use, and whether the caller is
// running on that loop's thread.
//
//go:noinline
func (h *homeLoop) resolve() (*Scheduler, bool) {
	s := h.p.Load()
	if s == nil {
		s = CurrentScheduler()
		if s == nil {
			s = defaultSched
		}
		if !h.p.CompareAndSwap(nil, s) {
			s = h.p.Load()
		}
	}
	return s, s.curG.load() == getg()
}

// loopBridge is a loop's side of foreign operations.
type loopBridge struct {
	mu      sync.Mutex
	running bool        // the loop runs: foreign operations go through the inbox
	blocked *bridgeWait // foreign waits parked on the loop's objects (a list through prev/next)
}

// bridgeMode tells a foreign operation where it runs.
type bridgeMode uint8

const (
	modeOnLoop bridgeMode = iota // on the loop's thread, while it runs (from the inbox)
	modeDirect                   // on the caller's goroutine, the loop not running
	modeExited                   // on the loop's thread as its run ends: it will not run again now
)

// bridgeWait is one foreign operation on an object of loop s.
type bridgeWait struct {
	s      *Scheduler // the object's loop
	proxy  Coro       // the caller in the object's wait queues (proxy.bridge == this)
	caller *Coro      // a coroutine of another loop; nil for a goroutine
	who    uintptr    // the caller's identity: its goroutine, or its coroutine
	done   chan struct{}

	// On s: settle records the outcome of a parked wait when it ends (granted, or
	// failed with err); it runs on s before the caller is told. err is that err.
	settle     func(err error)
	err        error
	prev, next *bridgeWait // s.bridge.blocked

	// On the caller's loop (coroutine callers only).
	finished  bool
	abandoned bool
}

// noStack is the stack bounds of a proxy: empty.
var noStack [2]uintptr

// newBridgeWait prepares a foreign operation of the calling goroutine (or coroutine
// of another loop) on an object of s.
func newBridgeWait(s *Scheduler) *bridgeWait {
	bw := &bridgeWait{s: s}
	bw.proxy.s = s
	bw.proxy.bridge = bw
	bw.proxy.state = StateRunning
	bw.proxy.gp = unsafe.Pointer(&noStack) // onStackOf: nobody runs on it
	bw.proxy.sleep.idx = -1
	if c := currentOrNil(); c != nil {
		bw.caller = c
		bw.who = uintptr(unsafe.Pointer(c))
		bw.proxy.id = c.id
		bw.proxy.name = c.Name()
	} else {
		bw.who = getg()
		bw.proxy.name = "<goroutine>"
		bw.done = make(chan struct{})
	}
	return bw
}

// run runs op on s's loop (or here, when s is not running) and waits until the
// operation is over. op returns true when it parked the proxy in a wait queue (after
// calling bw.block); the wait is over when a waker grants it, or s's run ends. A
// coroutine caller parks for reason meanwhile; if it is interrupted, the parked wait
// is cancelled on s, and run returns the interrupt (or, if the grant came first, the
// granted outcome, with the interrupt kept for the coroutine's next blocking call).
// run returns the interrupt's error, ErrExiting, or nil; the operation's own outcome
// is whatever op and settle recorded.
func (bw *bridgeWait) run(reason WaitReason, op func(mode bridgeMode) (parked bool)) error {
	s := bw.s
	b := &s.bridge
	b.mu.Lock()
	if !b.running {
		parked := op(modeDirect)
		b.mu.Unlock()
		if !parked {
			return nil
		}
		return bw.await(reason)
	}
	fd := s.inbox.push(inboxItem{kind: itemForeign, ffn: func(mode bridgeMode) {
		if !op(mode) {
			bw.finish()
		}
	}})
	b.mu.Unlock()
	if fd >= 0 {
		wakeLoop(fd)
	}
	return bw.await(reason)
}

// block registers the proxy, just queued by an operation, as parked; settle is called
// on s when the wait ends.
func (bw *bridgeWait) block(settle func(err error)) {
	bw.settle = settle
	bw.proxy.state = StateWaiting
	b := &bw.s.bridge
	bw.next = b.blocked
	if b.blocked != nil {
		b.blocked.prev = bw
	}
	b.blocked = bw
}

// woken is the proxy's wake-up (Coro.wake), on s: the wait is over, granted (err nil
// and settle sees the grant) or failed with err.
func (bw *bridgeWait) woken(err error) {
	bw.proxy.state = StateRunning
	bw.err = err
	b := &bw.s.bridge
	if bw.prev != nil {
		bw.prev.next = bw.next
	} else {
		b.blocked = bw.next
	}
	if bw.next != nil {
		bw.next.prev = bw.prev
	}
	bw.prev, bw.next = nil, nil
	if f := bw.settle; f != nil {
		bw.settle = nil
		f(err)
	}
	bw.finish()
}

// finish tells the caller that the operation is over.
func (bw *bridgeWait) finish() {
	if c := bw.caller; c != nil {
		c.s.inbox.post(inboxItem{kind: itemForeignDone, bw: bw})
		return
	}
	close(bw.done)
}

// homeDone runs on the caller's loop when the operation is over.
func (bw *bridgeWait) homeDone() {
	bw.finished = true
	if !bw.abandoned {
		bw.caller.ready()
	}
}

// await waits for finish.
func (bw *bridgeWait) await(reason WaitReason) error {
	c := bw.caller
	if c == nil {
		<-bw.done
		return nil
	}
	// A coroutine of another loop parks; interrupted, it cancels the wait on s and
	// goes on waiting until s has answered, so a grant is never lost.
	defer func() {
		if !bw.finished {
			// Unwound (its loop exits): give up the place in the queue.
			bw.abandoned = true
			bw.cancel(ErrExiting)
		}
	}()
	var ierr error
	for !bw.finished {
		err := c.park(reason)
		if err == ErrExiting {
			return err // a deferred call during the unwind: the deferred cancel runs
		}
		if err == nil || ierr != nil {
			continue
		}
		ierr = err
		bw.cancel(err)
	}
	if ierr != nil && bw.err != ierr {
		// Granted before the cancel arrived: the outcome stands, and the
		// interrupt is for the next blocking call.
		if c.pending == nil {
			c.pending = ierr
		}
		return nil
	}
	return ierr
}

// cancel asks s to end the parked wait with err if it is still parked.
func (bw *bridgeWait) cancel(err error) {
	s := bw.s
	b := &s.bridge
	cancel := func(bridgeMode) {
		if bw.proxy.state == StateWaiting {
			bw.proxy.wake(err)
		}
	}
	b.mu.Lock()
	if !b.running {
		cancel(modeDirect)
		b.mu.Unlock()
		return
	}
	fd := s.inbox.push(inboxItem{kind: itemForeign, ffn: cancel})
	b.mu.Unlock()
	if fd >= 0 {
		wakeLoop(fd)
	}
}

// start is called by the loop as it starts: from now on foreign operations go through
// the inbox.
func (b *loopBridge) start() {
	b.mu.Lock()
	b.running = true
	b.mu.Unlock()
}

// stop is called by the loop as its run ends, on its thread: foreign operations still
// in the inbox are run (one that would have to wait is released at once), and every
// foreign caller still waiting is released with ErrLoopExited.
func (s *Scheduler) stopBridge() {
	b := &s.bridge
	b.mu.Lock()
	b.running = false
	for _, it := range s.inbox.takeForeign() {
		it.ffn(modeExited)
	}
	for b.blocked != nil {
		b.blocked.proxy.wake(ErrLoopExited)
	}
	b.mu.Unlock()
}

// The coroutine paths of the primitives test whether the caller is on the home loop
// inline: s := x.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) sends the
// caller to the foreign path (which binds an unbound object and may come back). One
// atomic load (a plain load on x86) and runsHere, which needs no call (norace.go): a
// getg call per operation measured +4-7% on a Channel round trip, and a helper
// holding that call was over the inlining budget.

// coro returns the coroutine running on s, the caller being on s's thread; it panics
// when the caller is the loop itself (a hook), which cannot wait.
func (s *Scheduler) coro() *Coro {
	c := s.cur
	if c == &s.main {
		notCoroutine(2)
	}
	return c
}

// foreignPost runs op on s's loop for a foreign caller and returns at once, for an
// operation that never waits and has no result (Fifo.Push, Event.Set, Semaphore
// .Release, ...): posts from one caller are run in order, and before anything the
// caller posts later, so what it does next sees the effect. With the loop not running,
// op runs here. A burst of posts costs one eventfd write.
func foreignPost(s *Scheduler, op func()) {
	b := &s.bridge
	b.mu.Lock()
	if !b.running {
		op()
		b.mu.Unlock()
		return
	}
	fd := s.inbox.push(inboxItem{kind: itemForeign, ffn: func(bridgeMode) { op() }})
	b.mu.Unlock()
	if fd >= 0 {
		wakeLoop(fd)
	}
}

// foreignOp runs op on s's loop for a foreign caller and returns once it has run.
// It returns nil, or the error that interrupted a coroutine caller of another loop
// before op ran (then op's results must not be read: op may still run).
func foreignOp(s *Scheduler, op func(bw *bridgeWait)) error {
	bw := newBridgeWait(s)
	return bw.run(WaitOther, func(bridgeMode) bool { op(bw); return false })
}

// foreignWait is foreignOp for an operation that may wait: op returns true after
// queueing bw's proxy and calling bw.block, and foreignWait returns when that wait is
// over (see bridgeWait.run).
func foreignWait(s *Scheduler, reason WaitReason, op func(bw *bridgeWait) (parked bool)) error {
	bw := newBridgeWait(s)
	return bw.run(reason, func(bridgeMode) bool { return op(bw) })
}

// foreignWaitErr is foreignWait for the calls whose outcome is one error: op sets *err
// (on the loop, before the caller resumes) where the operation fails or where its wait
// ends, and the result is foreignWait's own failure if any, else *err.
func foreignWaitErr(s *Scheduler, reason WaitReason, op func(bw *bridgeWait, err *error) (parked bool)) error {
	var err error
	if ferr := foreignWait(s, reason, func(bw *bridgeWait) bool { return op(bw, &err) }); ferr != nil {
		return ferr
	}
	return err
}

// settle is waitq.park's ending for a foreign waiter's node w, on the loop when its
// wait ends: the granted outcome, or err with w unlinked; the node is recycled.
func (q *waitq[T]) settle(w *waiter[T], err error) (val T, e error, granted bool) {
	if w.granted {
		val, e, granted = w.val, w.err, true
	} else {
		if w.q != nil {
			q.unlink(w)
		}
		e = err
	}
	var zero T
	w.val, w.err, w.c, w.n, w.granted = zero, nil, nil, 0, false
	w.next = q.free
	q.free = w
	return val, e, granted
}

// waitForeign queues bw's proxy at the back of q with the count n and blocks it; when
// the wait ends, done gets its outcome (on the loop).
func (q *waitq[T]) waitForeign(bw *bridgeWait, n int64, done func(val T, err error, granted bool)) *waiter[T] {
	w := q.enqueue(&bw.proxy, false)
	w.n = n
	bw.block(func(err error) { done(q.settle(w, err)) })
	return w
}
