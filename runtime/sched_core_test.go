package coro

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestSched returns a fresh loop with the latency warning off (the test machine is
// shared and slices may be stretched by the OS) and panics recorded, not printed.
func newTestSched(t testing.TB) (*Scheduler, *[]*PanicInfo) {
	s := NewScheduler()
	s.SetLatencyWarning(0)
	var panics []*PanicInfo
	s.SetPanicNotifier(func(p *PanicInfo) { panics = append(panics, p) })
	return s, &panics
}

// runLoop runs s's loop and fails the test if it does not return within d.
func runLoop(t testing.TB, s *Scheduler, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() {
		select {
		case <-done:
		default:
			buf := make([]byte, 64<<20)
			n := runtime.Stack(buf, true)
			panic(fmt.Sprintf("event loop did not return within %v\n%s", d, buf[:n]))
		}
	})
	defer timer.Stop()
	s.EventLoop()
	close(done)
}

func TestYieldIsFIFO(t *testing.T) {
	s, _ := newTestSched(t)
	var order []int
	for id := 1; id <= 3; id++ {
		s.Spawn(func() {
			for i := 0; i < 3; i++ {
				order = append(order, id)
				Yield()
			}
		})
	}
	runLoop(t, s, 10*time.Second)
	want := []int{1, 2, 3, 1, 2, 3, 1, 2, 3}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func namedWorker() { Yield() }

func TestSpawnIdentity(t *testing.T) {
	s, _ := newTestSched(t)
	var parent, child, named *Coro
	var childParent, namedName, curOK string
	parent = s.Spawn(func() {
		child = Spawn(namedWorker)
		named = SpawnNamed("the-name", func() {})
		childParent = fmt.Sprint(child.ParentID())
		namedName = named.Name()
		if Current() == parent && CurrentScheduler() == s {
			curOK = "ok"
		}
	})
	outer := s.Spawn(namedWorker)
	runLoop(t, s, 10*time.Second)
	if childParent != fmt.Sprint(parent.ID()) || outer.ParentID() != 0 {
		t.Errorf("parent ids: child %s (want %d), outer %d (want 0)", childParent, parent.ID(), outer.ParentID())
	}
	if !(parent.ID() < child.ID() && child.ID() < named.ID()) {
		t.Errorf("ids not increasing: %d %d %d", parent.ID(), child.ID(), named.ID())
	}
	if got := child.Name(); !strings.HasSuffix(got, "runtime.namedWorker") {
		t.Errorf("default name %q, want the function's name", got)
	}
	if namedName != "the-name" {
		t.Errorf("SpawnNamed name %q", namedName)
	}
	if curOK != "ok" {
		t.Errorf("Current/CurrentScheduler wrong inside a coroutine")
	}
	if Current() != nil || CurrentScheduler() != nil {
		t.Errorf("Current outside a loop is not nil")
	}
	f := runtime.FuncForPC(child.spawnPC)
	if f == nil || !strings.Contains(f.Name(), "TestSpawnIdentity") {
		t.Errorf("SpawnPC %x is not in the spawning function: %v", child.spawnPC, f)
	}
	file, _ := f.FileLine(child.spawnPC)
	if !strings.HasSuffix(file, "sched_core_test.go") {
		t.Errorf("SpawnPC file %s", file)
	}
}

func TestOutsideCoroutine(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "outside a coroutine") {
			t.Fatalf("Sleep outside a coroutine: recovered %v", r)
		}
	}()
	Sleep(time.Millisecond)
}

func TestSleepOrderAndDuration(t *testing.T) {
	s, _ := newTestSched(t)
	var order []int
	start := time.Now()
	var elapsed [4]time.Duration
	for _, ms := range []int{30, 10, 20, 0} {
		s.Spawn(func() {
			if err := Sleep(time.Duration(ms) * time.Millisecond); err != nil {
				t.Error(err)
			}
			elapsed[ms/10] = time.Since(start)
			order = append(order, ms)
		})
	}
	runLoop(t, s, 10*time.Second)
	if fmt.Sprint(order) != "[0 10 20 30]" {
		t.Errorf("wake order %v", order)
	}
	for i, e := range elapsed {
		if e < time.Duration(i)*10*time.Millisecond {
			t.Errorf("Sleep(%dms) returned after %v", i*10, e)
		}
	}
}

