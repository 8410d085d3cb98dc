package render

import (
	"fmt"
	"io"
	"math"

	"github.com/google/pprof/profile"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/termtext"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/tsc"
)

// The pprof view. A pprof profile is a list of stacks with one value per sample type;
// the coroutine profile is an exact ledger per bucket plus CPU stack samples. Pprof
// turns the ledger into stacks this way:
//
//   - Each coroutine's exact counters (ticks, cpu, utime, stime, faults, …) are spread
//     over its CPU samples in proportion to their counts, so a function's value is the
//     same estimate the HTML tables show, and the values of one coroutine's samples add
//     up to its exact ledger (cumulative rounding: no tick is lost or invented).
//   - A coroutine with no samples (always, in a profile without sampling) gets one
//     sample on the synthetic frame "<coroutine NAME>" carrying its whole ledger.
//   - <main> (the scheduler) and <wait> (epoll_wait) are synthetic frames too, one
//     sample per loop carrying the bucket's whole exact ledger.
//   - Samples taken outside any coroutine (no coro_id label) are not the scheduler's
//     alone: GC, Offload workers and the profiler's own build and write run there too,
//     and the samples cannot tell them apart. No ledger is spread over them; they hang
//     below the frame "<unlabelled>" with their sample count and the CPU time pprof
//     gave them (cpu, an estimate), and zero in every other type. So cpu adds up to
//     the ledger plus that unlabelled CPU, as `go tool pprof` of the whole process would.
//   - Time a coroutine spent parked is off-CPU and overlaps other buckets' wall time, so
//     it has sample types of its own (parked, parks): a frame "<wait: REASON>" on top of
//     the blocking call site. Time runnable but not running is "<runnable>".
//   - Exact rows, profiler.Regions and the functions cmd/coro-instrument counted, overlap
//     the coroutines' ledger too, so they have sample types of their own: calls,
//     exact_wall and (when CPU was measured) exact_cpu, zero in every other sample and
//     every other type zero in theirs. Each row is one sample on its own frame (an
//     instrumented function's frame is the function itself, with its file and line)
//     carrying its exact self cost and its calls, below a root frame "<exact>" (or
//     "<region>"): `go tool pprof -sample_index=calls -top` lists exact calls, and
//     -sample_index=exact_wall each row's exact self time. The profile records each
//     row's callers only as counts per edge, not whole call paths, so pprof's cumulative
//     column for these types is the self cost; the report's Aggregate table and call
//     graph have the exact cumulative figures. The rows add up every coroutine and
//     loop: their coro_name label is "<exact>" or "<region>".
//
// Names a program chose (coroutine names, region names) are escaped for the terminal
// (internal/termtext: \x1b, \n, \u202e …) in labels and frames, since pprof prints
// them as they are; ordinary names are unchanged, so -tagfocus coro_name=NAME works.
//
// Every sample carries the labels coro_name (also "<main>" and "<wait>", so -tags
// breaks all time down), spawn_site, and the numeric labels coro_id and loop.

// Synthetic frame names; FrameMain and FrameWait also name the two buckets in every
// view (text, HTML, compare).
const (
	FrameMain = "<main>"
	FrameWait = "<wait>"
	// FrameUnlabelled roots the samples taken outside any coroutine.
	FrameUnlabelled = report.UnlabelledFrame
	FrameRunnable   = "<runnable>"
)

// FrameCoroutine is the frame of a coroutine whose ledger has no samples to spread over.
func FrameCoroutine(name string) string { return "<coroutine " + name + ">" }

// FrameParked is the frame of time parked for one wait reason.
func FrameParked(reason string) string { return "<wait: " + reason + ">" }

// pprof sample types beyond the ledger's quantities.
const (
	stSamples  = "samples"
	stWall     = "wall"
	stParked   = "parked"
	stParks    = "parks"
	stRunnable = "runnable"
	stCalls    = "calls"
	stExactW   = "exact_wall"
	stExactCPU = "exact_cpu"

	// FrameExact and FrameRegion root the exact rows (instrumented functions and
	// profiler.Regions).
	FrameExact  = "<exact>"
	FrameRegion = "<region>"
)

