package coro

import (
	"fmt"
	"unsafe"
)

// Synchronisation between coroutines: Mutex and RWMutex here, Semaphore and
// InvertedSemaphore in sync_semaphore.go, Cond and Event in sync_cond.go, Fifo in
// fifo.go, Channel in channel.go. They share these rules:
//
//   - The zero value is ready to use.
//   - Each belongs to one loop, its home: the loop of the first coroutine that uses it
//     (the default loop if a goroutine comes first). Its coroutines use it in place, with
//     no lock, and never block the OS thread: a coroutine that has to wait parks, and
//     the loop runs others. Every method also works from any other goroutine, and from
//     coroutines of other loops: the call is run on the home loop and the caller blocks
//     (a coroutine of another loop parks) until it is done (bridge.go; doc.go, "Calling
//     in from other goroutines").
//   - Waiters, coroutines and goroutines alike, are served first come, first served,
//     and a release hands the resource straight to the next waiter (the mutex, the permits, the value) before waking
//     it, so a woken coroutine never finds it gone.
//   - Every blocking call returns an error: it ends early, with the queue left
//     consistent, when the coroutine is interrupted ((*Coro).Interrupt) or its
//     WithTimeout expires (ErrTimeout). A wake-up already given is never lost to a
//     timeout; see waitq.go for the protocol.
//   - Try-variants never block and report acquired == true on success. (Shrapnel's
//     trylock returned True on failure; these do not.)
//   - Waiters (and Channel.Balance) count queued callers, coroutines and goroutines,
//     including coroutines that were interrupted or timed out and have not yet run to
//     leave; wake-ups pass over those.

// misuse reports a programming error, like unlocking a mutex one does not hold. These
// panic, as sync.Mutex's do, because carrying on would corrupt the primitive; a panic in
// a coroutine ends only that coroutine.
func misuse(format string, args ...any) {
	panic(fmt.Sprintf("coro: "+format, args...))
}

// coroString names a coroutine in misuse messages.
func coroString(c *Coro) string {
	if c == nil {
		return "no coroutine"
	}
	return fmt.Sprintf("coroutine %d (%s)", c.ID(), c.Name())
}

// Mutex is a mutual-exclusion lock for coroutines, owned by the coroutine that locked
// it.
//
// The owner may lock it again; it is released after as many Unlocks as Locks (as
// Shrapnel's coro.mutex). Unlock hands the mutex to the longest-waiting coroutine,
// which resumes as the owner: a coroutine that arrives meanwhile cannot take it first,
// so nobody starves. A coroutine that ends while owning the mutex leaves it locked, as
// a goroutine would a sync.Mutex.
type Mutex struct {
	home  homeLoop
	owner *Coro
	depth int // Locks by owner not yet matched by Unlocks
	q     waitq[struct{}]
}

// Lock locks m, waiting while another coroutine owns it. It returns nil once the
// calling coroutine owns m, or the error that ended the wait (interrupt, ErrTimeout)
// without it.
func (m *Mutex) Lock() error {
	s := m.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return m.lockForeign()
	}
	c := s.coro()
	if m.owner == nil {
		m.owner, m.depth = c, 1
		return nil
	}
	if m.owner == c {
		m.depth++
		return nil
	}
	// Granted means Unlock already made c the owner.
	_, err, _ := m.q.wait(c, WaitLock, 0)
	return err
}

// TryLock locks m if that needs no waiting and reports whether it did.
func (m *Mutex) TryLock() (acquired bool) {
	s := m.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return m.tryLockForeign()
	}
	c := s.coro()
	switch m.owner {
	case nil:
		m.owner, m.depth = c, 1
	case c:
		m.depth++
	default:
		return false
	}
	return true
}

