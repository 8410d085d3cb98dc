package profiler

import (
	"errors"
	"fmt"
	"sync/atomic"
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

// attach installs the session as the hooks of sch (the default loop when nil), on
// the loop thread (onLoop: from one of its coroutines) or, from anywhere else, only
// while the loop does not run (UpdateHooksIdle: ordered against the loop's start, so
// no race with a loop starting meanwhile). It refuses to displace hooks someone else
// attached: silently stealing them would break that tool without a word. running
// reports that the loop runs, so attaching from outside must go through a coroutine.
func (s *session) attach(sch *coro.Scheduler, onLoop bool) (running bool, err error) {
	if sch == nil {
		sch = coro.Default()
	}
	s.sched = sch
	s.loopID = int64(sch.LoopID())
	if s.hooks == nil {
		s.hooks = s
		if s.opts.wrap != nil {
			s.hooks = s.opts.wrap(s)
		}
	}
	var taken coro.Hooks
	if onLoop {
		if prev := sch.SetHooks(s.hooks); prev != nil {
			sch.SetHooks(prev)
			taken = prev
		}
	} else if !sch.UpdateHooksIdle(func(cur coro.Hooks) coro.Hooks {
		if cur != nil {
			taken = cur
			return cur
		}
		return s.hooks
	}) {
		return true, nil
	}
	if taken != nil {
		return false, fmt.Errorf("profiler: loop %d already has scheduler hooks attached (%T)", sch.LoopID(), taken)
	}
	return false, nil
}

// detach removes the session's hooks: on the loop thread directly, elsewhere only while
// the loop does not run. It reports false when the loop runs and the caller is not on
// it (the hooks are then left in place).
func (s *session) detach() bool {
	if s.sched == nil {
		return true
	}
	if coro.CurrentScheduler() == s.sched {
		if cur := s.sched.SetHooks(nil); cur != s.hooks {
			s.sched.SetHooks(cur) // not ours (cannot happen: attach refuses to share)
		}
		return true
	}
	return s.sched.UpdateHooksIdle(func(cur coro.Hooks) coro.Hooks {
		if cur == s.hooks {
			return nil
		}
		return cur
	})
}

// abort undoes a session that could not start.
func (s *session) abort() {
	if s.sampling {
		s.stopSampling(newSymtab(&format.Profile{}), &format.Profile{})
	}
}

// finish closes the ledger, detaches, collects the samples and writes the file. It
// runs once; later calls wait for and return the first result. onLoop says the caller
// may take the last stamp (see end). A caller that is not on the loop thread must have
// detached the hooks first (detach), so no hook can touch the ledger meanwhile.
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
		if s.detach() {
			return s.finish(onLoop)
		}
		ran, err := runOnLoop(s.sched, "profiler.stop", deadline, func() error { return s.finish(true) })
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

// attachAndBegin attaches the session to the loop it will profile and, when the
// caller runs on that loop's thread, takes the first stamp. sch is the caller's loop
// (nil: not on a loop thread).
//
//   - Go (byGo): the caller's locked thread will run the loop: begin now (the first
//     hook checks that the loop does run on this thread; see enter).
//   - Start from a coroutine: begin now, the open bucket being that coroutine, with
//     the loop's live coroutines recorded as they stand.
//   - Start from elsewhere while the loop runs: SetHooks may only be called on the
//     loop thread, so a starter coroutine attaches and begins there.
//   - Start from elsewhere while it does not run: attach (ordered against the loop's
//     start), and begin at its first event. If the loop starts meanwhile, the
//     starter's way is taken.
func (s *session) attachAndBegin(sch *coro.Scheduler, byGo bool) error {
	def := s.opts.loop
	if def == nil {
		def = coro.Default()
	}
	switch {
	case byGo:
		running, err := s.attach(def, false)
		if err != nil {
			return err
		}
		if running {
			return errors.New("profiler: Go: the loop already runs (Go runs it; to profile a running loop use Start)")
		}
		s.begin(nil)
		s.run = noRun
		return nil
	case sch != nil:
		if _, err := s.attach(sch, true); err != nil {
			return err
		}
		s.begin(coro.Current())
		return nil
	}
	for {
		s.wallStart = time.Now() // before attaching: from then on the loop owns the session
		running, err := s.attach(def, false)
		if err != nil {
			return err
		}
		if !running {
			return nil // pending: the first hook begins
		}
		ran, err := runOnLoop(def, "profiler.start", time.Time{}, func() error {
			return s.attachAndBegin(coro.CurrentScheduler(), false)
		})
		if ran {
			return err
		}
		// The loop ended before the starter ran: attach while it is idle.
	}
}
