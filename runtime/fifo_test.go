package coro

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestFifoOrder(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[int]
		if _, ok := f.TryPop(); ok {
			t.Fatal("TryPop on an empty fifo")
		}
		// Enough values to wrap the ring and grow it twice, mixing both ends.
		var want []int
		for i := range 20 {
			f.Push(i)
			want = append(want, i)
		}
		for i := range 5 {
			var v int
			var ok bool
			if i%2 == 0 {
				v, _ = f.Pop()
				ok = true
			} else {
				v, ok = f.TryPop()
			}
			if v != i || !ok {
				t.Fatalf("pop %d = %d (%v)", i, v, ok)
			}
		}
		want = want[5:]
		for i := range 15 {
			f.PushFront(-i)
			want = append([]int{-i}, want...)
		}
		if f.Len() != len(want) {
			t.Fatalf("Len = %d, want %d", f.Len(), len(want))
		}
		got, err := f.PopAll()
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("PopAll = %v, %v\nwant %v", got, err, want)
		}
		if f.Len() != 0 {
			t.Errorf("Len after PopAll = %d", f.Len())
		}
	})
}

// Pop blocks until a Push, and a pushed value goes to the longest waiter.
func TestFifoBlockingPopHandOff(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[string]
		got := make([]string, 3)
		var cs []*Coro
		for i := range 3 {
			cs = append(cs, Spawn(func() {
				v, err := f.Pop()
				if err != nil {
					t.Errorf("Pop %d: %v", i, err)
				}
				got[i] = v
			}))
		}
		Yield()
		if f.Waiters() != 3 {
			t.Fatalf("waiters = %d", f.Waiters())
		}
		f.Push("a")
		f.PushFront("b") // the queue is empty while coroutines wait: goes to the next waiter
		f.Push("c")
		// Values are handed over: nothing is left in the queue for a barging TryPop.
		if v, ok := f.TryPop(); ok {
			t.Errorf("TryPop took %q meant for a waiter", v)
		}
		joinAll(t, cs)
		if fmt.Sprint(got) != "[a b c]" {
			t.Errorf("waiters got %v, want [a b c]", got)
		}
	})
}

// A waiting PopAll gets the value handed to it plus everything pushed before it ran.
func TestFifoPopAllWaits(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[int]
		var got []int
		var gerr error
		c := Spawn(func() { got, gerr = f.PopAll() })
		Yield()
		f.Push(1)
		f.Push(2)
		f.Push(3)
		c.Join()
		if gerr != nil || fmt.Sprint(got) != "[1 2 3]" {
			t.Errorf("PopAll = %v, %v", got, gerr)
		}
		err := WithTimeout(2*time.Millisecond, func() error { _, err := f.PopAll(); return err })
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("PopAll on empty: %v, want ErrTimeout", err)
		}
	})
}

// An interrupted or timed-out Pop takes nothing, and the next value goes past it to
// the next waiter, even when the interrupted one had not yet run to leave the queue.
func TestFifoInterruptedPopLosesNothing(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[int]
		var errA, errB error
		var vB int
		a := Spawn(func() { _, errA = f.Pop() })
		tm := Spawn(func() { errB = WithTimeout(time.Millisecond, func() error { _, err := f.Pop(); return err }) })
		b := Spawn(func() { vB, _ = f.Pop() })
		Yield()
		a.Interrupt(errSyncStop) // runnable with the error, not yet unlinked
		tm.Join()                // timed out and gone
		f.Push(42)
		joinAll(t, []*Coro{a, b})
		if errA != errSyncStop || !errors.Is(errB, ErrTimeout) || vB != 42 {
			t.Errorf("a=%v timed=%v b got %d, want interrupted, timeout, 42", errA, errB, vB)
		}
		if f.Len() != 0 || f.Waiters() != 0 {
			t.Errorf("end: len=%d waiters=%d", f.Len(), f.Waiters())
		}
	})
}

// The tutorial's idiom: a sentinel ends a consumer loop.
func TestFifoSentinel(t *testing.T) {
	syncRun(t, func() {
		var f Fifo[*int]
		sum := 0
		cons := Spawn(func() {
			for {
				p, err := f.Pop()
				if err != nil || p == nil {
					return
				}
				sum += *p
			}
		})
		for i := 1; i <= 100; i++ {
			f.Push(&i)
			if i%7 == 0 {
				Yield()
			}
		}
		f.Push(nil)
		cons.Join()
		if sum != 5050 {
			t.Errorf("sum = %d", sum)
		}
	})
}
