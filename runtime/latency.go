package coro

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coroprof/coroprof/internal/termtext"
)

// defaultLatencyThreshold is the slice length above which a coroutine is reported as
// having held the loop too long (Shrapnel's default).
const defaultLatencyThreshold = int64(200 * time.Millisecond)

// The latency check reads a coarse clock at every switch: a word that a ticker
// goroutine sets to the monotonic time every coarseTick. Reading it is one plain load;
// reading the monotonic clock itself costs a vDSO call (measured at 20-60 ns on the
// project's VMs, more than the whole rest of a switch; docs/PERFORMANCE.md), which would
// double the cost of a Yield. A slice is therefore measured to within one tick, which
// is a tenth of the threshold or finer, and the ticker runs only while a loop with the
// check on runs.
var coarse struct {
	now atomic.Int64

	mu     sync.Mutex
	users  int
	loops  []*latencyState // whose thread CPU time the ticker reads (cpuTick)
	tick   time.Duration
	reset  chan time.Duration
	stop   chan struct{}
	ticker *time.Ticker
}

const maxCoarseTick = 10 * time.Millisecond

// coarseTickFor is the tick a threshold needs: a tenth of it, between 100µs and 10ms.
func coarseTickFor(threshold int64) time.Duration {
	t := time.Duration(threshold / 10)
	if t > maxCoarseTick {
		t = maxCoarseTick
	}
	if t < 100*time.Microsecond {
		t = 100 * time.Microsecond
	}
	return t
}

// coarseAcquire starts the ticker (or makes it faster) for loop l, whose threshold is
// threshold, on l's thread; coarseRelease is its counterpart when the loop stops.
func coarseAcquire(l *latencyState, threshold int64) {
	tick := coarseTickFor(threshold)
	l.cpuClock, l.cpuOK = threadCPUClock()
	l.cpuTick.Store(-1)
	if l.cpuOK {
		if ns, ok := ownCPU(); ok {
			l.cpuTick.Store(ns)
		}
	}
	coarse.mu.Lock()
	defer coarse.mu.Unlock()
	coarse.now.Store(nanotime())
	coarse.loops = append(coarse.loops, l)
	coarse.users++
	if coarse.users == 1 {
		coarse.tick = tick
		coarse.stop = make(chan struct{})
		coarse.ticker = time.NewTicker(tick)
		go coarseRun(coarse.ticker, coarse.stop)
		return
	}
	if tick < coarse.tick {
		coarse.tick = tick
		coarse.ticker.Reset(tick)
	}
}

func coarseRelease(l *latencyState) {
	coarse.mu.Lock()
	defer coarse.mu.Unlock()
	for i, x := range coarse.loops {
		if x == l {
			coarse.loops = append(coarse.loops[:i], coarse.loops[i+1:]...)
			break
		}
	}
	coarse.users--
	if coarse.users == 0 {
		coarse.ticker.Stop()
		close(coarse.stop)
		coarse.ticker, coarse.stop = nil, nil
	}
}

func coarseRun(t *time.Ticker, stop chan struct{}) {
	unlabelled() // may be started from a coroutine (SetLatencyWarning): offload.go
	for {
		select {
		case <-t.C:
			coarse.now.Store(nanotime())
			coarse.mu.Lock()
			for _, l := range coarse.loops {
				if l.cpuOK {
					if ns, ok := readCPUClock(l.cpuClock); ok {
						l.cpuTick.Store(ns)
					}
				}
			}
			coarse.mu.Unlock()
		case <-stop:
			return
		}
	}
}

// latencyState is a loop's latency check. The stamp that ends one slice starts the
// next (the scheduler's own work between two slices is charged to the second; it is
// tiny), and a blocking poll restarts it.
type latencyState struct {
	threshold int64 // ns; 0 turns the check off
	stamp     int64 // coarse time at the start of the current slice
	active    bool  // this loop holds a reference on the coarse ticker

	// The loop thread's CPU time, so that a warning can say how much of a long
	// slice the thread actually ran: the ticker reads it from its own thread at
	// each tick, next to the coarse time (cpuTick; -1 unknown), and the switch
	// path copies it with the stamp (cpuStamp), one plain load and store more. The
	// loop thread reads its own CPU clock only in a warning. A slice's CPU figure
	// is therefore late by up to one tick at its start, as its length is.
	cpuTick  atomic.Int64
	cpuStamp int64
	cpuClock int32 // the loop thread's CPU clock, readable from the ticker
	cpuOK    bool
	notify   func(c *Coro, d time.Duration)
	slices   sliceStats // slice count and longest slice, for the console (console_stats.go)
}

