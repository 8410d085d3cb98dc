package profiler

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

// ticksToNs converts ticks of p's clock to nanoseconds.
func ticksToNs(p *format.Profile, ticks uint64) float64 {
	return float64(ticks) / float64(p.Clock.TicksPerSecond) * 1e9
}

// A session begun from outside spans two runs of the loop on two OS threads (the
// first run's thread stays locked to its goroutine while the second runs, so the
// second cannot use it). Each run's readings must be subtracted only from readings
// of the same thread: the totals are those of the two runs (no wrapped CPU time or
// fault count), the idle gap between the runs is in no bucket and not in Total, and
// each run's burner is charged the CPU it measured itself.
func TestSessionAcrossTwoRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.bin")
	if err := Start(File(path), SampleRate(0)); err != nil {
		t.Fatal(err)
	}
	var tids [2]int
	var burned [2]time.Duration
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		coro.SpawnNamed(fmt.Sprintf("run%d", i), func() {
			tids[i] = threadID()
			t0 := threadCPU()
			burnCPU(20 * time.Millisecond)
			burned[i] = threadCPU() - t0
			coro.Yield()
		})
		ran := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // held past the run: the next run needs another thread
			defer runtime.UnlockOSThread()
			coro.EventLoop()
			close(ran)
			<-release
		}()
		<-ran
		if i == 0 {
			time.Sleep(40 * time.Millisecond) // the gap: no run
		}
	}
	err := Stop()
	close(release)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if tids[0] == tids[1] {
		t.Fatalf("both runs on thread %d: the test needs two", tids[0])
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLoopConservation(t, p)
	l := p.Loops[0]
	span := ticksToNs(p, p.Meta.StopTick-p.Meta.StartTick)
	total := ticksToNs(p, l.Total[wire.Ticks])
	if total > span-30e6 {
		t.Errorf("Total %.1fms of a %.1fms span: the 40ms gap between the runs was charged", total/1e6, span/1e6)
	}
	if l.Total[wire.CPU] < uint64(burned[0]+burned[1]) || float64(l.Total[wire.CPU]) > total+5e6 {
		t.Errorf("Total CPU %d ns: the runs burned %v and %v in %.1fms of ticks", l.Total[wire.CPU], burned[0], burned[1], total/1e6)
	}
	for _, q := range quantities[2:] { // the event counters
		if v := q.get(&l.Total); v > 1e6 {
			t.Errorf("Total %s = %d: a delta across two threads wrapped", q.name, v)
		}
	}
	for i := 0; i < 2; i++ {
		c := coroByName(t, p, fmt.Sprintf("run%d", i))
		if c.Counters[wire.CPU] < uint64(burned[i]) || c.Counters[wire.CPU] > uint64(burned[i])+uint64(5*time.Millisecond) {
			t.Errorf("run%d charged %v of CPU, burned %v in its slice", i, time.Duration(c.Counters[wire.CPU]), burned[i])
		}
	}
	if notes := strings.Join(p.Meta.Notes, "\n"); !strings.Contains(notes, "ran 2 times") {
		t.Errorf("notes do not say the loop ran twice: %q", notes)
	}
}