func TestJoin(t *testing.T) {
	s, panics := newTestSched(t)
	var got []string
	s.Spawn(func() {
		a := Spawn(func() { Sleep(5 * time.Millisecond); got = append(got, "a done") })
		b := Spawn(func() { panic("boom") })
		if err := a.Join(); err != nil {
			t.Errorf("join a: %v", err)
		}
		got = append(got, "joined a")
		err := b.Join()
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || pe.ID != b.ID() {
			t.Errorf("join of a panicked coroutine: %v", err)
		}
		if err := a.Join(); err != nil { // exited already: returns at once
			t.Errorf("second join: %v", err)
		}
		if err := Current().Join(); err == nil {
			t.Errorf("self-join did not fail")
		}
		long := Spawn(func() { Sleep(time.Hour) })
		err = WithTimeout(5*time.Millisecond, long.Join)
		if err != ErrTimeout {
			t.Errorf("join with timeout: %v", err)
		}
		if len(long.joiners) != 0 {
			t.Errorf("timed-out joiner left in the joiners list")
		}
		long.Interrupt(nil)
		if err := long.Join(); err != nil {
			t.Errorf("join after interrupt: %v", err)
		}
	})
	runLoop(t, s, 10*time.Second)
	if fmt.Sprint(got) != "[a done joined a]" {
		t.Errorf("events %v", got)
	}
	if len(*panics) != 1 {
		t.Errorf("%d panics notified, want 1", len(*panics))
	}
}

func TestPanicIsolation(t *testing.T) {
	s, panics := newTestSched(t)
	var after []int
	var bad *Coro
	for i := 0; i < 3; i++ {
		s.Spawn(func() {
			Yield()
			after = append(after, i)
		})
	}
	bad = s.SpawnNamed("bad", func() {
		Yield()
		var m map[string]int
		m["x"] = 1 // nil map write: a runtime panic
	})
	runLoop(t, s, 10*time.Second)
	if len(after) != 3 {
		t.Fatalf("other coroutines did not finish: %v", after)
	}
	if len(*panics) != 1 {
		t.Fatalf("%d panics notified, want 1", len(*panics))
	}
	p := (*panics)[0]
	if p.Coro != bad || !strings.Contains(fmt.Sprint(p.Value), "nil map") {
		t.Errorf("panic info: coroutine %v value %v", p.Coro, p.Value)
	}
	line := p.String()
	for _, want := range []string{fmt.Sprintf("coroutine %d (bad)", bad.ID()), "nil map", "sched_core_test.go:", "TestPanicIsolation"} {
		if !strings.Contains(line, want) {
			t.Errorf("notice %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("notice is not one line: %q", line)
	}
	if time.Since(p.Time) > time.Minute {
		t.Errorf("panic time %v", p.Time)
	}
}

func TestDefaultPanicNotice(t *testing.T) {
	// The default notifier is replaced by SetPanicNotifier(nil) → printing; here we
	// check it is restored and that a loop survives it (the line goes to stderr).
	s := NewScheduler()
	s.SetLatencyWarning(0)
	s.SetPanicNotifier(nil)
	ok := false
	s.Spawn(func() { panic(errors.New("printed on stderr by the default notifier")) })
	s.Spawn(func() { Yield(); ok = true })
	runLoop(t, s, 10*time.Second)
	if !ok {
		t.Fatal("loop did not go on after a panic")
	}
}

func TestGoexitInCoroutine(t *testing.T) {
	s, panics := newTestSched(t)
	ok := false
	var g *Coro
	s.Spawn(func() {
		g = Spawn(func() { runtime.Goexit() })
		if err := g.Join(); err != nil {
			t.Errorf("join: %v", err)
		}
		for i := 0; i < 10; i++ {
			Spawn(func() { Yield() }) // exits resume the parked zombie, which forwards
			Yield()
		}
		ok = true
	})
	runLoop(t, s, 10*time.Second)
	if !ok || len(*panics) != 0 {
		t.Fatalf("ok=%v panics=%d", ok, len(*panics))
	}
	if st, _ := g.State(); st != StateExited {
		t.Errorf("state after Goexit: %v", st)
	}
}

func Test100kCoroutines(t *testing.T) {
	const n = 100_000
	s, _ := newTestSched(t)
	var started, finished int
	maxLive := 0
	s.Spawn(func() {
		for i := 0; i < n; i++ {
			Spawn(func() {
				started++
				if err := Sleep(time.Duration(i%20) * time.Millisecond); err != nil {
					t.Error(err)
				}
				finished++
			})
		}
		Yield()
		maxLive = s.live - 1 // not counting this one
	})
	runLoop(t, s, 60*time.Second)
	if started != n || finished != n {
		t.Fatalf("started %d finished %d, want %d", started, finished, n)
	}
	if maxLive != n {
		t.Errorf("%d coroutines alive at once, want %d", maxLive, n)
	}
	if s.timers.len() != 0 || s.live != 0 || s.liveList.n != 0 {
		t.Errorf("leftovers: %d timers, %d live", s.timers.len(), s.live)
	}
}

func TestSpawnFromGoroutines(t *testing.T) {
	const goroutines, per = 8, 500
	s, _ := newTestSched(t)
	var ran atomic.Int64
	total := int64(goroutines * per)
	var wg sync.WaitGroup
	s.Spawn(func() {
		// keep the loop alive until every foreign spawn has run
		for ran.Load() < total {
			Sleep(time.Millisecond)
		}
	})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				c := s.Spawn(func() {
					Yield()
					ran.Add(1)
				})
				if c.ParentID() != 0 {
					t.Errorf("parent of a foreign spawn: %d", c.ParentID())
				}
				if i%50 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
	}
	runLoop(t, s, 60*time.Second)
	wg.Wait()
	if ran.Load() != total {
		t.Fatalf("ran %d of %d", ran.Load(), total)
	}
}

func TestSpawnBeforeLoop(t *testing.T) {
	s, _ := newTestSched(t)
	ran := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Spawn(func() { ran <- 1 })
	}()
	<-done
	runLoop(t, s, 10*time.Second)
	if len(ran) != 1 {
		t.Fatal("coroutine spawned before the loop did not run")
	}
}