// start is called when the loop starts, stop when it ends.
func (l *latencyState) start() {
	if l.threshold > 0 {
		coarseAcquire(l, l.threshold)
		l.active = true
		l.stamp = coarse.now.Load()
		l.cpuStamp = l.cpuTick.Load()
	}
}

func (l *latencyState) stop() {
	if l.active {
		coarseRelease(l)
		l.active = false
	}
}

// polled is called after a blocking poll: waiting is not running.
func (l *latencyState) polled() {
	l.stamp = coarse.now.Load()
	l.cpuStamp = l.cpuTick.Load()
}

// sliceEnd is called when c gives up control (yield, park, exit). Small enough to be
// inlined into the switch path; the warning itself is out of line.
func (s *Scheduler) sliceEnd(c *Coro) {
	if s.latency.threshold > 0 {
		now := coarse.now.Load()
		if d := now - s.latency.stamp; d > s.latency.slices.mark {
			s.noteSlice(c, d) // a new longest slice, or one over the threshold
		}
		s.latency.stamp = now
		s.latency.cpuStamp = s.latency.cpuTick.Load()
		s.latency.slices.count++
	}
}

// sliceCPU is how much of the slice now ending the loop thread spent on a CPU (one
// read of its CPU clock), or -1 if not known.
func (s *Scheduler) sliceCPU() time.Duration {
	if s.latency.cpuStamp < 0 {
		return -1
	}
	now, ok := ownCPU()
	if !ok {
		return -1
	}
	return time.Duration(max(now-s.latency.cpuStamp, 0))
}

func (s *Scheduler) warnLatency(c *Coro, ns int64) {
	d := time.Duration(ns)
	if f := s.latency.notify; f != nil {
		f(c, d)
		return
	}
	cpu := ""
	if on := s.sliceCPU(); on >= 0 {
		cpu = fmt.Sprintf(", %v of it on the thread's CPU", min(on, d).Round(time.Millisecond))
		if on < d/2 {
			// Off the CPU: blocked in a system call (time.Sleep, a file read: this
			// coroutine's doing) or runnable but not run (a loaded machine: not).
			cpu += " (off the CPU for the rest: blocked in a system call, or descheduled)"
		}
	}
	fmt.Fprintf(os.Stderr, "%s coro: latency: coroutine %d (%s) ran %v without yielding%s (threshold %v)\n",
		time.Now().Format("2006-01-02T15:04:05.000000Z07:00"), c.ID(), termtext.Escape(c.loopName()), d.Round(time.Millisecond),
		cpu, time.Duration(s.latency.threshold))
}

// SetLatencyWarning sets the default loop's slice-length threshold (0 turns the
// warning off) and returns the previous one.
func SetLatencyWarning(d time.Duration) time.Duration { return defaultSched.SetLatencyWarning(d) }

// SetLatencyWarning sets the threshold above which a coroutine's run slice is
// reported, as one line naming the coroutine and the slice's length (default 200ms;
// 0 turns the check off), and returns the previous one. Slices are measured to
// within a tenth of the threshold (at most 10ms). Safe from any goroutine: the change
// is made on s's loop (see (*Scheduler).Coroutines for how, and for the one case in
// which it returns 0 without a change having been seen: an interrupted wait).
func (s *Scheduler) SetLatencyWarning(d time.Duration) time.Duration {
	if d < 0 {
		d = 0
	}
	var prev time.Duration
	s.onLoop(func() {
		prev = time.Duration(s.latency.threshold)
		s.latency.threshold = int64(d)
		s.latency.slices.setMark(int64(d))
		if CurrentScheduler() == s {
			// Changed inside the running loop: adjust the ticker now. (While the loop
			// does not run, its next run starts the ticker with the new threshold.)
			s.latency.stop()
			s.latency.start()
		}
	})
	return prev
}

// SetLatencyNotifier replaces the warning line of the default loop with f (nil
// restores the line on stderr).
func SetLatencyNotifier(f func(c *Coro, d time.Duration)) { defaultSched.SetLatencyNotifier(f) }

// SetLatencyNotifier replaces the warning line with f (nil restores it). f is called
// on the loop thread. Safe from any goroutine, like SetLatencyWarning.
func (s *Scheduler) SetLatencyNotifier(f func(c *Coro, d time.Duration)) {
	s.onLoop(func() { s.latency.notify = f })
}