// pprofType is one sample type and where its values come from.
type pprofType struct {
	vt  profile.ValueType
	src int // a Quantity, or one of the pseudo sources below
}

const (
	srcSamples = -1 - iota
	srcWall
	srcParked
	srcParks
	srcRunnable
	srcCalls
	srcExactWall
	srcExactCPU
)

// pprofTypes lists the sample types PprofProfile writes for a profile that measured
// meas. They depend on nothing else, so two profiles measured alike can be compared by
// `go tool pprof -diff_base` (which requires identical sample types).
func pprofTypes(meas format.Measured) []pprofType {
	var ts []pprofType
	add := func(typ, unit string, src int) {
		ts = append(ts, pprofType{profile.ValueType{Type: typ, Unit: unit}, src})
	}
	if meas&format.MeasSamples != 0 {
		add(stSamples, "count", srcSamples)
	}
	if meas&format.MeasCPU != 0 {
		add("cpu", "nanoseconds", int(wire.CPU))
	}
	add(stWall, "nanoseconds", srcWall)
	add("ticks", "count", int(wire.Ticks))
	if meas&format.MeasRusage != 0 {
		add("utime", "nanoseconds", int(wire.Utime))
		add("stime", "nanoseconds", int(wire.Stime))
		for q := wire.Minflt; q < wire.NumCounters; q++ {
			add(wire.CounterNames[q], "count", int(q))
		}
	}
	add(stParked, "nanoseconds", srcParked)
	add(stParks, "count", srcParks)
	add(stRunnable, "nanoseconds", srcRunnable)
	if meas&format.MeasRegions != 0 {
		add(stCalls, "count", srcCalls)
		add(stExactW, "nanoseconds", srcExactWall)
		if meas&format.MeasCPU != 0 {
			add(stExactCPU, "nanoseconds", srcExactCPU)
		}
	}
	return ts
}

// pprofBuilder assembles the pprof profile.
type pprofBuilder struct {
	p     *format.Profile
	meas  format.Measured
	out   *profile.Profile
	types []pprofType
	tps   uint64
	mp    *profile.Mapping

	funcs      map[[2]string]*profile.Function // by (name, file)
	locs       []*profile.Location             // by format LocID-1, made on first use
	synth      map[string]*profile.Location    // synthetic frames by name
	labelCache map[labelKey]labelSet
}

// PprofProfile converts p to a pprof profile (see the comment at the top of this file for
// how the exact ledger becomes stacks). The result passes CheckValid. It needs no
// model: print-profile's -pprof alone on a large profile skips the tables, call graph
// and flame graph, at half the time and memory.
func PprofProfile(p *format.Profile) (*profile.Profile, error) {
	if p == nil {
		return nil, fmt.Errorf("building pprof profile: no profile")
	}
	meas := p.Measured | format.MeasTicks
	b := &pprofBuilder{
		p: p, meas: meas, types: pprofTypes(meas), tps: p.Clock.TicksPerSecond,
		funcs: map[[2]string]*profile.Function{}, locs: make([]*profile.Location, len(p.Locations)),
		synth: map[string]*profile.Location{}, labelCache: map[labelKey]labelSet{},
	}
	prog := p.Meta.Program
	if prog == "" {
		prog = "coroprof"
	}
	b.mp = &profile.Mapping{ID: 1, File: prog, HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	b.out = &profile.Profile{
		Mapping:       []*profile.Mapping{b.mp},
		TimeNanos:     p.Meta.WallStart.UnixNano(),
		DurationNanos: p.Meta.Duration.Nanoseconds(),
	}
	if p.Meta.WallStart.IsZero() {
		b.out.TimeNanos = 0
	}
	for _, t := range b.types {
		vt := t.vt
		b.out.SampleType = append(b.out.SampleType, &vt)
	}
	b.out.DefaultSampleType = stWall
	if b.has(wire.CPU) {
		b.out.DefaultSampleType = "cpu"
	}
	// The period type is set even without sampling (period 0): pprof's Merge, behind
	// -diff_base and our comparison, requires equal period types and dereferences them.
	b.out.PeriodType = &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}
	if p.Meta.SampleRate > 0 {
		b.out.Period = int64(1e9 / p.Meta.SampleRate)
	}
	b.out.Comments = b.comments()
	b.ledger()
	b.parked()
	b.exact()
	if err := b.out.CheckValid(); err != nil {
		return nil, fmt.Errorf("building pprof profile: %w", err)
	}
	return b.out, nil
}

