package profiler

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

// Runs and threads. A ledger reads one thread's clocks, and the CPU clock and
// getrusage counters of two threads must never be subtracted from each other. Each
// run of EventLoop keeps one OS thread locked, but a session begun from outside may
// span several runs, each perhaps on another thread. So a ledger is bound to the run
// (internal/hooks, RunsEnded, read by every hook in ready) and thread (threadID, once
// per run) of its first stamp: when a hook finds the loop in another run, the ledger's
// segment is closed at the last stamp taken on the old thread (the last coroutine's
// exit, which in the reconciled mode reads the CPU clock), and a new segment opens with
// a fresh reading on the new thread. The loop's Total is the sum of the segments; the
// time between runs is charged to no bucket and left out of Total, and the profile's
// notes say how many runs and how long the gaps were. Go's first stamp is taken on its
// own thread before the loop runs: if the loop then runs elsewhere, the ledger moves
// there at its first event. A stop off the loop thread stamps only on the segment's own
// thread; otherwise the ledger closes at the last stamp a hook took. A reading lower
// than the one before (never seen on one thread) is charged as no change and noted,
// never wrapped.
//
// The switch path neither allocates nor looks anything up in a map: a coroutine's
// record hangs off the coroutine's hook slot (internal/hooks, SetHookData; checked to
// belong to this ledger), records are carved from slabs of 64, the stamp buffers live
// in the ledger, the ring and the long-slice heap are preallocated, and blocking call
// sites are found by a short linear scan in the coroutine's record (four inline slots
// before it ever allocates). A coroutine's first Resume in a session sets its pprof
// labels, which allocates once.
//
// These notes are not the package documentation (doc.go): they are how the ledger
// keeps the promises made there.

// noRun marks a segment begun outside any run of the loop (Go's first stamp, taken on
// the thread that is about to run it): the first hook checks the thread instead.
const noRun = ^uint64(0)

// notStamping is the run of a ledger that is pending or stopped. No run count of a
// loop reaches it (nor noRun), so ready's one comparison sends every hook of such a
// ledger to enter, which looks at the state.
const notStamping = noRun - 1

// Ledger states. The hooks run only on the loop thread; the state changes there too,
// except for a Start from outside the loop (pending until the loop's first event).
const (
	statePending = iota // attached, waiting for the first event on the loop thread
	stateRunning        // stamping
	stateStopped        // ledger closed
)

// ledger is one event loop's accounting in a session: the hooks its scheduler
// calls, and the buckets, coroutine records, slices and regions those hooks fill (see
// docs/DESIGN.md, Buckets). A session has one per profiled loop; each is touched only
// on its loop's thread once attached, so the switch path takes no lock. Everything
// process-wide (options, CPU profile, file, signals) is the session's.
type ledger struct {
	s      *session        // the session it belongs to
	target *coro.Scheduler // the loop attachAndBegin attaches to (nil: the default loop)
	sched  *coro.Scheduler // the profiled loop (set by attach)
	loopID int64
	hooks  coroHooks // what attach installed: the ledger, or a test's wrapper of it

	sampling  bool      // the session's CPU profile runs: label each coroutine's samples
	wallStart time.Time // wall clock at the first stamp (or at attaching, if none came)

	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{} // closed once the ledger is

	state int
	clk   clocks
	now   format.Counters // scratch for the stamp being taken
	last  format.Counters // the previous stamp: where the open bucket began
	start format.Counters // the ledger's first stamp
	stop  format.Counters // the ledger's last stamp
	total format.Counters // the thread's own deltas: Σ over segments of their last − first stamp

	cur    *coroRec        // the coroutine charged now; nil: <main> or <wait>
	inWait bool            // between BeforePoll and AfterPoll
	main   format.Counters // raw (Utime/Stime as getrusage reported)
	wait   format.Counters
	coros  []*coroRec
	slab   []coroRec // records are carved from slabs: one allocation per 64 spawns

	// Segments: one per run of the loop in the session. A run of EventLoop keeps one
	// OS thread locked throughout, but the next run may use another, and the CPU clock
	// and getrusage counters of two threads must never be subtracted from each other.
	// So every reading is bound to the run (and thread) it was taken on; when a hook
	// finds the loop in another run, the segment is closed at its last stamp (taken on
	// its own thread) and a new one opens with a fresh reading on the new thread.
	run       uint64          // rt.RunsEnded(sched) of the segment's run, noRun, or notStamping
	tid       int             // the OS thread the segment's readings come from
	segStart  format.Counters // the segment's first stamp
	segsDone  format.Counters // Σ last − first stamp of the closed segments
	segments  int             // segments opened
	gapTicks  uint64          // ticks between segments: in no bucket, not in total
	live      int             // coroutines started and not exited, as the hooks saw them
	backwards uint64          // stamps in which a counter read lower than the stamp before

	sliceStart format.Counters // stamp at the running coroutine's Resume

	ring      []rawSlice
	ringNext  int
	ringFull  bool
	ringDrops uint64

	long    [numLongSlices]rawLong // min-heap on Ticks once longN == numLongSlices
	longN   int
	longMin uint64 // ticks of the shortest kept long slice once the heap is full

	regions  regionTable
	instrGen uint32 // tags instrument tokens (instrument.go)

	recon reconciler
}

