package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/wire"
)

// Vec is a set of quantities in the profile's raw units (ticks, nanoseconds, counts),
// as float64 so estimates can carry fractions until they are rounded for output.
type Vec [wire.NumCounters]float64

func vecOf(c format.Counters) Vec {
	var v Vec
	for i, n := range c {
		v[i] = float64(n)
	}
	return v
}

// Add adds o to v.
func (v *Vec) Add(o Vec) {
	for i := range v {
		v[i] += o[i]
	}
}

func (v *Vec) addScaled(o Vec, k float64) {
	for i := range v {
		v[i] += o[i] * k
	}
}

// Quantities is one bucket's measured quantities in output units, indexed by counter:
// ticks and counts are whole numbers, times (wire.UnitNanos) are seconds. Which of them
// mean anything is said by Model.Measured. Its JSON is an object keyed by
// wire.CounterNames, counts as integers and times as numbers (quantities_json.go).
type Quantities [wire.NumCounters]float64

func round(f float64) uint64 {
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	if f >= math.MaxUint64 {
		return math.MaxUint64
	}
	return uint64(math.Round(f))
}

// outUnits is the factor from raw units to output units for counter c.
func outUnits(c wire.Counter) float64 {
	if c.Unit() == wire.UnitNanos {
		return 1e9
	}
	return 1
}

// Quantities converts v to output units (rounding estimated counts).
func (v Vec) Quantities() Quantities {
	var q Quantities
	for c := range wire.NumCounters {
		if c.Unit() == wire.UnitNanos {
			q[c] = v[c] / 1e9
		} else {
			q[c] = float64(round(v[c]))
		}
	}
	return q
}

// Value returns counter c of q in output units (seconds for the times), as a float
// for sorting and percentages.
func (q Quantities) Value(c wire.Counter) float64 { return q[c] }

// Count returns counter c of q as a whole number (ticks and counts; a time is rounded
// to whole seconds).
func (q Quantities) Count(c wire.Counter) uint64 { return round(q[c]) }

// Ticks returns q's ticks.
func (q Quantities) Ticks() uint64 { return round(q[wire.Ticks]) }

// Vec converts q back to raw units (the inverse of Vec.Quantities for exact values).
func (q Quantities) Vec() Vec {
	var v Vec
	for c := range wire.NumCounters {
		v[c] = q[c] * outUnits(c)
	}
	return v
}

// Clock is the tick counter's description.
type Clock struct {
	Source         string `json:"source"`
	TicksPerSecond uint64 `json:"ticks_per_second"`
	Invariant      bool   `json:"invariant"`
}

// Meta describes the run, for the header.
type Meta struct {
	Program     string    `json:"program"`
	Args        []string  `json:"args"`
	Host        string    `json:"host"`
	GOOS        string    `json:"goos"`
	GOARCH      string    `json:"goarch"`
	GoVersion   string    `json:"go_version"`
	CPUModel    string    `json:"cpu_model"`
	CPUFeatures []string  `json:"cpu_features"`
	PID         int64     `json:"pid"`
	WallStart   time.Time `json:"wall_start"`
	Duration    float64   `json:"duration"` // seconds of wall clock from Start to Stop
	SampleRate  int       `json:"sample_rate"`
	Notes       []string  `json:"notes"`
	// Merged is how many profiles this one sums (profops.Merge; 0: one run). The page's
	// header shows it where a single run shows its pid. Not in -json, whose merged
	// output says so in its first note.
	Merged int `json:"-"`
}

// Closure is the conservation check of one quantity on one loop: Sum is Σ coroutines +
// <main> + <wait>, Total is the loop thread's own delta, both in raw units.
type Closure struct {
	Loop     int64   `json:"loop"`
	Quantity string  `json:"quantity"`
	Total    uint64  `json:"total"`
	Sum      uint64  `json:"sum"`
	Diff     int64   `json:"diff"`     // Sum - Total
	Relative float64 `json:"relative"` // |Diff| / Total (0 when Total is 0 and Diff is 0)
	// Estimate marks utime and stime: each bucket's share is an estimate (the bucket's
	// exact CPU time split in getrusage's ratio), so their sum need not close.
	Estimate bool `json:"estimate"`
}

// Loop is one event loop's buckets.
type Loop struct {
	ID    int64      `json:"id"`
	Total Quantities `json:"total"`
	Main  Quantities `json:"main"`
	Wait  Quantities `json:"wait"`
}

