package coro

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// These port the behaviour that Shrapnel's test_with_timeout and test_interrupt check,
// in Go terms: errors instead of exceptions, ErrTimeout instead of TimeoutError.

var errCustom = errors.New("custom interrupt")

func TestWithTimeoutExpires(t *testing.T) {
	s, _ := newTestSched(t)
	var err, inner error
	var took time.Duration
	s.Spawn(func() {
		t0 := time.Now()
		err = WithTimeout(10*time.Millisecond, func() error {
			inner = Sleep(time.Second)
			return inner
		})
		took = time.Since(t0)
	})
	runLoop(t, s, 10*time.Second)
	if err != ErrTimeout {
		t.Errorf("WithTimeout returned %v, want ErrTimeout", err)
	}
	if !errors.Is(inner, ErrTimeout) {
		t.Errorf("the interrupted Sleep returned %v, want an error that is ErrTimeout", inner)
	}
	if took < 10*time.Millisecond || took > 900*time.Millisecond {
		t.Errorf("took %v", took)
	}
	if s.timers.len() != 0 {
		t.Errorf("%d timers left", s.timers.len())
	}
}

func TestWithTimeoutReturnsFirst(t *testing.T) {
	s, _ := newTestSched(t)
	var err, after error
	s.Spawn(func() {
		err = WithTimeout(50*time.Millisecond, func() error {
			if err := Sleep(time.Millisecond); err != nil {
				return err
			}
			return errCustom // fn's own result passes through
		})
		after = Sleep(80 * time.Millisecond) // the cancelled deadline must not hit this
	})
	runLoop(t, s, 10*time.Second)
	if err != errCustom || after != nil {
		t.Errorf("err %v, later sleep %v", err, after)
	}
}

func TestNestedTimeoutOuterFires(t *testing.T) {
	s, _ := newTestSched(t)
	var outer, inner error
	s.Spawn(func() {
		outer = WithTimeout(10*time.Millisecond, func() error {
			inner = WithTimeout(time.Second, func() error { return Sleep(2 * time.Second) })
			return inner
		})
	})
	runLoop(t, s, 10*time.Second)
	if outer != ErrTimeout {
		t.Errorf("outer returned %v", outer)
	}
	// the inner WithTimeout passes the outer deadline through: it is a timeout, but
	// not the inner one's own ErrTimeout
	if inner == ErrTimeout || !errors.Is(inner, ErrTimeout) {
		t.Errorf("inner returned %v (%T)", inner, inner)
	}
}

func TestNestedTimeoutInnerFires(t *testing.T) {
	s, _ := newTestSched(t)
	var outer, inner, later error
	s.Spawn(func() {
		outer = WithTimeout(time.Second, func() error {
			inner = WithTimeout(10*time.Millisecond, func() error { return Sleep(2 * time.Second) })
			later = Sleep(5 * time.Millisecond) // the outer deadline is still far
			return later
		})
	})
	runLoop(t, s, 10*time.Second)
	if inner != ErrTimeout || later != nil || outer != nil {
		t.Errorf("inner %v, later %v, outer %v", inner, later, outer)
	}
}

func TestNestedTimeoutsDeep(t *testing.T) {
	// Five levels; the third from the outside has the shortest deadline: it must be
	// that one which returns ErrTimeout, and everything outside it continues.
	s, _ := newTestSched(t)
	deadlines := []time.Duration{time.Second, 800 * time.Millisecond, 10 * time.Millisecond, 600 * time.Millisecond, 400 * time.Millisecond}
	results := make([]error, len(deadlines))
	var level func(i int) error
	level = func(i int) error {
		if i == len(deadlines) {
			return Sleep(5 * time.Second)
		}
		results[i] = WithTimeout(deadlines[i], func() error { return level(i + 1) })
		if i == 2 {
			return nil // swallow: the levels outside go on normally
		}
		return results[i]
	}
	s.Spawn(func() { level(0) })
	runLoop(t, s, 10*time.Second)
	want := "[<nil> <nil> coro: timeout coro: timeout coro: timeout]"
	if got := fmt.Sprint(results); got != want {
		t.Errorf("results %v, want %v", got, want)
	}
	for i := 3; i < 5; i++ {
		if results[i] == ErrTimeout {
			t.Errorf("level %d took the deadline of level 2 as its own", i)
		}
	}
	if results[2] != ErrTimeout {
		t.Errorf("level 2: %v", results[2])
	}
}

