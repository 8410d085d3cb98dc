package profiler

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/coroprof/coroprof/format"
	coro "github.com/coroprof/coroprof/runtime"
	"github.com/coroprof/coroprof/tsc"
)

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
	state  int
	clk    clocks
	now    format.Counters // scratch for the stamp being taken
	last   format.Counters // the previous stamp: where the open bucket began
	start  format.Counters // the session's first stamp
	stop   format.Counters // the session's last stamp
	cur    *coroRec        // the coroutine charged now; nil: <main> or <wait>
	inWait bool            // between BeforePoll and AfterPoll
	main   format.Counters // raw (Utime/Stime as getrusage reported)
	wait   format.Counters
	coros  []*coroRec
	slab   []coroRec // records are carved from slabs: one allocation per 64 spawns

	sliceStart format.Counters // stamp at the running coroutine's Resume

	ring      []rawSlice
	ringNext  int
	ringFull  bool
	ringDrops uint64

	long    [numLongSlices]rawLong // min-heap on Ticks once longN == numLongSlices
	longN   int
	longMin uint64 // ticks of the shortest kept long slice once the heap is full

	regions regionTable

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
	waits      [format.NumWaitReasons]format.WaitStat
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
	return s
}

// begin takes the first stamp; it must run on the loop thread (Go calls it on the
// thread it locked, which then runs the loop). running is the coroutine executing
// now, if begin runs inside one: the open bucket is then that coroutine.
func (s *session) begin(running *coro.Coro) {
	s.clk.read(&s.start)
	s.last = s.start
	s.sliceStart = s.start
	s.recon.lastCSW = s.start.Nvcsw + s.start.Nivcsw
	if running != nil {
		r := s.rec(running)
		s.cur = r
		r.resumes++ // the slice in progress counts as a resume, so ticks/resumes stays meaningful
	}
	s.meta.StartTick = s.start.Ticks
	s.wallStart = time.Now()
	s.meta.WallStart = s.wallStart.UTC()
	s.state = stateRunning
}

// lazyBegin starts a session attached from outside the loop at its first event.
// running is the coroutine whose slice is open at that event (nil: the scheduler's),
// polling whether the event ends a blocking poll.
func (s *session) lazyBegin(running *coro.Coro, polling bool) {
	s.begin(running)
	s.inWait = polling
}

// end takes the last stamp (on the loop thread) and charges the open bucket, closing
// every open region and pending wait. onLoop false (Stop from outside a stopped loop)
// reuses the last stamp a hook took, since another thread's clocks cannot be read.
func (s *session) end(onLoop bool) {
	if s.state == statePending {
		// Never saw an event: an empty ledger of zero length.
		s.clk.read(&s.start)
		s.last, s.stop = s.start, s.start
		s.state = stateStopped
		s.meta.StartTick, s.meta.StopTick = s.start.Ticks, s.start.Ticks
		s.meta.WallStart = s.wallStart.UTC()
		return
	}
	if s.state != stateRunning {
		return
	}
	if onLoop {
		s.stamp(true)
	}
	s.stop = s.last
	t := s.stop.Ticks
	for _, r := range s.coros {
		r.closeRegions()
		if r.waitStart != 0 {
			r.addWait(t - r.waitStart)
			r.waitStart = 0
		}
		if r.readyAt != 0 {
			r.runnable += t - r.readyAt
			r.readyAt = 0
		}
		if r.c != nil && r.c.HookData() == r {
			r.c.SetHookData(nil) // let the record go with the session
		}
		r.c = nil
	}
	if s.cur != nil {
		// A slice still running at Stop is recorded, so the timeline reaches Stop.
		s.endSlice(s.cur, coro.StateRunning, 0, 0)
		s.cur = nil
	}
	s.state = stateStopped
	s.meta.StopTick = t
}