// has reports whether the profile measured q.
func (b *pprofBuilder) has(q wire.Counter) bool { return report.Measures(b.meas, q) }

func (b *pprofBuilder) comments() []string {
	p := b.p
	c := []string{
		fmt.Sprintf("coroprof profile of %s on %s (%s/%s, %s)", p.Meta.Program, p.Meta.Host, p.Meta.GOOS, p.Meta.GOARCH, p.Meta.GoVersion),
		fmt.Sprintf("clock %s at %d ticks/s, measured: %v", p.Clock.Source, p.Clock.TicksPerSecond, report.MeasuredNames(b.meas)),
		"cpu, wall, ticks, utime, stime and the rusage counts: each coroutine's exact ledger spread over its CPU samples by count (exact per coroutine, estimates per function); utime/stime are estimates that split the exact CPU time",
		"<main> is the scheduler, <wait> the loop blocked in epoll_wait, <coroutine NAME> a coroutine without samples",
		"<unlabelled>: CPU samples outside any coroutine (off the loop: GC, Offload workers, the profiler; or the scheduler between coroutines), with pprof's sampled cpu only: no ledger is spread over them",
		"parked/parks: time and count parked at blocking call sites, frame <wait: REASON> (off-CPU, overlaps wall); runnable: time runnable but not running",
	}
	if b.meas&format.MeasRegions != 0 {
		c = append(c, "calls, exact_wall, exact_cpu: exact rows (frame <exact>: functions counted by coro-instrument; <region>: profiler.Region), their calls and exact self cost; they overlap the ledger's types, and pprof's cum for them is the self cost (the report has the exact cumulative)")
	}
	return append(c, p.Meta.Notes...)
}

// nanos converts ticks to nanoseconds at the profile's clock rate, rounding down.
func (b *pprofBuilder) nanos(ticks uint64) uint64 { return tsc.MulDiv(ticks, 1e9, b.tps) }

