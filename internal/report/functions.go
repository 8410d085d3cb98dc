package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/wire"
)

// TopLevel is the caller name of a region called outside any other region.
const TopLevel = "<top>"

// funcBuilder accumulates function rows before they are sorted.
type funcBuilder struct {
	rows    []Function
	selfV   []Vec // sampled functions: estimates in raw units
	cumV    []Vec
	callers [][]pair // by row: (caller row or -1 for top level, count)
	callees [][]pair
}

// pair is one end of a call-graph edge and its count.
type pair struct {
	idx int
	n   uint64
}

func (b *funcBuilder) add(f Function) int {
	b.rows = append(b.rows, f)
	b.selfV = append(b.selfV, Vec{})
	b.cumV = append(b.cumV, Vec{})
	b.callers = append(b.callers, nil)
	b.callees = append(b.callees, nil)
	return len(b.rows) - 1
}

func (b *funcBuilder) edge(caller, callee int, n uint64) {
	if callee >= 0 {
		b.callers[callee] = append(b.callers[callee], pair{caller, n})
	}
	if caller >= 0 {
		b.callees[caller] = append(b.callees[caller], pair{callee, n})
	}
}

func (m *Model) buildFunctions() {
	p := m.profile
	b := &funcBuilder{}

	// Regions: exact, including their call counts and caller/callee edges.
	for _, r := range p.Regions {
		b.add(Function{Name: r.Name, Kind: KindRegion,
			Self:       Cost{Quantities: vecOf(r.Self).Quantities(), Calls: r.Calls},
			Cumulative: Cost{Quantities: vecOf(r.Cumulative).Quantities(), Calls: r.Calls}})
	}
	nRegions := len(p.Regions)
	for _, e := range p.RegionEdges {
		if int(e.Callee) < 0 || int(e.Callee) >= nRegions || int(e.Caller) >= nRegions || e.Caller < -1 {
			continue // Read rejects these; skip rather than crash on a reader bug
		}
		b.edge(int(e.Caller), int(e.Callee), e.Calls)
	}

	m.buildSampled(b, nRegions)

	// Sort by self ticks (then cumulative ticks, then name) and remap edge indices.
	order := make([]int, len(b.rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, c := &b.rows[order[i]], &b.rows[order[j]]
		if a.Self.Ticks != c.Self.Ticks {
			return a.Self.Ticks > c.Self.Ticks
		}
		if a.Cumulative.Ticks != c.Cumulative.Ticks {
			return a.Cumulative.Ticks > c.Cumulative.Ticks
		}
		// Unlabelled rows have no ticks: rank them by their sampled CPU.
		if a.Self.CPU != c.Self.CPU {
			return a.Self.CPU > c.Self.CPU
		}
		if a.Cumulative.CPU != c.Cumulative.CPU {
			return a.Cumulative.CPU > c.Cumulative.CPU
		}
		if a.Name != c.Name {
			return a.Name < c.Name
		}
		return a.Kind < c.Kind
	})
	newIdx := make([]int, len(order))
	for n, old := range order {
		newIdx[old] = n
	}
	m.Functions = make([]Function, len(order))
	for n, old := range order {
		m.Functions[n] = b.rows[old]
	}
	for i := range m.stacks {
		for j, f := range m.stacks[i].funcs {
			if f >= 0 { // not the flame graph's unlabelledFrame or truncatedFrame
				m.stacks[i].funcs[j] = int32(newIdx[f])
			}
		}
	}
	// The flame graph reads only names and stacks, the edges write only Callers and
	// Callees: build them on both cores.
	var wg sync.WaitGroup
	if m.HasSamples() && m.TotalSamples > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Flame = m.flame(func(uint64) bool { return true }, "all")
		}()
	}
	for n, old := range order {
		f := &m.Functions[n]
		f.Callers = m.edges(b.callers[old], newIdx, b.rows)
		f.Callees = m.edges(b.callees[old], newIdx, b.rows)
	}
	wg.Wait()
}