func TestEventLoopReentry(t *testing.T) {
	s, _ := newTestSched(t)
	for round := 0; round < 3; round++ {
		n := 0
		s.Spawn(func() {
			for i := 0; i < 5; i++ {
				Spawn(func() { Sleep(time.Millisecond); n++ })
			}
		})
		runLoop(t, s, 10*time.Second)
		if n != 5 {
			t.Fatalf("round %d: %d coroutines ran, want 5", round, n)
		}
	}
}

func TestExitUnwinds(t *testing.T) {
	s, panics := newTestSched(t)
	var log []string
	s.Spawn(func() {
		defer func() { log = append(log, "sleeper unwound") }()
		Sleep(time.Hour)
		log = append(log, "sleeper woke")
	})
	s.Spawn(func() {
		defer func() { log = append(log, "yielder unwound") }()
		for {
			Yield()
		}
	})
	s.Spawn(func() {
		Sleep(time.Millisecond)
		defer func() { log = append(log, "exiter unwound") }()
		Exit()
		log = append(log, "Exit returned")
	})
	runLoop(t, s, 10*time.Second)
	got := strings.Join(log, ",")
	for _, want := range []string{"sleeper unwound", "yielder unwound", "exiter unwound"} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "woke") || strings.Contains(got, "returned") || len(*panics) != 0 {
		t.Errorf("log %q, %d panics", got, len(*panics))
	}
	if s.live != 0 || s.timers.len() != 0 {
		t.Errorf("after Exit: %d live, %d timers", s.live, s.timers.len())
	}
	// and the loop runs again
	ok := false
	s.Spawn(func() { Sleep(time.Millisecond); ok = true })
	runLoop(t, s, 10*time.Second)
	if !ok {
		t.Error("loop did not run after an Exit")
	}
}

func TestExitFromGoroutine(t *testing.T) {
	s, _ := newTestSched(t)
	unwound := false
	started := make(chan struct{})
	s.Spawn(func() {
		defer func() { unwound = true }()
		close(started)
		Sleep(time.Hour)
	})
	go func() {
		// Exit only once the loop runs the sleeper: an Exit before the loop is running
		// ends nothing (and the loop would sleep its hour), and one before the sleeper's
		// first slice would have no defer to unwind. A fixed 10 ms wait raced both on a
		// loaded machine. The sleep after that only makes it likely that the loop is
		// blocked in epoll_wait when Exit arrives, the case this test is about.
		<-started
		time.Sleep(10 * time.Millisecond)
		s.Exit()
	}()
	runLoop(t, s, 10*time.Second)
	if !unwound {
		t.Fatal("sleeper not unwound")
	}
}

