package coro

import "fmt"

// Synchronisation between coroutines: Mutex and RWMutex here, Semaphore and
// InvertedSemaphore in sync_semaphore.go, Cond and Event in sync_cond.go, Fifo in
// fifo.go, Channel in channel.go. They share these rules:
//
//   - The zero value is ready to use.
//   - They are for coroutines of one event loop and are used on its thread only (they
//     take no locks; a primitive shared by two loops, or touched by a goroutine, is a
//     data race). They never block the OS thread: a coroutine that has to wait parks,
//     and the loop runs others. To hand a value in from a goroutine, Spawn (safe
//     anywhere) a coroutine that does it: Spawn(func() { f.Push(v) }).
//   - Waiters are served first come, first served, and a release hands the resource
//     straight to the next waiter (the mutex, the permits, the value) before waking
//     it, so a woken coroutine never finds it gone.
//   - Every blocking call returns an error: it ends early, with the queue left
//     consistent, when the coroutine is interrupted ((*Coro).Interrupt) or its
//     WithTimeout expires (ErrTimeout). A wake-up already given is never lost to a
//     timeout; see waitq.go for the protocol.
//   - Try-variants never block and report acquired == true on success. (Shrapnel's
//     trylock returned True on failure; these do not.)
//   - Waiters (and Channel.Balance) count queued coroutines, including any that were
//     interrupted or timed out and have not yet run to leave; wake-ups pass over
//     those.

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
	owner *Coro
	depth int // Locks by owner not yet matched by Unlocks
	q     waitq[struct{}]
}

// Lock locks m, waiting while another coroutine owns it. It returns nil once the
// calling coroutine owns m, or the error that ended the wait (interrupt, ErrTimeout)
// without it.
func (m *Mutex) Lock() error {
	c := current()
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
	c := current()
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
	// The caller is the owner exactly when the owner is its loop's running coroutine:
	// on a loop thread only the running coroutine executes, and a caller from
	// another thread is already outside the rules. This spares the fast path
	// current()'s lookup of the calling thread's loop.
	if o := m.owner; o == nil || o.s.cur != o {
		m.unlockMisuse()
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

func (m *Mutex) unlockMisuse() {
	c := currentOrNil()
	if m.owner == nil {
		misuse("Mutex.Unlock of an unlocked mutex by %s", coroString(c))
	}
	misuse("Mutex.Unlock by %s, but the mutex is owned by %s", coroString(c), coroString(m.owner))
}

// Locked reports whether any coroutine owns m.
func (m *Mutex) Locked() bool { return m.owner != nil }

// Owner returns the coroutine that owns m, or nil.
func (m *Mutex) Owner() *Coro { return m.owner }

// Waiters returns how many coroutines are waiting to lock m.
func (m *Mutex) Waiters() int { return m.q.len }

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
	writer  *Coro // owner of the write lock, or nil
	wdepth  int   // Locks by writer not yet matched by Unlocks
	readers int   // read locks held, including any by the writer
	q       waitq[struct{}]
}

// RLock takes a read lock, waiting while a writer holds the lock or any coroutine is
// queued. It returns nil once the lock is held, or the error that ended the wait.
func (rw *RWMutex) RLock() error {
	c := current()
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
	c := current()
	if rw.writer == c || (rw.writer == nil && rw.q.empty()) {
		rw.readers++
		return true
	}
	return false
}

// RUnlock releases one read lock. Releasing more read locks than are held panics.
func (rw *RWMutex) RUnlock() {
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
	c := current()
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
	c := current()
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
	if o := rw.writer; o == nil || o.s.cur != o { // see Mutex.Unlock
		c := currentOrNil()
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
func (rw *RWMutex) Readers() int { return rw.readers }

// Writer returns the coroutine holding the write lock, or nil.
func (rw *RWMutex) Writer() *Coro { return rw.writer }

// Waiters returns how many coroutines are waiting for the lock.
func (rw *RWMutex) Waiters() int { return rw.q.len }
