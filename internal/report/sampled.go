package report

import (
	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// buildSampled turns CPU samples into function rows (its steps are sampler's methods). A coroutine's exact totals are
// spread over its samples: each sample stands for totals×count/Σcounts, and that share
// goes to the leaf's self estimate and, once per stack, to the cumulative estimate of
// each function on it (KindSampled rows).
//
// Samples without a coroutine label (CoroID 0) are not spread over any ledger: they
// come from the scheduler between coroutines, but equally from other goroutines (GC
// workers, Offload workers, the profiler writing its file after Stop), and the samples
// cannot tell these apart, so scaling <main>'s exact ledger over them would charge the
// scheduler's time to code that never ran on the loop. They make KindUnlabelled rows
// of their own, one per function, carrying their sample counts and the CPU time pprof
// gave them (Sample.Nanos), and no ticks or rusage figures, which only the loop's
// ledger measures.
func (m *Model) buildSampled(b *funcBuilder, first int) {
	if len(m.profile.Samples) == 0 {
		return
	}
	s := &sampler{m: m, b: b, first: first}
	s.symbolRows()
	s.count()
	s.spread()
	s.dropUntouched()
}

// sampler carries buildSampled's state from one step to the next.
type sampler struct {
	m     *Model
	b     *funcBuilder
	first int // rows before it are regions

	locRow  []int32 // the sampled row of each LocID (0: unknown)
	unknown int32   // the row "?" of locations the tables do not resolve

	coroTotals []uint64 // samples per coroutine, by index into m.Coroutines
	twin       []int32  // the unlabelled row of each sampled row; -1: none
}

// symbolRows makes a sampled row per function name, so duplicate symbol-table
// entries merge, and maps every location to its row.
func (s *sampler) symbolRows() {
	p, b := s.m.profile, s.b
	byName := make(map[string]int)
	funcRow := make([]int32, len(p.Funcs))
	for i, f := range p.Funcs {
		r, ok := byName[f.Name]
		if !ok {
			r = b.add(Function{Name: f.Name, Kind: KindSampled, File: f.File, Line: f.StartLine, Estimate: true})
			byName[f.Name] = r
		}
		funcRow[i] = int32(r)
	}
	// "?" stands for a location the tables do not resolve; like every row, it is
	// dropped by dropUntouched if no sample reached it.
	s.unknown = int32(b.add(Function{Name: "?", Kind: KindSampled, Estimate: true}))
	s.locRow = make([]int32, len(p.Locations)+1)
	s.locRow[0] = s.unknown
	for i, l := range p.Locations {
		s.locRow[i+1] = s.unknown
		if int(l.Func) < len(p.Funcs) {
			s.locRow[i+1] = funcRow[l.Func]
		}
	}
}

// rowOf is the sampled row of a location.
func (s *sampler) rowOf(loc format.LocID) int32 {
	if int(loc) < len(s.locRow) {
		return s.locRow[loc]
	}
	return s.unknown
}

// coroIndex is the index into m.Coroutines of the coroutine a sample scales: -1 for
// no coroutine label (unlabelled), -2 for a coroutine the ledger lacks.
func (s *sampler) coroIndex(id uint64) int {
	if id == 0 {
		return -1
	}
	if i, ok := s.m.coroByID[id]; ok {
		return i
	}
	return -2
}

// count sums the samples: in all, per coroutine (each sample's weight is its share of
// its coroutine's), and outside any coroutine, whose functions get an unlabelled
// twin row each (made only for functions in unlabelled stacks, so the edge matrix
// stays small).
func (s *sampler) count() {
	m, b := s.m, s.b
	s.coroTotals = make([]uint64, len(m.Coroutines))
	s.twin = make([]int32, len(b.rows))
	for i := range s.twin {
		s.twin[i] = -1
	}
	var unlabelledNanos uint64
	for i := range m.profile.Samples {
		smp := &m.profile.Samples[i]
		m.TotalSamples += smp.Count
		switch c := s.coroIndex(smp.CoroID); {
		case c >= 0:
			s.coroTotals[c] += smp.Count
		case c == -1 && smp.Count > 0:
			m.UnlabelledSamples += smp.Count
			if m.Has(wire.CPU) {
				unlabelledNanos += smp.Nanos
			}
			for _, loc := range smp.Stack[:min(len(smp.Stack), MaxStackDepth)] {
				if r := s.rowOf(loc); s.twin[r] < 0 {
					f := &b.rows[r]
					s.twin[r] = int32(b.add(Function{Name: f.Name, Kind: KindUnlabelled, File: f.File, Line: f.Line, Estimate: true}))
				}
			}
		}
	}
	m.UnlabelledCPU = float64(unlabelledNanos) / 1e9
	for i := range m.Coroutines {
		m.Coroutines[i].Samples = s.coroTotals[i]
	}
}

// spread walks the samples once: each keeps its stack (as rows, for the flame
// graphs), adds its count and its share of its coroutine's exact ledger to its leaf's
// self and, once per stack, to the cumulative figures of every function on it, and
// counts its caller→callee edges.
func (s *sampler) spread() {
	m, b := s.m, s.b
	p := m.profile
	exact := make([]Vec, len(m.Coroutines))
	for i := range m.Coroutines {
		exact[i] = m.Coroutines[i].Quantities.Vec()
	}
	stamp := make([]int, len(b.rows)) // last sample that counted each row cumulatively
	for i := range stamp {
		stamp[i] = -1
	}
	edges := newEdgeCounter(len(b.rows))
	m.stacks = make([]sampleStack, 0, len(p.Samples))
	flat := make([]int32, 0, 16*len(p.Samples))
	for si := range p.Samples {
		smp := &p.Samples[si]
		if smp.Count == 0 || len(smp.Stack) == 0 {
			continue
		}
		var scale *Vec // the ledger this sample scales, if any
		var k float64
		var own Vec // what an unlabelled sample carries itself: pprof's CPU time
		c := s.coroIndex(smp.CoroID)
		unlabelled := c == -1
		switch {
		case c >= 0:
			scale, k = &exact[c], float64(smp.Count)/float64(s.coroTotals[c])
		case unlabelled:
			if m.Has(wire.CPU) {
				own[wire.CPU] = float64(smp.Nanos)
			}
			scale, k = &own, 1
		}
		var stack, funcs []int32
		flat, stack, funcs = s.stackRows(flat, smp.Stack, unlabelled)
		m.stacks = append(m.stacks, sampleStack{coro: smp.CoroID, count: smp.Count, funcs: stack})
		leaf := funcs[0]
		b.rows[leaf].Self.Samples += smp.Count
		if scale != nil {
			b.selfV[leaf].addScaled(*scale, k)
		}
		recursive := false
		for _, f := range funcs {
			if stamp[f] == si {
				recursive = true
				continue
			}
			stamp[f] = si
			b.rows[f].Cumulative.Samples += smp.Count
			if scale != nil {
				b.cumV[f].addScaled(*scale, k)
			}
		}
		// Only a stack with a repeated function can repeat an edge; the rest count
		// every edge without a check.
		for j := 0; j+1 < len(funcs); j++ {
			caller, callee := funcs[j+1], funcs[j]
			if recursive && repeatsEdge(funcs, j) {
				continue
			}
			if edges.dense != nil { // inline: this runs once per frame of every sample
				edges.dense[int(caller)*edges.n+int(callee)] += smp.Count
			} else {
				edges.addSparse(caller, callee, smp.Count)
			}
		}
	}
	edges.flush(b)
}

// stackRows appends a sample's stack to flat as rows, leaf first: the leaf-most
// MaxStackDepth frames, then a frame saying how many were cut off (stacks that lost
// the same number share it in the flame graph), then for an unlabelled sample the
// flame graph's root frame of its own. It returns flat, the whole stack (flat's
// tail) and the part of it that names functions.
func (s *sampler) stackRows(flat []int32, locs []format.LocID, unlabelled bool) (_, stack, funcs []int32) {
	start := len(flat)
	frames, dropped := locs, 0
	if len(frames) > MaxStackDepth {
		frames, dropped = frames[:MaxStackDepth], len(frames)-MaxStackDepth
	}
	for _, loc := range frames {
		r := s.rowOf(loc)
		if unlabelled {
			r = s.twin[r]
		}
		flat = append(flat, r)
	}
	end := len(flat)
	if dropped > 0 {
		flat = append(flat, truncatedFrame(dropped))
	}
	if unlabelled {
		flat = append(flat, unlabelledFrame)
	}
	return flat, flat[start:len(flat):len(flat)], flat[start:end:end]
}

// edgeCounter counts caller→callee samples: in a dense caller×callee matrix when the
// function table is small enough (no hashing on the hot path), in a map beyond that.
type edgeCounter struct {
	n      int
	dense  []uint64
	sparse map[uint64]uint64
}

func newEdgeCounter(n int) *edgeCounter {
	if n <= 2048 {
		return &edgeCounter{n: n, dense: make([]uint64, n*n)}
	}
	return &edgeCounter{n: n, sparse: make(map[uint64]uint64)}
}

func (e *edgeCounter) addSparse(caller, callee int32, c uint64) {
	e.sparse[uint64(uint32(caller))<<32|uint64(uint32(callee))] += c
}

// flush hands the counted edges to b.
func (e *edgeCounter) flush(b *funcBuilder) {
	if e.dense != nil {
		for k, c := range e.dense {
			if c != 0 {
				b.edge(k/e.n, k%e.n, c)
			}
		}
		return
	}
	for key, c := range e.sparse {
		b.edge(int(int32(key>>32)), int(int32(uint32(key))), c)
	}
}

// dropUntouched drops the sampled rows no sample touched (most of a large symbol
// table), renumbers the rows, edges and stacks that remain, and turns the estimates
// into the rows' quantities.
func (s *sampler) dropUntouched() {
	m, b, first := s.m, s.b, s.first
	keep := b.rows[:first]
	var keepSelf, keepCum []Vec
	var keepCallers, keepCallees [][]pair
	remap := make([]int, len(b.rows))
	for i := 0; i < first; i++ {
		remap[i] = i
	}
	for i := first; i < len(b.rows); i++ {
		if b.rows[i].Cumulative.Samples == 0 {
			remap[i] = -1
			continue
		}
		remap[i] = len(keep)
		keep = append(keep, b.rows[i])
		keepSelf, keepCum = append(keepSelf, b.selfV[i]), append(keepCum, b.cumV[i])
		keepCallers, keepCallees = append(keepCallers, b.callers[i]), append(keepCallees, b.callees[i])
	}
	remapPairs := func(ps []pair) []pair {
		for i := range ps {
			if ps[i].idx >= first {
				ps[i].idx = remap[ps[i].idx]
			}
		}
		return ps
	}
	b.rows = keep
	b.selfV = append(b.selfV[:first], keepSelf...)
	b.cumV = append(b.cumV[:first], keepCum...)
	b.callers = append(b.callers[:first], keepCallers...)
	b.callees = append(b.callees[:first], keepCallees...)
	for i := first; i < len(b.rows); i++ {
		b.callers[i], b.callees[i] = remapPairs(b.callers[i]), remapPairs(b.callees[i])
		self, cum := b.rows[i].Self.Samples, b.rows[i].Cumulative.Samples
		b.rows[i].Self.Quantities = b.selfV[i].Quantities()
		b.rows[i].Cumulative.Quantities = b.cumV[i].Quantities()
		b.rows[i].Self.Samples, b.rows[i].Cumulative.Samples = self, cum
	}
	m.remapStacks(remap)
}

// repeatsEdge reports whether the edge funcs[j+1] → funcs[j] already occurred
// deeper in the same stack (at a larger index), so a recursive stack counts it once.
func repeatsEdge(funcs []int32, j int) bool {
	for i := j + 1; i+1 < len(funcs); i++ {
		if funcs[i] == funcs[j] && funcs[i+1] == funcs[j+1] {
			return true
		}
	}
	return false
}