// coroRec is one coroutine's ledger, reached from the coroutine through its hook slot
// (internal/hooks, HookData): no map lookup at a switch.
type coroRec struct {
	l        *ledger
	c        *coro.Coro
	id       uint64
	parentID uint64
	name     string
	spawnPC  uintptr

	labelled bool
	exited   bool
	panicked bool
	resumes  uint64
	acc      format.Counters // raw, like ledger.main

	readyAt  uint64 // tick it became runnable; 0: not waiting to run
	runnable uint64

	waitStart  uint64 // tick it parked; 0: not parked
	waitReason coro.WaitReason
	waitSite   int32 // index into sites of the current park, -1 if none
	waits      [wire.NumWaitReasons]format.WaitStat
	sites      []siteStat
	siteBuf    [4]siteStat // sites starts here, so few-site coroutines never allocate

	longest   uint64
	longestPC uintptr

	stack []regionFrame // open regions, innermost last
	ends  []func()      // ends[k] closes the region at depth k; made once per depth
	regs  []coroRegion  // this coroutine's share of each region it entered (region.go)
	regAt map[int32]int32
}

// siteStat is one blocking call site of one coroutine.
type siteStat struct {
	reason coro.WaitReason
	pc     uintptr
	count  uint64
	ticks  uint64
}

// rawSlice is a ring entry; the pc is symbolised when the profile is built. It holds
// the coroutine's ID, not its record: no pointer, so no GC write barrier at a switch.
type rawSlice struct {
	id         uint64
	start, end uint64
	state      coro.State
	reason     coro.WaitReason
	pc         uintptr
}

// rawLong is a long slice with its full counters (raw).
type rawLong struct {
	rec    *coroRec
	start  uint64
	c      format.Counters
	state  coro.State
	reason coro.WaitReason
	pc     uintptr
}

// newLedger makes s's ledger for loop target (nil: the default loop), not attached yet.
func newLedger(s *session, target *coro.Scheduler) *ledger {
	o := &s.opts
	l := &ledger{s: s, target: target, sampling: s.sampling, done: make(chan struct{}), run: notStamping}
	l.clk.ticksOnly = o.ticksOnly
	l.clk.noRusage = o.noRusage
	l.recon.on = s.reconciled()
	if l.recon.on {
		l.recon.nsPerTick = 1e9 / float64(tsc.Frequency())
	}
	if o.slices > 0 {
		l.ring = make([]rawSlice, o.slices)
	}
	l.regions.init()
	l.instrGen = instrGens.Add(1)
	return l
}

// attach installs the ledger as the hooks of sch (the default loop when nil), on
// the loop thread (onLoop: from one of its coroutines) or, from anywhere else, only
// while the loop does not run (UpdateHooksIdle: ordered against the loop's start, so
// no race with a loop starting meanwhile). It refuses to displace hooks someone else
// attached: silently stealing them would break that tool without a word. running
// reports that the loop runs, so attaching from outside must go through a coroutine.
func (l *ledger) attach(sch *coro.Scheduler, onLoop bool) (running bool, err error) {
	if sch == nil {
		sch = coro.Default()
	}
	l.sched = sch
	l.loopID = int64(sch.LoopID())
	if l.hooks == nil {
		l.hooks = l
		if w := l.s.opts.wrap; w != nil {
			l.hooks = w(l)
		}
	}
	var taken coroHooks
	if onLoop {
		if prev := rt.SetHooks(sch, l.hooks); prev != nil {
			rt.SetHooks(sch, prev)
			taken = prev
		}
	} else if !rt.UpdateHooksIdle(sch, func(cur coroHooks) coroHooks {
		if cur != nil {
			taken = cur
			return cur
		}
		return l.hooks
	}) {
		return true, nil
	}
	if taken != nil {
		return false, fmt.Errorf("profiler: loop %d already has scheduler hooks attached (%T)", sch.LoopID(), taken)
	}
	return false, nil
}