func clamp(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func (b *pprofBuilder) function(name, file string, start int64) *profile.Function {
	k := [2]string{name, file}
	if f := b.funcs[k]; f != nil {
		return f
	}
	// No SystemName: pprof would treat the name as a mangled symbol and "demangle" it,
	// which strips anything in angle brackets (<main>, <wait: read>, render<html>).
	f := &profile.Function{ID: uint64(len(b.out.Function) + 1), Name: name, Filename: file, StartLine: start}
	b.funcs[k] = f
	b.out.Function = append(b.out.Function, f)
	return f
}

func (b *pprofBuilder) newLocation(f *profile.Function, line int64) *profile.Location {
	l := &profile.Location{ID: uint64(len(b.out.Location) + 1), Mapping: b.mp, Line: []profile.Line{{Function: f, Line: line}}}
	b.out.Location = append(b.out.Location, l)
	return l
}

// loc returns the pprof location of a format LocID (nil for 0 or out of range).
func (b *pprofBuilder) loc(id format.LocID) *profile.Location {
	if id == 0 || int(id) > len(b.locs) {
		return nil
	}
	if l := b.locs[id-1]; l != nil {
		return l
	}
	fl := b.p.Locations[id-1]
	var f *profile.Function
	if int(fl.Func) < len(b.p.Funcs) {
		pf := b.p.Funcs[fl.Func]
		f = b.function(pf.Name, pf.File, pf.StartLine)
	} else {
		f = b.function("?", "", 0)
	}
	l := b.newLocation(f, fl.Line)
	b.locs[id-1] = l
	return l
}

// frame returns the location of a synthetic frame.
func (b *pprofBuilder) frame(name string) *profile.Location {
	if l := b.synth[name]; l != nil {
		return l
	}
	l := b.newLocation(b.function(name, "", 0), 0)
	b.synth[name] = l
	return l
}

// stack converts a sample's stack, leaf first; unknown frames become "?".
func (b *pprofBuilder) stack(s []format.LocID) []*profile.Location {
	out := make([]*profile.Location, 0, len(s)+1)
	for _, id := range s {
		l := b.loc(id)
		if l == nil {
			l = b.frame("?")
		}
		out = append(out, l)
	}
	return out
}

// labels of a coroutine's samples (c nil: a pseudo bucket named name on loop).
func (b *pprofBuilder) labels(s *profile.Sample, c *format.Coroutine, name string, loop int64) {
	s.Label = map[string][]string{}
	s.NumLabel = map[string][]int64{}
	if c != nil {
		name, loop = termtext.Escape(c.Name), c.Loop // shown by pprof on a terminal
		s.NumLabel[wire.LabelCoroID] = []int64{clamp(c.ID)}
		if site := report.Site(b.p, c.SpawnSite); site != "" {
			s.Label[wire.LabelSpawnSite] = []string{site}
		}
	}
	if name != "" {
		s.Label[wire.LabelCoroName] = []string{name}
	}
	if loop != 0 {
		s.NumLabel[wire.LabelLoop] = []int64{loop}
	}
}

// labelKey identifies a sample's labels: a coroutine, or a pseudo bucket on a loop.
type labelKey struct {
	c      *format.Coroutine
	name   string
	loop   int64
	reason string // wait_reason of parked samples
}

type labelSet struct {
	str map[string][]string
	num map[string][]int64
}

// sharedLabels sets s's labels to maps shared by every ledger sample of the same
// bucket: a coroutine with thousands of stacks formats its spawn site once, and the
// profile holds one set of maps per bucket (nothing edits them after they are built;
// pprof's SetLabel, used for a comparison, sets the same key on all alike).
func (b *pprofBuilder) sharedLabels(s *profile.Sample, c *format.Coroutine, name string, loop int64, reason string) {
	k := labelKey{c, name, loop, reason}
	ls, ok := b.labelCache[k]
	if !ok {
		b.labels(s, c, name, loop)
		if reason != "" {
			s.Label[wire.LabelWaitReason] = []string{reason}
		}
		ls = labelSet{s.Label, s.NumLabel}
		b.labelCache[k] = ls
	}
	s.Label, s.NumLabel = ls.str, ls.num
}

// ledgerValues fills v from raw counters (exact integers); wall from ticks.
func (b *pprofBuilder) ledgerValues(v []int64, raw wire.Counters, wall uint64, samples uint64) {
	for i, t := range b.types {
		switch {
		case t.src >= 0:
			v[i] = clamp(raw[t.src])
		case t.src == srcWall:
			v[i] = clamp(wall)
		case t.src == srcSamples:
			v[i] = clamp(samples)
		}
	}
}

// spreadLedger adds one pprof sample per format sample in ss, with the bucket's raw
// counters spread over them by count. Cumulative rounding makes the parts add up to
// the whole exactly: part i is floor(total·C_i/C) − floor(total·C_{i−1}/C), where C_i
// is the running count.
func (b *pprofBuilder) spreadLedger(ss []*format.Sample, raw wire.Counters, root *profile.Location, label func(*profile.Sample)) {
	var total uint64
	for _, s := range ss {
		total += s.Count
	}
	var run uint64
	var prev wire.Counters
	var prevWall uint64
	wallTotal := b.nanos(raw[wire.Ticks])
	for _, s := range ss {
		run += s.Count
		var part wire.Counters
		for q := range raw {
			cur := tsc.MulDiv(raw[q], run, total)
			part[q] = cur - prev[q]
			prev[q] = cur
		}
		curWall := tsc.MulDiv(wallTotal, run, total)
		wall := curWall - prevWall
		prevWall = curWall
		ps := &profile.Sample{Location: b.stack(s.Stack), Value: make([]int64, len(b.types))}
		if root != nil {
			ps.Location = append(ps.Location, root)
		}
		b.ledgerValues(ps.Value, part, wall, s.Count)
		label(ps)
		b.out.Sample = append(b.out.Sample, ps)
	}
}

// whole adds one sample carrying a bucket's whole ledger on a synthetic frame.
func (b *pprofBuilder) whole(frame string, raw wire.Counters, label func(*profile.Sample)) {
	if raw == (wire.Counters{}) {
		return
	}
	ps := &profile.Sample{Location: []*profile.Location{b.frame(frame)}, Value: make([]int64, len(b.types))}
	b.ledgerValues(ps.Value, raw, b.nanos(raw[wire.Ticks]), 0)
	label(ps)
	b.out.Sample = append(b.out.Sample, ps)
}

// measuredRaw zeroes the quantities the profile did not measure.
func (b *pprofBuilder) measuredRaw(c format.Counters) wire.Counters {
	r := c
	for q := range r {
		if !b.has(wire.Counter(q)) {
			r[q] = 0
		}
	}
	return r
}

// ledger adds the exact buckets: coroutines, <main>, <wait>.
func (b *pprofBuilder) ledger() {
	p := b.p
	byCoro := map[uint64][]*format.Sample{}
	var unlabelled, strays []*format.Sample
	known := make(map[uint64]*format.Coroutine, len(p.Coroutines))
	for i := range p.Coroutines {
		known[p.Coroutines[i].ID] = &p.Coroutines[i]
	}
	for i := range p.Samples {
		s := &p.Samples[i]
		switch {
		case s.Count == 0:
		case s.CoroID == 0:
			unlabelled = append(unlabelled, s)
		case known[s.CoroID] != nil:
			byCoro[s.CoroID] = append(byCoro[s.CoroID], s)
		default:
			strays = append(strays, s)
		}
	}
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		label := func(s *profile.Sample) { b.sharedLabels(s, c, "", 0, "") }
		raw := b.measuredRaw(c.Counters)
		if ss := byCoro[c.ID]; len(ss) > 0 {
			b.spreadLedger(ss, raw, nil, label)
		} else {
			b.whole(FrameCoroutine(termtext.Escape(c.Name)), raw, label)
		}
	}
	// Samples of a coroutine the ledger does not know: their counts only.
	for _, s := range strays {
		ps := &profile.Sample{Location: b.stack(s.Stack), Value: make([]int64, len(b.types))}
		b.ledgerValues(ps.Value, wire.Counters{}, 0, s.Count)
		b.labels(ps, nil, "", 0)
		ps.NumLabel[wire.LabelCoroID] = []int64{clamp(s.CoroID)}
		b.out.Sample = append(b.out.Sample, ps)
	}
	// Unlabelled samples: their counts and pprof's CPU time, below their own root.
	for _, s := range unlabelled {
		ps := &profile.Sample{Location: append(b.stack(s.Stack), b.frame(FrameUnlabelled)), Value: make([]int64, len(b.types))}
		var own wire.Counters
		if b.has(wire.CPU) {
			own[wire.CPU] = s.Nanos
		}
		b.ledgerValues(ps.Value, own, 0, s.Count)
		b.sharedLabels(ps, nil, FrameUnlabelled, 0, "")
		b.out.Sample = append(b.out.Sample, ps)
	}
	for _, l := range p.Loops {
		b.whole(FrameMain, b.measuredRaw(l.Main), func(s *profile.Sample) { b.labels(s, nil, FrameMain, l.ID) })
	}
	for _, l := range p.Loops {
		b.whole(FrameWait, b.measuredRaw(l.Wait), func(s *profile.Sample) { b.labels(s, nil, FrameWait, l.ID) })
	}
}