func TestTwoLoops(t *testing.T) {
	a, _ := newTestSched(t)
	b, _ := newTestSched(t)
	var aOK, bOK bool
	a.Spawn(func() {
		Sleep(20 * time.Millisecond)
		aOK = CurrentScheduler() == a && Current() != nil && Current().Scheduler() == a
	})
	b.Spawn(func() {
		Sleep(20 * time.Millisecond)
		bOK = CurrentScheduler() == b && Current().Scheduler() == b
		// Spawn from a coroutine goes to its own loop
		c := Spawn(func() {})
		bOK = bOK && c.Scheduler() == b
	})
	done := make(chan struct{})
	go func() { runLoop(t, b, 10*time.Second); close(done) }()
	runLoop(t, a, 10*time.Second)
	<-done
	if !aOK || !bOK {
		t.Fatalf("aOK=%v bOK=%v", aOK, bOK)
	}
}

func TestOffload(t *testing.T) {
	s, _ := newTestSched(t)
	ticks := 0
	var result int
	var err, terr error
	s.Spawn(func() {
		ticker := Spawn(func() {
			for i := 0; i < 1000; i++ {
				if Sleep(time.Millisecond) != nil {
					return
				}
				ticks++
			}
		})
		err = Offload(func() error {
			time.Sleep(50 * time.Millisecond) // blocks this goroutine's thread, not the loop
			result = 42
			return errors.New("fn error")
		})
		before := ticks
		// 10ms against 300ms, not 40ms: a loop starved for 30ms on a loaded machine
		// found the offload's result with its timer and could take the result.
		var offDone atomic.Int64 // when the abandoned offload's fn returned, since base
		base := time.Now()
		terr = WithTimeout(10*time.Millisecond, func() error {
			return Offload(func() error {
				time.Sleep(300 * time.Millisecond)
				offDone.Store(int64(time.Since(base)))
				return nil
			})
		})
		// the abandoned offload completes while we sleep; it must not wake us early
		t0 := time.Since(base)
		Sleep(600 * time.Millisecond)
		t1 := time.Since(base)
		if t1-t0 < 600*time.Millisecond {
			t.Errorf("Sleep woken early by an abandoned offload: %v", t1-t0)
		}
		if d := time.Duration(offDone.Load()); d < t0 || d > t1 {
			t.Errorf("the abandoned offload finished at %v, outside the sleep (%v to %v): not tested", d, t0, t1)
		}
		if ticks == before {
			t.Error("loop stalled")
		}
		ticker.Interrupt(nil)
	})
	runLoop(t, s, 10*time.Second)
	if err == nil || err.Error() != "fn error" || result != 42 {
		t.Errorf("Offload: err %v result %d", err, result)
	}
	if ticks < 3 { // 1ms sleeps take 1-2ms (and more on a loaded machine); 0-1 means blocked
		t.Errorf("only %d ticks during a 50ms offload: the loop was blocked", ticks)
	}
	if terr != ErrTimeout {
		t.Errorf("Offload under timeout: %v", terr)
	}
}

func TestOffloadPanic(t *testing.T) {
	s, _ := newTestSched(t)
	var err error
	s.Spawn(func() { err = Offload(func() error { panic("offloaded boom") }) })
	runLoop(t, s, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "offloaded boom") {
		t.Fatalf("err %v", err)
	}
}