// Start from a coroutine (the console's "profile start") while another coroutine is
// parked and one is runnable: the parked one, which never runs in the session, is in
// the profile with its wait charged from Start; the runnable one's wait to run is
// counted from Start.
func TestStateBeforeStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.bin")
	var ev coro.Event
	var err1, err2 error
	var session time.Duration
	coro.SpawnNamed("parked", func() { ev.Wait() })
	coro.SpawnNamed("ctl", func() {
		coro.Yield() // "parked" parks
		coro.SpawnNamed("ready", func() {})
		t0 := time.Now()
		err1 = Start(File(path), SampleRate(0))
		burnWall(3 * time.Millisecond) // "ready" waits to run meanwhile
		coro.Sleep(20 * time.Millisecond)
		err2 = Stop()
		session = time.Since(t0)
		ev.Set()
	})
	coro.EventLoop()
	if err1 != nil || err2 != nil {
		t.Fatalf("Start %v, Stop %v", err1, err2)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkConservation(t, p)
	var parked *format.Coroutine
	for i := range p.Coroutines {
		if p.Coroutines[i].Name == "parked" {
			parked = &p.Coroutines[i]
		}
	}
	if parked == nil {
		t.Fatalf("the coroutine parked through the whole session is not in the profile: %d coroutines", len(p.Coroutines))
	}
	w := ticksToNs(p, parked.Waits[coro.WaitLock].Ticks)
	if parked.Resumes != 0 || parked.Exited || w < 20e6 || w > float64(session) {
		t.Errorf("parked: %d resumes, exited %v, waited %.1fms for a lock in a %v session (want 0, false, from Start to Stop)",
			parked.Resumes, parked.Exited, w/1e6, session)
	}
	if r := ticksToNs(p, coroByName(t, p, "ready").Runnable); r < 3e6 {
		t.Errorf("ready was runnable %.2fms from Start, waited at least 3ms", r/1e6)
	}
}

// Start from another goroutine while the loop is starting: attaching the hooks must
// not race the loop's first hook call (go test -race).
func TestStartRacesLoopStart(t *testing.T) {
	for i := 0; i < 20; i++ {
		path := filepath.Join(t.TempDir(), "p.bin")
		coro.SpawnNamed("w", func() {
			for k := 0; k < 20; k++ {
				coro.Yield()
			}
		})
		done := make(chan struct{})
		go func() { defer close(done); coro.EventLoop() }()
		err := Start(File(path), SampleRate(0), TicksOnly())
		<-done
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if err := Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		p, err := format.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkLoopConservationAny(t, p)
	}
}

// checkLoopConservationAny is checkLoopConservation for profiles that may hold no
// coroutine (a session that attached after the loop's work was done).
func checkLoopConservationAny(t *testing.T, p *format.Profile) {
	t.Helper()
	for _, l := range p.Loops {
		for _, q := range quantities {
			sum := q.get(&l.Main) + q.get(&l.Wait)
			for i := range p.Coroutines {
				if c := &p.Coroutines[i]; c.Loop == l.ID {
					sum += q.get(&c.Counters)
				}
			}
			if total := q.get(&l.Total); sum != total {
				t.Errorf("loop %d %s: coroutines+main+wait = %d, total %d", l.ID, q.name, sum, total)
			}
		}
	}
}

// span is what the test's own clock reads measured inside one bucket's intervals.
type span struct {
	ticks uint64
	cpu   time.Duration
	n     int // windows
}

// measuringHooks stands between the scheduler and the ledger (the wrap option): at
// every bucket boundary it closes the window it opened after the session's previous
// stamp, then calls the session (which stamps), then opens the next window. Every
// window lies inside the interval the session charged to that bucket, so the session
// must charge each bucket at least what the test measured in it, and not much more.
// The hooks run only on the loop thread, so no locking.
type measuringHooks struct {
	l *ledger

	open  int // 0: none, 1: <main>, 2: <wait>, 3: the coroutine cur
	cur   uint64
	t0    uint64
	c0    time.Duration
	main  span
	wait  span
	coros map[uint64]*span
}

const (
	openNone = iota
	openMain
	openWait
	openCoro
)

func (m *measuringHooks) closeWindow() {
	c1, t1 := threadCPU(), tsc.Now()
	var sp *span
	switch m.open {
	case openNone:
		return
	case openMain:
		sp = &m.main
	case openWait:
		sp = &m.wait
	case openCoro:
		sp = m.coros[m.cur]
		if sp == nil {
			sp = &span{}
			m.coros[m.cur] = sp
		}
	}
	sp.ticks += t1 - m.t0
	sp.cpu += c1 - m.c0
	sp.n++
	m.open = openNone
}

func (m *measuringHooks) openWindow(which int, id uint64) {
	m.open, m.cur = which, id
	m.t0, m.c0 = tsc.Now(), threadCPU()
}

