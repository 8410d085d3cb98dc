package format

import (
	"slices"

	"github.com/coroprof/coroprof/internal/wire"
)

// Validate checks what the byte layout cannot: that every index, LocID and ID refers
// to something in the profile, and that values are in their ranges. Read calls it on
// every profile (so a reader can index without checking), and Write calls it before
// writing (so nothing is written that Read would refuse). It does not check
// conservation: a closure error is a finding to report, not a malformed file.
//
// The error is an *Error wrapping ErrInvalid, naming the section and record.
func (p *Profile) Validate() error {
	v := validator{p: p}
	v.meta()
	v.loops()
	v.locations()
	v.coroutines()
	v.waitSites()
	v.regionEdges()
	v.regionCoros()
	v.samples()
	v.slices()
	v.longSlices()
	return v.err
}

type validator struct {
	p       *Profile
	err     error
	coroIDs []uint64 // sorted
	loopIDs []int64  // sorted
}

func (v *validator) fail(k Kind, record int, format string, args ...any) {
	if v.err == nil {
		v.err = &Error{Section: k.String(), Record: record, Offset: -1, Err: errorf(ErrInvalid, format, args...)}
	}
}

func (v *validator) loc(k Kind, record int, what string, l LocID) {
	if int64(l) > int64(len(v.p.Locations)) {
		v.fail(k, record, "%s: location %d out of range (the profile has %d)", what, l, len(v.p.Locations))
	}
}

func (v *validator) coro(k Kind, record int, id uint64) {
	if _, ok := slices.BinarySearch(v.coroIDs, id); !ok {
		v.fail(k, record, "coroutine %d is not in the coroutines section", id)
	}
}

func (v *validator) loop(k Kind, record int, id int64) {
	if _, ok := slices.BinarySearch(v.loopIDs, id); !ok {
		v.fail(k, record, "loop %d is not in the loops section", id)
	}
}

func (v *validator) meta() {
	p := v.p
	switch {
	case p.Clock.TicksPerSecond == 0:
		v.fail(KindMeta, -1, "clock ticks per second is 0")
	case p.Measured&MeasTicks == 0:
		v.fail(KindMeta, -1, "measured %#x lacks ticks, which are always measured", p.Measured)
	case p.Meta.StopTick < p.Meta.StartTick:
		v.fail(KindMeta, -1, "stop tick %d before start tick %d", p.Meta.StopTick, p.Meta.StartTick)
	case p.Meta.Duration < 0:
		v.fail(KindMeta, -1, "negative duration %v", p.Meta.Duration)
	case p.Meta.SampleRate < 0:
		v.fail(KindMeta, -1, "negative sample rate %d", p.Meta.SampleRate)
	}
}

func (v *validator) loops() {
	if len(v.p.Loops) == 0 {
		v.fail(KindLoops, -1, "no loops: a profile has at least one")
		return
	}
	v.loopIDs = make([]int64, len(v.p.Loops))
	for i, l := range v.p.Loops {
		v.loopIDs[i] = l.ID
	}
	slices.Sort(v.loopIDs)
	for i := 1; i < len(v.loopIDs); i++ {
		if v.loopIDs[i] == v.loopIDs[i-1] {
			v.fail(KindLoops, slices.IndexFunc(v.p.Loops, func(l Loop) bool { return l.ID == v.loopIDs[i] }), "loop ID %d appears twice", v.loopIDs[i])
		}
	}
}

func (v *validator) locations() {
	for i, l := range v.p.Locations {
		if int64(l.Func) >= int64(len(v.p.Funcs)) {
			v.fail(KindLocations, i, "function %d out of range (the profile has %d)", l.Func, len(v.p.Funcs))
		}
	}
}