// Wait is the time a coroutine spent parked for one reason.
type Wait struct {
	Reason string  `json:"reason"`
	Count  uint64  `json:"count"`
	Ticks  uint64  `json:"ticks"`
	Secs   float64 `json:"seconds"`
}

// WaitSite is one place coroutines blocked, for one reason, summed over the
// coroutines that blocked there (exact counts and ticks).
type WaitSite struct {
	Reason     string  `json:"reason"`
	Site       string  `json:"site"`
	Count      uint64  `json:"count"`
	Ticks      uint64  `json:"ticks"`
	Seconds    float64 `json:"seconds"`
	Coroutines int     `json:"coroutines"` // how many coroutines blocked here
}

// Coroutine is one coroutine's exact ledger.
type Coroutine struct {
	ID       uint64 `json:"id"`
	Name     string `json:"name"`
	ParentID uint64 `json:"parent_id"`
	Loop     int64  `json:"loop"`
	Spawn    string `json:"spawn_site,omitempty"`
	Exited   bool   `json:"exited"`
	Panicked bool   `json:"panicked"`
	Resumes  uint64 `json:"resumes"`
	Quantities
	Samples       uint64 `json:"samples"`
	RunnableTicks uint64 `json:"runnable_ticks"`
	Waits         []Wait `json:"waits,omitempty"`
	LongestSlice  uint64 `json:"longest_slice_ticks"`
	LongestSite   string `json:"longest_site,omitempty"`
	// Exact is the coroutine's share of each region and instrumented function it ran,
	// counted exactly (absent when it ran none).
	Exact []CoroFunction `json:"exact,omitempty"`
}

// CoroFunction is one coroutine's share of one exact row (a region or an instrumented
// function): its calls, and the row's self and cumulative cost while that coroutine
// ran it.
type CoroFunction struct {
	Function   int        `json:"function"` // index into Model.Functions
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Calls      uint64     `json:"calls"`
	Self       Quantities `json:"self"`
	Cumulative Quantities `json:"cumulative"`
}

// Function kinds.
const (
	KindRegion  = "region"  // profiler.Region: exact, calls counted
	KindExact   = "exact"   // a function instrumented by cmd/coro-instrument: exact, calls counted
	KindSampled = "sampled" // from CPU samples: costs are estimates
	// KindUnlabelled rows come from CPU samples with no coroutine label (the scheduler
	// between coroutines, or goroutines off the loop: GC, Offload workers, the
	// profiler itself): sample counts and pprof's CPU estimate, no ledger figures.
	KindUnlabelled = "unlabelled"
)

// Cost is a function's self or cumulative cost.
type Cost struct {
	Quantities
	Calls   uint64 `json:"calls,omitempty"` // regions only
	Samples uint64 `json:"samples"`         // sampled functions only
}

// Edge is one caller or callee of a function in the call graph. Count is calls for
// regions and samples for sampled functions; Share is Count over the sum of the
// function's callers' (or callees') counts.
type Edge struct {
	Function int     `json:"function"` // index into Model.Functions; -1: top level
	Name     string  `json:"name"`
	Count    uint64  `json:"count"`
	Share    float64 `json:"share"`
}

// Function is one row of the Non-Aggregate (Self) and Aggregate (Cumulative) tables
// and one entry of the call graph.
type Function struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	File       string `json:"file,omitempty"`
	Line       int64  `json:"line,omitempty"`
	Estimate   bool   `json:"estimate"` // costs are scaled from samples, not counted
	Self       Cost   `json:"self"`
	Cumulative Cost   `json:"cumulative"`
	Callers    []Edge `json:"callers"`
	Callees    []Edge `json:"callees"`
}

// Counted reports whether f's figures and calls were counted exactly (a region or an
// instrumented function), not estimated from samples.
func (f *Function) Counted() bool { return f.Kind == KindRegion || f.Kind == KindExact }

// Slice is one run slice of the timeline; times in seconds since Start.
type Slice struct {
	Coro      uint64  `json:"coro"`
	Loop      int64   `json:"loop"`
	Start     float64 `json:"start"`
	End       float64 `json:"end"`
	Ended     string  `json:"ended"` // "yielded", "waiting: read", "exited", ...
	Site      string  `json:"site,omitempty"`
	Ticks     uint64  `json:"ticks"`
	StartTick uint64  `json:"start_tick"`
}

