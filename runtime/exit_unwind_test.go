package coro

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// The timer heap holds a timer at most once: scheduling one that is already scheduled
// moves it to its new deadline. (A second copy could not be removed, and the loop
// spun forever firing it.)
func TestTimerHeapReArmsInPlace(t *testing.T) {
	var th timerHeap
	a, b, c := &timer{idx: -1}, &timer{idx: -1}, &timer{idx: -1}
	for i, x := range []*timer{a, b, c} {
		x.when = int64(10 * (i + 1))
		th.add(x)
	}
	a.when = 100
	th.add(a) // a again, later than the others
	if th.len() != 3 {
		t.Fatalf("heap holds %d entries after adding a scheduled timer again, want 3", th.len())
	}
	c.when = 1
	th.add(c) // c again, now the earliest
	var order []*timer
	for th.len() > 0 {
		x := th.h[0]
		th.remove(x)
		if x.idx != -1 {
			t.Fatalf("removed timer keeps idx %d", x.idx)
		}
		order = append(order, x)
	}
	if len(order) != 3 || order[0] != c || order[1] != b || order[2] != a {
		t.Fatalf("timers came out in the wrong order or repeated: %v", order)
	}
}

// Random adds (of scheduled and unscheduled timers) and removes keep the heap ordered,
// each timer in it once, and every idx right.
func TestTimerHeapRandomized(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var th timerHeap
	ts := make([]*timer, 20)
	for i := range ts {
		ts[i] = &timer{idx: -1}
	}
	for step := 0; step < 20000; step++ {
		x := ts[rng.Intn(len(ts))]
		if rng.Intn(3) == 0 {
			th.remove(x)
		} else {
			x.when = rng.Int63n(1000)
			th.add(x)
		}
		seen := map[*timer]bool{}
		for i, y := range th.h {
			if seen[y] {
				t.Fatalf("step %d: a timer is in the heap twice", step)
			}
			seen[y] = true
			if y.idx != i {
				t.Fatalf("step %d: timer at %d has idx %d", step, i, y.idx)
			}
			if i > 0 && th.h[(i-1)/2].when > y.when {
				t.Fatalf("step %d: heap order broken at %d", step, i)
			}
		}
		for _, y := range ts {
			if !seen[y] && y.idx != -1 {
				t.Fatalf("step %d: unscheduled timer has idx %d", step, y.idx)
			}
		}
	}
}

// The reviewer's reproduction: a coroutine unwound out of a Sleep by Exit sleeps again
// in a deferred call. That used to put its sleep timer in the heap a second time, and
// the loop then spun at 100% CPU for ever. The deferred Sleep now returns ErrExiting at
// once and the deferred call runs to its end.
func TestDeferredSleepDuringExit(t *testing.T) {
	s, _ := newTestSched(t)
	var deferredErr error
	finished := false
	var took time.Duration
	timersLeft := -1
	s.Spawn(func() {
		defer func() {
			timersLeft = s.timers.len() // the unwound Sleep's timer is gone
			t0 := time.Now()
			deferredErr = Sleep(time.Hour)
			took = time.Since(t0)
			finished = true
		}()
		Sleep(time.Hour)
	})
	s.Spawn(func() {
		Sleep(10 * time.Millisecond)
		Exit()
	})
	runLoop(t, s, 10*time.Second)
	if !finished {
		t.Fatal("the deferred call did not run to its end")
	}
	if !errors.Is(deferredErr, ErrExiting) {
		t.Errorf("deferred Sleep during the unwind returned %v, want ErrExiting", deferredErr)
	}
	if took > time.Second {
		t.Errorf("deferred Sleep during the unwind took %v", took)
	}
	if timersLeft != 0 {
		t.Errorf("%d timers scheduled after the unwind left Sleep, want 0", timersLeft)
	}
}

// The exact shape of the report: the deferred Sleep is short, so the old code's
// duplicate timer fired, and firing it could never take it out of the heap.
func TestDeferredShortSleepDuringExit(t *testing.T) {
	s, _ := newTestSched(t)
	finished := false
	s.Spawn(func() {
		defer func() { Sleep(2 * time.Millisecond); finished = true }()
		Sleep(time.Hour)
	})
	s.Spawn(func() { Sleep(10 * time.Millisecond); Exit() })
	runLoop(t, s, 10*time.Second)
	if !finished {
		t.Fatal("the deferred call did not run to its end")
	}
	// The loop runs again afterwards, with a clean timer heap.
	ran := false
	s.Spawn(func() { Sleep(time.Millisecond); ran = true })
	runLoop(t, s, 10*time.Second)
	if !ran {
		t.Fatal("the next run of the loop did not run its coroutine")
	}
}

