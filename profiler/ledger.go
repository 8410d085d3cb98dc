package profiler

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

// noRun marks a segment begun outside any run of the loop (Go's first stamp, taken on
// the thread that is about to run it): the first hook checks the thread instead.
const noRun = ^uint64(0)

// Session states. The hooks run only on the loop thread; the state changes there too,
// except for a Start from outside the loop (pending until the loop's first event).
const (
	statePending = iota // attached, waiting for the first event on the loop thread
	stateRunning        // stamping
	stateStopped        // ledger closed
)

// session is one profiling run: the coro.Hooks the scheduler calls, and the ledger
// those hooks fill. Everything below "ledger" is touched only on the loop thread.
type session struct {
	opts options
	byGo bool // started by Go (stopped by Go's return, not by Stop)

	sched  *coro.Scheduler // the profiled loop (set by attach)
	loopID int64
	hooks  coro.Hooks // what attach installed: the session, or a test's wrapper of it

	finishOnce sync.Once
	done       chan struct{}
	err        error
	sigStop    func() // undoes the signal handler

	// CPU samples.
	cpuBuf     bytes.Buffer
	sampling   bool
	sampleRate int // the rate actually in effect, Hz

	meta      format.Meta
	wallStart time.Time
	profile   *format.Profile // what finish wrote (kept for tests)

	// ledger
	state int
	clk   clocks
	now   format.Counters // scratch for the stamp being taken
	last  format.Counters // the previous stamp: where the open bucket began
	start format.Counters // the session's first stamp
	stop  format.Counters // the session's last stamp
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
	run       uint64          // sched.RunsEnded() of the segment's run, or noRun
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

	peerState // several loops: loops.go
}

