// Package profops holds the operations on a whole profile (a *format.Profile) that
// are not a view of it: merging the profiles of several processes, converting a
// profile's ticks to another clock rate, and adding regions up by name (the
// profiler merges its loops' regions with it, Merge its inputs'). They sit beside
// the data, as google/pprof keeps Merge, Prune and Filter in its profile package,
// so every view (print-profile's HTML, text, JSON and pprof) reads one result.
package profops

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/tsc"
)

// Merging sums profiles of several processes (or hosts, or runs) into one profile, so
// every view — HTML, JSON, text, pprof — shows the fleet as one program:
//
//   - Loops are renumbered 1, 2, … in input order; each keeps its own buckets, so
//     conservation still holds per loop and the report's closure check stays exact.
//   - Coroutine IDs are offset so they stay unique (input i's IDs move past every ID of
//     the inputs before it); names are kept, so a table sorted by name or a pprof
//     -tagfocus on coro_name gathers a function's coroutines from every process.
//   - Functions and locations are merged by (name, file, start line) and (function,
//     line); regions by name (calls and costs add up); samples of the same stack outside
//     coroutines add up.
//   - Ticks are converted to the first input's clock rate when the rates differ. A
//     loop's buckets are converted so that they still add up to its converted Total
//     (closeLoops): per-loop conservation stays exact, each bucket within one tick of
//     its exact converted value.
//   - The timelines are laid end to end in input order (ticks from different machines
//     share no origin), so total_ticks is the sum of the inputs' elapsed ticks, each
//     converted to the merged clock (the plain sum when the rates agree), and the
//     duration the sum of their durations: process-seconds, as a fleet profile counts.
//   - Program joins the inputs' distinct programs; Args is the first input's when
//     every input ran the same command line, and otherwise one entry per input,
//     "NAME: PROGRAM ARG …", so each input's command line is shown.
//
// Inputs must have measured the same quantities (ticks, CPU, rusage): a sum of CPU time
// over processes of which some did not measure it would silently understate it.
// Samples, regions and slices may be present in some inputs only.

// Input is one profile to merge and the name it is known by in messages.
type Input struct {
	Name    string
	Profile *format.Profile
}

// QuantitySet is the part of Measured that must agree for sums (a merge) or
// differences (a comparison) to mean anything.
const QuantitySet = format.MeasTicks | format.MeasCPU | format.MeasRusage

// Measures reports whether a profile that measured ms has counter c: ticks always, cpu
// with MeasCPU, the rusage counters (utime, stime and the counts) with MeasRusage.
func Measures(ms format.Measured, c wire.Counter) bool {
	switch c {
	case wire.Ticks:
		return true
	case wire.CPU:
		return ms&format.MeasCPU != 0
	default:
		return ms&format.MeasRusage != 0
	}
}

// DescribeMeasured names the quantities in ms for messages: "ticks only", or the
// quantities measured ("ticks, cpu, utime, …").
func DescribeMeasured(ms format.Measured) string {
	if ms&(format.MeasCPU|format.MeasRusage) == 0 {
		return "ticks only"
	}
	var names []string
	for c := range wire.NumCounters {
		if Measures(ms, c) {
			names = append(names, wire.CounterNames[c])
		}
	}
	return strings.Join(names, ", ")
}

// Merge sums the inputs into one profile (see above). It returns an error naming the
// input whose measured quantities differ from the first's.
func Merge(in []Input) (*format.Profile, error) {
	if len(in) == 0 || in[0].Profile == nil {
		return nil, fmt.Errorf("merging: no profiles")
	}
	return mergeOn(in, in[0].Profile.Clock.TicksPerSecond)
}

// ConvertClock returns p with every tick converted to tps ticks per second, as a new
// profile (p is not changed) with p's notes: a comparison of two runs on clocks of
// different rates converts OLD to NEW's.
func ConvertClock(name string, p *format.Profile, tps uint64) (*format.Profile, error) {
	conv, err := mergeOn([]Input{{name, p}}, tps)
	if err != nil {
		return nil, err
	}
	conv.Meta.Notes = append([]string(nil), p.Meta.Notes...)
	return conv, nil
}