// Unlock releases one Lock by the owner. When that was the last one, the longest
// waiter becomes the owner and is made runnable. Unlocking a mutex the calling
// coroutine does not own panics.
func (m *Mutex) Unlock() {
	// The caller is the owner exactly when it runs on the owner's goroutine and the
	// owner is its loop's running coroutine (the goroutine may run a later coroutine
	// now). The first test is made first, so that only the owner's own goroutine reads
	// the loop's s.cur; a goroutine's proxy (bridge.go) has an empty stack, so a
	// goroutine's Unlock takes the slow path. This spares the fast path current()'s
	// lookup of the calling thread's loop and getg's call.
	if o := m.owner; o == nil || !onStackOf(o, unsafe.Pointer(&o)) || o.s.cur != o {
		m.unlockSlow() // a goroutine's Unlock, or misuse
		return
	}
	m.depth--
	if m.depth > 0 {
		return
	}
	if w := m.q.next(); w != nil {
		m.owner, m.depth = w.c, 1
		w.c.ready()
		return
	}
	m.owner = nil
}

// release is Unlock's work for the owner, for unlockSlow (Unlock keeps its own copy:
// a call would cost its fast path).
func (m *Mutex) release() {
	m.depth--
	if m.depth > 0 {
		return
	}
	if w := m.q.next(); w != nil {
		m.owner, m.depth = w.c, 1
		w.c.ready()
		return
	}
	m.owner = nil
}

func (m *Mutex) unlockSlow() {
	if _, on := m.home.resolve(); !on {
		m.unlockForeign()
		return
	}
	if o := m.owner; o != nil && o.s.cur == o && o.g == getg() {
		m.release() // the owner after all (the stack test cannot miss it, but be sure)
		return
	}
	m.unlockMisuse()
}

func (m *Mutex) unlockMisuse() {
	c := currentOrNil()
	if m.owner == nil {
		misuse("Mutex.Unlock of an unlocked mutex by %s", coroString(c))
	}
	misuse("Mutex.Unlock by %s, but the mutex is owned by %s", coroString(c), coroString(m.owner))
}

// Locked reports whether any coroutine or goroutine owns m.
func (m *Mutex) Locked() bool { return m.Owner() != nil }

// Owner returns the coroutine that owns m, or nil. When a goroutine owns it, that is a
// stand-in with ID 0 and the name "<goroutine>" (a coroutine of another loop: a
// stand-in with its ID and name).
func (m *Mutex) Owner() *Coro {
	if s, on := m.home.resolve(); !on {
		var o *Coro
		foreignOp(s, func(*bridgeWait) { o = m.owner })
		return o
	}
	return m.owner
}

// Waiters returns how many coroutines and goroutines are waiting to lock m.
func (m *Mutex) Waiters() int {
	if s, on := m.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = m.q.len })
		return n
	}
	return m.q.len
}

// Waiter kinds in an RWMutex queue (waiter.n).
const (
	waitReader = 0
	waitWriter = 1
)

// RWMutex is a many-readers / one-writer lock for coroutines.
//
// Readers and the writer wait in one FIFO queue. A release grants the head of the
// queue when it fits: a writer when nobody holds the lock, otherwise the run of readers
// at the head, all at once. A reader that arrives while anyone is queued queues too, so
// a stream of readers cannot starve a waiting writer, and a writer cannot starve the
// readers queued before it.
//
// The writer may lock again (as many Unlocks as Locks) and may take read locks; a
// reader must not take the write lock (that waits forever, for itself), and a reader
// taking a second read lock while a writer waits deadlocks, as with sync.RWMutex.
type RWMutex struct {
	home    homeLoop
	writer  *Coro // owner of the write lock, or nil
	wdepth  int   // Locks by writer not yet matched by Unlocks
	readers int   // read locks held, including any by the writer
	q       waitq[struct{}]
}

// RLock takes a read lock, waiting while a writer holds the lock or any coroutine is
// queued. It returns nil once the lock is held, or the error that ended the wait.
func (rw *RWMutex) RLock() error {
	s := rw.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return rw.rlockForeign()
	}
	c := s.coro()
	if rw.writer == c || (rw.writer == nil && rw.q.empty()) {
		rw.readers++
		return nil
	}
	// Granted means grant() already counted us in readers.
	_, err, granted := rw.q.wait(c, WaitLock, waitReader)
	if !granted {
		rw.grant() // we may have been what blocked the waiters behind us
	}
	return err
}

