package report

import (
	"cmp"
	"slices"
	"sort"
	"sync"

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
	b := &funcBuilder{}
	nRegions := m.regionRows(b)
	m.buildSampled(b, nRegions)
	order := sortRows(b.rows)
	newIdx := make([]int, len(order))
	for n, old := range order {
		newIdx[old] = n
	}
	m.Functions = make([]Function, len(order))
	for n, old := range order {
		m.Functions[n] = b.rows[old]
	}
	m.remapStacks(newIdx)
	m.coroFunctions(newIdx)
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

// coroFunctions gives each coroutine its share of the exact rows (regions are rows
// 0..len(Regions)-1 before sorting; newIdx says where they went), by self ticks.
func (m *Model) coroFunctions(newIdx []int) {
	p := m.profile
	for _, g := range p.RegionCoros {
		ci, ok := m.coroByID[g.CoroID]
		if !ok || g.Region < 0 || int(g.Region) >= len(p.Regions) {
			continue // Read rejects these
		}
		fi := newIdx[g.Region]
		f := &m.Functions[fi]
		c := &m.Coroutines[ci]
		c.Exact = append(c.Exact, CoroFunction{Function: fi, Name: f.Name, Kind: f.Kind, Calls: g.Calls,
			Self: vecOf(g.Self).Quantities(), Cumulative: vecOf(g.Cumulative).Quantities()})
	}
	for i := range m.Coroutines {
		slices.SortStableFunc(m.Coroutines[i].Exact, func(a, b CoroFunction) int {
			return cmp.Or(cmp.Compare(b.Self.Ticks(), a.Self.Ticks()), cmp.Compare(a.Function, b.Function))
		})
	}
}

// regionRows adds the regions' rows, exact including their call counts, and their
// caller/callee edges; it returns how many rows it added.
func (m *Model) regionRows(b *funcBuilder) int {
	p := m.profile
	for _, r := range p.Regions {
		f := Function{Name: r.Name, Kind: KindRegion,
			Self:       Cost{Quantities: vecOf(r.Self).Quantities(), Calls: r.Calls},
			Cumulative: Cost{Quantities: vecOf(r.Cumulative).Quantities(), Calls: r.Calls}}
		if r.Func {
			f.Kind, f.File, f.Line = KindExact, r.File, int64(r.Line)
		}
		b.add(f)
	}
	n := len(p.Regions)
	for _, e := range p.RegionEdges {
		if int(e.Callee) < 0 || int(e.Callee) >= n || int(e.Caller) >= n || e.Caller < -1 {
			continue // Read rejects these; skip rather than crash on a reader bug
		}
		b.edge(int(e.Caller), int(e.Callee), e.Calls)
	}
	return n
}

// sortRows returns the order of the function rows: by self ticks, then cumulative
// ticks (unlabelled rows, which have no ticks, by their sampled CPU), then name and
// kind.
func sortRows(rows []Function) []int {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, c := &rows[order[i]], &rows[order[j]]
		if a.Self.Ticks() != c.Self.Ticks() {
			return a.Self.Ticks() > c.Self.Ticks()
		}
		if a.Cumulative.Ticks() != c.Cumulative.Ticks() {
			return a.Cumulative.Ticks() > c.Cumulative.Ticks()
		}
		if a.Self.Value(wire.CPU) != c.Self.Value(wire.CPU) {
			return a.Self.Value(wire.CPU) > c.Self.Value(wire.CPU)
		}
		if a.Cumulative.Value(wire.CPU) != c.Cumulative.Value(wire.CPU) {
			return a.Cumulative.Value(wire.CPU) > c.Cumulative.Value(wire.CPU)
		}
		if a.Name != c.Name {
			return a.Name < c.Name
		}
		return a.Kind < c.Kind
	})
	return order
}

// remapStacks renumbers the rows the sample stacks name (frames below 0, the flame
// graph's own, index no row).
func (m *Model) remapStacks(remap []int) {
	for i := range m.stacks {
		for j, f := range m.stacks[i].funcs {
			if f >= 0 {
				m.stacks[i].funcs[j] = int32(remap[f])
			}
		}
	}
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
