package coro

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// byName indexes a listing by coroutine name.
func byName(list []CoroInfo) map[string]CoroInfo {
	m := map[string]CoroInfo{}
	for _, ci := range list {
		m[ci.Name] = ci
	}
	return m
}

// checkListing checks the listing of the four coroutines set up by TestCoroutines;
// self is the name of the coroutine that made the listing ("" when it was not one).
func checkListing(t *testing.T, how string, list []CoroInfo, s *Scheduler, sleeper, parent *Coro, self string) {
	t.Helper()
	by := byName(list)
	sl, ok := by["sleeper"]
	if !ok {
		t.Fatalf("%s: no sleeper in %+v", how, list)
	}
	if sl.ID != sleeper.ID() || sl.State != StateWaiting || sl.Reason != WaitSleep || sl.Loop != s.LoopID() ||
		sl.ParentID != parent.ID() || !strings.HasPrefix(sl.Where, "introspect_test.go:") ||
		!strings.Contains(sl.Where, "TestCoroutines") || !strings.HasPrefix(sl.Spawned, "introspect_test.go:") {
		t.Errorf("%s: sleeper %+v (id %d, parent %d, loop %d)", how, sl, sleeper.ID(), parent.ID(), s.LoopID())
	}
	if sl.Stack != "" {
		t.Errorf("%s: Coroutines filled Stack", how)
	}
	if j := by["joiner"]; j.State != StateWaiting || j.Reason != WaitJoin || !strings.HasPrefix(j.Where, "introspect_test.go:") {
		t.Errorf("%s: joiner %+v", how, j)
	}
	for i := 1; i < len(list); i++ {
		if list[i].ID <= list[i-1].ID {
			t.Errorf("%s: not oldest first: %d after %d", how, list[i].ID, list[i-1].ID)
		}
	}
	if self != "" {
		if me := by[self]; me.State != StateRunning {
			t.Errorf("%s: the caller %+v, want running", how, me)
		}
	}
}

// TestCoroutines lists and looks up coroutines from each kind of caller the API
// promises: a coroutine of the loop, a plain goroutine while the loop runs, a
// coroutine of another loop, and any goroutine while the loop is not running.
func TestCoroutines(t *testing.T) {
	s, _ := newTestSched(t)
	other, _ := newTestSched(t)
	var sleeper, parent, fresh *Coro
	ready := make(chan struct{})
	release := make(chan struct{})
	var fromLoop []CoroInfo
	parent = s.SpawnNamed("parent", func() {
		sleeper = SpawnNamed("sleeper", func() { Sleep(time.Hour) })
		SpawnNamed("joiner", func() { sleeper.Join() })
		Yield() // sleeper and joiner park
		// A coroutine that has not run yet is listed, runnable. (Its Where is read
		// from the dump, which the loop takes while it runs the others, fresh too:
		// Where may be newer than State.)
		fresh = SpawnNamed("fresh", func() { Sleep(time.Hour) })
		fromLoop = Coroutines()
		close(ready)
		// Stay alive until the outside checks are done, so the loop runs and answers
		// them.
		for {
			select {
			case <-release:
				sleeper.Interrupt(nil)
				fresh.Interrupt(nil)
				return
			default:
				Sleep(time.Millisecond)
			}
		}
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runLoop(t, s, time.Minute) }()
	go func() {
		defer wg.Done()
		<-ready
		checkListing(t, "from a coroutine", fromLoop, s, sleeper, parent, "parent")
		if f := byName(fromLoop)["fresh"]; f.State != StateRunnable || f.ParentID != parent.ID() {
			t.Errorf("a coroutine that has not run: %+v", f)
		}

		// From a plain goroutine while the loop runs.
		checkListing(t, "from a goroutine", s.Coroutines(), s, sleeper, parent, "")
		info, ok := s.Lookup(sleeper.ID())
		if !ok || info.Name != "sleeper" || info.State != StateWaiting || !strings.Contains(info.Stack, ".Sleep(") ||
			!strings.Contains(info.Stack, "TestCoroutines") || !strings.HasPrefix(info.Where, "introspect_test.go:") {
			t.Errorf("Lookup from a goroutine: %v %+v", ok, info)
		}
		if _, ok := s.Lookup(1 << 62); ok {
			t.Error("Lookup of an ID nobody has found something")
		}

		// From a coroutine of another loop: it parks instead of blocking its thread
		// (a ticker on that loop keeps ticking meanwhile).
		var fromOther []CoroInfo
		var otherInfo CoroInfo
		var otherOK bool
		other.SpawnNamed("asker", func() {
			fromOther = s.Coroutines()
			otherInfo, otherOK = s.Lookup(sleeper.ID())
			// Its own loop, from itself, through the package-level calls.
			mine := Coroutines()
			if len(mine) != 1 || mine[0].Name != "asker" || mine[0].Loop != other.LoopID() {
				t.Errorf("the asker's own loop: %+v", mine)
			}
			if me, ok := Lookup(Current().ID()); !ok || me.Name != "asker" || me.State != StateRunning || !strings.Contains(me.Stack, "TestCoroutines") {
				t.Errorf("Lookup of itself: %v %+v", ok, me)
			}
			if _, ok := Lookup(sleeper.ID()); ok {
				t.Error("Lookup on the asker's loop found a coroutine of another loop")
			}
		})
		runLoop(t, other, time.Minute)
		checkListing(t, "from another loop", fromOther, s, sleeper, parent, "")
		if !otherOK || otherInfo.ID != sleeper.ID() || otherInfo.Stack == "" {
			t.Errorf("Lookup from another loop: %v %+v", otherOK, otherInfo)
		}
		close(release)
	}()
	wg.Wait()

	// The loop has ended: nothing is live, and the calls answer at once.
	if list := s.Coroutines(); len(list) != 0 {
		t.Errorf("after the loop: %+v", list)
	}
	// Spawned but not started: not live yet (it waits in the inbox for the next run).
	s.SpawnNamed("later", func() {})
	if list := s.Coroutines(); len(list) != 0 {
		t.Errorf("a coroutine queued for the next run is listed: %+v", list)
	}
	runLoop(t, s, time.Minute)
}

// TestCoroutinesWhileLoopsStartAndStop asks from goroutines, without pause, while a
// loop starts and stops again and again and coroutines come and go: every call must
// return, and with -race no read may race with the loop. A request queued just as a
// run ends (after its last drain of the inbox) must be answered by that run as it
// detaches, not left for a next run that may never come: after every run the inbox
// holds no request.
func TestCoroutinesWhileLoopsStartAndStop(t *testing.T) {
	s, _ := newTestSched(t)
	var stop atomic.Bool
	var calls atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				if n%16 == 0 {
					for _, ci := range s.Coroutines() {
						if ci.Name == "" || ci.Loop != s.LoopID() {
							t.Errorf("bad entry %+v", ci)
						}
					}
				}
				s.Lookup(0) // no such coroutine: a cheap request, so many are in flight
				calls.Add(1)
			}
		}()
	}
	left := 0
	for run := 0; run < 300 || calls.Load() < 300; run++ {
		s.SpawnNamed("churn", func() {
			for i := 0; i < 3; i++ {
				SpawnNamed("child", func() { Yield() })
				Yield()
			}
		})
		runLoop(t, s, time.Minute)
		s.inbox.mu.Lock()
		for _, it := range s.inbox.items {
			if it.kind == itemInspect {
				left++
			}
		}
		s.inbox.mu.Unlock()
	}
	stop.Store(true)
	if left > 0 {
		t.Errorf("%d introspection requests were left in the inbox of a loop that had ended", left)
		runLoop(t, s, time.Minute) // answer them, so the goroutines can end
	}
	wg.Wait()
}