// TryRLock takes a read lock if that needs no waiting and reports whether it did.
func (rw *RWMutex) TryRLock() (acquired bool) {
	s := rw.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return rw.tryLockForeign(true)
	}
	c := s.coro()
	if rw.writer == c || (rw.writer == nil && rw.q.empty()) {
		rw.readers++
		return true
	}
	return false
}

// RUnlock releases one read lock. Releasing more read locks than are held panics.
func (rw *RWMutex) RUnlock() {
	if s := rw.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		rw.runlockForeign()
		return
	}
	if rw.readers == 0 {
		misuse("RWMutex.RUnlock by %s, but no read lock is held", coroString(currentOrNil()))
	}
	rw.readers--
	if rw.readers == 0 {
		rw.grant()
	}
}

// Lock takes the write lock, waiting while any other coroutine holds the lock (to
// read or write) or is queued before it. It returns nil once the lock is held, or the
// error that ended the wait.
func (rw *RWMutex) Lock() error {
	s := rw.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return rw.lockForeign()
	}
	c := s.coro()
	if rw.writer == c {
		rw.wdepth++
		return nil
	}
	if rw.writer == nil && rw.readers == 0 && rw.q.empty() {
		rw.writer, rw.wdepth = c, 1
		return nil
	}
	_, err, granted := rw.q.wait(c, WaitLock, waitWriter)
	if !granted {
		rw.grant() // readers queued behind us may fit now
	}
	return err
}

// TryLock takes the write lock if that needs no waiting and reports whether it did.
func (rw *RWMutex) TryLock() (acquired bool) {
	s := rw.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return rw.tryLockForeign(false)
	}
	c := s.coro()
	if rw.writer == c {
		rw.wdepth++
		return true
	}
	if rw.writer == nil && rw.readers == 0 && rw.q.empty() {
		rw.writer, rw.wdepth = c, 1
		return true
	}
	return false
}

// Unlock releases one write lock by its owner; unlocking a write lock the calling
// coroutine does not own panics.
func (rw *RWMutex) Unlock() {
	if o := rw.writer; o == nil || !onStackOf(o, unsafe.Pointer(&o)) || o.s.cur != o { // see Mutex.Unlock
		if _, on := rw.home.resolve(); !on {
			rw.unlockForeign()
			return
		}
		c := currentOrNil()
		if o != nil && o == c {
			rw.release() // the owner after all (see Mutex.unlockSlow)
			return
		}
		if o == nil {
			misuse("RWMutex.Unlock by %s, but the write lock is not held", coroString(c))
		}
		misuse("RWMutex.Unlock by %s, but the write lock is owned by %s", coroString(c), coroString(o))
	}
	rw.wdepth--
	if rw.wdepth > 0 {
		return
	}
	rw.writer = nil
	rw.grant()
}

// release is Unlock's work for the writer, for the slow paths.
func (rw *RWMutex) release() {
	rw.wdepth--
	if rw.wdepth > 0 {
		return
	}
	rw.writer = nil
	rw.grant()
}

// grant hands the lock to the head of the queue while it fits: a writer when the lock
// is free, or every reader up to the next writer when no writer holds it.
func (rw *RWMutex) grant() {
	for rw.writer == nil {
		w := rw.q.first()
		if w == nil {
			return
		}
		if w.n == waitWriter {
			if rw.readers != 0 {
				return
			}
			rw.q.take(w)
			rw.writer, rw.wdepth = w.c, 1
			w.c.ready()
			return
		}
		rw.q.take(w)
		rw.readers++
		w.c.ready()
	}
}

// Readers returns the number of read locks held.
func (rw *RWMutex) Readers() int {
	if s, on := rw.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = rw.readers })
		return n
	}
	return rw.readers
}

// Writer returns the coroutine holding the write lock, or nil (a stand-in for a
// goroutine: see Mutex.Owner).
func (rw *RWMutex) Writer() *Coro {
	if s, on := rw.home.resolve(); !on {
		var o *Coro
		foreignOp(s, func(*bridgeWait) { o = rw.writer })
		return o
	}
	return rw.writer
}

// Waiters returns how many coroutines and goroutines are waiting for the lock.
func (rw *RWMutex) Waiters() int {
	if s, on := rw.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = rw.q.len })
		return n
	}
	return rw.q.len
}
