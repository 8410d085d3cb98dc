package profiler

import (
	"errors"
	"fmt"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
)

// prepare readies a session before it is attached: the clocks are probed (so the hot
// path need not check errors), the run is described, and CPU sampling starts (before
// the first stamp, so samples cover the whole ledger).
func (s *session) prepare() error {
	if err := s.clk.probe(); err != nil {
		return fmt.Errorf("profiler: reading the thread's CPU clock and getrusage(RUSAGE_THREAD): %w (use TicksOnly to profile without them)", err)
	}
	fillMeta(&s.meta, s.opts.sampleRate)
	s.startSampling()
	return nil
}

// attach installs the session as the hooks of sch (the default loop when nil). It
// refuses to displace hooks someone else attached: silently stealing them would break
// that tool without a word.
func (s *session) attach(sch *coro.Scheduler) error {
	if sch == nil {
		sch = coro.Default()
	}
	s.sched = sch
	s.loopID = int64(sch.LoopID())
	if prev := sch.SetHooks(s); prev != nil {
		sch.SetHooks(prev)
		return fmt.Errorf("profiler: loop %d already has scheduler hooks attached (%T)", sch.LoopID(), prev)
	}
	return nil
}

// detach removes the session's hooks (on the loop thread, or while the loop is not
// running: the scheduler's rule for SetHooks).
func (s *session) detach() {
	if s.sched != nil {
		s.sched.SetHooks(nil)
	}
}

// abort undoes a session that could not start.
func (s *session) abort() {
	if s.sampling {
		s.stopSampling(newSymtab(&format.Profile{}), &format.Profile{})
	}
}

// finish closes the ledger, detaches, collects the samples and writes the file. It
// runs once; later calls wait for and return the first result. onLoop says the caller
// runs on the loop thread, whose clocks the last stamp reads.
func (s *session) finish(onLoop bool) error {
	s.finishOnce.Do(func() {
		s.end(onLoop)
		s.detach()
		s.closePeers() // each on its own thread; build reads their ledgers
		if s.sigStop != nil {
			s.sigStop()
		}
		s.meta.Duration = time.Since(s.wallStart)
		if s.meta.Duration < 0 {
			s.meta.Duration = 0
		}
		p := s.build()
		if !s.discard {
			s.err = format.WriteFile(s.opts.file, p)
		}
		if s.err != nil {
			s.err = fmt.Errorf("profiler: %w", s.err)
		}
		s.profile = p
		active.CompareAndSwap(s, nil)
		close(s.done)
	})
	<-s.done
	return s.err
}

// stopFromOutside stops a Start session from a goroutine that is not the loop's: the
// ledger belongs to the loop thread, so the loop itself must close it. A stopper
// coroutine does that while the loop runs. When the loop does not run, no hook can
// run either, so the ledger is closed here as it stood at the loop's last event.
func (s *session) stopFromOutside() error {
	if !s.sched.Running() {
		return s.finish(false)
	}
	s.sched.Spawn(func() { s.finish(true) })
	for {
		select {
		case <-s.done:
			return s.err
		case <-time.After(100 * time.Millisecond):
		}
		if !s.sched.Running() {
			// The loop ended before it ran the stopper (which then waits in its
			// inbox for the next run, where finish is a no-op).
			return s.finish(false)
		}
	}
}

// errStartedByGo answers a Stop of a session that Go's return stops.
var errStartedByGo = errors.New("profiler: Stop: the session was started by Go; it stops when Go's function returns")

// attachAndBegin attaches the session to the loop it will profile and, when the
// caller runs on that loop's thread, takes the first stamp. sch is the caller's loop
// (nil: not on a loop thread).
//
//   - Go (byGo): the caller's locked thread will run the default loop: begin now.
//   - Start from a coroutine: begin now, the open bucket being that coroutine.
//   - Start from elsewhere while the default loop runs: SetHooks may only be called on
//     the loop thread, so a starter coroutine attaches and begins there.
//   - Start from elsewhere while it does not run: attach, and begin at its first event.
func (s *session) attachAndBegin(sch *coro.Scheduler, byGo bool) error {
	switch {
	case byGo:
		if l := s.opts.loop; (l == nil && coro.Default().Running()) || (l != nil && l.Running()) {
			return errors.New("profiler: Go: the loop already runs (Go runs it; to profile a running loop use Start)")
		}
		if err := s.attach(s.opts.loop); err != nil {
			return err
		}
		s.begin(nil)
		return nil
	case sch != nil:
		if err := s.attach(sch); err != nil {
			return err
		}
		s.begin(coro.Current())
		return nil
	}
	def := s.opts.loop
	if def == nil {
		def = coro.Default()
	}
	if !def.Running() {
		s.wallStart = time.Now()
		return s.attach(def) // pending: the first hook begins
	}
	res := make(chan error, 1)
	def.SpawnNamed("profiler.start", func() {
		res <- s.attachAndBegin(coro.CurrentScheduler(), false)
	})
	for {
		select {
		case err := <-res:
			return err
		case <-time.After(100 * time.Millisecond):
		}
		if !def.Running() {
			return errors.New("profiler: Start: the event loop stopped before the session could attach to it")
		}
	}
}