// edges turns a function's edge list into Edges (duplicates merged) sorted by count,
// then index.
func (m *Model) edges(ps []pair, newIdx []int, rows []Function) []Edge {
	if len(ps) == 0 {
		return []Edge{}
	}
	// Lists from samples arrive sorted by index and unique (the edge matrix is walked in
	// order); only region lists may need merging.
	byIdx := func(a, b pair) int { return cmp.Compare(a.idx, b.idx) }
	if !slices.IsSortedFunc(ps, byIdx) {
		slices.SortStableFunc(ps, byIdx)
	}
	merged := ps[:0]
	var sum uint64
	for i, p := range ps {
		sum += p.n
		if i > 0 && merged[len(merged)-1].idx == p.idx {
			merged[len(merged)-1].n += p.n
			continue
		}
		merged = append(merged, p)
	}
	slices.SortFunc(merged, func(a, b pair) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return cmp.Compare(a.idx, b.idx)
	})
	out := make([]Edge, len(merged))
	for i, p := range merged {
		e := Edge{Function: -1, Name: TopLevel, Count: p.n}
		if p.idx >= 0 {
			e.Function, e.Name = newIdx[p.idx], rows[p.idx].Name
		}
		if sum > 0 {
			e.Share = float64(p.n) / float64(sum)
		}
		out[i] = e
	}
	return out
}

// buildSampled turns CPU samples into function rows. A coroutine's exact totals are
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
	p := m.profile
	if len(p.Samples) == 0 {
		return
	}
	// Rows by function name, so duplicate symbol-table entries merge.
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
	// dropped below if no sample reached it.
	unknown := int32(b.add(Function{Name: "?", Kind: KindSampled, Estimate: true}))
	locRow := make([]int32, len(p.Locations)+1)
	locRow[0] = unknown
	for i, l := range p.Locations {
		locRow[i+1] = unknown
		if int(l.Func) < len(p.Funcs) {
			locRow[i+1] = funcRow[l.Func]
		}
	}
	rowOf := func(loc format.LocID) int32 {
		if int(loc) < len(locRow) {
			return locRow[loc]
		}
		return unknown
	}

	// Each sample's weight: which coroutine's totals it scales.
	// coro index -1: no coroutine label (unlabelled), -2: a coroutine the ledger lacks.
	coroTotals := make([]uint64, len(m.Coroutines))
	idxOf := func(id uint64) int {
		if id == 0 {
			return -1
		}
		if i, ok := m.coroByID[id]; ok {
			return i
		}
		return -2
	}
	// twin[r] is the unlabelled row of sampled row r, made only for functions that
	// appear in unlabelled stacks (so the edge matrix below stays small).
	var unlabelledNanos uint64
	twin := make([]int32, len(b.rows))
	for i := range twin {
		twin[i] = -1
	}
	for i := range p.Samples {
		s := &p.Samples[i]
		m.TotalSamples += s.Count
		switch c := idxOf(s.CoroID); {
		case c >= 0:
			coroTotals[c] += s.Count
		case c == -1 && s.Count > 0:
			m.UnlabelledSamples += s.Count
			if m.Has(wire.CPU) {
				unlabelledNanos += s.Nanos
			}
			for _, loc := range s.Stack[:min(len(s.Stack), MaxStackDepth)] {
				if r := rowOf(loc); twin[r] < 0 {
					f := &b.rows[r]
					twin[r] = int32(b.add(Function{Name: f.Name, Kind: KindUnlabelled, File: f.File, Line: f.Line, Estimate: true}))
				}
			}
		}
	}
	m.UnlabelledCPU = float64(unlabelledNanos) / 1e9
	for i := range m.Coroutines {
		m.Coroutines[i].Samples = coroTotals[i]
	}
	exact := make([]Vec, len(m.Coroutines))
	for i := range m.Coroutines {
		exact[i] = m.Coroutines[i].Quantities.Vec()
	}

	stamp := make([]int, len(b.rows)) // last sample that counted each row cumulatively
	for i := range stamp {
		stamp[i] = -1
	}
	// Edge counts: a dense caller×callee matrix when the function table is small enough
	// (no hashing on the hot path), a map beyond that.
	n := len(b.rows)
	dense := n <= 2048
	var denseCount []uint64
	var edgeCounts map[uint64]uint64
	if dense {
		denseCount = make([]uint64, n*n)
	} else {
		edgeCounts = make(map[uint64]uint64)
	}
	countEdge := func(caller, callee int32, c uint64) {
		edgeCounts[uint64(uint32(caller))<<32|uint64(uint32(callee))] += c
	}
	m.stacks = make([]sampleStack, 0, len(p.Samples))
	flat := make([]int32, 0, 16*len(p.Samples))
	for si := range p.Samples {
		s := &p.Samples[si]
		if s.Count == 0 || len(s.Stack) == 0 {
			continue
		}
		var scale *Vec // the ledger this sample scales, if any
		var k float64
		var own Vec // what an unlabelled sample carries itself: pprof's CPU time
		c := idxOf(s.CoroID)
		unlabelled := c == -1
		switch {
		case c >= 0:
			scale, k = &exact[c], float64(s.Count)/float64(coroTotals[c])
		case unlabelled:
			if m.Has(wire.CPU) {
				own[wire.CPU] = float64(s.Nanos)
			}
			scale, k = &own, 1
		}
		start := len(flat)
		frames, dropped := s.Stack, 0
		if len(frames) > MaxStackDepth {
			frames, dropped = frames[:MaxStackDepth], len(frames)-MaxStackDepth
		}
		for _, loc := range frames {
			r := rowOf(loc)
			if unlabelled {
				r = twin[r]
			}
			flat = append(flat, r)
		}
		funcs := flat[start:len(flat):len(flat)]
		stack := funcs
		if dropped > 0 {
			// The root-most frames are gone: one frame says how many, and stacks that
			// lost the same number still share it in the flame graph.
			flat = append(flat, truncatedFrame(dropped))
			stack = flat[start:len(flat):len(flat)]
		}
		if unlabelled {
			// The flame graph shows these stacks under a root frame of their own.
			flat = append(flat, unlabelledFrame)
			stack = flat[start:len(flat):len(flat)]
		}
		m.stacks = append(m.stacks, sampleStack{coro: s.CoroID, count: s.Count, funcs: stack})
		leaf := funcs[0]
		b.rows[leaf].Self.Samples += s.Count
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
			b.rows[f].Cumulative.Samples += s.Count
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
			if dense { // inline: this runs once per frame of every sample
				denseCount[int(caller)*n+int(callee)] += s.Count
			} else {
				countEdge(caller, callee, s.Count)
			}
		}
	}
	if dense {
		for k, c := range denseCount {
			if c != 0 {
				b.edge(k/n, k%n, c)
			}
		}
	} else {
		for key, c := range edgeCounts {
			b.edge(int(int32(key>>32)), int(int32(uint32(key))), c)
		}
	}
	// Drop symbol-table entries no sample touched, and fill in the estimates.
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
	for i := range m.stacks {
		for j, f := range m.stacks[i].funcs {
			if f >= 0 {
				m.stacks[i].funcs[j] = int32(remap[f])
			}
		}
	}
}