func (m *measuringHooks) Spawn(c, parent *coro.Coro) { m.l.Spawn(c, parent) }
func (m *measuringHooks) Resume(c *coro.Coro) {
	m.closeWindow()
	m.l.Resume(c)
	m.openWindow(openCoro, c.ID())
}
func (m *measuringHooks) Yield(c *coro.Coro, st coro.State, pc uintptr) {
	m.closeWindow()
	m.l.Yield(c, st, pc)
	m.openWindow(openMain, 0)
}
func (m *measuringHooks) Exit(c *coro.Coro, panicked bool) {
	m.closeWindow()
	m.l.Exit(c, panicked)
	m.openWindow(openMain, 0)
}
func (m *measuringHooks) WaitBegin(c *coro.Coro, r coro.WaitReason, pc uintptr) {
	m.l.WaitBegin(c, r, pc)
}
func (m *measuringHooks) WaitEnd(c *coro.Coro) { m.l.WaitEnd(c) }
func (m *measuringHooks) BeforePoll() {
	m.closeWindow()
	m.l.BeforePoll()
	m.openWindow(openWait, 0)
}
func (m *measuringHooks) AfterPoll() {
	m.closeWindow()
	m.l.AfterPoll()
	m.openWindow(openMain, 0)
}

// TestBucketsAgainstIndependentClocks: conservation alone cannot catch a charge to
// the wrong bucket (every delta lands somewhere, so the sum always closes). Here each
// bucket is held to what the test measured inside it with its own clock reads: a
// coroutine burning CPU measured by itself in its own slices, <main> doing scheduler
// work the test creates (two thousand timers firing, workers started for spawns from
// another goroutine), and <wait> around the loop's idle polls.
func TestBucketsAgainstIndependentClocks(t *testing.T) {
	m := &measuringHooks{coros: map[uint64]*span{}}
	wrap := func(o *options) error {
		o.wrap = func(l *ledger) coroHooks { m.l = l; return m }
		return nil
	}
	var self time.Duration // the burner's CPU, measured by itself inside its slices
	var burnerID uint64
	finished := 0 // of the other three bodies; all run on the loop's thread
	p := runProfiled(t, []Option{wrap, SampleRate(0)},
		func() {
			defer func() { finished++ }()
			burnerID = coro.Current().ID()
			for i := 0; i < 20; i++ {
				c0 := threadCPU()
				burnCPU(time.Millisecond)
				self += threadCPU() - c0
				coro.Yield()
			}
		},
		func() { // the loop idles in epoll_wait (at the latest in the last, long sleep)
			for i := 0; i < 3; i++ {
				coro.Sleep(10 * time.Millisecond)
			}
			// The last sleep starts once the others are done: on a loaded machine their
			// work outlasted all of these sleeps, each expiring before the loop polled,
			// and the loop never idled (1 run in 4 of the whole suite under load). Left
			// then are the 20ms sleepers, so the loop idles in this one.
			for finished < 3 {
				coro.Sleep(time.Millisecond)
			}
			coro.Sleep(60 * time.Millisecond)
		},
		func() { // two thousand timers fire at once: scheduler work
			defer func() { finished++ }()
			for i := 0; i < 2000; i++ {
				coro.Spawn(func() { coro.Sleep(20 * time.Millisecond) })
			}
		},
		func() { // spawns from another goroutine: the loop starts them, in <main>
			defer func() { finished++ }()
			done := make(chan struct{})
			go func() {
				for i := 0; i < 500; i++ {
					coro.Spawn(func() {})
				}
				close(done)
			}()
			for {
				select {
				case <-done:
					return
				default:
					coro.Sleep(time.Millisecond)
				}
			}
		},
	)
	checkConservation(t, p)
	l := p.Loops[0]
	nsOf := func(ticks uint64) time.Duration { return time.Duration(ticksToNs(p, ticks)) }
	check := func(name string, got *format.Counters, want *span) {
		t.Helper()
		if want == nil || want.n == 0 {
			return
		}
		// Inside: every window lies in an interval charged to this bucket.
		if got[wire.Ticks] < want.ticks || time.Duration(got[wire.CPU]) < want.cpu {
			t.Errorf("%s charged %v (%v CPU), less than the %v (%v CPU) measured inside its %d intervals",
				name, nsOf(got[wire.Ticks]), time.Duration(got[wire.CPU]), nsOf(want.ticks), want.cpu, want.n)
		}
		// Not much more: per interval, the rest of two hooks' CPU time; plus the
		// loop's start-up and end. (Not checked in ticks: on this shared machine a
		// thread preempted between a stamp and the test's read loses milliseconds of
		// wall time that CPU time does not count.)
		if extra := time.Duration(got[wire.CPU]) - want.cpu; extra > time.Duration(want.n)*30*time.Microsecond+10*time.Millisecond {
			t.Errorf("%s charged %v of CPU more than the %v measured inside its %d intervals", name, extra, want.cpu, want.n)
		}
	}
	check("<main>", &l.Main, &m.main)
	check("<wait>", &l.Wait, &m.wait)
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		check(fmt.Sprintf("coroutine %d (%s)", c.ID, c.Name), &c.Counters, m.coros[c.ID])
	}
	// CPU time cannot exceed elapsed time, bucket by bucket (a reading of another
	// thread's clock, or a delta charged to the wrong bucket, could).
	buckets := map[string]*format.Counters{"<main>": &l.Main, "<wait>": &l.Wait}
	for i := range p.Coroutines {
		buckets[fmt.Sprint("coroutine ", p.Coroutines[i].ID)] = &p.Coroutines[i].Counters
	}
	for name, b := range buckets {
		if cpu, wall := time.Duration(b[wire.CPU]), nsOf(b[wire.Ticks]); cpu > wall+wall/100+time.Millisecond {
			t.Errorf("%s: CPU %v in %v of ticks", name, cpu, wall)
		}
	}
	burner := coroByName(t, p, "body0")
	if burner.ID != burnerID {
		t.Fatalf("body0 is coroutine %d, the burner %d", burner.ID, burnerID)
	}
	if got := time.Duration(burner.Counters[wire.CPU]); got < self || got > self+21*50*time.Microsecond {
		t.Errorf("the burner was charged %v of CPU; it measured %v in its own slices", got, self)
	}
	// The scheduler work was real and went to <main>; the idle polls to <wait>.
	if m.main.cpu < time.Millisecond {
		t.Errorf("the test's scheduler work measured only %v of CPU in <main>'s intervals", m.main.cpu)
	}
	if m.wait.n == 0 || m.wait.ticks == 0 {
		t.Errorf("the loop never idled in a blocking poll (%d windows)", m.wait.n)
	}
}

