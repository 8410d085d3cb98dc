package profiler

import (
	"fmt"
	"sync/atomic"
	"time"

	coro "github.com/coroprof/coroprof/runtime"
)

// Several loops in one session.
//
// A session has one ledger per profiled loop. The first (the session value itself,
// the "primary") is the loop Go runs, or the one Start attaches to; the loops named by
// the Loops option each get a peer ledger: a session value used only as that loop's
// coro.Hooks, whose stamps read that loop's own thread clocks. The primary owns
// everything process-wide: the CPU profile, the file, the signal handler, Region's
// entry point. The ledgers share nothing at the switch path, so each loop's hooks run
// on its thread without a lock, and conservation holds per loop exactly as for one.

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
		if l == s.sched || s.peerOf(l) != nil {
			continue
		}
		p := newSession(s.opts, s.byGo)
		p.primary = s
		p.sampling = s.sampling // so its coroutines label their samples
		p.opts.loop = l
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

// peerOf returns the ledger of loop l among the peers, or nil.
func (s *session) peerOf(l *coro.Scheduler) *session {
	for _, p := range s.peers {
		if p.sched == l {
			return p
		}
	}
	return nil
}

// ledgerOf returns the session's ledger for loop l (the primary or a peer), or nil.
func (s *session) ledgerOf(l *coro.Scheduler) *session {
	if l == s.sched {
		return s
	}
	return s.peerOf(l)
}

// closePeer closes a peer's ledger once. onLoop says the caller runs on its thread;
// a caller that does not must have detached the peer's hooks first.
func (p *session) closePeer(onLoop bool) {
	p.finishOnce.Do(func() {
		p.end(onLoop)
		p.detach()
		p.closed.Store(true)
		close(p.done)
	})
}

// closeFromAnywhere closes a peer's ledger on its own thread: at once when the caller
// is on it, through a stopper coroutine while the loop runs, or at its last event
// once its hooks are detached while it does not run (no hook can run any more then).
func (p *session) closeFromAnywhere() {
	if p.closed.Load() {
		return
	}
	sch := p.sched
	if coro.CurrentScheduler() == sch {
		p.closePeer(true)
		return
	}
	for {
		if p.detach() {
			p.closePeer(false)
			return
		}
		ran, _ := runOnLoop(sch, "profiler.stop", time.Time{}, func() error { p.closePeer(true); return nil })
		if ran {
			<-p.done
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

// peerState is what a peer ledger needs beyond a session's fields; kept in one place.
type peerState struct {
	primary *session   // set on peers: the session they belong to
	peers   []*session // set on the primary: the other loops' ledgers
	closed  atomic.Bool
	discard bool // the primary: a start that failed half-way; write no file
}