// unlabelledFrame stands in a sample stack for the flame graph's root frame of the
// unlabelled samples (UnlabelledFrame); it indexes no function.
const unlabelledFrame = -2

// UnlabelledFrame names the flame-graph frame that holds the samples without a
// coroutine label, so they are never mistaken for a coroutine's stacks.
const UnlabelledFrame = "<unlabelled>"

// MaxStackDepth caps the frames the model keeps of one sample: the leaf-most
// MaxStackDepth, as the Go runtime's own profiler keeps a stack's leaf end. Deeper
// stacks (runaway recursion, or a crafted file) would otherwise cost time and memory
// in proportion to their depth in every view, and nest the flame graph beyond what
// JSON encoders and the page's script accept. Sample counts stay exact; the frames
// cut off count in no function's cumulative figures and no edge, and the flame graph
// shows them as one frame, TruncatedFrame, at the stack's root end.
const MaxStackDepth = 512

// truncatedBase and below encode the flame graph's TruncatedFrame in a sample stack:
// truncatedBase-n stands for n frames cut off. Like unlabelledFrame it indexes no
// function.
const truncatedBase = -3

func truncatedFrame(n int) int32 {
	return int32(truncatedBase - min(n, math.MaxInt32+truncatedBase))
}

// TruncatedFrame names the flame-graph frame that stands for the n root-most frames
// of a stack deeper than MaxStackDepth.
func TruncatedFrame(n int) string { return fmt.Sprintf("<truncated %d frames>", n) }