// Go whose function runs the loop on another goroutine (so another thread): the first
// hook finds the loop on a thread other than Go's, and the ledger moves there instead
// of subtracting Go's thread's readings from the loop's.
func TestGoLoopOnAnotherThread(t *testing.T) {
	var burned time.Duration
	var loopTid int
	coro.SpawnNamed("burner", func() {
		loopTid = threadID()
		c0 := threadCPU()
		burnCPU(20 * time.Millisecond)
		burned = threadCPU() - c0
	})
	path := filepath.Join(t.TempDir(), "p.bin")
	goTid := 0
	err := Go(func() {
		goTid = threadID()
		burnCPU(30 * time.Millisecond) // Go's thread, outside the loop: not the loop's
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // (Go's thread is locked to Go's goroutine: this is another)
			defer runtime.UnlockOSThread()
			coro.EventLoop()
			close(done)
		}()
		<-done
	}, File(path), SampleRate(0))
	if err != nil {
		t.Fatal(err)
	}
	if goTid == loopTid {
		t.Fatalf("the loop ran on Go's thread %d", goTid)
	}
	p, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkLoopConservation(t, p)
	l := p.Loops[0]
	if l.Total[wire.CPU] < uint64(burned) || time.Duration(l.Total[wire.CPU]) > burned+10*time.Millisecond {
		t.Errorf("loop total CPU %v; the loop's burner used %v (Go's thread burned 30ms outside it)", time.Duration(l.Total[wire.CPU]), burned)
	}
	for _, q := range quantities[2:] {
		if v := q.get(&l.Total); v > 1e6 {
			t.Errorf("Total %s = %d: wrapped", q.name, v)
		}
	}
}