// LongSlice is one of the longest run slices with its counters and a diagnosis.
type LongSlice struct {
	Coro  uint64  `json:"coro"`
	Name  string  `json:"name"`
	Loop  int64   `json:"loop"`
	Start float64 `json:"start"` // seconds since Start
	Quantities
	Seconds   float64  `json:"seconds"`
	Ended     string   `json:"ended"`
	Site      string   `json:"site,omitempty"`
	Diagnosis string   `json:"diagnosis"`
	Evidence  []string `json:"evidence,omitempty"`
}

// FlameNode is one frame of the flame graph: Value samples passed through it.
type FlameNode struct {
	Name     string       `json:"n"`
	Value    uint64       `json:"v"`
	Children []*FlameNode `json:"c,omitempty"`
}

// Model is everything the views render.
type Model struct {
	Version    uint32     `json:"version"`
	Clock      Clock      `json:"clock"`
	Measured   []string   `json:"measured"`
	Meta       Meta       `json:"meta"`
	TotalTicks uint64     `json:"total_ticks"` // elapsed ticks from Start to Stop
	Total      Quantities `json:"total"`       // Σ loops' own totals
	Busy       Quantities `json:"busy"`        // Total minus <wait>: the denominator of every percentage
	Main       Quantities `json:"main"`
	Wait       Quantities `json:"wait"`
	Loops      []Loop     `json:"loops"`
	Closure    []Closure  `json:"closure"`
	// WorstClosure indexes Closure's largest relative error among the exact quantities
	// (ticks, cpu, the rusage counters; -1 when there is none); WorstEstimateClosure
	// the largest among the estimates (utime, stime; -1 when not measured), which
	// cannot close exactly by construction and so never decide whether the books close.
	WorstClosure         int         `json:"worst_closure"`
	WorstEstimateClosure int         `json:"worst_estimate_closure"`
	Coroutines           []Coroutine `json:"coroutines"` // by ticks, descending
	WaitSites            []WaitSite  `json:"wait_sites"` // by ticks, descending
	Functions            []Function  `json:"functions"`  // by self ticks, descending
	TotalSamples         uint64      `json:"total_samples"`
	// UnlabelledSamples of TotalSamples had no coroutine label; UnlabelledCPU is the
	// CPU time pprof credits them with (seconds, an estimate; 0 when cpu was not measured).
	UnlabelledSamples uint64      `json:"unlabelled_samples"`
	UnlabelledCPU     float64     `json:"unlabelled_cpu"`
	Flame             *FlameNode  `json:"flame,omitempty"` // all samples, root "all"
	Slices            []Slice     `json:"slices,omitempty"`
	SlicesDropped     uint64      `json:"slices_dropped"`
	LongSlices        []LongSlice `json:"long_slices,omitempty"`

	meas format.Measured
	// profile is the input (the pprof view reads it after Build).
	profile   *format.Profile
	startTick uint64
	coroByID  map[uint64]int
	// stacks are the samples resolved to function indices, leaf first, for flame
	// graphs of single coroutines built on demand.
	stacks    []sampleStack
	rootFirst []int32 // indices of stacks sorted root frame first (flame graphs)
}

type sampleStack struct {
	coro  uint64
	count uint64
	funcs []int32 // indices into Model.Functions, leaf first
}

// Has reports whether the profile measured q.
func (m *Model) Has(q wire.Counter) bool { return Measures(m.meas, q) }

// Measures reports whether a profile that measured ms has quantity q (profops.Measures).
func Measures(ms format.Measured, q wire.Counter) bool { return profops.Measures(ms, q) }

// Profile returns the profile the model was built from (the pprof view reads it).
func (m *Model) Profile() *format.Profile { return m.profile }

// HasSamples reports whether the profile holds CPU samples.
func (m *Model) HasSamples() bool { return m.meas&format.MeasSamples != 0 }

// HasSlices reports whether the profile recorded a ring of run slices.
func (m *Model) HasSlices() bool { return m.meas&format.MeasSlices != 0 }

// Seconds converts ticks to seconds with the profile's clock (0 if the rate is unknown).
func (m *Model) Seconds(ticks float64) float64 {
	if m.Clock.TicksPerSecond == 0 {
		return 0
	}
	return ticks / float64(m.Clock.TicksPerSecond)
}

// Coroutine returns the coroutine with the given id.
func (m *Model) Coroutine(id uint64) (*Coroutine, bool) {
	i, ok := m.coroByID[id]
	if !ok {
		return nil, false
	}
	return &m.Coroutines[i], true
}