// coroRec is one coroutine's ledger, reached from the coroutine through
// Coro.HookData: no map lookup at a switch.
type coroRec struct {
	s        *session
	c        *coro.Coro
	id       uint64
	parentID uint64
	name     string
	spawnPC  uintptr

	labelled bool
	exited   bool
	panicked bool
	resumes  uint64
	acc      format.Counters // raw, like session.main

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

func newSession(o options, byGo bool) *session {
	s := &session{opts: o, byGo: byGo, done: make(chan struct{})}
	s.clk.ticksOnly = o.ticksOnly
	s.clk.noRusage = o.noRusage
	s.recon.on = o.reconcile && !o.ticksOnly && !o.noRusage
	if s.recon.on {
		s.recon.nsPerTick = 1e9 / float64(tsc.Frequency())
		s.meta.Notes = append(s.meta.Notes, "CPU time reconciled: the thread CPU clock was read only where the thread had been switched out; per-slice CPU figures are estimates, totals exact (profiler.ReconciledCPU)")
	}
	if o.slices > 0 {
		s.ring = make([]rawSlice, o.slices)
	}
	s.regions.init()
	s.instrGen = instrGens.Add(1)
	return s
}

// begin takes the first stamp; it must run on the loop thread (Go calls it on the
// thread it locked, which then runs the loop). running is the coroutine executing
// now, if begin runs inside one: the open bucket is then that coroutine, and the
// loop's other live coroutines are recorded as they stand (see adoptLive).
func (s *session) begin(running *coro.Coro) {
	s.openSegment(running, false)
	s.start = s.segStart
	s.meta.StartTick = s.start[wire.Ticks]
	s.wallStart = time.Now()
	s.meta.WallStart = s.wallStart.UTC()
	s.state = stateRunning
	if running != nil {
		s.adoptLive(running)
	}
}

// lazyBegin starts a session attached from outside the loop at its first event.
// running is the coroutine whose slice is open at that event (nil: the scheduler's),
// polling whether the event ends a blocking poll. A loop that was not running has no
// live coroutine before its run's first event (spawns from other goroutines wait in
// its inbox), so there is nothing to adopt: the event itself is the first one.
func (s *session) lazyBegin(running *coro.Coro, polling bool) {
	s.begin(nil)
	if running != nil {
		r := s.rec(running)
		s.cur = r
		r.resumes++
	}
	s.inWait = polling
}

// openSegment takes the first stamp of a segment on the calling thread (the loop's,
// in its current run) and binds the segment to that thread and run. running and
// polling say which bucket is open at this instant.
func (s *session) openSegment(running *coro.Coro, polling bool) {
	prevEnd := s.last[wire.Ticks]
	s.clk.read(&s.segStart)
	if s.segments > 0 && s.segStart[wire.Ticks] > prevEnd {
		s.gapTicks += s.segStart[wire.Ticks] - prevEnd
	}
	s.segments++
	s.last = s.segStart
	s.sliceStart = s.segStart
	s.recon.lastCSW = s.segStart[wire.Nvcsw] + s.segStart[wire.Nivcsw]
	s.recon.n = 0
	s.tid = unix.Gettid()
	s.run = s.sched.RunsEnded()
	s.live = 0
	s.inWait = polling
	s.cur = nil
	if running != nil {
		r := s.rec(running)
		s.cur = r
		r.resumes++ // the slice in progress counts as a resume, so ticks/resumes stays meaningful
	}
}

// closeSegment ends the open segment at its last stamp, which a hook took on the
// segment's own thread: the next reading may come from another thread.
func (s *session) closeSegment() {
	s.segsDone.Add(s.last.Sub(&s.segStart))
	s.cur = nil
	s.inWait = false
}

// enter is the hooks' slow path: the session is pending, stopped, or the loop has
// ended and run again since the last stamp. It reports whether the hook should go on.
// open is the coroutine whose slice is open at the event (nil: the scheduler's),
// polling whether the event ends a blocking poll.
func (s *session) enter(open *coro.Coro, polling bool) bool {
	switch s.state {
	case statePending:
		s.lazyBegin(open, polling)
		return true
	case stateRunning:
	default:
		return false
	}
	if s.run == noRun && unix.Gettid() == s.tid {
		// Go's first stamp was taken on the thread that now runs the loop: one thread,
		// one segment (the loop's start-up is scheduler work).
		s.run = s.sched.RunsEnded()
		return true
	}
	// A new run (or Go's loop on another thread): start a new segment on this thread.
	s.closeSegment()
	if s.run == noRun {
		// Go's first stamp, on a thread that did not run the loop: nothing was charged
		// there, so the ledger starts over here, on the loop's thread.
		s.segments = 0
	}
	s.openSegment(open, polling)
	return true
}

// adoptLive records the loop's live coroutines at Start (on the loop thread): one
// parked then is charged a wait of its reason from Start (one park, at no known call
// site), one runnable then is counted runnable from Start. So a coroutine parked for
// the whole session is in the profile although no hook ever names it.
func (s *session) adoptLive(running *coro.Coro) {
	t := s.start[wire.Ticks]
	s.sched.EachLive(func(c *coro.Coro) {
		s.live++
		if c == running {
			return
		}
		r := s.rec(c)
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
func (s *session) onOwnThread() bool { return unix.Gettid() == s.tid }

// end takes the last stamp and charges the open bucket, closing every open region and
// pending wait. onLoop says the caller may stamp here: it runs on the loop thread in
// the segment's run (Stop from a coroutine, a stopper), or it is Go's locked thread
// after the loop returned. The stamp is taken only if this is the segment's own
// thread; otherwise (Stop from outside a stopped loop, a loop that ran on another
// thread) the ledger closes at the last stamp a hook took there.
func (s *session) end(onLoop bool) {
	if s.state == statePending {
		// Never saw an event: an empty ledger of zero length.
		s.clk.read(&s.start)
		s.last, s.stop, s.segStart = s.start, s.start, s.start
		s.state = stateStopped
		s.meta.StartTick, s.meta.StopTick = s.start[wire.Ticks], s.start[wire.Ticks]
		s.meta.WallStart = s.wallStart.UTC()
		return
	}
	if s.state != stateRunning {
		return
	}
	if onLoop && s.onOwnThread() {
		s.stamp(true)
	}
	s.stop = s.last
	s.total = s.segsDone
	s.total.Add(s.stop.Sub(&s.segStart))
	t := s.stop[wire.Ticks]
	for _, r := range s.coros {
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
		if r.c != nil && r.c.HookData() == r {
			r.c.SetHookData(nil) // let the record go with the session
		}
		r.c = nil
	}
	if s.cur != nil {
		// A slice still running at Stop is recorded, so the timeline reaches Stop.
		s.now = s.last
		s.endSlice(s.cur, coro.StateRunning, 0, 0)
		s.cur = nil
	}
	s.state = stateStopped
	s.meta.StopTick = t
}

// charge adds the delta from the previous stamp to s.now to the open bucket and makes
// s.now the new previous stamp: the contiguity that makes the buckets sum to the total.
// A reading lower than the previous one (a clock or counter that went backwards: never
// seen on one thread, but a wrapped delta would be 18 446 744 073 s) is charged as no
// change and counted for the profile's notes, instead of wrapping.
func (s *session) charge() *format.Counters {
	b := &s.main
	switch {
	case s.cur != nil:
		b = &s.cur.acc
	case s.inWait:
		b = &s.wait
	}
	if s.clk.ticksOnly { // the cheap mode stays cheap: one subtraction, one add
		if s.now[wire.Ticks] < s.last[wire.Ticks] {
			s.now[wire.Ticks] = s.last[wire.Ticks]
			s.backwards++
		}
		b[wire.Ticks] += s.now[wire.Ticks] - s.last[wire.Ticks]
		s.last[wire.Ticks] = s.now[wire.Ticks]
		return b
	}
	if s.now.Below(&s.last) {
		s.now.Max(&s.last)
		s.backwards++
	}
	b.Add(s.now.Sub(&s.last))
	s.last = s.now
	return b
}

// stamp reads the clocks into s.now and charges the open bucket. force (the first and
// last stamps, regions) makes the reconciled mode read the CPU clock too.
func (s *session) stamp(force bool) {
	if s.recon.on {
		s.stampReconciled(force)
		return
	}
	s.clk.read(&s.now)
	s.charge()
}

// rec returns c's record in this session, creating it on first sight (a coroutine
// spawned before the session began).
func (s *session) rec(c *coro.Coro) *coroRec {
	if r, ok := c.HookData().(*coroRec); ok && r.s == s {
		return r
	}
	return s.newRec(c)
}

func (s *session) newRec(c *coro.Coro) *coroRec {
	if len(s.slab) == 0 {
		s.slab = make([]coroRec, 64)
	}
	r := &s.slab[0]
	s.slab = s.slab[1:]
	r.s = s
	r.c = c
	r.id = c.ID()
	r.parentID = c.ParentID()
	r.name = c.Name()
	r.spawnPC = c.SpawnPC()
	r.waitSite = -1
	r.sites = r.siteBuf[:0]
	s.coros = append(s.coros, r)
	c.SetHookData(r)
	return r
}

// The coro.Hooks methods. Each is called on the loop thread; the ones that stamp are
// the bucket boundaries listed in runtime/hooks.go. Each starts with the same check:
// the session stamps, in the run its segment belongs to (one load of the loop's run
// count); anything else goes through enter.

func (s *session) Spawn(c, parent *coro.Coro) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(coro.Current(), false) {
			return
		}
	}
	s.live++
	r := s.rec(c)
	r.readyAt = tsc.Now()
}

func (s *session) Resume(c *coro.Coro) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(nil, false) {
			return
		}
	}
	r := s.rec(c)
	if !r.labelled && s.sampling {
		// Once per coroutine per session (this allocates): CPU samples taken while
		// this goroutine runs carry the coroutine's identity. Done before the stamp,
		// so its cost is the scheduler's.
		r.labelled = true
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels(wire.LabelCoroID, strconv.FormatUint(r.id, 10), wire.LabelCoroName, r.name)))
	}
	s.stamp(false)
	r.resumes++
	if r.readyAt != 0 {
		if s.now[wire.Ticks] > r.readyAt {
			r.runnable += s.now[wire.Ticks] - r.readyAt
		}
		r.readyAt = 0
	}
	s.cur = r
	s.sliceStart = s.now
}