// detach removes the ledger's hooks: on the loop thread directly, elsewhere only while
// the loop does not run. It reports false when the loop runs and the caller is not on
// it (the hooks are then left in place).
func (l *ledger) detach() bool {
	if l.sched == nil {
		return true
	}
	if coro.CurrentScheduler() == l.sched {
		if cur := rt.SetHooks(l.sched, nil); cur != l.hooks {
			rt.SetHooks(l.sched, cur) // not ours (cannot happen: attach refuses to share)
		}
		return true
	}
	return rt.UpdateHooksIdle(l.sched, func(cur coroHooks) coroHooks {
		if cur == l.hooks {
			return nil
		}
		return cur
	})
}

// close closes the ledger once: the last stamp (onLoop: the caller runs on the loop
// thread and may take it; see end), then the hooks come off. A caller that is not on
// the loop thread must have detached the hooks first, so no hook runs meanwhile.
func (l *ledger) close(onLoop bool) {
	l.closeOnce.Do(func() {
		l.end(onLoop)
		l.detach()
		l.closed.Store(true)
		close(l.done)
	})
}

// attachAndBegin attaches the ledger to the loop it will profile and, when the
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
func (l *ledger) attachAndBegin(sch *coro.Scheduler, byGo bool) error {
	def := l.target
	if def == nil {
		def = coro.Default()
	}
	switch {
	case byGo:
		running, err := l.attach(def, false)
		if err != nil {
			return err
		}
		if running {
			return errors.New("profiler: Go: the loop already runs (Go runs it; to profile a running loop use Start)")
		}
		l.begin(nil)
		l.run = noRun
		return nil
	case sch != nil:
		if _, err := l.attach(sch, true); err != nil {
			return err
		}
		l.begin(coro.Current())
		return nil
	}
	for {
		l.wallStart = time.Now() // before attaching: from then on the loop owns the ledger
		running, err := l.attach(def, false)
		if err != nil {
			return err
		}
		if !running {
			return nil // pending: the first hook begins
		}
		ran, err := runOnLoop(def, "profiler.start", time.Time{}, func() error {
			return l.attachAndBegin(coro.CurrentScheduler(), false)
		})
		if ran {
			return err
		}
		// The loop ended before the starter ran: attach while it is idle.
	}
}

// begin takes the first stamp; it must run on the loop thread (Go calls it on the
// thread it locked, which then runs the loop). running is the coroutine executing
// now, if begin runs inside one: the open bucket is then that coroutine, and the
// loop's other live coroutines are recorded as they stand (see adoptLive).
func (l *ledger) begin(running *coro.Coro) {
	l.openSegment(running, false)
	l.start = l.segStart
	l.wallStart = time.Now()
	l.state = stateRunning
	if running != nil {
		l.adoptLive(running)
	}
}

// lazyBegin starts a ledger attached from outside the loop at its first event.
// running is the coroutine whose slice is open at that event (nil: the scheduler's),
// polling whether the event ends a blocking poll. A loop that was not running has no
// live coroutine before its run's first event (spawns from other goroutines wait in
// its inbox), so there is nothing to adopt: the event itself is the first one.
func (l *ledger) lazyBegin(running *coro.Coro, polling bool) {
	l.begin(nil)
	if running != nil {
		r := l.rec(running)
		l.cur = r
		r.resumes++
	}
	l.inWait = polling
}

