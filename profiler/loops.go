package profiler

import (
	"fmt"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// Several loops in one session.
//
// A session has one ledger per profiled loop. The first (the "primary") is the loop Go
// runs, or the one Start attaches to; the loops named by the Loops option each get a
// peer ledger, whose stamps read that loop's own thread clocks. The session owns
// everything process-wide: the CPU profile, the file, the signal handler. The ledgers
// share nothing at the switch path, so each loop's hooks run on its thread without a
// lock, and conservation holds per loop exactly as for one.

// Loops adds loops to profile beside the one Go runs or Start attaches to: the session
// records each of them in its own ledger (its own thread's clocks; coroutines tagged
// with their loop), and the file has one format.Loop per loop. A listed loop that is
// not running yet is attached now and begins at its first scheduling event (so start
// it only after Start returns, or from Go's fn); one that runs is attached by a
// short-lived coroutine on it (profiler.start). At the end each one's ledger is
// closed on its own thread by a coroutine (profiler.stop) while it runs, or at its
// last event if it has ended, so a session stopped on one loop waits for the others
// to reach a scheduling point. A loop listed twice, or also named by Loop, is
// profiled once.
func Loops(ss ...*coro.Scheduler) Option {
	return func(o *options) error {
		for i, s := range ss {
			if s == nil {
				return fmt.Errorf("profiler: Loops: scheduler %d of %d is nil", i+1, len(ss))
			}
			o.loops = append(o.loops, s)
		}
		return nil
	}
}

// AllLoops adds every loop running when the session starts (coro.RunningLoops), as
// Loops would; loops started later are not recorded. The debug console's "profile
// start" uses it, so a server with one loop per core is profiled whole.
func AllLoops() Option {
	return func(o *options) error { o.allLoops = true; return nil }
}

// attachPeers attaches a peer ledger to every loop of the Loops option that the primary
// does not profile already. It runs before the session is published.
func (s *session) attachPeers() error {
	me := coro.CurrentScheduler()
	list := s.opts.loops
	if s.opts.allLoops {
		list = append(append([]*coro.Scheduler(nil), list...), coro.RunningLoops()...)
	}
	for _, l := range list {
		if s.ledgerOf(l) != nil {
			continue
		}
		p := newLedger(s, l)
		sch := me
		if sch != l {
			sch = nil
		}
		if err := p.attachAndBegin(sch, false); err != nil {
			return err
		}
		s.peers = append(s.peers, p)
	}
	return nil
}

// ledgers returns the primary ledger, then the peers.
func (s *session) ledgers() []*ledger {
	return append([]*ledger{s.primary}, s.peers...)
}

// ledgerOf returns the session's ledger for loop sch (the primary or a peer), or nil.
func (s *session) ledgerOf(sch *coro.Scheduler) *ledger {
	if sch == s.primary.sched {
		return s.primary
	}
	for _, p := range s.peers {
		if p.sched == sch {
			return p
		}
	}
	return nil
}

// ledgerHere returns the ledger of the caller's loop, for the entry points that run on
// it (Region, instrumented functions): the primary when it profiles one loop or the
// caller is on none of them (the ledger's own checks then turn the call away).
func (s *session) ledgerHere() *ledger {
	if len(s.peers) == 0 { // one loop: no lookup (this inlines into Region)
		return s.primary
	}
	return s.peerHere()
}

func (s *session) peerHere() *ledger {
	if l := s.ledgerOf(coro.CurrentScheduler()); l != nil {
		return l
	}
	return s.primary
}

// closeFromAnywhere closes a peer's ledger on its own thread: at once when the caller
// is on it, through a stopper coroutine while the loop runs, or at its last event
// once its hooks are detached while it does not run (no hook can run any more then).
func (l *ledger) closeFromAnywhere() {
	if l.closed.Load() {
		return
	}
	sch := l.sched
	if coro.CurrentScheduler() == sch {
		l.close(true)
		return
	}
	for {
		if l.detach() {
			l.close(false)
			return
		}
		ran, _ := runOnLoop(sch, "profiler.stop", time.Time{}, func() error { l.close(true); return nil })
		if ran {
			<-l.done
			return
		}
	}
}

// closePeers closes every peer's ledger (finish, and a failed start).
func (s *session) closePeers() {
	for _, p := range s.peers {
		p.closeFromAnywhere()
	}
}