// Every kind of blocking call made from a deferred function during the unwind returns
// ErrExiting at once instead of waiting, including ones whose timers (WithTimeout, a
// connection's read deadline) the unwound call had left scheduled.
func TestDeferredBlockingCallsDuringExit(t *testing.T) {
	s, _ := newTestSched(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerDone := make(chan struct{})
	go func() {
		defer close(peerDone)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, conn) // never writes: the coroutine's reads wait
		conn.Close()
	}()

	var m Mutex
	var ch Channel[int]
	errs := map[string]error{}
	finished := map[string]bool{}
	spawn := func(name string, first func() error, again func() error) {
		s.SpawnNamed(name, func() {
			defer func() {
				errs[name] = again()
				finished[name] = true
			}()
			first()
		})
	}
	s.Spawn(func() { m.Lock(); Sleep(time.Hour) }) // holds m throughout
	spawn("sleep-in-timeout",
		func() error { return WithTimeout(time.Hour, func() error { return Sleep(time.Hour) }) },
		func() error { return WithTimeout(time.Hour, func() error { return Sleep(time.Hour) }) })
	spawn("lock", m.Lock, m.Lock)
	spawn("recv",
		func() error { _, err := ch.Receive(); return err },
		func() error { _, err := ch.Receive(); return err })
	spawn("join",
		func() error { return Spawn(func() { Sleep(time.Hour) }).Join() },
		func() error { return Spawn(func() { Sleep(time.Hour) }).Join() })
	var offloadRan atomic.Bool
	spawn("offload",
		func() error { return Offload(func() error { time.Sleep(50 * time.Millisecond); return nil }) },
		func() error { return Offload(func() error { offloadRan.Store(true); return nil }) })
	s.SpawnNamed("read", func() {
		conn, err := Dial("tcp", ln.Addr().String())
		if err != nil {
			errs["read"] = err
			return
		}
		defer conn.Close()
		buf := make([]byte, 1)
		defer func() {
			_, errs["read"] = conn.Read(buf) // same fd, same deadline timer
			finished["read"] = true
		}()
		conn.SetReadDeadline(time.Now().Add(time.Hour))
		conn.Read(buf)
	})
	s.Spawn(func() { Sleep(20 * time.Millisecond); Exit() })
	runLoop(t, s, 10*time.Second)
	<-peerDone

	for _, name := range []string{"sleep-in-timeout", "lock", "recv", "join", "offload", "read"} {
		if !finished[name] {
			t.Errorf("%s: the deferred call did not run to its end", name)
			continue
		}
		if !errors.Is(errs[name], ErrExiting) {
			t.Errorf("%s: the deferred call returned %v, want ErrExiting", name, errs[name])
		}
	}
	time.Sleep(10 * time.Millisecond)
	if offloadRan.Load() {
		t.Error("an Offload made during the unwind ran its function")
	}
}

// A Yield in a deferred call during the unwind lets the other coroutines run and then
// returns normally (the unwind does not panic twice), so the deferred call completes.
func TestDeferredYieldDuringExit(t *testing.T) {
	s, _ := newTestSched(t)
	var order []string
	for _, name := range []string{"a", "b"} {
		s.Spawn(func() {
			defer func() {
				order = append(order, name+" before")
				Yield()
				order = append(order, name+" after")
			}()
			Sleep(time.Hour)
		})
	}
	s.Spawn(func() { Sleep(10 * time.Millisecond); Exit() })
	runLoop(t, s, 10*time.Second)
	// Both before either after: each Yield let the other coroutine's unwind run.
	got := fmt.Sprint(order)
	if len(order) != 4 || order[0][2:] != "before" || order[1][2:] != "before" ||
		order[2][2:] != "after" || order[3][2:] != "after" || order[0][0] != order[2][0] {
		t.Fatalf("deferred calls ran as %s, want both befores, then both afters in the same order", got)
	}
}

// A coroutine that was waiting for a Mutex when the loop exited must not stay in its
// queue: the owner's deferred Unlock during the unwind would hand the lock to it, and
// the Mutex would stay locked by a coroutine that no longer exists.
func TestUnwoundWaiterLeavesMutexQueue(t *testing.T) {
	s, _ := newTestSched(t)
	var m Mutex
	s.Spawn(func() {
		m.Lock()
		defer m.Unlock()
		Sleep(time.Hour)
	})
	s.Spawn(func() {
		if m.Lock() == nil {
			defer m.Unlock()
		}
		Sleep(time.Hour)
	})
	s.Spawn(func() { Sleep(10 * time.Millisecond); Exit() })
	runLoop(t, s, 10*time.Second)
	if m.Locked() || m.Waiters() != 0 {
		t.Fatalf("after the unwind the Mutex is locked by %v with %d waiters", m.Owner(), m.Waiters())
	}
}
