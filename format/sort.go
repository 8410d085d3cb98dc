package format

import (
	"cmp"
	"slices"

	"github.com/coroprof/coroprof/internal/wire"
)

// The canonical order. The profiler fills Coroutines, WaitSites, RegionEdges and
// Samples from maps, so their order is an accident of hashing; Write puts them in the
// order below so that equal profiles give byte-identical files, and Read returns them in
// that order. Every comparison looks at every encoded field, so records that tie are
// identical on the wire and their relative order cannot show.
//
// Tables that other records index into (Funcs, Locations, Regions) and Slices (a
// timeline, oldest first) keep the order they were given in.

// Sort puts p's order-free lists into the canonical order Write uses: Loops by ID,
// Coroutines by ID, WaitSites by (CoroID, Reason, Site), RegionEdges by (Caller,
// Callee), Samples by (CoroID, Stack), LongSlices longest first. After Sort,
// Read(Write(p)) deep-equals p for a valid p whose WallStart is in UTC without a
// monotonic reading (as time.Time.UTC returns it) and whose empty lists are nil.
func (p *Profile) Sort() {
	slices.SortFunc(p.Loops, cmpLoop)
	slices.SortFunc(p.Coroutines, cmpCoroutine)
	slices.SortFunc(p.WaitSites, cmpWaitSite)
	slices.SortFunc(p.RegionEdges, cmpRegionEdge)
	if !slices.IsSortedFunc(p.Samples, cmpSample) {
		copy(p.Samples, sortedSamples(p.Samples))
	}
	slices.SortFunc(p.LongSlices, cmpLongSlice)
}

func cmpCounters(a, b *Counters) int {
	return slices.Compare(a[:], b[:])
}

func cmpLoop(a, b Loop) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return cmp.Or(cmpCounters(&a.Total, &b.Total), cmpCounters(&a.Main, &b.Main), cmpCounters(&a.Wait, &b.Wait))
}

// Coroutine IDs are unique in a valid profile, so the ID alone is a total order.
func cmpCoroutine(a, b Coroutine) int { return cmp.Compare(a.ID, b.ID) }

func cmpWaitSite(a, b WaitSite) int {
	return cmp.Or(
		cmp.Compare(a.CoroID, b.CoroID),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Site, b.Site),
		cmp.Compare(a.Count, b.Count),
		cmp.Compare(a.Ticks, b.Ticks),
	)
}

func cmpRegionCoro(a, b RegionCoro) int {
	return cmp.Or(
		cmp.Compare(a.CoroID, b.CoroID),
		cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.Calls, b.Calls),
		cmpCounters(&a.Self, &b.Self),
		cmpCounters(&a.Cumulative, &b.Cumulative),
	)
}

func cmpRegionEdge(a, b RegionEdge) int {
	return cmp.Or(
		cmp.Compare(a.Caller, b.Caller),
		cmp.Compare(a.Callee, b.Callee),
		cmp.Compare(a.Calls, b.Calls),
		cmpCounters(&a.Cumulative, &b.Cumulative),
	)
}

// cmpSample runs once per pair in a sort of up to millions of samples, so it returns
// at the first difference instead of computing every comparison as cmp.Or would.
func cmpSample(a, b Sample) int {
	if a.CoroID != b.CoroID {
		return cmp.Compare(a.CoroID, b.CoroID)
	}
	if c := slices.Compare(a.Stack, b.Stack); c != 0 {
		return c
	}
	if a.Count != b.Count {
		return cmp.Compare(a.Count, b.Count)
	}
	return cmp.Compare(a.Nanos, b.Nanos)
}

// Longest first, because that is how every reader wants them.
func cmpLongSlice(a, b LongSlice) int {
	return cmp.Or(
		cmp.Compare(b.Counters[wire.Ticks], a.Counters[wire.Ticks]),
		cmp.Compare(a.Start, b.Start),
		cmp.Compare(a.CoroID, b.CoroID),
		cmp.Compare(a.Loop, b.Loop),
		cmpCounters(&a.Counters, &b.Counters),
		cmp.Compare(a.State, b.State),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Site, b.Site),
	)
}

// sortedSamples returns a sorted copy of ss, in cmpSample's order. A profile can hold a
// million samples whose stacks lie all over the heap; sorting compact keys (coroutine,
// first two frames, index) keeps most comparisons inside one array, and only ties
// look at the stacks. Missing frames pack as 0, which sorts a stack before its
// extensions, as slices.Compare does; a 0 frame (invalid) ties and falls back to
// cmpSample, so the order is exactly cmpSample's for every input.
func sortedSamples(ss []Sample) []Sample {
	type key struct {
		coro uint64
		head uint64
		i    int
	}
	keys := make([]key, len(ss))
	for i := range ss {
		var head uint64
		if st := ss[i].Stack; len(st) > 0 {
			head = uint64(st[0]) << 32
			if len(st) > 1 {
				head |= uint64(st[1])
			}
		}
		keys[i] = key{ss[i].CoroID, head, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.coro != b.coro {
			return cmp.Compare(a.coro, b.coro)
		}
		if a.head != b.head {
			return cmp.Compare(a.head, b.head)
		}
		return cmpSample(ss[a.i], ss[b.i])
	})
	out := make([]Sample, len(ss))
	for j, k := range keys {
		out[j] = ss[k.i]
	}
	return out
}