func TestLatencyWarning(t *testing.T) {
	type warn struct {
		c *Coro
		d time.Duration
	}
	run := func(threshold time.Duration, spawn func(s *Scheduler)) []warn {
		s, _ := newTestSched(t)
		s.SetLatencyWarning(threshold)
		var warns []warn
		s.SetLatencyNotifier(func(c *Coro, d time.Duration) { warns = append(warns, warn{c, d}) })
		spawn(s)
		runLoop(t, s, 10*time.Second)
		return warns
	}
	// The slices are measured on a coarse clock that a ticker goroutine advances; on
	// a starved machine (the race detector on two loaded cores) it can lag by tens of
	// milliseconds or more, so the checks leave room for that: a slice may be
	// measured short, and two may be reported as one.

	// A hog blocks the loop thread twice for 100ms, between a yielder's slices.
	var hog *Coro
	warns := run(20*time.Millisecond, func(s *Scheduler) {
		hog = s.SpawnNamed("hog", func() {
			time.Sleep(100 * time.Millisecond) // blocks the loop thread: exactly what is reported
			Yield()
			Yield()
			time.Sleep(100 * time.Millisecond)
		})
		s.Spawn(func() {
			for i := 0; i < 5; i++ {
				Yield()
			}
		})
	})
	var total time.Duration
	n := 0
	for _, w := range warns {
		if w.c != hog {
			// The OS may also deschedule the loop thread for longer than the
			// threshold in another coroutine's slice: a real stall, correctly
			// reported, so only logged.
			t.Logf("warning for %v after %v (the machine is loaded)", w.c, w.d)
			continue
		}
		if w.d <= 20*time.Millisecond || w.d > 5*time.Second {
			t.Errorf("warning for %v after %v", w.c, w.d)
		}
		n++
		total += w.d
	}
	if n == 0 || n > 2 || total < 100*time.Millisecond {
		t.Errorf("%d warnings for hog totalling %v, want 2 (or 1 if merged) totalling about 200ms", n, total)
	}

	// The last slice of a coroutine counts too: here the only one.
	var last *Coro
	warns = run(20*time.Millisecond, func(s *Scheduler) {
		last = s.SpawnNamed("last", func() { time.Sleep(100 * time.Millisecond) })
	})
	if len(warns) != 1 || warns[0].c != last || warns[0].d <= 20*time.Millisecond {
		t.Errorf("last slice: warnings %v, want one for %v", warns, last)
	}

	// Off.
	warns = run(0, func(s *Scheduler) {
		s.Spawn(func() { time.Sleep(30 * time.Millisecond) })
	})
	if len(warns) != 0 {
		t.Errorf("warnings with the check off: %v", warns)
	}
}

func TestLateExitDoesNotEndNextRun(t *testing.T) {
	s, _ := newTestSched(t)
	s.Exit() // not running: ignored
	ok := false
	s.Spawn(func() { Sleep(5 * time.Millisecond); ok = true })
	runLoop(t, s, 10*time.Second)
	if !ok {
		t.Fatal("an Exit made while the loop was not running ended the next run")
	}
}

func TestSleepForever(t *testing.T) {
	s, _ := newTestSched(t)
	var err error
	c := s.Spawn(func() { err = Sleep(math.MaxInt64) })
	s.Spawn(func() { Sleep(time.Millisecond); c.Interrupt(errCustom) })
	runLoop(t, s, 10*time.Second)
	if err != errCustom {
		t.Fatalf("err %v", err)
	}
}

func TestPanickingNotifier(t *testing.T) {
	s, _ := newTestSched(t)
	s.SetPanicNotifier(func(*PanicInfo) { panic("notifier bug") })
	ok := false
	s.Spawn(func() { panic("first") })
	s.Spawn(func() { Yield(); Yield(); ok = true })
	runLoop(t, s, 10*time.Second)
	if !ok {
		t.Fatal("loop did not survive a panicking notifier")
	}
}

func TestStrayReadyDoesNotLeaveSleepTimer(t *testing.T) {
	s, _ := newTestSched(t)
	var c *Coro
	var early error
	var second time.Duration
	c = s.Spawn(func() {
		early = Sleep(time.Hour) // woken by a stray ready below
		t0 := time.Now()
		Sleep(20 * time.Millisecond)
		second = time.Since(t0)
	})
	s.Spawn(func() { c.ready() })
	runLoop(t, s, 10*time.Second)
	if early != nil || second < 20*time.Millisecond || s.timers.len() != 0 {
		t.Fatalf("early %v, second sleep %v, %d timers", early, second, s.timers.len())
	}
}

