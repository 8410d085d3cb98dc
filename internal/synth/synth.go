package synth

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// Options sets the size of a generated profile. Zero means none, except Loops
// (at least one) and Funcs (a default table of synthFuncs).
type Options struct {
	Loops      int  // event loops; 0 means 1
	Coroutines int  // coroutines, spread over the loops
	Funcs      int  // functions in the symbol table; 0 means len(synthFuncs)
	Samples    int  // distinct aggregated CPU stacks (each with its own count)
	Slices     int  // run slices in the timeline ring
	LongSlices int  // longest slices with full counters
	Regions    int  // user-marked regions (edges are made between them)
	TicksOnly  bool // measure ticks only: CPU and rusage counters are zero
}

// Profile returns a deterministic, valid, canonically ordered profile: the same seed
// and options give the same profile, and format.Write gives the same bytes. Tests of
// every package use it (print-profile's golden outputs are made from it).
//
// It is consistent the way a real profile is: conservation holds exactly per loop
// (Σ its coroutines + Main + Wait == Total for every counter), Utime+Stime == CPU for
// every bucket, a coroutine's wait totals are the sums of its wait sites, every index
// and LocID is in range, slices lie between StartTick and StopTick in order, and
// every sample stack is distinct. Names are plausible Go names plus a few hostile ones
// (a coroutine named "<script>alert(1)</script>", quotes, ampersands, non-ASCII) so
// that renderers are tested for escaping.
func Profile(seed int64, opt Options) *format.Profile {
	g := &synth{
		r:   rand.New(rand.NewPCG(uint64(seed), 0x636f726f70726f66)), // "coroprof"
		opt: opt,
	}
	if g.opt.Loops <= 0 {
		g.opt.Loops = 1
	}
	if g.opt.Funcs <= 0 {
		g.opt.Funcs = len(synthFuncs)
	}
	return g.profile(seed)
}

const synthTPS = 2_100_000_000 // ticks per second of the synthetic clock

type synth struct {
	r   *rand.Rand
	opt Options
	p   *format.Profile
}

// Function names, files and a hostile one; the table repeats with a numeric suffix
// when more functions are asked for.
var synthFuncs = []struct{ name, file string }{
	{"main.main", "/src/app/main.go"},
	{"main.serve", "/src/app/server.go"},
	{"main.handleConn", "/src/app/server.go"},
	{"main.(*session).readRequest", "/src/app/session.go"},
	{"main.(*session).writeResponse", "/src/app/session.go"},
	{"main.parse[go.shape.string]", "/src/app/parse.go"},
	{"main.render<html>&escape", "/src/app/render.go"},
	{"bufio.(*Reader).fill", "/usr/local/go/src/bufio/bufio.go"},
	{"bufio.(*Writer).Flush", "/usr/local/go/src/bufio/bufio.go"},
	{"encoding/json.Unmarshal", "/usr/local/go/src/encoding/json/decode.go"},
	{"crypto/sha256.block", "/usr/local/go/src/crypto/sha256/sha256block_amd64.go"},
	{"runtime.mallocgc", "/usr/local/go/src/runtime/malloc.go"},
	{"syscall.Syscall6", "/usr/local/go/src/syscall/syscall_linux.go"},
	{"github.com/coroprof/coroprof/runtime.(*Conn).Read", "/src/coroprof/runtime/conn.go"},
	{"github.com/coroprof/coroprof/runtime.(*Conn).Write", "/src/coroprof/runtime/conn.go"},
	{"github.com/coroprof/coroprof/runtime.Yield", "/src/coroprof/runtime/sched.go"},
	{"github.com/coroprof/coroprof/runtime.Sleep", "/src/coroprof/runtime/timer.go"},
	{"github.com/coroprof/coroprof/runtime.(*Mutex).Lock", "/src/coroprof/runtime/sync.go"},
	{"github.com/coroprof/coroprof/runtime.(*Channel[...]).Recv", "/src/coroprof/runtime/channel.go"},
	{"github.com/coroprof/coroprof/runtime.Offload", "/src/coroprof/runtime/offload.go"},
	{"main.worm·move", "/src/app/wörms.go"},
}