func TestTimeoutWhileRunnable(t *testing.T) {
	// The deadline passes while the coroutine runs: it is delivered by the next
	// blocking call, however short.
	s, _ := newTestSched(t)
	var first, err error
	s.Spawn(func() {
		err = WithTimeout(5*time.Millisecond, func() error {
			time.Sleep(20 * time.Millisecond) // hog the thread past the deadline
			Yield()                           // the timer fires at this scheduling point
			first = Sleep(time.Hour)          // returns at once with the timeout
			return first
		})
	})
	runLoop(t, s, 10*time.Second)
	if err != ErrTimeout || !errors.Is(first, ErrTimeout) {
		t.Errorf("err %v first %v", err, first)
	}
}

func TestTimeoutPendingDropped(t *testing.T) {
	// The deadline passed while fn ran but fn returned before blocking: the pending
	// timeout dies with its WithTimeout and does not hit a later call.
	s, _ := newTestSched(t)
	var err, later error
	s.Spawn(func() {
		err = WithTimeout(5*time.Millisecond, func() error {
			time.Sleep(20 * time.Millisecond)
			Yield()
			return nil
		})
		later = Sleep(time.Millisecond)
	})
	runLoop(t, s, 10*time.Second)
	if err != nil || later != nil {
		t.Errorf("err %v later %v", err, later)
	}
}

func TestInterruptBeatsTimeout(t *testing.T) {
	// Shrapnel: an interrupt that arrives inside with_timeout propagates, and the
	// cancelled timeout never fires afterwards.
	s, _ := newTestSched(t)
	var err, later error
	var c *Coro
	c = s.Spawn(func() {
		err = WithTimeout(30*time.Millisecond, func() error { return Sleep(time.Second) })
		later = Sleep(60 * time.Millisecond)
	})
	s.Spawn(func() {
		Sleep(5 * time.Millisecond)
		c.Interrupt(errCustom)
	})
	runLoop(t, s, 10*time.Second)
	if err != errCustom || later != nil {
		t.Errorf("err %v later %v", err, later)
	}
}

func TestInterruptSleeping(t *testing.T) {
	s, _ := newTestSched(t)
	var err error
	var took time.Duration
	c := s.Spawn(func() {
		t0 := time.Now()
		err = Sleep(time.Hour)
		took = time.Since(t0)
	})
	s.Spawn(func() {
		Sleep(5 * time.Millisecond)
		c.Interrupt(errCustom)
		if st, _ := c.State(); st != StateRunnable {
			t.Errorf("interrupted coroutine is %v, want runnable", st)
		}
	})
	runLoop(t, s, 10*time.Second)
	if err != errCustom || took > time.Second {
		t.Errorf("err %v after %v", err, took)
	}
	if s.timers.len() != 0 {
		t.Errorf("sleep timer not removed")
	}
}

func TestInterruptNil(t *testing.T) {
	s, _ := newTestSched(t)
	var err error
	c := s.Spawn(func() { err = Sleep(time.Hour) })
	s.Spawn(func() { c.Interrupt(nil) })
	runLoop(t, s, 10*time.Second)
	if err != ErrInterrupted {
		t.Errorf("err %v", err)
	}
}

func TestInterruptNotStarted(t *testing.T) {
	// Interrupting a coroutine that has not run yet: it starts normally and its first
	// blocking call returns the error.
	s, _ := newTestSched(t)
	var started bool
	var err error
	s.Spawn(func() {
		c := Spawn(func() {
			started = true
			err = Sleep(time.Hour)
		})
		c.Interrupt(errCustom)
	})
	runLoop(t, s, 10*time.Second)
	if !started || err != errCustom {
		t.Errorf("started %v err %v", started, err)
	}
}