// openSegment takes the first stamp of a segment on the calling thread (the loop's,
// in its current run) and binds the segment to that thread and run. running and
// polling say which bucket is open at this instant.
func (l *ledger) openSegment(running *coro.Coro, polling bool) {
	prevEnd := l.last[wire.Ticks]
	l.clk.readOrdered(&l.segStart)
	if l.segments > 0 && l.segStart[wire.Ticks] > prevEnd {
		l.gapTicks += l.segStart[wire.Ticks] - prevEnd
	}
	l.segments++
	l.last = l.segStart
	l.sliceStart = l.segStart
	l.recon.lastCSW = l.segStart[wire.Nvcsw] + l.segStart[wire.Nivcsw]
	l.recon.n = 0
	l.tid = threadID()
	l.run = rt.RunsEnded(l.sched)
	l.live = 0
	l.inWait = polling
	l.cur = nil
	if running != nil {
		r := l.rec(running)
		l.cur = r
		r.resumes++ // the slice in progress counts as a resume, so ticks/resumes stays meaningful
	}
}

// closeSegment ends the open segment at its last stamp, which a hook took on the
// segment's own thread: the next reading may come from another thread.
func (l *ledger) closeSegment() {
	l.segsDone.Add(l.last.Sub(&l.segStart))
	l.cur = nil
	l.inWait = false
}

// enter is the hooks' slow path: the ledger is pending, stopped, or the loop has
// ended and run again since the last stamp. It reports whether the hook should go on.
// open and at say which bucket is open at the event (see event).
func (l *ledger) enter(open *coro.Coro, at event) bool {
	if at == atCurrent {
		open = coro.Current()
	}
	polling := at == atPollEnd
	switch l.state {
	case statePending:
		l.lazyBegin(open, polling)
		return true
	case stateRunning:
	default:
		return false
	}
	if l.run == noRun && threadID() == l.tid {
		// Go's first stamp was taken on the thread that now runs the loop: one thread,
		// one segment (the loop's start-up is scheduler work).
		l.run = rt.RunsEnded(l.sched)
		return true
	}
	// A new run (or Go's loop on another thread): start a new segment on this thread.
	l.closeSegment()
	if l.run == noRun {
		// Go's first stamp, on a thread that did not run the loop: nothing was charged
		// there, so the ledger starts over here, on the loop's thread.
		l.segments = 0
	}
	l.openSegment(open, polling)
	return true
}

// adoptLive records the loop's live coroutines at Start (on the loop thread): one
// parked then is charged a wait of its reason from Start (one park, at no known call
// site), one runnable then is counted runnable from Start. So a coroutine parked for
// the whole session is in the profile although no hook ever names it.
func (l *ledger) adoptLive(running *coro.Coro) {
	t := l.start[wire.Ticks]
	rt.EachLive(l.sched, func(c *coro.Coro) {
		l.live++
		if c == running {
			return
		}
		r := l.rec(c)
		switch st, reason := c.State(); st {
		case coro.StateWaiting:
			if reason >= coro.NumWaitReasons {
				reason = coro.WaitOther
			}
			r.waitReason = reason
			r.waits[reason].Count++
			r.waitSite = -1
			r.waitStart = t
		case coro.StateRunnable:
			r.readyAt = t
		}
	})
}

// onOwnThread reports whether the caller runs on the thread the open segment reads.
func (l *ledger) onOwnThread() bool { return threadID() == l.tid }

// end takes the last stamp and charges the open bucket, closing every open region and
// pending wait. onLoop says the caller may stamp here: it runs on the loop thread in
// the segment's run (Stop from a coroutine, a stopper), or it is Go's locked thread
// after the loop returned. The stamp is taken only if this is the segment's own
// thread; otherwise (Stop from outside a stopped loop, a loop that ran on another
// thread) the ledger closes at the last stamp a hook took there.
func (l *ledger) end(onLoop bool) {
	if l.state == statePending {
		// Never saw an event: an empty ledger of zero length.
		l.clk.readOrdered(&l.start)
		l.last, l.stop, l.segStart = l.start, l.start, l.start
		l.state, l.run = stateStopped, notStamping
		return
	}
	if l.state != stateRunning {
		return
	}
	if onLoop && l.onOwnThread() {
		l.stamp(true)
	}
	l.stop = l.last
	l.total = l.segsDone
	l.total.Add(l.stop.Sub(&l.segStart))
	t := l.stop[wire.Ticks]
	for _, r := range l.coros {
		r.closeRegions()
		if r.waitStart != 0 {
			if t > r.waitStart {
				r.addWait(t - r.waitStart)
			}
			r.waitStart = 0
		}
		if r.readyAt != 0 {
			if t > r.readyAt {
				r.runnable += t - r.readyAt
			}
			r.readyAt = 0
		}
		if r.c != nil && rt.HookData(r.c) == r {
			rt.SetHookData(r.c, nil) // let the record go with the ledger
		}
		r.c = nil
	}
	if l.cur != nil {
		// A slice still running at Stop is recorded, so the timeline reaches Stop.
		l.now = l.last
		l.endSlice(l.cur, coro.StateRunning, 0, 0)
		l.cur = nil
	}
	l.state, l.run = stateStopped, notStamping
}