// Build makes the model of p. It never panics on inconsistent references (an index
// out of range names "?"), so a reader bug cannot crash the report; Read is where bad
// files are rejected.
func Build(p *format.Profile) (*Model, error) {
	if p == nil {
		return nil, fmt.Errorf("building report: no profile")
	}
	if len(p.Loops) == 0 {
		return nil, fmt.Errorf("building report: profile has no event loop")
	}
	m := &Model{
		Version: p.Version,
		Clock:   Clock{Source: p.Clock.Source, TicksPerSecond: p.Clock.TicksPerSecond, Invariant: p.Clock.Invariant},
		Meta: Meta{
			Program: p.Meta.Program, Args: p.Meta.Args, Host: p.Meta.Host, GOOS: p.Meta.GOOS,
			GOARCH: p.Meta.GOARCH, GoVersion: p.Meta.GoVersion, CPUModel: p.Meta.CPUModel,
			CPUFeatures: p.Meta.CPUFeatures, PID: p.Meta.PID, WallStart: p.Meta.WallStart,
			Duration: p.Meta.Duration.Seconds(), SampleRate: p.Meta.SampleRate, Notes: p.Meta.Notes,
		},
		meas:                 p.Measured | format.MeasTicks,
		profile:              p,
		startTick:            p.Meta.StartTick,
		SlicesDropped:        p.SlicesDropped,
		WorstClosure:         -1,
		WorstEstimateClosure: -1,
	}
	m.Measured = MeasuredNames(m.meas)
	if p.Meta.StopTick > p.Meta.StartTick {
		m.TotalTicks = p.Meta.StopTick - p.Meta.StartTick
	}
	m.buildLoops()
	m.buildCoroutines()
	m.buildClosure()
	m.buildWaitSites()
	m.buildFunctions()
	m.buildSlices()
	if m.TotalTicks == 0 {
		m.TotalTicks = m.Total.Ticks()
	}
	return m, nil
}

// MeasuredNames lists what a profile that measured ms holds, as Model.Measured does.
func MeasuredNames(ms format.Measured) []string {
	names := []string{"ticks"}
	if ms&format.MeasCPU != 0 {
		names = append(names, "cpu")
	}
	if ms&format.MeasRusage != 0 {
		names = append(names, wire.CounterNames[wire.Utime:]...)
	}
	if ms&format.MeasSamples != 0 {
		names = append(names, "samples")
	}
	if ms&format.MeasRegions != 0 {
		names = append(names, "regions")
	}
	if ms&format.MeasSlices != 0 {
		names = append(names, "slices")
	}
	return names
}

func (m *Model) buildLoops() {
	var total, main, wait Vec
	for _, l := range m.profile.Loops {
		t, mn, w := vecOf(l.Total), vecOf(l.Main), vecOf(l.Wait)
		total.Add(t)
		main.Add(mn)
		wait.Add(w)
		m.Loops = append(m.Loops, Loop{ID: l.ID, Total: t.Quantities(), Main: mn.Quantities(), Wait: w.Quantities()})
	}
	m.Total, m.Main, m.Wait = total.Quantities(), main.Quantities(), wait.Quantities()
	busy := total
	busy.addScaled(wait, -1)
	m.Busy = busy.Quantities()
}

// loc names a location as "func file:line" parts; ok is false for LocID 0 or a bad id.
func loc(p *format.Profile, id format.LocID) (fn string, file string, line int64, ok bool) {
	funcs, locs := p.Funcs, p.Locations
	if id == 0 || int(id) > len(locs) {
		return "", "", 0, false
	}
	l := locs[id-1]
	if int(l.Func) >= len(funcs) {
		return "?", "", l.Line, true
	}
	f := funcs[l.Func]
	return f.Name, f.File, l.Line, true
}

// Site formats a location of the model's profile for display: "pkg.fn (file.go:12)".
func (m *Model) Site(id format.LocID) string { return Site(m.profile, id) }

// Site formats a location of p for display: "pkg.fn (file.go:12)"; "" for LocID 0 or
// an id out of range.
func Site(p *format.Profile, id format.LocID) string {
	fn, file, line, ok := loc(p, id)
	if !ok {
		return ""
	}
	if file == "" {
		return fmt.Sprintf("%s:%d", fn, line)
	}
	return fmt.Sprintf("%s (%s:%d)", fn, file, line)
}

