package coro

import "unsafe"

// Fifo is an unbounded first-in first-out queue between coroutines (Shrapnel's
// coro.fifo): Push never blocks, Pop waits while the queue is empty.
//
// A Push that finds coroutines waiting hands its value straight to the longest
// waiter, so a woken Pop always has its value and a coroutine that arrives meanwhile
// cannot take it. Values live in a ring buffer that grows by doubling; the zero value
// is an empty queue.
type Fifo[T any] struct {
	home homeLoop
	buf  []T // ring; len(buf) is zero or a power of two
	head int // index of the first value
	n    int // number of values
	q    waitq[T]
}

// Push appends v at the back. It never waits: from another goroutine it hands the push
// to the Fifo's loop and returns at once (pushes from one goroutine keep their order).
func (f *Fifo[T]) Push(v T) {
	if s := f.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		f.pushForeign(v, false)
		return
	}
	if f.handOff(v) {
		return
	}
	f.grow()
	f.buf[(f.head+f.n)&(len(f.buf)-1)] = v
	f.n++
}

// PushFront puts v at the front, to be popped next. It never waits.
func (f *Fifo[T]) PushFront(v T) {
	if s := f.home.p.Load(); s == nil || !s.runsHere(unsafe.Pointer(&s)) { // foreign (bridge.go)
		f.pushForeign(v, true)
		return
	}
	f.push1(v, true)
}

// push1 is Push (front false) or PushFront on the loop.
func (f *Fifo[T]) push1(v T, front bool) {
	if f.handOff(v) {
		return
	}
	f.grow()
	if front {
		f.head = (f.head - 1) & (len(f.buf) - 1)
		f.buf[f.head] = v
	} else {
		f.buf[(f.head+f.n)&(len(f.buf)-1)] = v
	}
	f.n++
}

// handOff gives v to the longest waiter, if any. Coroutines wait only while the queue
// is empty, so v is the value they would pop next whether it was pushed at the back
// or the front.
func (f *Fifo[T]) handOff(v T) bool {
	w := f.q.next()
	if w == nil {
		return false
	}
	w.val = v
	w.c.ready()
	return true
}

func (f *Fifo[T]) grow() {
	if f.n < len(f.buf) {
		return
	}
	size := 2 * len(f.buf)
	if size == 0 {
		size = 8
	}
	buf := make([]T, size)
	k := copy(buf, f.buf[f.head:])
	copy(buf[k:], f.buf[:f.head])
	f.buf, f.head = buf, 0
}

// take removes the first value; the queue must not be empty.
func (f *Fifo[T]) take() T {
	var zero T
	v := f.buf[f.head]
	f.buf[f.head] = zero // let the GC have it
	f.head = (f.head + 1) & (len(f.buf) - 1)
	f.n--
	return v
}

// Pop removes and returns the first value, waiting while the queue is empty. It
// returns the error that ended the wait (interrupt, ErrTimeout) with no value taken.
func (f *Fifo[T]) Pop() (T, error) {
	s := f.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return f.popForeign()
	}
	if f.n > 0 {
		return f.take(), nil
	}
	v, err, _ := f.q.wait(s.coro(), WaitChannel, 0)
	return v, err
}

// TryPop removes and returns the first value if there is one.
func (f *Fifo[T]) TryPop() (v T, ok bool) {
	if s, on := f.home.resolve(); !on {
		foreignOp(s, func(*bridgeWait) {
			if f.n > 0 {
				v, ok = f.take(), true
			}
		})
		return v, ok
	}
	if f.n > 0 {
		return f.take(), true
	}
	return v, false
}

// PopAll removes and returns every value, oldest first, waiting while the queue is
// empty. It returns the error that ended the wait with no value taken.
func (f *Fifo[T]) PopAll() ([]T, error) {
	s := f.home.p.Load()
	if s == nil || !s.runsHere(unsafe.Pointer(&s)) { // the caller is foreign (bridge.go)
		return f.popAllForeign()
	}
	var out []T
	if f.n == 0 {
		v, err, _ := f.q.wait(s.coro(), WaitChannel, 0)
		if err != nil {
			return nil, err
		}
		// Values pushed after the one handed to us, while we were runnable, are
		// in the ring behind it.
		out = make([]T, 0, 1+f.n)
		out = append(out, v)
	} else {
		out = make([]T, 0, f.n)
	}
	return f.takeAll(out), nil
}

// takeAll appends every value to out, oldest first.
func (f *Fifo[T]) takeAll(out []T) []T {
	if out == nil {
		out = make([]T, 0, f.n)
	}
	for f.n > 0 {
		out = append(out, f.take())
	}
	return out
}

// Len returns the number of values queued.
func (f *Fifo[T]) Len() int {
	if s, on := f.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = f.n })
		return n
	}
	return f.n
}

// Waiters returns how many coroutines and goroutines are waiting in Pop or PopAll.
func (f *Fifo[T]) Waiters() int {
	if s, on := f.home.resolve(); !on {
		n := 0
		foreignOp(s, func(*bridgeWait) { n = f.q.len })
		return n
	}
	return f.q.len
}