func TestInterruptRunnableIsPending(t *testing.T) {
	s, _ := newTestSched(t)
	var results []error
	var c *Coro
	c = s.Spawn(func() {
		Yield() // the interrupt arrives while this coroutine is runnable
		results = append(results, Sleep(time.Hour))
		results = append(results, Sleep(time.Millisecond)) // consumed: no longer pending
	})
	s.Spawn(func() { c.Interrupt(errCustom) })
	runLoop(t, s, 10*time.Second)
	if fmt.Sprint(results) != fmt.Sprint([]error{errCustom, nil}) {
		t.Errorf("results %v", results)
	}
}

func TestReadyThenInterrupt(t *testing.T) {
	// Once ready() was called, park returns nil (a primitive that handed ownership to
	// the waiter must not see an error); the interrupt stays pending for the next park.
	s, _ := newTestSched(t)
	var first, second error
	var c *Coro
	c = s.Spawn(func() {
		first = current().park(WaitOther)
		second = current().park(WaitOther)
	})
	s.Spawn(func() {
		c.ready()
		c.Interrupt(errCustom)
	})
	runLoop(t, s, 10*time.Second)
	if first != nil || second != errCustom {
		t.Errorf("first %v second %v", first, second)
	}
}

func TestInterruptExitedIsNoop(t *testing.T) {
	s, _ := newTestSched(t)
	s.Spawn(func() {
		c := Spawn(func() {})
		c.Join()
		c.Interrupt(errCustom)
		if c.pending != nil {
			t.Error("interrupt kept on an exited coroutine")
		}
	})
	runLoop(t, s, 10*time.Second)
}

func TestInterruptFromGoroutine(t *testing.T) {
	s, _ := newTestSched(t)
	var err error
	c := s.Spawn(func() { err = Sleep(time.Hour) })
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.Interrupt(errCustom)
	}()
	runLoop(t, s, 10*time.Second)
	if err != errCustom {
		t.Errorf("err %v", err)
	}
}

func TestTimeoutInterruptsAnyWait(t *testing.T) {
	// A deadline reaches the coroutine wherever it is parked: here in Join and in a
	// raw park (what the sync primitives use).
	s, _ := newTestSched(t)
	var joinErr, parkErr error
	s.Spawn(func() {
		long := Spawn(func() { Sleep(time.Hour) })
		joinErr = WithTimeout(5*time.Millisecond, long.Join)
		parkErr = WithTimeout(5*time.Millisecond, func() error { return current().park(WaitLock) })
		long.Interrupt(nil)
	})
	runLoop(t, s, 10*time.Second)
	if joinErr != ErrTimeout || parkErr != ErrTimeout {
		t.Errorf("join %v park %v", joinErr, parkErr)
	}
}

func TestManyTimeoutsCancelled(t *testing.T) {
	// 10k WithTimeouts that all finish first leave no timer behind.
	s, _ := newTestSched(t)
	s.Spawn(func() {
		for i := 0; i < 10_000; i++ {
			if err := WithTimeout(time.Hour, func() error { Yield(); return nil }); err != nil {
				t.Error(err)
				return
			}
		}
		if s.timers.len() != 0 {
			t.Errorf("%d timers left", s.timers.len())
		}
	})
	runLoop(t, s, 30*time.Second)
}

func TestBothDeadlinesPassWhileRunning(t *testing.T) {
	// Inner and outer deadlines both pass while fn hogs the thread: the outer one wins,
	// since the inner WithTimeout is inside it and is being torn down anyway.
	s, _ := newTestSched(t)
	var outer, inner error
	s.Spawn(func() {
		outer = WithTimeout(10*time.Millisecond, func() error {
			inner = WithTimeout(5*time.Millisecond, func() error {
				time.Sleep(30 * time.Millisecond)
				Yield()
				return Sleep(time.Hour)
			})
			return inner
		})
	})
	runLoop(t, s, 10*time.Second)
	if outer != ErrTimeout || inner == ErrTimeout || !errors.Is(inner, ErrTimeout) {
		t.Errorf("outer %v inner %v", outer, inner)
	}
}