// charge adds the delta from the previous stamp to s.now to the open bucket and makes
// s.now the new previous stamp: the contiguity that makes the buckets sum to the total.
func (s *session) charge() *format.Counters {
	b := &s.main
	switch {
	case s.cur != nil:
		b = &s.cur.acc
	case s.inWait:
		b = &s.wait
	}
	if s.clk.ticksOnly { // the cheap mode stays cheap: one subtraction, one add
		b.Ticks += s.now.Ticks - s.last.Ticks
		s.last.Ticks = s.now.Ticks
		return b
	}
	b.Add(sub(&s.now, &s.last))
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
// the bucket boundaries listed in runtime/hooks.go.

func (s *session) Spawn(c, parent *coro.Coro) {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(coro.Current(), false)
	}
	r := s.rec(c)
	r.readyAt = tsc.Now()
}

func (s *session) Resume(c *coro.Coro) {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(nil, false)
	}
	r := s.rec(c)
	if !r.labelled && s.sampling {
		// Once per coroutine per session (this allocates): CPU samples taken while
		// this goroutine runs carry the coroutine's identity. Done before the stamp,
		// so its cost is the scheduler's.
		r.labelled = true
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(),
			pprof.Labels(labelID, strconv.FormatUint(r.id, 10), labelName, r.name)))
	}
	s.stamp(false)
	r.resumes++
	if r.readyAt != 0 {
		r.runnable += s.now.Ticks - r.readyAt
		r.readyAt = 0
	}
	s.cur = r
	s.sliceStart = s.now
}

func (s *session) Yield(c *coro.Coro, state coro.State, pc uintptr) {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(c, false)
	}
	s.stamp(false)
	r := s.rec(c)
	s.cur = nil
	if state == coro.StateWaiting {
		s.endSlice(r, state, r.waitReason, pc)
		r.waitStart = s.now.Ticks
	} else {
		s.endSlice(r, state, coro.WaitNone, pc)
		r.readyAt = s.now.Ticks
	}
}

func (s *session) Exit(c *coro.Coro, panicked bool) {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(c, false)
	}
	s.stamp(false)
	r := s.rec(c)
	r.closeRegions()
	r.exited = true
	r.panicked = panicked
	s.endSlice(r, coro.StateExited, 0, 0)
	s.cur = nil
}

func (s *session) WaitBegin(c *coro.Coro, reason coro.WaitReason, pc uintptr) {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(c, false)
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
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(coro.Current(), false)
	}
	r := s.rec(c)
	t := tsc.Now()
	if r.waitStart != 0 {
		r.addWait(t - r.waitStart)
		r.waitStart = 0
	}
	r.waitSite = -1
	r.waitReason = coro.WaitNone
	r.readyAt = t
}

func (s *session) BeforePoll() {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(nil, false)
	}
	s.stamp(false)
	s.inWait = true
}

func (s *session) AfterPoll() {
	if s.state != stateRunning {
		if s.state != statePending {
			return
		}
		s.lazyBegin(nil, true)
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
	ticks := s.now.Ticks - s.sliceStart.Ticks
	if ticks > r.longest {
		r.longest = ticks
		r.longestPC = pc
	}
	if s.ring != nil {
		if s.ringFull {
			s.ringDrops++ // this write overwrites the oldest slice
		}
		s.ring[s.ringNext] = rawSlice{id: r.id, start: s.sliceStart.Ticks, end: s.now.Ticks, state: state, reason: reason, pc: pc}
		s.ringNext++
		if s.ringNext == len(s.ring) {
			s.ringNext = 0
			s.ringFull = true
		}
	}
	if s.longN < numLongSlices || ticks > s.longMin {
		s.keepLong(rawLong{rec: r, start: s.sliceStart.Ticks, c: sub(&s.now, &s.sliceStart), state: state, reason: reason, pc: pc})
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
			if h[p].c.Ticks <= h[i].c.Ticks {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
	} else {
		h[0] = l
		for i := 0; ; {
			m, a, b := i, 2*i+1, 2*i+2
			if a < numLongSlices && h[a].c.Ticks < h[m].c.Ticks {
				m = a
			}
			if b < numLongSlices && h[b].c.Ticks < h[m].c.Ticks {
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
		s.longMin = h[0].c.Ticks
	}
}
