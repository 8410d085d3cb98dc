package profiler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
)

// session is one profiling run, process-wide: the options, the CPU profile, the
// signal handler, the file, and the ledgers (ledger.go) of the loops it profiles.
// The primary ledger is the loop Go runs or Start attached to; the Loops and AllLoops
// options add peers (loops.go). Start, Stop and finish run on any goroutine; the
// ledgers are touched only on their loops' threads until finish has closed them.
type session struct {
	opts options
	byGo bool // started by Go (stopped by Go's return, not by Stop)

	primary *ledger
	peers   []*ledger
	discard bool // a start that failed half-way: write no file

	finishOnce sync.Once
	done       chan struct{}
	err        error
	sigStop    func()                    // undoes the signal handler
	sigRelease func()                    // ends the hold on the runtime's signals (holdSignals)
	lateSig    atomic.Pointer[os.Signal] // a held signal that arrived: raised once the file is written

	// CPU samples.
	cpuBuf     bytes.Buffer
	sampling   bool
	sampleRate int // the rate actually in effect, Hz

	meta    format.Meta
	profile *format.Profile // what finish wrote (kept for tests)
}

func newSession(o options, byGo bool) *session {
	notes := o.fitPlatform(threadClocks) // platform.go
	s := &session{opts: o, byGo: byGo, done: make(chan struct{})}
	s.meta.Notes = append(s.meta.Notes, notes...)
	if s.reconciled() {
		s.meta.Notes = append(s.meta.Notes, "CPU time reconciled: the thread CPU clock was read only where the thread had been switched out; per-slice CPU figures are estimates, totals exact (profiler.ReconciledCPU)")
	}
	return s
}

// reconciled says the ledgers stamp in the ReconciledCPU mode (reconcile.go).
func (s *session) reconciled() bool {
	return s.opts.reconcile && !s.opts.ticksOnly && !s.opts.noRusage
}

// prepare readies a session before it is attached: the clocks are probed (so the hot
// path need not check errors), the run is described, CPU sampling starts (before the
// first stamp, so samples cover the whole ledger), and the primary ledger is made.
func (s *session) prepare() error {
	var k clocks
	k.ticksOnly, k.noRusage = s.opts.ticksOnly, s.opts.noRusage
	if err := k.probe(); err != nil {
		return fmt.Errorf("profiler: reading the thread's CPU clock and getrusage(RUSAGE_THREAD): %w (use TicksOnly to profile without them)", err)
	}
	fillMeta(&s.meta, s.opts.sampleRate)
	if n := cpuClockNote(); n != "" && !s.opts.ticksOnly {
		s.meta.Notes = append(s.meta.Notes, n)
	}
	s.startSampling()
	s.primary = newLedger(s, s.opts.loop)
	return nil
}

// abort undoes a session that could not start.
func (s *session) abort() {
	if s.sampling {
		s.stopSampling(newSymtab(&format.Profile{}), &format.Profile{})
	}
}

// finish closes the ledgers, collects the samples and writes the file. It runs once;
// later calls wait for and return the first result. onLoop says the caller may take
// the primary ledger's last stamp (see ledger.end). A caller that is not on the
// primary loop's thread must have detached its hooks first (detach), so no hook can
// touch the ledger meanwhile; the peers are closed each on its own thread.
func (s *session) finish(onLoop bool) error {
	s.finishOnce.Do(func() {
		l := s.primary
		l.close(onLoop)
		s.closePeers()
		if s.sigStop != nil {
			s.sigStop()
		}
		s.meta.StartTick, s.meta.StopTick = l.start[wire.Ticks], l.stop[wire.Ticks]
		s.meta.WallStart = l.wallStart.UTC()
		s.meta.Duration = max(time.Since(l.wallStart), 0)
		p := s.build()
		if !s.discard {
			s.err = format.WriteFile(s.opts.file, p)
		}
		if s.err != nil {
			s.err = fmt.Errorf("profiler: %w", s.err)
		}
		s.raiseAfterWrite()
		s.profile = p
		active.CompareAndSwap(s, nil)
		close(s.done)
		if s.sigRelease != nil {
			s.sigRelease() // after done: a signal held meanwhile is raised by holdSignals
		}
	})
	<-s.done
	return s.err
}

// errLoopBusy says the loop did not reach a scheduling point in time.
var errLoopBusy = errors.New("profiler: the event loop did not reach a scheduling point in time")

// stopFromOutside stops a session from a goroutine that is not the loop's (limit > 0
// bounds the wait). The ledger belongs to the loop thread, so while the loop runs a
// stopper coroutine closes it there; while it does not run, the hooks are detached
// (ordered against a loop starting meanwhile) and the ledger closed here as it stood
// at the loop's last event. Go's thread after its loop returned is such a caller too:
// onLoop lets end stamp there if that thread ran the loop.
func (s *session) stopFromOutside(limit time.Duration, onLoop bool) error {
	var deadline time.Time
	if limit > 0 {
		deadline = time.Now().Add(limit)
	}
	for {
		if s.primary.detach() {
			return s.finish(onLoop)
		}
		ran, err := runOnLoop(s.primary.sched, "profiler.stop", deadline, func() error { return s.finish(true) })
		if ran || err != nil {
			return err
		}
		// The loop ended before the stopper ran: detach and close here.
	}
}

// runOnLoop has loop sch run fn in a coroutine named name, on its thread, and waits
// for it. If the loop ends first (or the deadline, if not zero, passes) before the
// coroutine claimed the work, the work is withdrawn: ran is false and fn never runs
// (the coroutine, left in the inbox for the loop's next run, does nothing there).
func runOnLoop(sch *coro.Scheduler, name string, deadline time.Time, fn func() error) (ran bool, err error) {
	var claim atomic.Int32 // 0 open, 1 claimed by the coroutine, 2 withdrawn
	res := make(chan error, 1)
	sch.SpawnNamed(name, func() {
		if claim.CompareAndSwap(0, 1) {
			res <- fn()
		}
	})
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-res:
			return true, err
		case <-tick.C:
		}
		late := !deadline.IsZero() && time.Now().After(deadline)
		if (late || !sch.Running()) && claim.CompareAndSwap(0, 2) {
			if late {
				return false, errLoopBusy
			}
			return false, nil
		}
	}
}

// errStartedByGo answers a Stop of a session that Go's return stops.
var errStartedByGo = errors.New("profiler: Stop: the session was started by Go; it stops when Go's function returns")