// mergeOn merges in with every tick converted to tps ticks per second.
func mergeOn(in []Input, tps uint64) (*format.Profile, error) {
	first := in[0].Profile
	for _, x := range in {
		if x.Profile == nil {
			return nil, fmt.Errorf("merging: %s: no profile", x.Name)
		}
		if a, b := first.Measured&QuantitySet|format.MeasTicks, x.Profile.Measured&QuantitySet|format.MeasTicks; a != b {
			return nil, fmt.Errorf("cannot merge %s (measured %s) with %s (measured %s): profile them the same way (TicksOnly or not)",
				x.Name, DescribeMeasured(b), in[0].Name, DescribeMeasured(a))
		}
	}
	clock := first.Clock
	clock.TicksPerSecond = tps
	mg := &merger{out: &format.Profile{
		Version:  format.Version,
		Clock:    clock,
		Measured: first.Measured & QuantitySet,
	}, funcIdx: map[format.Func]uint32{}, locIdx: map[format.Location]format.LocID{}, mainIdx: map[string]int{}}
	mg.regions = NewRegions(mg.out)
	mg.out.Meta.StartTick = first.Meta.StartTick
	for i, x := range in {
		mg.add(i, x)
	}
	mg.finish(in)
	mg.out.Sort()
	if err := mg.out.Validate(); err != nil {
		return nil, fmt.Errorf("merging: the merged profile is invalid: %w", err)
	}
	return mg.out, nil
}

type merger struct {
	out       *format.Profile
	funcIdx   map[format.Func]uint32
	locIdx    map[format.Location]format.LocID
	regions   *Regions
	mainIdx   map[string]int // samples outside coroutines, by stack
	elapsed   uint64         // ticks of the inputs merged so far (the next one's origin)
	coroBase  uint64         // the largest coroutine ID so far
	loopBase  int64
	hosts     []string
	programs  []string
	rates     []int
	wallStart time.Time
	duration  time.Duration
	invariant bool
}

// scaler converts one input's ticks to the merged clock's.
type scaler struct{ num, den uint64 }

func (s scaler) t(v uint64) uint64 {
	if s.num == s.den {
		return v
	}
	return tsc.MulDiv(v, s.num, s.den)
}

