package coro

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func condBlocker(cv *Cond, count *int, res *error) func() {
	return func() {
		err := cv.Wait()
		*res = err
		if err == nil {
			*count++
		}
	}
}

// Shrapnel test_cond_interrupt_schedule.
func TestCondInterruptThenWake(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(condBlocker(&cv, &count, &res[i])))
		}
		Yield()
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		if n := cv.WakeAll(); n != 1 {
			t.Errorf("WakeAll woke %d, want 1 (the interrupted ones are leaving)", n)
		}
		joinAll(t, cs)
		if count != 1 || errPattern(res) != "eeeee." {
			t.Errorf("count=%d results %s", count, errPattern(res))
		}
	})
}

// Shrapnel test_cond_schedule_interrupt. WakeAll's wake-ups come first and win;
// Shrapnel expected 1.
func TestCondWakeThenInterrupt(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(condBlocker(&cv, &count, &res[i])))
		}
		Yield()
		if n := cv.WakeAll(); n != 6 {
			t.Errorf("WakeAll woke %d", n)
		}
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		joinAll(t, cs)
		if count != 6 || cv.Waiters() != 0 {
			t.Errorf("count=%d waiters=%d", count, cv.Waiters())
		}
	})
}

// WakeOne: a wake-up aimed at an interrupted waiter goes to the next one.
func TestCondWakeOneSkipsInterrupted(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		count := 0
		res := make([]error, 3)
		var cs []*Coro
		for i := range 3 {
			cs = append(cs, Spawn(condBlocker(&cv, &count, &res[i])))
		}
		Yield()
		cs[0].Interrupt(errSyncStop)
		if !cv.WakeOne() {
			t.Fatal("WakeOne found nobody")
		}
		Yield()
		if errPattern(res[:2]) != "e." || cv.Waiters() != 1 {
			t.Errorf("results %s waiters %d, want e. and 1", errPattern(res[:2]), cv.Waiters())
		}
		cv.WakeOne()
		joinAll(t, cs)
		if cv.WakeOne() {
			t.Error("WakeOne with nobody waiting reported a wake-up")
		}
	})
}

func TestCondWakeNOrderAndRaise(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		var order []int
		errs := make([]error, 7)
		var cs []*Coro
		for i := range 7 {
			cs = append(cs, Spawn(func() {
				errs[i] = cv.Wait()
				order = append(order, i)
			}))
		}
		Yield()
		if n := cv.WakeN(0); n != 0 {
			t.Errorf("WakeN(0) woke %d", n)
		}
		if n := cv.WakeN(3); n != 3 {
			t.Errorf("WakeN(3) woke %d", n)
		}
		Yield()
		if fmt.Sprint(order) != "[0 1 2]" {
			t.Errorf("WakeN woke %v, want the three oldest", order)
		}
		boom := errors.New("boom")
		if n := cv.RaiseAll(boom); n != 4 {
			t.Errorf("RaiseAll woke %d", n)
		}
		joinAll(t, cs)
		for i, err := range errs {
			want := error(nil)
			if i >= 3 {
				want = boom
			}
			if err != want {
				t.Errorf("waiter %d: %v, want %v", i, err, want)
			}
		}
		if n := cv.WakeN(5); n != 0 {
			t.Errorf("WakeN on empty woke %d", n)
		}
	})
}

func TestCondTimeout(t *testing.T) {
	syncRun(t, func() {
		var cv Cond
		err := WithTimeout(2*time.Millisecond, cv.Wait)
		if !errors.Is(err, ErrTimeout) || cv.Waiters() != 0 {
			t.Errorf("Wait: %v, waiters %d", err, cv.Waiters())
		}
		if cv.WakeOne() {
			t.Error("the timed-out waiter was still queued")
		}
	})
}

// ---------------------------------------------------------------------------
// Event

func TestEvent(t *testing.T) {
	syncRun(t, func() {
		var e Event
		if e.IsSet() {
			t.Fatal("zero Event is set")
		}
		res := make([]error, 4)
		var cs []*Coro
		for i := range 4 {
			cs = append(cs, Spawn(func() { res[i] = e.Wait() }))
		}
		Yield()
		if e.Waiters() != 4 {
			t.Fatalf("waiters = %d", e.Waiters())
		}
		cs[1].Interrupt(errSyncStop)
		e.Set()
		e.Clear() // the waiters were released by Set; clearing does not take that back
		joinAll(t, cs)
		if errPattern(res) != ".e.." {
			t.Errorf("results %s, want .e..", errPattern(res))
		}
		if err := WithTimeout(2*time.Millisecond, e.Wait); !errors.Is(err, ErrTimeout) {
			t.Errorf("Wait on a cleared event: %v, want ErrTimeout", err)
		}
		e.Set()
		if err := e.Wait(); err != nil || !e.IsSet() || e.Waiters() != 0 {
			t.Errorf("Wait on a set event: %v", err)
		}
	})
}