// TestSettersFromGoroutine changes a running loop's settings from a plain goroutine
// (with -race: no write may race with the loop's reads) and sees each take effect.
func TestSettersFromGoroutine(t *testing.T) {
	s, _ := newTestSched(t)
	s.SpawnNamed("keeper", func() {
		for Sleep(time.Millisecond) == nil {
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.Exit()
		for !s.Running() {
			time.Sleep(time.Millisecond)
		}
		if prev := s.SetSelfishness(3); prev != DefaultSelfishness {
			t.Errorf("SetSelfishness returned %d, want %d", prev, DefaultSelfishness)
		}
		if prev := s.SetSelfishness(DefaultSelfishness); prev != 3 {
			t.Errorf("SetSelfishness returned %d, want 3", prev)
		}
		warned := make(chan string, 1)
		s.SetLatencyNotifier(func(c *Coro, d time.Duration) {
			select {
			case warned <- c.Name():
			default:
			}
		})
		if prev := s.SetLatencyWarning(5 * time.Millisecond); prev != 0 {
			t.Errorf("SetLatencyWarning returned %v, want 0 (the test loop's)", prev)
		}
		s.SpawnNamed("burner", func() {
			for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
			}
		})
		if name := <-warned; name != "burner" {
			t.Errorf("latency notifier named %q, want burner", name)
		}
		panicked := make(chan any, 1)
		s.SetPanicNotifier(func(p *PanicInfo) { panicked <- p.Value })
		s.SpawnNamed("panicker", func() { panic("on purpose") })
		if v := <-panicked; v != "on purpose" {
			t.Errorf("panic notifier got %v", v)
		}
	}()
	runLoop(t, s, time.Minute)
	<-done
}

// flipper is a named function, so an unnamed coroutine running it has a known name.
func flipper(stop *atomic.Bool) {
	for !stop.Load() {
		Sleep(time.Microsecond)
		Yield()
	}
}

// TestCoroGettersFromGoroutine reads a coroutine's name (computed lazily, on first
// use) and state from a plain goroutine while the loop switches it between running,
// runnable and waiting: with -race, no read may race with the loop's writes.
func TestCoroGettersFromGoroutine(t *testing.T) {
	s, _ := newTestSched(t)
	var stop atomic.Bool
	c := s.Spawn(func() { flipper(&stop) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.Exit()
		for !s.Running() {
			time.Sleep(time.Millisecond)
		}
		seen := map[State]bool{}
		for i := 0; i < 2000 && len(seen) < 2; i++ {
			if n := c.Name(); !strings.HasSuffix(n, ".flipper") && !strings.Contains(n, "TestCoroGettersFromGoroutine") {
				t.Errorf("Name from a goroutine: %q", n)
				return
			}
			st, r := c.State()
			seen[st] = true
			if st == StateWaiting && r != WaitSleep {
				t.Errorf("waiting for %v, want sleep", r)
			}
			if st == StateExited {
				t.Error("exited while still flipping")
			}
		}
		stop.Store(true)
	}()
	runLoop(t, s, time.Minute)
	<-done
	if st, _ := c.State(); st != StateExited {
		t.Errorf("after the loop: %v, want exited", st)
	}
}
