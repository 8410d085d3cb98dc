package profiler

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
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
			tids[i] = unix.Gettid()
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
	total := ticksToNs(p, l.Total.Ticks)
	if total > span-30e6 {
		t.Errorf("Total %.1fms of a %.1fms span: the 40ms gap between the runs was charged", total/1e6, span/1e6)
	}
	if l.Total.CPU < uint64(burned[0]+burned[1]) || float64(l.Total.CPU) > total+5e6 {
		t.Errorf("Total CPU %d ns: the runs burned %v and %v in %.1fms of ticks", l.Total.CPU, burned[0], burned[1], total/1e6)
	}
	for _, q := range quantities[2:] { // the event counters
		if v := q.get(&l.Total); v > 1e6 {
			t.Errorf("Total %s = %d: a delta across two threads wrapped", q.name, v)
		}
	}
	for i := 0; i < 2; i++ {
		c := coroByName(t, p, fmt.Sprintf("run%d", i))
		if c.CPU < uint64(burned[i]) || c.CPU > uint64(burned[i])+uint64(5*time.Millisecond) {
			t.Errorf("run%d charged %v of CPU, burned %v in its slice", i, time.Duration(c.CPU), burned[i])
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
