package profops

import "github.com/coroprof/coroprof/format"

// Regions adds regions up by name (and kind: a profiler.Region and an instrumented
// function of the same name stay apart) into one profile, and their edges by (caller,
// callee): the profiler merges its loops' region tables with it, and Merge its
// inputs'. Calls and counters add up; a region keeps the index it first got.
type Regions struct {
	p     *format.Profile
	index map[regionKey]int32
	edges map[[2]int32]int
}

type regionKey struct {
	name string
	fn   bool
}

// NewRegions adds regions to p, whose Regions and RegionEdges are empty.
func NewRegions(p *format.Profile) *Regions {
	return &Regions{p: p, index: map[regionKey]int32{}, edges: map[[2]int32]int{}}
}

// Add adds the regions rs and the edges es between them (indices into rs; Caller -1
// is the top level), each counter passed through conv (nil: unchanged), and returns
// where each of rs went (rs's index -> the profile's), for the per-coroutine rows. An
// edge with an index outside rs is skipped: Validate rejects such a file on read.
func (m *Regions) Add(rs []format.Region, es []format.RegionEdge, conv func(format.Counters) format.Counters) []int32 {
	if conv == nil {
		conv = func(c format.Counters) format.Counters { return c }
	}
	p := m.p
	local := make([]int32, len(rs)) // rs's index -> p's
	for j, r := range rs {
		key := regionKey{r.Name, r.Func}
		k, ok := m.index[key]
		if !ok {
			k = int32(len(p.Regions))
			m.index[key] = k
			p.Regions = append(p.Regions, format.Region{Name: r.Name, Func: r.Func, File: r.File, Line: r.Line})
		}
		local[j] = k
		o := &p.Regions[k]
		o.Calls += r.Calls
		o.Self.Add(conv(r.Self))
		o.Cumulative.Add(conv(r.Cumulative))
	}
	for _, e := range es {
		if e.Callee < 0 || int(e.Callee) >= len(local) || e.Caller < -1 || int(e.Caller) >= len(local) {
			continue
		}
		caller := int32(-1)
		if e.Caller >= 0 {
			caller = local[e.Caller]
		}
		key := [2]int32{caller, local[e.Callee]}
		k, ok := m.edges[key]
		if !ok {
			k = len(p.RegionEdges)
			m.edges[key] = k
			p.RegionEdges = append(p.RegionEdges, format.RegionEdge{Caller: key[0], Callee: key[1]})
		}
		p.RegionEdges[k].Calls += e.Calls
		p.RegionEdges[k].Cumulative.Add(conv(e.Cumulative))
	}
	return local
}