// charge adds the delta from the previous stamp to s.now to the open bucket and makes
// s.now the new previous stamp: the contiguity that makes the buckets sum to the total.
// A reading lower than the previous one (a clock or counter that went backwards: never
// seen on one thread, but a wrapped delta would be 18 446 744 073 s) is charged as no
// change and counted for the profile's notes, instead of wrapping.
func (l *ledger) charge() *format.Counters {
	b := &l.main
	switch {
	case l.cur != nil:
		b = &l.cur.acc
	case l.inWait:
		b = &l.wait
	}
	if l.clk.ticksOnly { // the cheap mode stays cheap: one subtraction, one add
		if l.now[wire.Ticks] < l.last[wire.Ticks] {
			l.now[wire.Ticks] = l.last[wire.Ticks]
			l.backwards++
		}
		b[wire.Ticks] += l.now[wire.Ticks] - l.last[wire.Ticks]
		l.last[wire.Ticks] = l.now[wire.Ticks]
		return b
	}
	if l.now.Below(&l.last) {
		l.now.Max(&l.last)
		l.backwards++
	}
	b.Add(l.now.Sub(&l.last))
	l.last = l.now
	return b
}

// stamp reads the clocks into s.now and charges the open bucket. force (the first and
// last stamps, regions) makes the reconciled mode read the CPU clock too.
func (l *ledger) stamp(force bool) {
	if l.recon.on {
		l.stampReconciled(force)
		return
	}
	if force {
		l.clk.readOrdered(&l.now)
	} else {
		l.clk.read(&l.now)
	}
	l.charge()
}

// rec returns c's record in this ledger, creating it on first sight (a coroutine
// spawned before the ledger began).
func (l *ledger) rec(c *coro.Coro) *coroRec {
	if r, ok := rt.HookData(c).(*coroRec); ok && r.l == l {
		return r
	}
	return l.newRec(c)
}

func (l *ledger) newRec(c *coro.Coro) *coroRec {
	if len(l.slab) == 0 {
		l.slab = make([]coroRec, 64)
	}
	r := &l.slab[0]
	l.slab = l.slab[1:]
	r.l = l
	r.c = c
	r.id = c.ID()
	r.parentID = c.ParentID()
	r.name = c.Name()
	r.spawnPC = rt.SpawnPC(c)
	r.waitSite = -1
	r.sites = r.siteBuf[:0]
	l.coros = append(l.coros, r)
	rt.SetHookData(c, r)
	return r
}

// The hook methods (internal/hooks). Each is called on the loop thread; the ones that
// stamp are the bucket boundaries listed in internal/hooks. Each starts with ready.

// event says which bucket is open at a hook's event, for enter.
type event uint8

const (
	atSwitch  event = iota // the slice of the coroutine passed (nil: the scheduler's)
	atPollEnd              // <wait>: the event ends a blocking poll
	atCurrent              // the running coroutine's, if any (coro.Current, looked up only in enter)
)

// ready is the check every hook starts with: the ledger stamps, in the run its
// segment belongs to (one load of the loop's run count, compared with the segment's;
// a ledger that does not stamp has run notStamping). Anything else (pending,
// stopped, a new run of the loop) goes through enter, which says whether the hook goes
// on. The common case is one read of the run count and one compare.
func (l *ledger) ready(open *coro.Coro, at event) bool {
	return rt.RunsEnded(l.sched) == l.run || l.enter(open, at)
}

func (l *ledger) Spawn(c, parent *coro.Coro) {
	if !l.ready(nil, atCurrent) {
		return
	}
	l.live++
	r := l.rec(c)
	r.readyAt = tsc.NowUnordered()
}