// offValues sets the off-CPU sample types (parked, parks, runnable).
func (b *pprofBuilder) offValues(parkedNs, parks, runnableNs uint64) []int64 {
	v := make([]int64, len(b.types))
	for i, t := range b.types {
		switch t.src {
		case srcParked:
			v[i] = clamp(parkedNs)
		case srcParks:
			v[i] = clamp(parks)
		case srcRunnable:
			v[i] = clamp(runnableNs)
		}
	}
	return v
}

// parked adds coroutines' off-CPU time: parked at each wait site (the part of a
// reason's total that no site accounts for goes on the reason's frame alone), and
// runnable.
func (b *pprofBuilder) parked() {
	p := b.p
	sites := map[uint64][]*format.WaitSite{}
	for i := range p.WaitSites {
		w := &p.WaitSites[i]
		sites[w.CoroID] = append(sites[w.CoroID], w)
	}
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		var covered [wire.NumWaitReasons]format.WaitStat
		for _, w := range sites[c.ID] {
			if int(w.Reason) >= wire.NumWaitReasons || (w.Count == 0 && w.Ticks == 0) {
				continue
			}
			covered[w.Reason].Count += w.Count
			covered[w.Reason].Ticks += w.Ticks
			stack := []*profile.Location{b.frame(FrameParked(wire.WaitReasonNames[w.Reason]))}
			if l := b.loc(w.Site); l != nil {
				stack = append(stack, l)
			}
			b.offSample(c, stack, w.Reason, b.nanos(w.Ticks), w.Count, 0)
		}
		for r, w := range c.Waits {
			rest := format.WaitStat{}
			if w.Count > covered[r].Count {
				rest.Count = w.Count - covered[r].Count
			}
			if w.Ticks > covered[r].Ticks {
				rest.Ticks = w.Ticks - covered[r].Ticks
			}
			if rest.Count == 0 && rest.Ticks == 0 {
				continue
			}
			stack := []*profile.Location{b.frame(FrameParked(wire.WaitReasonNames[r]))}
			b.offSample(c, stack, uint8(r), b.nanos(rest.Ticks), rest.Count, 0)
		}
		if c.Runnable > 0 {
			b.offSample(c, []*profile.Location{b.frame(FrameRunnable)}, 0, 0, 0, b.nanos(c.Runnable))
		}
	}
}

