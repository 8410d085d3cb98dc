package coro

// Wait queues for the synchronisation primitives (sync*.go, fifo.go, channel.go).
//
// Every primitive keeps its blocked coroutines in a waitq: an intrusive, doubly linked
// FIFO of waiter nodes, so a waiter that is interrupted or times out unlinks itself in
// O(1) wherever it sits.
//
// # The wake-up protocol
//
// Everything runs on the loop thread, one coroutine at a time, so no atomics are
// needed. A waker takes the first waiter whose coroutine is still parked, completes the
// operation on its behalf (hands it the mutex, the permits, the value), marks it
// granted, and only then calls ready(). A wake-up is therefore never a hint to re-check
// but the result itself, and no coroutine can barge in between the release and the
// waiter's resumption.
//
// The scheduler's park contract makes grant and failure exclusive. ready() takes effect
// only while the coroutine is parked (StateWaiting), and then park returns nil; an
// interrupt or a WithTimeout that fires later, while it is runnable, stays pending for
// its next blocking call. An interrupt or timeout that fires while it is parked makes
// it runnable with the error, and ready() is then a no-op. So the waker checks the
// state: a waiter that is no longer parked has already been failed, and is unlinked and
// passed over (it will see its error when it runs), and the wake-up goes to the next
// waiter. A wake-up is thus never given to a waiter that then fails, and never lost:
// the design makes "woken, then timed out" impossible instead of passing such a
// wake-up on. The price is that an interrupt arriving just after the grant is not
// seen by this call but by the coroutine's next blocking call (the scheduler keeps it
// pending); a deadline that passes then is dropped by its WithTimeout, which returns
// fn's nil.
//
// Waiters killed by Exit (unwound while parked, never unlinked) are not StateWaiting
// either, so they are passed over the same way the next time the primitive is used.
//
// Should park ever report an error for a waiter that was granted (a scheduler that broke
// the contract), waitq.park resolves it the same way: the grant wins, because it has
// already changed the primitive's state (ownership, permits, a delivered value) and
// reporting failure would lose or duplicate that.
//
// # Why the node is not on the waiting coroutine's stack
//
// Go forbids pointers from the heap into a goroutine stack (stacks move when they grow
// or shrink), so a node linked from a heap-allocated primitive escapes to the heap.
// Instead every queue recycles its nodes through a free list: a primitive allocates
// only when more coroutines wait on it at once than ever before, and the steady state
// allocates nothing. Nodes are cleared when recycled, so the free list keeps no
// coroutine or value alive.

// waiter is one coroutine blocked on a primitive. T is the payload a waker hands over
// (the value for Fifo and Channel); the other primitives use struct{}, which takes no
// space.
type waiter[T any] struct {
	next, prev *waiter[T]
	q          *waitq[T] // the queue holding it; nil once unlinked
	c          *Coro
	granted    bool  // a waker completed the operation for it
	n          int64 // Semaphore: permits wanted; RWMutex: waitWriter or waitReader
	err        error // set by the waker when the wait ends in an error (Cond.RaiseAll, Channel.Close)
	val        T
}

// waitq is a FIFO of waiters plus the free list of spare nodes. The zero value is an
// empty queue.
type waitq[T any] struct {
	head, tail *waiter[T]
	len        int
	free       *waiter[T] // spare nodes, linked through next
}

// enqueue links a node for c at the back (front=false) or the front of the queue and
// returns it. The caller sets its payload and calls park.
func (q *waitq[T]) enqueue(c *Coro, front bool) *waiter[T] {
	w := q.free
	if w != nil {
		q.free = w.next
		w.next = nil
	} else {
		w = new(waiter[T])
	}
	w.c = c
	w.q = q
	if q.tail == nil {
		q.head, q.tail = w, w
	} else if front {
		w.next = q.head
		q.head.prev = w
		q.head = w
	} else {
		w.prev = q.tail
		q.tail.next = w
		q.tail = w
	}
	q.len++
	return w
}

// unlink removes a queued waiter from anywhere in the queue in O(1).
func (q *waitq[T]) unlink(w *waiter[T]) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.next, w.prev, w.q = nil, nil, nil
	q.len--
}

// first returns the first waiter that can still be granted, or nil. Waiters ahead of
// it whose coroutines were already woken by an interrupt or a timeout are unlinked on
// the way: they are leaving with their error.
func (q *waitq[T]) first() *waiter[T] {
	for w := q.head; w != nil; w = q.head {
		if w.c.state == StateWaiting {
			return w
		}
		q.unlink(w)
	}
	return nil
}

// take unlinks w (returned by first) as granted. The caller completes the operation
// for it and then calls w.c.ready().
func (q *waitq[T]) take(w *waiter[T]) {
	q.unlink(w)
	w.granted = true
}

// empty reports whether no waiter can be granted (pruning those that cannot).
func (q *waitq[T]) empty() bool { return q.first() == nil }

// next unlinks and returns the first waiter that can be granted, or nil.
func (q *waitq[T]) next() *waiter[T] {
	w := q.first()
	if w != nil {
		q.take(w)
	}
	return w
}

// wait queues the calling coroutine c at the back with the count n and parks it until
// the wait ends; see park for the result.
func (q *waitq[T]) wait(c *Coro, reason WaitReason, n int64) (T, error, bool) {
	w := q.enqueue(c, false)
	w.n = n
	return q.park(w, reason)
}

// park parks the coroutine of the queued node w until a waker grants it or the wait
// fails, recycles the node, and returns the outcome: granted reports whether a waker
// completed the operation, val and err are what the waker left; when not granted, err
// is why the wait ended (interrupt, timeout) and w is no longer queued. A wake-up
// nobody granted (park returning nil for someone else's ready) is not ours: keep our
// place and park again.
func (q *waitq[T]) park(w *waiter[T], reason WaitReason) (val T, err error, granted bool) {
	var perr error
	for {
		perr = w.c.park(reason)
		if w.granted || perr != nil {
			break
		}
	}
	if w.granted {
		val, err, granted = w.val, w.err, true
	} else {
		if w.q != nil {
			q.unlink(w)
		}
		err = perr
	}
	var zero T
	w.val, w.err, w.c, w.n, w.granted = zero, nil, nil, 0, false
	w.next = q.free
	q.free = w
	return val, err, granted
}