func (l *ledger) Resume(c *coro.Coro) {
	if !l.ready(nil, atSwitch) {
		return
	}
	r := l.rec(c)
	if !r.labelled && l.sampling {
		// Once per coroutine per session (this allocates): CPU samples taken while
		// this goroutine runs carry the coroutine's identity. Done before the stamp,
		// so its cost is the scheduler's.
		r.labelled = true
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels(wire.LabelCoroID, strconv.FormatUint(r.id, 10), wire.LabelCoroName, r.name)))
	}
	l.stamp(false)
	l.openSlice(r)
}

// openSlice starts r's slice at the stamp just taken (Resume, Switch): a resume, and
// the time r waited runnable.
func (l *ledger) openSlice(r *coroRec) {
	r.resumes++
	if r.readyAt != 0 {
		if l.now[wire.Ticks] > r.readyAt {
			r.runnable += l.now[wire.Ticks] - r.readyAt
		}
		r.readyAt = 0
	}
	l.cur = r
	l.sliceStart = l.now
}

func (l *ledger) Yield(c *coro.Coro, state coro.State, pc uintptr) {
	if !l.ready(c, atSwitch) {
		return
	}
	l.stamp(false)
	r := l.rec(c)
	l.cur = nil
	if state == coro.StateWaiting {
		l.endSlice(r, state, r.waitReason, pc)
		r.waitStart = l.now[wire.Ticks]
	} else {
		l.endSlice(r, state, coro.WaitNone, pc)
		r.readyAt = l.now[wire.Ticks]
	}
}

// Switch is a direct switch from c to next (hooks.Switcher): the Yield of c and the
// Resume of next in one stamp, since the scheduler did nothing between them (the
// modes that read the CPU clock add a second TSC read, below and doc.go). It declines
// (returns false, having done nothing) with ReconciledCPU, whose window logic is
// written for Yield and Resume (reconcile.go); when next's goroutine must be labelled
// for the CPU samples first, which only Resume, on that goroutine, can do; and when
// the ledger is not stamping in this run, so that Yield and Resume take their own
// paths through enter.
func (l *ledger) Switch(c *coro.Coro, state coro.State, pc uintptr, next *coro.Coro) bool {
	if rt.RunsEnded(l.sched) != l.run {
		return false
	}
	if l.recon.on {
		return false
	}
	rn := l.rec(next)
	if !rn.labelled && l.sampling {
		return false
	}
	l.stamp(false)
	r := l.cur // c's record, unless c's slice began before the ledger knew it
	if r == nil || r.c != c {
		r = l.rec(c)
	}
	if state == coro.StateWaiting {
		l.endSlice(r, state, r.waitReason, pc)
		r.waitStart = l.now[wire.Ticks]
	} else {
		l.endSlice(r, state, coro.WaitNone, pc)
		r.readyAt = l.now[wire.Ticks]
	}
	if !l.clk.ticksOnly {
		// The stamp read the TSC first, then the CPU clock and getrusage. Reading the
		// thread CPU clock updates the kernel's accounting of the running task
		// (Linux's EEVDF: update_curr), and when that finds the task's time slice
		// used up it reschedules at the system call's return: the CPU clock read is where a loaded machine takes
		// the thread away, for milliseconds. Those ticks, and the stamp's own system
		// calls and the bookkeeping above, are the profiler's, so a second TSC read
		// (no system call) closes them into <main>, where the two-stamp path (Yield,
		// Resume) put them, instead of into next's slice. Each counter stays
		// contiguous, so every total is still exact; the CPU clock's boundary
		// between c and next is inside the stamp (doc.go, What is measured).
		t := tsc.Now()
		if t > l.now[wire.Ticks] {
			l.main[wire.Ticks] += t - l.now[wire.Ticks]
			l.now[wire.Ticks] = t
			l.last[wire.Ticks] = t
		}
	}
	l.openSlice(rn)
	return true
}

func (l *ledger) Exit(c *coro.Coro, panicked bool) {
	if !l.ready(c, atSwitch) {
		return
	}
	// The last coroutine's exit may be the run's last event: its stamp then closes
	// the segment, so the reconciled mode reads the CPU clock for it.
	l.live--
	l.stamp(l.live <= 0)
	r := l.rec(c)
	r.closeRegions()
	r.exited = true
	r.panicked = panicked
	l.endSlice(r, coro.StateExited, 0, 0)
	l.cur = nil
}