func (b *pprofBuilder) offSample(c *format.Coroutine, stack []*profile.Location, reason uint8, parkedNs, parks, runnableNs uint64) {
	ps := &profile.Sample{Location: stack, Value: b.offValues(parkedNs, parks, runnableNs)}
	r := ""
	if parks > 0 || parkedNs > 0 {
		r = wire.WaitReasonNames[reason]
	}
	b.sharedLabels(ps, c, "", 0, r)
	b.out.Sample = append(b.out.Sample, ps)
}

// exact adds one sample per region and instrumented function: its calls and exact self
// cost, in the exact sample types only.
func (b *pprofBuilder) exact() {
	if b.meas&format.MeasRegions == 0 {
		return
	}
	for i := range b.p.Regions {
		r := &b.p.Regions[i]
		rootName, leaf := FrameRegion, (*profile.Location)(nil)
		if r.Func {
			rootName = FrameExact
			leaf = b.newLocation(b.function(r.Name, r.File, int64(r.Line)), int64(r.Line))
		} else {
			leaf = b.frame(termtext.Escape(r.Name)) // a name the program chose
		}
		ps := &profile.Sample{Location: []*profile.Location{leaf, b.frame(rootName)}, Value: make([]int64, len(b.types))}
		// Rows sum every coroutine's calls (and every loop's): labelled by their root.
		b.labels(ps, nil, rootName, 0)
		for k, t := range b.types {
			switch t.src {
			case srcCalls:
				ps.Value[k] = clamp(r.Calls)
			case srcExactWall:
				ps.Value[k] = clamp(b.nanos(r.Self[wire.Ticks]))
			case srcExactCPU:
				ps.Value[k] = clamp(r.Self[wire.CPU])
			}
		}
		b.out.Sample = append(b.out.Sample, ps)
	}
}

// writePprof writes p's pprof profile, gzipped.
func writePprof(w io.Writer, p *format.Profile) error {
	pp, err := PprofProfile(p)
	if err != nil {
		return err
	}
	if err := pp.Write(w); err != nil {
		return fmt.Errorf("writing the pprof profile: %w", err)
	}
	return nil
}