func (v *validator) coroutines() {
	cs := v.p.Coroutines
	v.coroIDs = make([]uint64, len(cs))
	for i := range cs {
		v.coroIDs[i] = cs[i].ID
	}
	slices.Sort(v.coroIDs)
	for i := range cs {
		c := &cs[i]
		if c.ID == 0 {
			v.fail(KindCoroutines, i, "coroutine ID 0 (0 means no coroutine)")
		}
		v.loop(KindCoroutines, i, c.Loop)
		v.loc(KindCoroutines, i, "spawn site", c.SpawnSite)
		v.loc(KindCoroutines, i, "longest slice site", c.LongestSite)
		if v.err != nil {
			return
		}
	}
	for i := 1; i < len(v.coroIDs); i++ {
		if v.coroIDs[i] == v.coroIDs[i-1] {
			id := v.coroIDs[i]
			v.fail(KindCoroutines, slices.IndexFunc(cs, func(c Coroutine) bool { return c.ID == id }), "coroutine ID %d appears twice", id)
		}
	}
}

func (v *validator) waitSites() {
	for i, w := range v.p.WaitSites {
		v.coro(KindWaitSites, i, w.CoroID)
		if w.Reason >= NumWaitReasons {
			v.fail(KindWaitSites, i, "wait reason %d out of range (there are %d)", w.Reason, NumWaitReasons)
		}
		v.loc(KindWaitSites, i, "site", w.Site)
		if v.err != nil {
			return
		}
	}
}

func (v *validator) regionCoros() {
	n := len(v.p.Regions)
	for i, g := range v.p.RegionCoros {
		v.coro(KindRegionCoros, i, g.CoroID)
		if g.Region < 0 || int(g.Region) >= n {
			v.fail(KindRegionCoros, i, "region %d out of range (the profile has %d regions)", g.Region, n)
		}
		if v.err != nil {
			return
		}
	}
}

func (v *validator) regionEdges() {
	n := len(v.p.Regions)
	for i, e := range v.p.RegionEdges {
		if e.Caller < -1 || int(e.Caller) >= n {
			v.fail(KindRegionEdges, i, "caller %d out of range (-1, or one of %d regions)", e.Caller, n)
		}
		if e.Callee < 0 || int(e.Callee) >= n {
			v.fail(KindRegionEdges, i, "callee %d out of range (the profile has %d regions)", e.Callee, n)
		}
	}
}

func (v *validator) samples() {
	nloc := uint64(len(v.p.Locations))
	var checked uint64
	for i := range v.p.Samples {
		s := &v.p.Samples[i]
		// Samples come sorted by coroutine, so most lookups repeat the previous one.
		if s.CoroID != 0 && s.CoroID != checked {
			v.coro(KindSamples, i, s.CoroID)
			checked = s.CoroID
		}
		if s.Count == 0 {
			v.fail(KindSamples, i, "sample count 0")
		}
		for j, l := range s.Stack {
			if uint64(l)-1 >= nloc { // 0 wraps around: no frame is "no location"
				v.fail(KindSamples, i, "frame %d: location %d out of range (1 to %d)", j, l, nloc)
				break
			}
		}
		if v.err != nil {
			return
		}
	}
}

// states is the number of coro.State values: runnable, running, waiting, exited.
const states = wire.NumStates

func (v *validator) slices() {
	for i := range v.p.Slices {
		s := &v.p.Slices[i]
		v.coro(KindSlices, i, s.CoroID)
		v.loop(KindSlices, i, s.Loop)
		if s.End < s.Start {
			v.fail(KindSlices, i, "ends at tick %d before it starts at %d", s.End, s.Start)
		}
		v.state(KindSlices, i, s.State, s.Reason)
		v.loc(KindSlices, i, "site", s.Site)
		if v.err != nil {
			return
		}
	}
}

func (v *validator) longSlices() {
	for i := range v.p.LongSlices {
		s := &v.p.LongSlices[i]
		v.coro(KindLongSlices, i, s.CoroID)
		v.loop(KindLongSlices, i, s.Loop)
		v.state(KindLongSlices, i, s.State, s.Reason)
		v.loc(KindLongSlices, i, "site", s.Site)
		if v.err != nil {
			return
		}
	}
}

func (v *validator) state(k Kind, i int, state, reason uint8) {
	if int(state) >= states {
		v.fail(k, i, "state %d out of range (there are %d)", state, states)
	}
	if reason >= NumWaitReasons {
		v.fail(k, i, "wait reason %d out of range (there are %d)", reason, NumWaitReasons)
	}
}