func (m *Model) buildCoroutines() {
	p := m.profile
	m.Coroutines = make([]Coroutine, len(p.Coroutines))
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		out := Coroutine{
			ID: c.ID, Name: c.Name, ParentID: c.ParentID, Loop: c.Loop, Spawn: m.Site(c.SpawnSite),
			Exited: c.Exited, Panicked: c.Panicked, Resumes: c.Resumes,
			Quantities: vecOf(c.Counters).Quantities(), RunnableTicks: c.Runnable,
			LongestSlice: c.LongestSlice, LongestSite: m.Site(c.LongestSite),
		}
		for r, w := range c.Waits {
			if w.Count == 0 && w.Ticks == 0 {
				continue
			}
			out.Waits = append(out.Waits, Wait{Reason: wire.WaitReasonNames[r], Count: w.Count,
				Ticks: w.Ticks, Secs: m.Seconds(float64(w.Ticks))})
		}
		m.Coroutines[i] = out
	}
	// Sort indices, not the (large) structs.
	order := make([]int32, len(m.Coroutines))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(i, j int32) int {
		a, b := &m.Coroutines[i], &m.Coroutines[j]
		if a.Ticks() != b.Ticks() {
			return cmp.Compare(b.Ticks(), a.Ticks())
		}
		return cmp.Compare(a.ID, b.ID)
	})
	sorted := make([]Coroutine, len(order))
	for n, i := range order {
		sorted[n] = m.Coroutines[i]
	}
	m.Coroutines = sorted
	m.coroByID = make(map[uint64]int, len(m.Coroutines))
	for i := range m.Coroutines {
		m.coroByID[m.Coroutines[i].ID] = i
	}
}

// buildClosure checks conservation per loop for every measured quantity.
func (m *Model) buildClosure() {
	p := m.profile
	sums := make(map[int64]*wire.Counters, len(p.Loops))
	for _, l := range p.Loops {
		var s wire.Counters
		s.Add(l.Main)
		s.Add(l.Wait)
		sums[l.ID] = &s
	}
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		if s, ok := sums[c.Loop]; ok {
			s.Add(c.Counters)
		}
	}
	worst, worstEst := -1.0, -1.0
	for _, l := range p.Loops {
		for q := range wire.NumCounters {
			if !m.Has(q) {
				continue
			}
			t, s := l.Total[q], sums[l.ID][q]
			c := Closure{Loop: l.ID, Quantity: wire.CounterNames[q], Total: t, Sum: s, Diff: int64(s - t),
				Estimate: q.Estimate()}
			if t != 0 {
				c.Relative = math.Abs(float64(c.Diff)) / float64(t)
			} else if s != 0 {
				c.Relative = 1
			}
			m.Closure = append(m.Closure, c)
			w, at := &worst, &m.WorstClosure
			if c.Estimate {
				w, at = &worstEst, &m.WorstEstimateClosure
			}
			if c.Relative > *w {
				*w = c.Relative
				*at = len(m.Closure) - 1
			}
		}
	}
}

// buildWaitSites sums the profile's per-coroutine blocking call sites by (reason, site).
func (m *Model) buildWaitSites() {
	type key struct {
		reason uint8
		site   format.LocID
	}
	idx := map[key]int{}
	for _, w := range m.profile.WaitSites {
		k := key{w.Reason, w.Site}
		i, ok := idx[k]
		if !ok {
			reason := fmt.Sprintf("reason %d", w.Reason)
			if int(w.Reason) < len(wire.WaitReasonNames) {
				reason = wire.WaitReasonNames[w.Reason]
			}
			site := m.Site(w.Site)
			if site == "" {
				site = "(unknown)"
			}
			i = len(m.WaitSites)
			idx[k] = i
			m.WaitSites = append(m.WaitSites, WaitSite{Reason: reason, Site: site})
		}
		ws := &m.WaitSites[i]
		ws.Count += w.Count
		ws.Ticks += w.Ticks
		ws.Coroutines++
	}
	for i := range m.WaitSites {
		m.WaitSites[i].Seconds = m.Seconds(float64(m.WaitSites[i].Ticks))
	}
	slices.SortStableFunc(m.WaitSites, func(a, b WaitSite) int {
		if a.Ticks != b.Ticks {
			return cmp.Compare(b.Ticks, a.Ticks)
		}
		if a.Site != b.Site {
			return cmp.Compare(a.Site, b.Site)
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
}