func (l *ledger) WaitBegin(c *coro.Coro, reason coro.WaitReason, pc uintptr) {
	if !l.ready(c, atSwitch) {
		return
	}
	r := l.rec(c)
	if reason >= coro.NumWaitReasons {
		reason = coro.WaitOther
	}
	r.waitReason = reason
	r.waits[reason].Count++
	r.waitSite = r.site(reason, pc)
	r.sites[r.waitSite].count++
}

func (l *ledger) WaitEnd(c *coro.Coro) {
	if !l.ready(nil, atCurrent) {
		return
	}
	r := l.rec(c)
	t := tsc.NowUnordered()
	if r.waitStart != 0 {
		if t > r.waitStart {
			r.addWait(t - r.waitStart)
		}
		r.waitStart = 0
	}
	r.waitSite = -1
	r.waitReason = coro.WaitNone
	r.readyAt = t
}

func (l *ledger) BeforePoll() {
	if !l.ready(nil, atSwitch) {
		return
	}
	l.stamp(false)
	l.inWait = true
}

func (l *ledger) AfterPoll() {
	if !l.ready(nil, atPollEnd) {
		return
	}
	l.stamp(false)
	l.inWait = false
}

// addWait charges ticks parked to the current reason and site.
func (r *coroRec) addWait(ticks uint64) {
	r.waits[r.waitReason].Ticks += ticks
	if r.waitSite >= 0 {
		r.sites[r.waitSite].ticks += ticks
	}
}

// site finds (or adds) the call site: a linear scan, most recent first, over the few
// places one coroutine blocks at; no map on the switch path.
func (r *coroRec) site(reason coro.WaitReason, pc uintptr) int32 {
	for i := len(r.sites) - 1; i >= 0; i-- {
		if r.sites[i].pc == pc && r.sites[i].reason == reason {
			return int32(i)
		}
	}
	r.sites = append(r.sites, siteStat{reason: reason, pc: pc})
	return int32(len(r.sites) - 1)
}

// endSlice records the slice that ends at s.now: longest per coroutine, the ring,
// and the top-N long slices (whose full counters are computed only when it qualifies).
func (l *ledger) endSlice(r *coroRec, state coro.State, reason coro.WaitReason, pc uintptr) {
	ticks := l.now[wire.Ticks] - l.sliceStart[wire.Ticks]
	if ticks > r.longest {
		r.longest = ticks
		r.longestPC = pc
	}
	if l.ring != nil {
		if l.ringFull {
			l.ringDrops++ // this write overwrites the oldest slice
		}
		l.ring[l.ringNext] = rawSlice{id: r.id, start: l.sliceStart[wire.Ticks], end: l.now[wire.Ticks], state: state, reason: reason, pc: pc}
		l.ringNext++
		if l.ringNext == len(l.ring) {
			l.ringNext = 0
			l.ringFull = true
		}
	}
	if l.longN < numLongSlices || ticks > l.longMin {
		l.keepLong(rawLong{rec: r, start: l.sliceStart[wire.Ticks], c: l.now.Sub(&l.sliceStart), state: state, reason: reason, pc: pc})
	}
}

// keepLong inserts l into the min-heap of the longest slices.
func (l *ledger) keepLong(x rawLong) {
	h := l.long[:]
	if l.longN < numLongSlices {
		i := l.longN
		h[i] = x
		l.longN++
		for i > 0 {
			p := (i - 1) / 2
			if h[p].c[wire.Ticks] <= h[i].c[wire.Ticks] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
	} else {
		h[0] = x
		for i := 0; ; {
			m, a, b := i, 2*i+1, 2*i+2
			if a < numLongSlices && h[a].c[wire.Ticks] < h[m].c[wire.Ticks] {
				m = a
			}
			if b < numLongSlices && h[b].c[wire.Ticks] < h[m].c[wire.Ticks] {
				m = b
			}
			if m == i {
				break
			}
			h[m], h[i] = h[i], h[m]
			i = m
		}
	}
	if l.longN == numLongSlices {
		l.longMin = h[0].c[wire.Ticks]
	}
}