func (s *session) Yield(c *coro.Coro, state coro.State, pc uintptr) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(c, false) {
			return
		}
	}
	s.stamp(false)
	r := s.rec(c)
	s.cur = nil
	if state == coro.StateWaiting {
		s.endSlice(r, state, r.waitReason, pc)
		r.waitStart = s.now[wire.Ticks]
	} else {
		s.endSlice(r, state, coro.WaitNone, pc)
		r.readyAt = s.now[wire.Ticks]
	}
}

func (s *session) Exit(c *coro.Coro, panicked bool) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(c, false) {
			return
		}
	}
	// The last coroutine's exit may be the run's last event: its stamp then closes
	// the segment, so the reconciled mode reads the CPU clock for it.
	s.live--
	s.stamp(s.live <= 0)
	r := s.rec(c)
	r.closeRegions()
	r.exited = true
	r.panicked = panicked
	s.endSlice(r, coro.StateExited, 0, 0)
	s.cur = nil
}

func (s *session) WaitBegin(c *coro.Coro, reason coro.WaitReason, pc uintptr) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(c, false) {
			return
		}
	}
	r := s.rec(c)
	if reason >= coro.NumWaitReasons {
		reason = coro.WaitOther
	}
	r.waitReason = reason
	r.waits[reason].Count++
	r.waitSite = r.site(reason, pc)
	r.sites[r.waitSite].count++
}