func TestWorkersReusedAndReleased(t *testing.T) {
	// Counted by the scheduler, not with runtime.NumGoroutine: that one counts the
	// dead goroutines of earlier tests as alive while a GC frees their stacks.
	s, _ := newTestSched(t)
	ran := 0
	maxWorkers := 0
	s.Spawn(func() {
		for i := 0; i < 10_000; i++ {
			c := Spawn(func() { ran++ })
			c.Join() // one at a time: the same one or two workers serve them all
			maxWorkers = max(maxWorkers, s.workers)
		}
		// a burst: 1000 at once, then the pool keeps at most maxIdleWorkers
		for i := 0; i < 1000; i++ {
			Spawn(func() { Yield() })
		}
		Yield()
		Yield()
		Yield()
		if s.nfree != maxIdleWorkers || s.workers != maxIdleWorkers+1 {
			t.Errorf("after a burst of 1000: %d idle of %d workers, want %d idle and this one", s.nfree, s.workers, maxIdleWorkers)
		}
	})
	runLoop(t, s, 30*time.Second)
	if ran != 10_000 {
		t.Fatalf("ran %d", ran)
	}
	if maxWorkers > 3 {
		t.Errorf("up to %d workers for sequential spawns: workers not reused", maxWorkers)
	}
	if s.free != nil || s.nfree != 0 || s.workers != 0 {
		t.Errorf("after the loop: %d workers, %d idle", s.workers, s.nfree)
	}
}

func TestLoopOnAnotherThreadAfterPooling(t *testing.T) {
	// A worker can only be switched to on the thread that created it: the pool must
	// be emptied when a loop ends, or a later run on another thread would throw.
	s, _ := newTestSched(t)
	for round := 0; round < 4; round++ {
		n := 0
		s.Spawn(func() {
			for i := 0; i < 300; i++ {
				Spawn(func() { n++ })
			}
		})
		done := make(chan struct{})
		go func() {
			// Exit still locked, so that the runtime destroys this thread and the
			// next round's loop runs on another one.
			runtime.LockOSThread()
			defer close(done)
			runLoop(t, s, 10*time.Second)
		}()
		<-done
		if n != 300 {
			t.Fatalf("round %d: %d ran", round, n)
		}
	}
}

func TestForeignSpawnWakesBlockedLoop(t *testing.T) {
	// No timers and nothing runnable: the loop is blocked in epoll_wait with no
	// timeout, and only the eventfd can wake it.
	s, _ := newTestSched(t)
	var keeper *Coro
	ready := make(chan struct{})
	keeper = s.Spawn(func() {
		close(ready)
		current().park(WaitOther) // until the foreign spawn below wakes it
	})
	go func() {
		<-ready
		time.Sleep(20 * time.Millisecond)
		s.Spawn(func() { keeper.ready() })
	}()
	runLoop(t, s, 10*time.Second)
}

func TestManyOffloads(t *testing.T) {
	s, _ := newTestSched(t)
	const n = 1000
	sum := 0
	s.Spawn(func() {
		for i := 0; i < n; i++ {
			Spawn(func() {
				var v int
				if err := Offload(func() error { v = i; return nil }); err != nil {
					t.Error(err)
				}
				sum += v
			})
		}
	})
	runLoop(t, s, 30*time.Second)
	if want := n * (n - 1) / 2; sum != want {
		t.Fatalf("sum %d, want %d", sum, want)
	}
}

func TestPooledWorkerTakesDrainedSpawn(t *testing.T) {
	// A worker whose coroutine ended goes idle and picks the next coroutine; when
	// that is a spawn from another goroutine drained in the same pick, the worker may
	// be given it and run it without a switch. Current must then be the new one.
	s, _ := newTestSched(t)
	var wrong []string
	release := make(chan struct{})
	s.Spawn(func() {
		close(release)
		// nothing else runnable: this worker blocks in epoll_wait until the spawn
	})
	for i := 0; i < 200; i++ {
		go func() {
			<-release
			name := fmt.Sprint("drained-", i)
			s.SpawnNamed(name, func() {
				if got := Current().Name(); got != name {
					wrong = append(wrong, fmt.Sprintf("Current() is %s in %s", got, name))
				}
				Yield()
				if got := Current().Name(); got != name {
					wrong = append(wrong, fmt.Sprintf("after Yield: Current() is %s in %s", got, name))
				}
			})
		}()
	}
	s.Spawn(func() { Sleep(50 * time.Millisecond) }) // keep the loop up for the spawns
	runLoop(t, s, 10*time.Second)
	if len(wrong) > 0 {
		t.Fatalf("%d wrong: %v", len(wrong), wrong[0])
	}
}
