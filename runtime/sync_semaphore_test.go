package coro

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func semBlocker(s *Semaphore, n int64, count *int, res *error) func() {
	return func() {
		err := s.Acquire(n)
		*res = err
		if err == nil {
			*count++
			s.Release(n)
		}
	}
}

// Shrapnel test_sem_interrupt_schedule.
func TestSemaphoreInterruptThenRelease(t *testing.T) {
	syncRun(t, func() {
		s := NewSemaphore(1)
		s.Acquire(1)
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(semBlocker(s, 1, &count, &res[i])))
		}
		Yield()
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		s.Release(1)
		joinAll(t, cs)
		if count != 1 {
			t.Errorf("resume count = %d, want 1", count)
		}
		if got := errPattern(res); got != "eeeee." {
			t.Errorf("results %s, want eeeee.", got)
		}
		if s.Available() != 1 || s.Waiters() != 0 {
			t.Errorf("end: available=%d waiters=%d, want 1 and 0", s.Available(), s.Waiters())
		}
	})
}

// Shrapnel test_sem_schedule_interrupt. Release(5) grants the first five waiters one
// permit each before the interrupts arrive; those grants win, so all five run and,
// releasing, let the sixth in. Shrapnel expected 1 (its interrupts undid the grants).
// What must hold either way: every permit comes back and nobody is left waiting.
func TestSemaphoreReleaseThenInterrupt(t *testing.T) {
	syncRun(t, func() {
		s := NewSemaphore(5)
		s.Acquire(5)
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(semBlocker(s, 1, &count, &res[i])))
		}
		Yield()
		s.Release(5)
		if s.Available() != 0 || s.Waiters() != 1 {
			t.Fatalf("after Release(5): available=%d waiters=%d, want 0 and 1 (permits handed over)", s.Available(), s.Waiters())
		}
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		joinAll(t, cs)
		if count != 6 {
			t.Errorf("resume count = %d, want 6", count)
		}
		if s.Available() != 5 || s.Waiters() != 0 {
			t.Errorf("end: available=%d waiters=%d, want 5 and 0", s.Available(), s.Waiters())
		}
	})
}

// Shrapnel test_sem_buildup: interrupted waiters leave the queue (here as soon as they
// run, not lazily at the next release), and a release finds nobody to wake.
func TestSemaphoreInterruptedWaitersLeave(t *testing.T) {
	syncRun(t, func() {
		var s Semaphore // zero value: no permits
		count := 0
		res := make([]error, 5)
		var cs []*Coro
		for i := range 5 {
			cs = append(cs, Spawn(semBlocker(&s, 1, &count, &res[i])))
		}
		Yield()
		if s.Waiters() != 5 {
			t.Fatalf("waiters = %d, want 5", s.Waiters())
		}
		for _, c := range cs {
			c.Interrupt(errSyncStop)
		}
		Yield()
		if s.Waiters() != 0 {
			t.Errorf("waiters after the interrupted ones ran = %d, want 0", s.Waiters())
		}
		s.Release(1)
		joinAll(t, cs)
		if count != 0 || s.Available() != 1 {
			t.Errorf("count=%d available=%d, want 0 and 1", count, s.Available())
		}
	})
}

// Shrapnel test_exception_stomp2: a release aimed at a waiter that was interrupted
// meanwhile goes to the next waiter instead of being lost.
func TestSemaphoreReleaseSkipsInterrupted(t *testing.T) {
	syncRun(t, func() {
		var s Semaphore
		var r1, r2 error
		t1 := Spawn(func() { r1 = s.Acquire(1) })
		t2 := Spawn(func() { r2 = s.Acquire(1) })
		Yield()
		t1.Interrupt(errSyncStop) // t1 is runnable with the error, still queued
		s.Release(1)              // must pass over t1 and grant t2
		if s.Available() != 0 {
			t.Errorf("available after Release = %d, want 0 (granted to t2)", s.Available())
		}
		joinAll(t, []*Coro{t1, t2})
		if r1 != errSyncStop || r2 != nil {
			t.Errorf("t1=%v t2=%v, want interrupted and nil", r1, r2)
		}
	})
}

// Waiters are served in order; a big request at the head is not overtaken by smaller
// ones, and when it times out the ones behind it are served.
func TestSemaphoreFIFOAndHeadTimeout(t *testing.T) {
	syncRun(t, func() {
		s := NewSemaphore(2)
		var log []string
		var bigErr error
		big := Spawn(func() { bigErr = WithTimeout(5*time.Millisecond, func() error { return s.Acquire(3) }) })
		var cs []*Coro
		for i := range 2 {
			cs = append(cs, Spawn(func() {
				if s.Acquire(1) == nil {
					log = append(log, fmt.Sprint("small", i))
				}
			}))
		}
		Yield()
		if len(log) != 0 || s.Waiters() != 3 {
			t.Fatalf("small requests overtook the big one: log=%v waiters=%d", log, s.Waiters())
		}
		if s.TryAcquire(1) {
			t.Error("TryAcquire overtook waiters")
		}
		big.Join()
		if !errors.Is(bigErr, ErrTimeout) {
			t.Fatalf("big Acquire: %v, want ErrTimeout", bigErr)
		}
		joinAll(t, cs)
		if strings.Join(log, " ") != "small0 small1" {
			t.Errorf("served %v", log)
		}
		if s.Available() != 0 {
			t.Errorf("available = %d, want 0", s.Available())
		}
	})
}