func (m *Model) frameName(fn int32) string {
	switch {
	case fn == unlabelledFrame:
		return UnlabelledFrame
	case fn <= truncatedBase:
		return TruncatedFrame(int(truncatedBase - fn))
	}
	return m.Functions[fn].Name
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

// flame builds the flame graph of the samples whose coroutine keep accepts. The
// stacks are sorted root first, so equal prefixes are adjacent and the tree grows
// along one path with no child lookups; a frame is finished when the path leaves it,
// and frames under 1/5000 of the root (narrower than a pixel on any screen) are
// dropped then, so a million distinct stacks still make a page of reasonable size.
func (m *Model) flame(keep func(coro uint64) bool, root string) *FlameNode {
	var idx []int32
	for _, i := range m.sortedStacks() {
		if keep(m.stacks[i].coro) {
			idx = append(idx, i)
		}
	}
	return m.flameOf(idx, root)
}

// sortedStacks returns the indices of m.stacks sorted root frame first, computed once:
// any subset of it (one coroutine's stacks) is still sorted.
func (m *Model) sortedStacks() []int32 {
	if m.rootFirst == nil {
		// Sort on a key of the two outermost frames held in one array (cache friendly);
		// only ties look at the stacks themselves.
		type keyed struct {
			key uint64
			idx int32
		}
		ks := make([]keyed, len(m.stacks))
		for i := range m.stacks {
			f := m.stacks[i].funcs
			k := uint64(uint32(f[len(f)-1])) << 32
			if len(f) > 1 {
				k |= uint64(uint32(f[len(f)-2]) + 1)
			}
			ks[i] = keyed{k, int32(i)}
		}
		slices.SortFunc(ks, func(a, b keyed) int {
			if a.key != b.key {
				return cmp.Compare(a.key, b.key)
			}
			x, y := m.stacks[a.idx].funcs, m.stacks[b.idx].funcs
			for i, j := len(x)-1, len(y)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
				if x[i] != y[j] {
					return cmp.Compare(x[i], y[j])
				}
			}
			return cmp.Compare(len(x), len(y))
		})
		m.rootFirst = make([]int32, len(ks))
		for i, k := range ks {
			m.rootFirst[i] = k.idx
		}
	}
	return m.rootFirst
}

// flameOf builds the flame graph of the stacks idx (sorted root first).
func (m *Model) flameOf(idx []int32, root string) *FlameNode {
	var total uint64
	for _, i := range idx {
		total += m.stacks[i].count
	}
	if total == 0 {
		return nil
	}
	minValue := total / 5000
	// An open frame allocates its FlameNode only when it closes wide enough to keep:
	// with a million distinct stacks most frames are pruned and never allocated.
	type open struct {
		fn       int32
		value    uint64
		children []*FlameNode
	}
	top := &FlameNode{Name: root, Value: total}
	path := []open{{fn: -1}}
	closeTo := func(depth int) { // finish frames deeper than depth
		for len(path) > depth+1 {
			o := &path[len(path)-1]
			if o.value > minValue || minValue == 0 {
				parent := &path[len(path)-2]
				parent.children = append(parent.children, &FlameNode{Name: m.frameName(o.fn), Value: o.value, Children: o.children})
			}
			o.children = nil
			path = path[:len(path)-1]
		}
	}
	for _, i := range idx {
		s := &m.stacks[i]
		// depth d of the path holds frame funcs[len-d].
		d := 1
		for ; d < len(path) && d <= len(s.funcs) && path[d].fn == s.funcs[len(s.funcs)-d]; d++ {
		}
		closeTo(d - 1)
		for ; d <= len(s.funcs); d++ {
			path = append(path, open{fn: s.funcs[len(s.funcs)-d]})
		}
		for j := 1; j < len(path); j++ {
			path[j].value += s.count
		}
	}
	closeTo(0)
	top.Children = path[0].children
	var order func(n *FlameNode)
	order = func(n *FlameNode) {
		slices.SortStableFunc(n.Children, func(a, b *FlameNode) int {
			if a.Value != b.Value {
				return cmp.Compare(b.Value, a.Value)
			}
			return cmp.Compare(a.Name, b.Name)
		})
		for _, c := range n.Children {
			order(c)
		}
	}
	order(top)
	return top
}

// FlameOf returns the flame graph of one coroutine's samples (nil if it has none).
func (m *Model) FlameOf(coro uint64) *FlameNode {
	return m.flame(func(c uint64) bool { return c == coro }, m.CoroName(coro))
}

// FlamesOf returns the flame graphs of several coroutines (by id; nil for one without
// samples) in one pass over the samples.
func (m *Model) FlamesOf(coros []uint64) map[uint64]*FlameNode {
	want := make(map[uint64][]int32, len(coros))
	for _, c := range coros {
		want[c] = nil
	}
	for _, i := range m.sortedStacks() {
		c := m.stacks[i].coro
		if l, ok := want[c]; ok {
			want[c] = append(l, i)
		}
	}
	out := make(map[uint64]*FlameNode, len(coros))
	for _, c := range coros {
		out[c] = m.flameOf(want[c], m.CoroName(c))
	}
	return out
}