var synthCoroNames = []string{
	"main.serve",
	"main.handleConn",
	"<script>alert(1)</script>",
	"main.(*proxy).pump",
	"worms.(*worm).run",
	`client "fast" & 'slow'`,
	"main.worker",
	"червь",
	"main.main.func1",
}

var synthRegionNames = []string{"parse", "render", "db.query", "compress", "<b>bold</b> & co", "auth", "encode"}

func (g *synth) n(lo, hi uint64) uint64 { // uniform in [lo, hi]
	return lo + g.r.Uint64N(hi-lo+1)
}

// skewed returns a heavy-tailed value in [lo, hi]: profiles are dominated by a few
// buckets, and the report's sorting and "other" folding should see that.
func (g *synth) skewed(lo, hi uint64) uint64 {
	f := g.r.Float64()
	f = f * f * f
	return lo + uint64(f*float64(hi-lo))
}

// counters makes a bucket's counters for ticks; cpuShare is the fraction of the
// ticks' wall time spent on CPU.
func (g *synth) counters(ticks uint64, cpuShare float64) format.Counters {
	c := format.Counters{wire.Ticks: ticks}
	if g.opt.TicksOnly {
		return c
	}
	ns := ticks * 1_000_000_000 / synthTPS
	c[wire.CPU] = uint64(float64(ns) * cpuShare)
	c[wire.Utime] = c[wire.CPU] * g.n(50, 100) / 100
	c[wire.Stime] = c[wire.CPU] - c[wire.Utime]
	c[wire.Minflt] = g.skewed(0, 2000)
	c[wire.Majflt] = g.skewed(0, 3)
	c[wire.Inblock] = g.skewed(0, 64) * 8
	c[wire.Oublock] = g.skewed(0, 32) * 8
	c[wire.Nvcsw] = g.skewed(0, 50)
	c[wire.Nivcsw] = g.skewed(0, 20)
	return c
}

func (g *synth) loc() format.LocID { return format.LocID(1 + g.r.IntN(len(g.p.Locations))) }

func (g *synth) profile(seed int64) *format.Profile {
	g.p = &format.Profile{
		Version: format.Version,
		Clock:   format.Clock{Source: "rdtscp", TicksPerSecond: synthTPS, Invariant: true},
	}
	g.measured()
	g.symbols()
	g.coroutines()
	elapsed := g.buckets()
	g.waits(elapsed)
	g.regions()
	g.samples()
	g.meta(seed, elapsed)
	g.timeline(elapsed)
	g.longSlices(elapsed)
	g.p.Sort()
	return g.p
}

// measured says what the profile holds.
func (g *synth) measured() {
	p, opt := g.p, g.opt
	p.Measured = format.MeasTicks
	if !opt.TicksOnly {
		p.Measured |= format.MeasCPU | format.MeasRusage
	}
	if opt.Samples > 0 {
		p.Measured |= format.MeasSamples
	}
	if opt.Regions > 0 {
		p.Measured |= format.MeasRegions
	}
	if opt.Slices > 0 {
		p.Measured |= format.MeasSlices
	}
}

// The symbol table: each function has 2 to 4 locations.
func (g *synth) symbols() {
	p, opt := g.p, g.opt
	for i := range opt.Funcs {
		f := synthFuncs[i%len(synthFuncs)]
		name := f.name
		if i >= len(synthFuncs) {
			name = fmt.Sprintf("%s%d", f.name, i/len(synthFuncs))
		}
		start := int64(g.n(10, 900))
		p.Funcs = append(p.Funcs, format.Func{Name: name, File: f.file, StartLine: start})
		for range g.n(2, 4) { // at least two, so sample stacks can count in base len(Locations)
			p.Locations = append(p.Locations, format.Location{Func: uint32(i), Line: start + int64(g.n(1, 60))})
		}
	}
}