// A reading lower than the one before is charged as no change and counted (it is
// noted in the profile), not wrapped to 2^64 - d.
func TestBackwardsReadingNotWrapped(t *testing.T) {
	for _, ticksOnly := range []bool{false, true} {
		l := newLedger(newSession(options{ticksOnly: ticksOnly}, false), nil)
		l.last = format.Counters{wire.Ticks: 1000, wire.CPU: 5000, wire.Minflt: 7, wire.Nvcsw: 3}
		l.now = format.Counters{wire.Ticks: 900, wire.CPU: 6000, wire.Minflt: 6, wire.Nvcsw: 4}
		l.charge()
		want := format.Counters{wire.CPU: 1000, wire.Nvcsw: 1}
		if ticksOnly {
			want = format.Counters{}
		}
		if l.main != want || l.backwards != 1 {
			t.Errorf("ticksOnly %v: charged %+v (%d backwards), want %+v and 1", ticksOnly, l.main, l.backwards, want)
		}
		if l.last[wire.Ticks] != 1000 || (!ticksOnly && l.last[wire.Minflt] != 7) {
			t.Errorf("ticksOnly %v: the previous stamp moved back to %+v", ticksOnly, l.last)
		}
		if n := l.notes(nil); len(n) != 1 || !strings.Contains(n[0], "lower") {
			t.Errorf("ticksOnly %v: notes %q", ticksOnly, n)
		}
	}
}

// The hooks of a ledger that has ended (a hook racing the detach, or a tool calling
// them) charge nothing and record nothing: ready's one comparison fails on the
// stopped ledger's run (notStamping), and enter refuses it. Checked to fail when end
// leaves the run count of the last segment in place.
func TestHooksOnStoppedLedger(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := defaultOptions()
	o.ticksOnly = true
	l := newLedger(newSession(o, false), nil)
	l.sched = coro.Default() // what attach would set
	l.begin(nil)
	c1 := coro.Spawn(func() {})
	c2 := coro.Spawn(func() {})
	defer coro.EventLoop() // let the two spawned coroutines run and finish
	l.Resume(c1)
	l.Yield(c1, coro.StateRunnable, 0)
	l.end(true)
	if l.state != stateStopped {
		t.Fatalf("state %d after end", l.state)
	}
	main, wait, stop := l.main, l.wait, l.stop
	rec := *l.coros[0]
	n := len(l.coros)
	l.Spawn(c2, c1)
	l.Resume(c1)
	l.WaitBegin(c1, coro.WaitSleep, 0)
	l.Yield(c1, coro.StateWaiting, 0)
	l.BeforePoll()
	l.AfterPoll()
	l.WaitEnd(c1)
	l.Resume(c2)
	l.Exit(c2, false)
	if l.main != main || l.wait != wait || l.stop != stop || len(l.coros) != n {
		t.Errorf("hooks after end charged: main %v -> %v, wait %v -> %v, %d -> %d records",
			main, l.main, wait, l.wait, n, len(l.coros))
	}
	if r := l.coros[0]; r.resumes != rec.resumes || r.acc != rec.acc || r.waits != rec.waits || r.exited {
		t.Errorf("hooks after end changed coroutine %d's record: resumes %d -> %d, waits %v -> %v",
			r.id, rec.resumes, r.resumes, rec.waits, r.waits)
	}
	if l.ringNext != 1 {
		t.Errorf("%d slices recorded, want the one before end", l.ringNext)
	}
}