func TestSemaphoreCounts(t *testing.T) {
	syncRun(t, func() {
		s := NewSemaphore(3)
		if !s.TryAcquire(2) || s.TryAcquire(2) || !s.TryAcquire(1) || s.Available() != 0 {
			t.Fatalf("TryAcquire accounting wrong, available=%d", s.Available())
		}
		if !s.TryAcquire(0) {
			t.Error("TryAcquire(0) failed")
		}
		if err := s.Acquire(-1); err == nil || !strings.Contains(err.Error(), "Acquire(-1)") {
			t.Errorf("Acquire(-1) = %v, want an error naming the call", err)
		}
		if msg := expectPanic(func() { s.Release(-2) }); !strings.Contains(msg, "Release(-2)") {
			t.Errorf("Release(-2) panic = %q", msg)
		}
		// A waiter for 3 is granted only when all 3 are back.
		var got error = errors.New("not run")
		w := Spawn(func() { got = s.Acquire(3) })
		Yield()
		s.Release(2)
		Yield()
		if s.Waiters() != 1 {
			t.Fatal("granted with 2 of 3 permits")
		}
		s.Release(1)
		w.Join()
		if got != nil || s.Available() != 0 {
			t.Errorf("Acquire(3) = %v, available %d", got, s.Available())
		}
		d := NewSemaphore(-1) // a debt: one Release before any permit
		if d.TryAcquire(1) {
			t.Error("acquired from a semaphore in debt")
		}
		d.Release(2)
		if !d.TryAcquire(1) || d.TryAcquire(1) {
			t.Error("debt not paid back exactly")
		}
	})
}

// ---------------------------------------------------------------------------
// InvertedSemaphore

func isemBlocker(s *InvertedSemaphore, count *int, res *error) func() {
	return func() {
		err := s.WaitZero()
		*res = err
		if err == nil {
			*count++
		}
	}
}

// Shrapnel test_isem_interrupt_schedule.
func TestInvertedSemaphoreInterruptThenRelease(t *testing.T) {
	syncRun(t, func() {
		var s InvertedSemaphore
		s.Acquire(1)
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(isemBlocker(&s, &count, &res[i])))
		}
		Yield()
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		s.Release(1)
		joinAll(t, cs)
		if count != 1 || errPattern(res) != "eeeee." {
			t.Errorf("count=%d results %s, want 1 and eeeee.", count, errPattern(res))
		}
		if s.Waiters() != 0 {
			t.Errorf("waiters = %d", s.Waiters())
		}
	})
}

// Shrapnel test_isem_schedule_interrupt. Reaching zero releases all six before the
// interrupts arrive, and those wake-ups win; Shrapnel expected 1.
func TestInvertedSemaphoreReleaseThenInterrupt(t *testing.T) {
	syncRun(t, func() {
		var s InvertedSemaphore
		s.Acquire(1)
		count := 0
		res := make([]error, 6)
		var cs []*Coro
		for i := range 6 {
			cs = append(cs, Spawn(isemBlocker(&s, &count, &res[i])))
		}
		Yield()
		s.Release(1)
		for _, c := range cs[:5] {
			c.Interrupt(errSyncStop)
		}
		joinAll(t, cs)
		if count != 6 || errPattern(res) != "......" {
			t.Errorf("count=%d results %s, want 6 and ......", count, errPattern(res))
		}
	})
}

// The wake-up is edge-triggered: waiters released at zero return nil even though the
// value moved on before they ran; a waiter arriving after that waits for the next zero.
func TestInvertedSemaphoreEdge(t *testing.T) {
	syncRun(t, func() {
		var s InvertedSemaphore
		if err := s.WaitZero(); err != nil {
			t.Fatal("WaitZero on zero:", err)
		}
		s.Acquire(2)
		var early error = errors.New("not run")
		w := Spawn(func() { early = s.WaitZero() })
		Yield()
		s.Release(1)
		Yield()
		if s.Waiters() != 1 {
			t.Fatal("woken before zero")
		}
		s.Release(1)
		s.Acquire(1) // leaves zero again before the waiter runs
		w.Join()
		if early != nil {
			t.Errorf("waiter released at zero got %v", early)
		}
		var late error
		l := Spawn(func() { late = WithTimeout(2*time.Millisecond, s.WaitZero) })
		l.Join()
		if !errors.Is(late, ErrTimeout) || s.Waiters() != 0 || s.Value() != 1 {
			t.Errorf("late waiter %v, waiters %d, value %d", late, s.Waiters(), s.Value())
		}
		s.Release(1)
	})
}

// errPattern renders wait results: '.' for nil, 'e' for errSyncStop, 't' for
// ErrTimeout, '?' otherwise.
func errPattern(res []error) string {
	var b strings.Builder
	for _, err := range res {
		switch {
		case err == nil:
			b.WriteByte('.')
		case err == errSyncStop:
			b.WriteByte('e')
		case errors.Is(err, ErrTimeout):
			b.WriteByte('t')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
