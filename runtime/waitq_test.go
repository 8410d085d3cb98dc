package coro

import (
	"fmt"
	"testing"
)

// order lists the queue from head to tail, checking the back links on the way.
func (q *waitq[T]) order(t *testing.T) string {
	t.Helper()
	var s []int64
	var prev *waiter[T]
	n := 0
	for w := q.head; w != nil; w = w.next {
		if w.prev != prev || w.q != q {
			t.Fatalf("broken links at %d", w.n)
		}
		s = append(s, w.n)
		prev = w
		n++
	}
	if q.tail != prev || q.len != n {
		t.Fatalf("tail/len inconsistent: len %d, counted %d", q.len, n)
	}
	return fmt.Sprint(s)
}

// The intrusive list: front and back insertion, O(1) unlink from any position, and
// node reuse through the free list. Nodes get a placeholder coroutine; nothing here
// parks.
func TestWaitqList(t *testing.T) {
	var q waitq[int]
	c := &Coro{state: StateWaiting}
	ws := map[int64]*waiter[int]{}
	add := func(n int64, front bool) {
		w := q.enqueue(c, front)
		w.n = n
		ws[n] = w
	}
	add(1, false)
	add(2, false)
	add(0, true)
	add(3, false)
	if got := q.order(t); got != "[0 1 2 3]" {
		t.Fatalf("order %s", got)
	}
	q.unlink(ws[2]) // middle
	q.unlink(ws[0]) // head
	q.unlink(ws[3]) // tail
	if got := q.order(t); got != "[1]" {
		t.Fatalf("after unlinks: %s", got)
	}
	if w := q.next(); w != ws[1] || !w.granted || w.q != nil || q.len != 0 || q.head != nil || q.tail != nil {
		t.Fatal("next did not take the last waiter cleanly")
	}
	// Recycle the nodes the way park does, then check enqueue reuses them.
	for _, w := range ws {
		w.next = q.free
		q.free = w
	}
	allocs := testing.AllocsPerRun(10, func() {
		for range 4 {
			q.enqueue(c, false)
		}
		for q.head != nil {
			w := q.head
			q.unlink(w)
			w.next = q.free
			q.free = w
		}
	})
	if allocs != 0 {
		t.Errorf("enqueue allocated %.1f times per run with 4 free nodes", allocs)
	}
}

// first passes over waiters whose coroutine is no longer parked (interrupted, timed
// out, killed) and unlinks them without granting them.
func TestWaitqFirstSkipsStale(t *testing.T) {
	var q waitq[struct{}]
	stale := &Coro{state: StateRunnable}
	dead := &Coro{state: StateExited}
	live := &Coro{state: StateWaiting}
	a := q.enqueue(stale, false)
	b := q.enqueue(dead, false)
	c := q.enqueue(live, false)
	if w := q.first(); w != c {
		t.Fatal("first did not skip to the parked waiter")
	}
	if a.q != nil || b.q != nil || a.granted || b.granted || q.len != 1 {
		t.Error("stale waiters not unlinked, or marked granted")
	}
	q.take(c)
	if !q.empty() {
		t.Error("queue not empty")
	}
}

// Blocking operations allocate nothing once the primitive's free list holds a node:
// a contended Mutex hand-off, a Channel round trip and a Fifo round trip.
func TestSyncNoAllocs(t *testing.T) {
	syncRun(t, func() {
		var m Mutex
		var ping, pong Channel[int]
		var fin, fout Fifo[int]
		stop := false
		helper := Spawn(func() {
			for !stop {
				m.Lock()
				Yield()
				m.Unlock()
				v, _ := ping.Receive()
				pong.Send(v)
				x, _ := fin.Pop()
				fout.Push(x)
			}
		})
		round := func() {
			m.Lock()
			Yield()
			m.Unlock()
			ping.Send(1)
			pong.Receive()
			fin.Push(2)
			fout.Pop()
		}
		round() // warm the free lists
		if a := testing.AllocsPerRun(200, round); a != 0 {
			t.Errorf("%.2f allocations per round of blocking operations, want 0", a)
		}
		stop = true
		round()
		helper.Join()
	})
}
