package report

import "sort"

// TopLevel is the caller name of a region called outside any other region.
const TopLevel = "<top>"

// funcBuilder accumulates function rows before they are sorted.
type funcBuilder struct {
	rows    []Function
	selfV   []Vec // sampled functions: estimates in raw units
	cumV    []Vec
	callers []map[int]uint64 // by row: caller row (-1 top level) -> count
	callees []map[int]uint64
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
		if b.callers[callee] == nil {
			b.callers[callee] = map[int]uint64{}
		}
		b.callers[callee][caller] += n
	}
	if caller >= 0 {
		if b.callees[caller] == nil {
			b.callees[caller] = map[int]uint64{}
		}
		b.callees[caller][callee] += n
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
		f := b.rows[old]
		f.Callers = m.edges(b.callers[old], newIdx, b.rows)
		f.Callees = m.edges(b.callees[old], newIdx, b.rows)
		m.Functions[n] = f
	}
	for i := range m.stacks {
		for j, f := range m.stacks[i].funcs {
			m.stacks[i].funcs[j] = int32(newIdx[f])
		}
	}
	if m.HasSamples() && m.TotalSamples > 0 {
		m.Flame = m.flame(func(uint64) bool { return true }, "all")
	}
}

// edges turns a count map into Edges sorted by count, then name.
func (m *Model) edges(counts map[int]uint64, newIdx []int, rows []Function) []Edge {
	if len(counts) == 0 {
		return []Edge{}
	}
	var sum uint64
	out := make([]Edge, 0, len(counts))
	for old, n := range counts {
		e := Edge{Function: -1, Name: TopLevel, Count: n}
		if old >= 0 {
			e.Function, e.Name = newIdx[old], rows[old].Name
		}
		sum += n
		out = append(out, e)
	}
	for i := range out {
		if sum > 0 {
			out[i].Share = float64(out[i].Count) / float64(sum)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Function < out[j].Function
	})
	return out
}

// buildSampled turns CPU samples into sampled-function rows. A coroutine's exact
// totals are spread over its samples: each sample stands for totals×count/Σcounts, and
// that share goes to the leaf's self estimate and, once per stack, to the cumulative
// estimate of each function on it.
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
			r = b.add(Function{Name: f.Name, Kind: KindSampled, File: f.File, Line: f.StartLine, Estimate: true,
				Callers: nil, Callees: nil})
			byName[f.Name] = r
		}
		funcRow[i] = int32(r)
	}
	unknown := -1
	locRow := make([]int32, len(p.Locations)+1)
	locRow[0] = -1
	for i, l := range p.Locations {
		if int(l.Func) < len(p.Funcs) {
			locRow[i+1] = funcRow[l.Func]
		} else {
			if unknown < 0 {
				unknown = b.add(Function{Name: "?", Kind: KindSampled, Estimate: true})
			}
			locRow[i+1] = int32(unknown)
		}
	}

	// Each sample's weight: which coroutine's totals it scales.
	// coro index -1 is <main> (samples outside coroutines), -2 an unknown coroutine.
	coroTotals := make([]uint64, len(m.Coroutines))
	var mainTotal uint64
	idxOf := func(id uint64) int {
		if id == 0 {
			return -1
		}
		if i, ok := m.coroByID[id]; ok {
			return i
		}
		return -2
	}
	for i := range p.Samples {
		s := &p.Samples[i]
		m.TotalSamples += s.Count
		switch c := idxOf(s.CoroID); {
		case c >= 0:
			coroTotals[c] += s.Count
		case c == -1:
			mainTotal += s.Count
		}
	}
	for i := range m.Coroutines {
		m.Coroutines[i].Samples = coroTotals[i]
	}
	mainVec := m.Main.Vec()
	exact := make([]Vec, len(m.Coroutines))
	for i := range m.Coroutines {
		exact[i] = m.Coroutines[i].Quantities.Vec()
	}

	stamp := make([]int, len(b.rows)) // last sample that counted each row cumulatively
	for i := range stamp {
		stamp[i] = -1
	}
	type edgeAcc struct {
		count uint64
		stamp int
	}
	edgeCounts := make(map[uint64]*edgeAcc)
	m.stacks = make([]sampleStack, 0, len(p.Samples))
	flat := make([]int32, 0, 16*len(p.Samples))
	for si := range p.Samples {
		s := &p.Samples[si]
		if s.Count == 0 {
			continue
		}
		var scale *Vec
		var k float64
		switch c := idxOf(s.CoroID); {
		case c >= 0:
			scale, k = &exact[c], float64(s.Count)/float64(coroTotals[c])
		case c == -1:
			scale, k = &mainVec, float64(s.Count)/float64(mainTotal)
		}
		start := len(flat)
		for _, loc := range s.Stack {
			r := int32(-1)
			if int(loc) < len(locRow) {
				r = locRow[loc]
			}
			if r < 0 {
				if unknown < 0 {
					unknown = b.add(Function{Name: "?", Kind: KindSampled, Estimate: true})
					stamp = append(stamp, -1)
				}
				r = int32(unknown)
			}
			flat = append(flat, r)
		}
		funcs := flat[start:len(flat):len(flat)]
		if len(funcs) == 0 {
			continue
		}
		m.stacks = append(m.stacks, sampleStack{coro: s.CoroID, count: s.Count, funcs: funcs})
		leaf := funcs[0]
		b.rows[leaf].Self.Samples += s.Count
		if scale != nil {
			b.selfV[leaf].addScaled(*scale, k)
		}
		for j, f := range funcs {
			if stamp[f] != si {
				stamp[f] = si
				b.rows[f].Cumulative.Samples += s.Count
				if scale != nil {
					b.cumV[f].addScaled(*scale, k)
				}
			}
			if j+1 < len(funcs) {
				key := uint64(uint32(funcs[j+1]))<<32 | uint64(uint32(f))
				e := edgeCounts[key]
				if e == nil {
					e = &edgeAcc{stamp: -1}
					edgeCounts[key] = e
				}
				if e.stamp != si { // a recursive stack counts an edge once
					e.stamp = si
					e.count += s.Count
				}
			}
		}
	}
	for key, e := range edgeCounts {
		b.edge(int(int32(key>>32)), int(int32(uint32(key))), e.count)
	}
	// Drop symbol-table entries no sample touched, and fill in the estimates.
	keep := b.rows[:first]
	var keepSelf, keepCum []Vec
	var keepCallers, keepCallees []map[int]uint64
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
	remapMap := func(mp map[int]uint64) map[int]uint64 {
		if mp == nil {
			return nil
		}
		out := make(map[int]uint64, len(mp))
		for k, v := range mp {
			if k >= first {
				k = remap[k]
			}
			out[k] += v
		}
		return out
	}
	b.rows = keep
	b.selfV = append(b.selfV[:first], keepSelf...)
	b.cumV = append(b.cumV[:first], keepCum...)
	b.callers = append(b.callers[:first], keepCallers...)
	b.callees = append(b.callees[:first], keepCallees...)
	for i := first; i < len(b.rows); i++ {
		b.callers[i], b.callees[i] = remapMap(b.callers[i]), remapMap(b.callees[i])
		self, cum := b.rows[i].Self.Samples, b.rows[i].Cumulative.Samples
		b.rows[i].Self.Quantities = b.selfV[i].Quantities()
		b.rows[i].Cumulative.Quantities = b.cumV[i].Quantities()
		b.rows[i].Self.Samples, b.rows[i].Cumulative.Samples = self, cum
	}
	for i := range m.stacks {
		for j, f := range m.stacks[i].funcs {
			m.stacks[i].funcs[j] = int32(remap[f])
		}
	}
}