func (s scaler) c(c format.Counters) format.Counters {
	c[wire.Ticks] = s.t(c[wire.Ticks])
	return c
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// add merges input i into the profile, in steps: what the header says about it, its
// symbols, its ledger (loops, coroutines, wait sites), its regions, its samples and
// its timeline.
func (mg *merger) add(i int, x Input) {
	in := &input{mg: mg, p: x.Profile, coroBase: mg.coroBase,
		sc: scaler{mg.out.Clock.TicksPerSecond, x.Profile.Clock.TicksPerSecond}}
	mg.header(i, x)
	in.symbols()
	in.ledger()
	local := mg.regions.Add(in.p.Regions, in.p.RegionEdges, in.sc.c)
	for _, g := range in.p.RegionCoros {
		if g.Region < 0 || int(g.Region) >= len(local) {
			continue // Validate rejects such a file on read
		}
		g.CoroID, g.Region = in.coro(g.CoroID), local[g.Region]
		g.Self, g.Cumulative = in.sc.c(g.Self), in.sc.c(g.Cumulative)
		mg.out.RegionCoros = append(mg.out.RegionCoros, g)
	}
	in.samples()
	in.timeline()
}

// input is one profile being merged: how its ticks, locations, loops and coroutine
// IDs map to the merged profile's.
type input struct {
	mg       *merger
	p        *format.Profile
	sc       scaler
	locMap   []format.LocID  // by the input's LocID
	loopMap  map[int64]int64 // by the input's loop ID
	coroBase uint64          // the input's coroutine IDs are offset by it
}

// loc is the merged LocID of the input's id (0: none, or out of range).
func (in *input) loc(id format.LocID) format.LocID {
	if int(id) < len(in.locMap) {
		return in.locMap[id]
	}
	return 0
}

// coro is the merged ID of the input's coroutine id (0 stays 0: no coroutine).
func (in *input) coro(id uint64) uint64 {
	if id == 0 {
		return 0
	}
	in.mg.coroBase = max(in.mg.coroBase, in.coroBase+id)
	return in.coroBase + id
}

// header folds what the input's header says into the merged one's: clock
// invariance, what was measured beyond the quantities, hosts, programs, sample
// rates, the earliest wall start, the summed duration and the input's notes.
func (mg *merger) header(i int, x Input) {
	p, out := x.Profile, mg.out
	if i == 0 {
		mg.invariant = p.Clock.Invariant
		mg.wallStart = p.Meta.WallStart
	}
	mg.invariant = mg.invariant && p.Clock.Invariant
	out.Measured |= p.Measured & (format.MeasSamples | format.MeasRegions | format.MeasSlices)
	mg.hosts = appendNew(mg.hosts, p.Meta.Host)
	mg.programs = appendNew(mg.programs, p.Meta.Program)
	if !slices.Contains(mg.rates, p.Meta.SampleRate) {
		mg.rates = append(mg.rates, p.Meta.SampleRate)
	}
	if !p.Meta.WallStart.IsZero() && (mg.wallStart.IsZero() || p.Meta.WallStart.Before(mg.wallStart)) {
		mg.wallStart = p.Meta.WallStart
	}
	mg.duration += p.Meta.Duration
	if p.Clock.TicksPerSecond != out.Clock.TicksPerSecond {
		out.Meta.Notes = append(out.Meta.Notes, fmt.Sprintf("%s: ticks converted from %d to %d ticks/s", x.Name, p.Clock.TicksPerSecond, out.Clock.TicksPerSecond))
	}
	for _, n := range p.Meta.Notes {
		out.Meta.Notes = append(out.Meta.Notes, x.Name+": "+n)
	}
}

// symbols merges the input's functions by (name, file, start line) and its locations
// by (function, line).
func (in *input) symbols() {
	p, mg, out := in.p, in.mg, in.mg.out
	in.locMap = make([]format.LocID, len(p.Locations)+1)
	for j, l := range p.Locations {
		var f format.Func
		if int(l.Func) < len(p.Funcs) {
			f = p.Funcs[l.Func]
		}
		fi, ok := mg.funcIdx[f]
		if !ok {
			fi = uint32(len(out.Funcs))
			out.Funcs = append(out.Funcs, f)
			mg.funcIdx[f] = fi
		}
		nl := format.Location{Func: fi, Line: l.Line}
		li, ok := mg.locIdx[nl]
		if !ok {
			out.Locations = append(out.Locations, nl)
			li = format.LocID(len(out.Locations))
			mg.locIdx[nl] = li
		}
		in.locMap[j+1] = li
	}
}

// ledger adds the input's loops (renumbered after the inputs before it), its
// coroutines (IDs offset) and their wait sites, ticks converted to the merged clock.
func (in *input) ledger() {
	p, mg, out, sc := in.p, in.mg, in.mg.out, in.sc
	in.loopMap = map[int64]int64{}
	for _, l := range p.Loops {
		mg.loopBase++
		in.loopMap[l.ID] = mg.loopBase
		out.Loops = append(out.Loops, format.Loop{ID: mg.loopBase, Total: sc.c(l.Total), Main: sc.c(l.Main), Wait: sc.c(l.Wait)})
	}
	for _, c := range p.Coroutines {
		c.ID, c.ParentID, c.Loop = in.coro(c.ID), in.coro(c.ParentID), in.loopMap[c.Loop]
		c.SpawnSite, c.LongestSite = in.loc(c.SpawnSite), in.loc(c.LongestSite)
		c.Counters = sc.c(c.Counters)
		c.Runnable, c.LongestSlice = sc.t(c.Runnable), sc.t(c.LongestSlice)
		for r := range c.Waits {
			c.Waits[r].Ticks = sc.t(c.Waits[r].Ticks)
		}
		out.Coroutines = append(out.Coroutines, c)
	}
	for _, w := range p.WaitSites {
		w.CoroID, w.Site, w.Ticks = in.coro(w.CoroID), in.loc(w.Site), sc.t(w.Ticks)
		out.WaitSites = append(out.WaitSites, w)
	}
	if sc.num != sc.den {
		in.closeLoops(len(out.Loops)-len(p.Loops), len(out.Coroutines)-len(p.Coroutines))
	}
}

// closeLoops redoes the tick conversion of the input's buckets so that each loop's
// buckets still add up to its converted Total. Converting each bucket on its own
// rounds each down, and the roundings pile up: a loop whose closure was exact showed
// a residue (-29 ticks was seen). Instead the buckets of a loop (its coroutines in
// input order, then <main>, then <wait>) are converted as running sums: bucket k gets
// conv(b1+…+bk) - conv(b1+…+bk-1). Each bucket is then within one tick of its exact
// converted value, and their sum is conv(Σ buckets), which is conv(Total) exactly when
// the input's loop closed exactly (its closure error, if any, is carried over,
// converted). loops and coros are where the input's loops and coroutines start in
// the merged lists.
func (in *input) closeLoops(loops, coros int) {
	p, out, sc := in.p, in.mg.out, in.sc
	for j, l := range p.Loops {
		var sum, conv uint64
		next := func(ticks uint64) uint64 {
			sum += ticks
			prev := conv
			conv = sc.t(sum)
			return conv - prev
		}
		for k, c := range p.Coroutines {
			if c.Loop == l.ID {
				out.Coroutines[coros+k].Counters[wire.Ticks] = next(c.Counters[wire.Ticks])
			}
		}
		ol := &out.Loops[loops+j]
		ol.Main[wire.Ticks] = next(l.Main[wire.Ticks])
		ol.Wait[wire.Ticks] = next(l.Wait[wire.Ticks])
	}
}

// samples adds the input's samples. Those outside coroutines share the ID 0 across
// inputs, so equal stacks are summed to keep every (coroutine, stack) once.
func (in *input) samples() {
	mg, out := in.mg, in.mg.out
	for _, s := range in.p.Samples {
		stack := make([]format.LocID, len(s.Stack))
		for j, l := range s.Stack {
			stack[j] = in.loc(l)
		}
		ns := format.Sample{CoroID: in.coro(s.CoroID), Stack: stack, Count: s.Count, Nanos: s.Nanos}
		if ns.CoroID == 0 {
			key := fmt.Sprint(stack)
			if k, ok := mg.mainIdx[key]; ok {
				out.Samples[k].Count += s.Count
				out.Samples[k].Nanos += s.Nanos
				continue
			}
			mg.mainIdx[key] = len(out.Samples)
		}
		out.Samples = append(out.Samples, ns)
	}
}

// timeline adds the input's slices and longest slices, moved to start where the
// previous input's timeline ended, and moves the end past this input's.
func (in *input) timeline() {
	p, mg, out, sc := in.p, in.mg, in.mg.out, in.sc
	origin := out.Meta.StartTick + mg.elapsed
	at := func(tick uint64) uint64 {
		if tick < p.Meta.StartTick {
			return origin
		}
		return origin + sc.t(tick-p.Meta.StartTick)
	}
	for _, s := range p.Slices {
		s.CoroID, s.Loop, s.Site = in.coro(s.CoroID), in.loopMap[s.Loop], in.loc(s.Site)
		s.Start, s.End = at(s.Start), at(s.End)
		out.Slices = append(out.Slices, s)
	}
	out.SlicesDropped += p.SlicesDropped
	for _, s := range p.LongSlices {
		s.CoroID, s.Loop, s.Site = in.coro(s.CoroID), in.loopMap[s.Loop], in.loc(s.Site)
		s.Start, s.Counters = at(s.Start), sc.c(s.Counters)
		out.LongSlices = append(out.LongSlices, s)
	}
	elapsed := sc.t(p.Meta.StopTick - p.Meta.StartTick)
	for _, l := range p.Loops { // a profile without Start/Stop ticks still occupies its loops' time
		elapsed = max(elapsed, sc.t(l.Total[wire.Ticks]))
	}
	mg.elapsed += elapsed
}

func (mg *merger) finish(in []Input) {
	out, first := mg.out, in[0].Profile
	out.Clock.Invariant = mg.invariant
	m := first.Meta
	out.Meta = format.Meta{
		Program: strings.Join(mg.programs, ", "), Args: mergedArgs(in), Host: strings.Join(mg.hosts, ", "),
		GOOS: m.GOOS, GOARCH: m.GOARCH, GoVersion: m.GoVersion, CPUModel: m.CPUModel, CPUFeatures: m.CPUFeatures,
		WallStart: mg.wallStart, Duration: mg.duration, StartTick: m.StartTick, StopTick: m.StartTick + mg.elapsed,
		SampleRate: m.SampleRate, Notes: out.Meta.Notes,
	}
	if len(in) == 1 {
		out.Meta.PID = m.PID
	}
	names := make([]string, len(in))
	for i, x := range in {
		names[i] = x.Name
		if pid := x.Profile.Meta.PID; pid != 0 {
			names[i] += fmt.Sprintf(" (pid %d)", pid)
		}
	}
	notes := []string{fmt.Sprintf("merged %d profiles: %s (loops, coroutine IDs and timelines follow this order)", len(in), strings.Join(names, ", "))}
	if len(mg.rates) > 1 {
		slices.Sort(mg.rates)
		out.Meta.SampleRate = mg.rates[len(mg.rates)-1]
		notes = append(notes, fmt.Sprintf("sample rates differ (%v Hz): the header shows the highest", mg.rates))
	}
	out.Meta.Notes = append(notes, out.Meta.Notes...)
}

// mergedArgs is the merged profile's Args: the common command line's arguments when
// every input ran the same one, else one entry per input with its name, program and
// arguments (each argument quoted when it holds a space or is empty, so the entry
// reads back).
func mergedArgs(in []Input) []string {
	first := in[0].Profile.Meta
	same := true
	for _, x := range in[1:] {
		m := x.Profile.Meta
		same = same && m.Program == first.Program && slices.Equal(m.Args, first.Args)
	}
	if same {
		return first.Args
	}
	out := make([]string, len(in))
	for i, x := range in {
		words := []string{x.Name + ":", quoteArg(x.Profile.Meta.Program)}
		for _, a := range x.Profile.Meta.Args {
			words = append(words, quoteArg(a))
		}
		out[i] = strings.Join(words, " ")
	}
	return out
}

func quoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n\"'") {
		return strconv.Quote(a)
	}
	return a
}