func (s *session) WaitEnd(c *coro.Coro) {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(coro.Current(), false) {
			return
		}
	}
	r := s.rec(c)
	t := tsc.Now()
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

func (s *session) BeforePoll() {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(nil, false) {
			return
		}
	}
	s.stamp(false)
	s.inWait = true
}

func (s *session) AfterPoll() {
	if s.state != stateRunning || s.sched.RunsEnded() != s.run {
		if !s.enter(nil, true) {
			return
		}
	}
	s.stamp(false)
	s.inWait = false
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
func (s *session) endSlice(r *coroRec, state coro.State, reason coro.WaitReason, pc uintptr) {
	ticks := s.now[wire.Ticks] - s.sliceStart[wire.Ticks]
	if ticks > r.longest {
		r.longest = ticks
		r.longestPC = pc
	}
	if s.ring != nil {
		if s.ringFull {
			s.ringDrops++ // this write overwrites the oldest slice
		}
		s.ring[s.ringNext] = rawSlice{id: r.id, start: s.sliceStart[wire.Ticks], end: s.now[wire.Ticks], state: state, reason: reason, pc: pc}
		s.ringNext++
		if s.ringNext == len(s.ring) {
			s.ringNext = 0
			s.ringFull = true
		}
	}
	if s.longN < numLongSlices || ticks > s.longMin {
		s.keepLong(rawLong{rec: r, start: s.sliceStart[wire.Ticks], c: s.now.Sub(&s.sliceStart), state: state, reason: reason, pc: pc})
	}
}

// keepLong inserts l into the min-heap of the longest slices.
func (s *session) keepLong(l rawLong) {
	h := s.long[:]
	if s.longN < numLongSlices {
		i := s.longN
		h[i] = l
		s.longN++
		for i > 0 {
			p := (i - 1) / 2
			if h[p].c[wire.Ticks] <= h[i].c[wire.Ticks] {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
	} else {
		h[0] = l
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
	if s.longN == numLongSlices {
		s.longMin = h[0].c[wire.Ticks]
	}
}