// flame builds the flame graph of the samples whose coroutine keep accepts.
func (m *Model) flame(keep func(coro uint64) bool, root string) *FlameNode {
	type node struct {
		fn    int32
		value uint64
		kids  []int32
	}
	nodes := []node{{fn: -1}}
	// child lookup: a linear scan for the common few children, a map beyond that.
	big := map[uint64]int32{}
	child := func(parent int32, fn int32) int32 {
		n := &nodes[parent]
		if len(n.kids) <= 8 {
			for _, k := range n.kids {
				if nodes[k].fn == fn {
					return k
				}
			}
		} else if k, ok := big[uint64(parent)<<32|uint64(uint32(fn))]; ok {
			return k
		}
		k := int32(len(nodes))
		nodes = append(nodes, node{fn: fn})
		n = &nodes[parent]
		n.kids = append(n.kids, k)
		if len(n.kids) > 8 {
			if len(n.kids) == 9 {
				for _, kk := range n.kids {
					big[uint64(parent)<<32|uint64(uint32(nodes[kk].fn))] = kk
				}
			} else {
				big[uint64(parent)<<32|uint64(uint32(fn))] = k
			}
		}
		return k
	}
	for _, s := range m.stacks {
		if !keep(s.coro) {
			continue
		}
		nodes[0].value += s.count
		cur := int32(0)
		for j := len(s.funcs) - 1; j >= 0; j-- {
			cur = child(cur, s.funcs[j])
			nodes[cur].value += s.count
		}
	}
	if nodes[0].value == 0 {
		return nil
	}
	// Frames under 1/5000 of the root are narrower than a pixel on any screen: prune
	// them so a million distinct stacks still make a page of reasonable size.
	min := nodes[0].value / 5000
	var conv func(i int32) *FlameNode
	conv = func(i int32) *FlameNode {
		n := &nodes[i]
		out := &FlameNode{Value: n.value, Name: root}
		if n.fn >= 0 {
			out.Name = m.Functions[n.fn].Name
		}
		for _, k := range n.kids {
			if nodes[k].value > min || min == 0 {
				out.Children = append(out.Children, conv(k))
			}
		}
		sort.Slice(out.Children, func(a, b int) bool {
			if out.Children[a].Value != out.Children[b].Value {
				return out.Children[a].Value > out.Children[b].Value
			}
			return out.Children[a].Name < out.Children[b].Name
		})
		return out
	}
	return conv(0)
}

// FlameOf returns the flame graph of one coroutine's samples (nil if it has none).
func (m *Model) FlameOf(coro uint64) *FlameNode {
	return m.flame(func(c uint64) bool { return c == coro }, "all")
}