// Loops and coroutines. Coroutine i runs on loop i%Loops, so every loop has some
// when there are at least as many coroutines as loops.
func (g *synth) coroutines() {
	p, opt := g.p, g.opt
	for l := range opt.Loops {
		p.Loops = append(p.Loops, format.Loop{ID: int64(l + 1)})
	}
	for i := range opt.Coroutines {
		id := uint64(i + 1)
		c := format.Coroutine{
			ID:        id,
			Loop:      int64(i%opt.Loops + 1),
			Name:      synthCoroNames[i%len(synthCoroNames)],
			SpawnSite: g.loc(),
		}
		if i > 0 && g.r.IntN(4) != 0 {
			c.ParentID = g.n(1, id-1)
		}
		c.Exited = g.r.IntN(3) == 0
		c.Panicked = c.Exited && g.r.IntN(10) == 0
		c.Counters = g.counters(g.skewed(50_000, 4_000_000_000), 0.3+0.7*g.r.Float64())
		// A resume costs at least a few hundred ticks.
		c.Resumes = min(g.skewed(1, 100_000), max(1, c.Counters[wire.Ticks]/500))
		c.LongestSlice = c.Counters[wire.Ticks] / min(c.Resumes, g.n(1, 8))
		c.LongestSite = g.loc()
		p.Coroutines = append(p.Coroutines, c)
	}
}

// <main> and <wait> per loop, and the totals that make conservation exact.
func (g *synth) buckets() (elapsed uint64) {
	p := g.p
	for l := range p.Loops {
		lp := &p.Loops[l]
		lp.Main = g.counters(g.skewed(1_000_000, 500_000_000), 0.95)
		lp.Wait = g.counters(g.skewed(1_000_000, 8_000_000_000), 0.001)
		lp.Total = lp.Main
		lp.Total.Add(lp.Wait)
		for i := range p.Coroutines {
			if p.Coroutines[i].Loop == lp.ID {
				lp.Total.Add(p.Coroutines[i].Counters)
			}
		}
		elapsed = max(elapsed, lp.Total[wire.Ticks])
	}
	return elapsed
}

// Time off the CPU: a coroutine is running, runnable or parked, so runnable and
// parked ticks share what its running leaves of the elapsed time. Wait sites: 0
// to 3 per coroutine, distinct (reason, site) pairs, each taking up to a third of
// the parked budget; the coroutine's wait totals are their sums.
func (g *synth) waits(elapsed uint64) {
	p := g.p
	for i := range p.Coroutines {
		c := &p.Coroutines[i]
		off := elapsed - c.Counters[wire.Ticks]
		c.Runnable = g.skewed(0, off/4)
		parked := off - c.Runnable
		first := len(p.WaitSites)
		for range g.r.IntN(4) {
			ws := format.WaitSite{
				CoroID: c.ID,
				Reason: uint8(g.n(1, format.NumWaitReasons-1)),
				Site:   g.loc(),
			}
			if slices.ContainsFunc(p.WaitSites[first:], func(o format.WaitSite) bool {
				return o.Reason == ws.Reason && o.Site == ws.Site
			}) {
				continue
			}
			ws.Ticks = g.skewed(1, parked/3)
			ws.Count = min(g.skewed(1, 10_000), max(1, ws.Ticks/2000)) // a park lasts at least ~1µs
			p.WaitSites = append(p.WaitSites, ws)
			c.Waits[ws.Reason].Count += ws.Count
			c.Waits[ws.Reason].Ticks += ws.Ticks
		}
	}
}

// Regions: calls, self ≤ cumulative; edges from the top level (-1) and between
// regions, at most one per (caller, callee).
func (g *synth) regions() {
	p, opt := g.p, g.opt
	for i := range opt.Regions {
		r := format.Region{Name: synthRegionNames[i%len(synthRegionNames)], Calls: g.skewed(1, 1_000_000)}
		if i >= len(synthRegionNames) {
			r.Name = fmt.Sprintf("%s#%d", r.Name, i/len(synthRegionNames))
		}
		r.Self = g.counters(g.skewed(1000, 1_000_000_000), 0.9)
		r.Cumulative = r.Self
		r.Cumulative.Add(g.counters(g.skewed(0, 500_000_000), 0.9))
		p.Regions = append(p.Regions, r)
		p.RegionEdges = append(p.RegionEdges, format.RegionEdge{Caller: -1, Callee: int32(i), Calls: r.Calls / 2, Cumulative: g.counters(r.Cumulative[wire.Ticks]/2, 0.9)})
		if i > 0 {
			caller := int32(g.r.IntN(i))
			p.RegionEdges = append(p.RegionEdges, format.RegionEdge{Caller: caller, Callee: int32(i), Calls: r.Calls - r.Calls/2, Cumulative: g.counters(r.Cumulative[wire.Ticks]/2, 0.9)})
		}
	}
}

// Samples: distinct stacks. The leaf frames spell the sample's index in base
// len(Locations) (padded to a fixed width), which makes every stack distinct
// without a set; the callers above them are random.
func (g *synth) samples() {
	p, opt := g.p, g.opt
	if opt.Samples > 0 {
		nloc := uint64(len(p.Locations))
		width := 1
		for x := uint64(opt.Samples - 1); x >= nloc; x /= nloc {
			width++
		}
		// Counts: each coroutine's samples together stand for about its exact CPU
		// time (ticks at half speed when CPU is not measured), and the samples
		// outside coroutines for <main>'s, split by heavy-tailed weights.
		nanosPer := uint64(1_000_000_000 / 100)
		weights := make([]uint64, opt.Samples)
		totals := map[uint64]uint64{}
		for i := range opt.Samples {
			depth := width + g.r.IntN(6)
			stack := make([]format.LocID, depth)
			x := uint64(i)
			for d := range width {
				stack[d] = format.LocID(1 + x%nloc)
				x /= nloc
			}
			for d := width; d < depth; d++ {
				stack[d] = g.loc()
			}
			var coro uint64
			if len(p.Coroutines) > 0 && g.r.IntN(8) != 0 {
				coro = g.n(1, uint64(len(p.Coroutines)))
			}
			weights[i] = g.skewed(1, 1000)
			totals[coro] += weights[i]
			p.Samples = append(p.Samples, format.Sample{CoroID: coro, Stack: stack})
		}
		cpuOf := func(c format.Counters) uint64 {
			if opt.TicksOnly {
				return c[wire.Ticks] * 1_000_000_000 / synthTPS / 2
			}
			return c[wire.CPU]
		}
		var mainCPU uint64
		for _, l := range p.Loops {
			mainCPU += cpuOf(l.Main)
		}
		for i := range p.Samples {
			s := &p.Samples[i]
			budget := mainCPU
			if s.CoroID != 0 {
				budget = cpuOf(p.Coroutines[s.CoroID-1].Counters)
			}
			s.Count = max(1, budget/nanosPer*weights[i]/totals[s.CoroID])
			s.Nanos = s.Count * nanosPer
		}
	}
}

// The timeline: each loop runs its coroutines one slice after another from
// StartTick; slices are merged oldest first.
func (g *synth) meta(seed int64, elapsed uint64) {
	p, opt := g.p, g.opt
	p.Meta = format.Meta{
		Program:     "/tmp/synth/echo-server",
		Args:        []string{"-addr", ":7000", "-name", "<script>alert(1)</script>"},
		Host:        "synth-host",
		GOOS:        "linux",
		GOARCH:      "amd64",
		GoVersion:   "go1.26.8",
		CPUModel:    "Synthetic CPU @ 2.10GHz",
		CPUFeatures: []string{"aes", "avx", "avx2", "bmi2", "erms", "sse42"},
		PID:         4000 + seed%1000,
		WallStart:   time.Unix(1_790_000_000+seed%100_000, 123_456_789).UTC(),
		StartTick:   1_000_000_000_000 + uint64(seed%1000)*1_000_000,
		SampleRate:  0,
		Notes:       []string{fmt.Sprintf("synthetic profile (seed %d)", seed)},
	}
	if opt.Samples > 0 {
		p.Meta.SampleRate = 100
	}
	p.Meta.StopTick = p.Meta.StartTick + elapsed
	p.Meta.Duration = time.Duration(elapsed * 1_000_000_000 / synthTPS)
}

// timeline lays out the run slices (see meta).
func (g *synth) timeline(elapsed uint64) {
	p, opt := g.p, g.opt
	if opt.Slices > 0 && len(p.Coroutines) > 0 {
		// Loops take turns, so each runs at most perLoop slices, each advancing its
		// cursor by at most 3/4 step: the timeline ends before StopTick.
		busy := min(opt.Loops, len(p.Coroutines)) // loops that have coroutines
		perLoop := uint64(opt.Slices/busy + 1)
		step := max(elapsed/perLoop, 4)
		cursor := make([]uint64, busy)
		for i := range cursor {
			cursor[i] = p.Meta.StartTick
		}
		for i := range opt.Slices {
			l := i % busy
			// Coroutine j runs on loop j%Loops: pick one of loop l's.
			k := (len(p.Coroutines) - l + opt.Loops - 1) / opt.Loops
			c := &p.Coroutines[l+opt.Loops*g.r.IntN(k)]
			start := cursor[l] + g.n(0, step/4)
			end := start + g.skewed(1, step/2)
			cursor[l] = end
			s := format.Slice{CoroID: c.ID, Loop: c.Loop, Start: start, End: end, Site: g.loc()}
			switch g.r.IntN(3) {
			case 0:
				s.State = 0 // runnable: yielded
			case 1:
				s.State = 2 // waiting
				s.Reason = uint8(g.n(1, format.NumWaitReasons-1))
			default:
				s.State = 3 // exited
			}
			p.Slices = append(p.Slices, s)
		}
		slices.SortStableFunc(p.Slices, func(a, b format.Slice) int { return cmp.Compare(a.Start, b.Start) })
		p.SlicesDropped = g.skewed(0, uint64(opt.Slices)*4)
	}
}

// Long slices: a coroutine's first is its longest slice; more of the same
// coroutine are shorter.
func (g *synth) longSlices(elapsed uint64) {
	p, opt := g.p, g.opt
	picked := map[uint64]bool{}
	for range opt.LongSlices {
		if len(p.Coroutines) == 0 {
			break
		}
		c := &p.Coroutines[g.r.IntN(len(p.Coroutines))]
		ticks, site := c.LongestSlice, c.LongestSite
		if picked[c.ID] {
			ticks, site = ticks*g.n(30, 99)/100, g.loc()
		}
		picked[c.ID] = true
		ls := format.LongSlice{
			CoroID:   c.ID,
			Loop:     c.Loop,
			Start:    p.Meta.StartTick + g.n(0, elapsed-ticks),
			Counters: g.counters(ticks, g.r.Float64()),
			Site:     site,
		}
		switch g.r.IntN(3) {
		case 0: // yielded
		case 1:
			ls.State, ls.Reason = 2, uint8(g.n(1, format.NumWaitReasons-1))
		default:
			ls.State = 3
		}
		p.LongSlices = append(p.LongSlices, ls)
	}
}

// Golden are the generated profiles kept in testdata/ at the repository root, for
// tests of readers of the file (print-profile's golden outputs). Each file holds
// Profile(Seed, Options) as format.Write writes it; `go test ./format -run TestGolden
// -update` rewrites them after a deliberate change to the format or the generator.
var Golden = []struct {
	Name    string // file name in testdata/
	Seed    int64
	Options Options
}{
	{"small.bin", 1, Options{Coroutines: 5, Samples: 20, Slices: 30, LongSlices: 3, Regions: 3}},
	{"medium.bin", 2, Options{Coroutines: 200, Samples: 2000, Slices: 1000, LongSlices: 20, Regions: 8, Funcs: 40}},
	{"multiloop.bin", 3, Options{Loops: 3, Coroutines: 30, Samples: 200, Slices: 300, LongSlices: 6, Regions: 4}},
	{"ticksonly.bin", 4, Options{Coroutines: 12, Samples: 40, Slices: 50, LongSlices: 2, TicksOnly: true}},
}
