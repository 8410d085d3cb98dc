package format

// The section payloads: one encode/decode pair per section kind, side by side, in
// kind order. The layouts are listed in kinds.go and docs/FORMAT.md; a change here must
// change both, and TestKindMinRecord checks the minimum record sizes the reader's
// allocation bounds rely on.

import "time"

// KindStrings.

func encodeStrings(e *encoder, table []string) {
	e.uvarint(uint64(len(table)))
	for _, s := range table {
		e.uvarint(uint64(len(s)))
		e.buf = append(e.buf, s...)
	}
}

func decodeStrings(d *decoder) []string {
	n := d.count(kindSpecs[KindStrings].minRecord)
	table := make([]string, 0, n)
	for i := range n {
		d.mark(i)
		at := d.off
		l := d.uvarint()
		if d.err != nil {
			return nil
		}
		if l > uint64(d.remaining()) {
			d.off = at
			d.fail(ErrTruncated, "string %d claims %d bytes, %d remain", i, l, d.remaining())
			return nil
		}
		table = append(table, string(d.buf[d.off:d.off+int(l)]))
		d.off += int(l)
	}
	if len(table) == 0 || table[0] != "" {
		d.off = 0
		d.fail(ErrCorrupt, "the string table does not start with the empty string")
	}
	return table
}

// Counters, shared by several records.

func encodeCounters(e *encoder, c *Counters) {
	for _, v := range c {
		e.uvarint(v)
	}
}

func decodeCounters(d *decoder, c *Counters) {
	for i := range c {
		c[i] = d.uvarint()
	}
}

// KindMeta.

func encodeMeta(e *encoder, p *Profile) {
	e.str(p.Clock.Source)
	e.uvarint(p.Clock.TicksPerSecond)
	e.bool(p.Clock.Invariant)
	e.uvarint(uint64(p.Measured))
	m := &p.Meta
	e.str(m.Program)
	e.strs(m.Args)
	e.str(m.Host)
	e.str(m.GOOS)
	e.str(m.GOARCH)
	e.str(m.GoVersion)
	e.str(m.CPUModel)
	e.strs(m.CPUFeatures)
	e.varint(m.PID)
	e.varint(m.WallStart.Unix())
	e.uvarint(uint64(m.WallStart.Nanosecond()))
	e.varint(int64(m.Duration))
	e.uvarint(m.StartTick)
	e.uvarint(m.StopTick)
	e.varint(int64(m.SampleRate))
	e.strs(m.Notes)
}

func decodeMeta(d *decoder, p *Profile) {
	p.Clock.Source = d.str()
	p.Clock.TicksPerSecond = d.uvarint()
	p.Clock.Invariant = d.bool()
	p.Measured = Measured(d.u32())
	m := &p.Meta
	m.Program = d.str()
	m.Args = d.strList()
	m.Host = d.str()
	m.GOOS = d.str()
	m.GOARCH = d.str()
	m.GoVersion = d.str()
	m.CPUModel = d.str()
	m.CPUFeatures = d.strList()
	m.PID = d.varint()
	sec := d.varint()
	at := d.off
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.off = at
		d.fail(ErrCorrupt, "wall start nanoseconds %d out of range", nsec)
	}
	m.WallStart = time.Unix(sec, int64(nsec)).UTC()
	m.Duration = time.Duration(d.varint())
	m.StartTick = d.uvarint()
	m.StopTick = d.uvarint()
	m.SampleRate = d.int()
	m.Notes = d.strList()
}

// KindLoops.

func encodeLoops(e *encoder, loops []Loop) {
	e.uvarint(uint64(len(loops)))
	for i := range loops {
		l := &loops[i]
		e.varint(l.ID)
		encodeCounters(e, &l.Total)
		encodeCounters(e, &l.Main)
		encodeCounters(e, &l.Wait)
	}
}

func decodeLoops(d *decoder) []Loop {
	n := d.count(kindSpecs[KindLoops].minRecord)
	if n == 0 {
		return nil
	}
	loops := make([]Loop, n)
	for i := range loops {
		d.mark(i)
		l := &loops[i]
		l.ID = d.varint()
		decodeCounters(d, &l.Total)
		decodeCounters(d, &l.Main)
		decodeCounters(d, &l.Wait)
	}
	return loops
}

// KindFuncs.

func encodeFuncs(e *encoder, funcs []Func) {
	e.uvarint(uint64(len(funcs)))
	for i := range funcs {
		f := &funcs[i]
		e.str(f.Name)
		e.str(f.File)
		e.varint(f.StartLine)
	}
}

func decodeFuncs(d *decoder) []Func {
	n := d.count(kindSpecs[KindFuncs].minRecord)
	if n == 0 {
		return nil
	}
	funcs := make([]Func, n)
	for i := range funcs {
		d.mark(i)
		f := &funcs[i]
		f.Name = d.str()
		f.File = d.str()
		f.StartLine = d.varint()
	}
	return funcs
}

// KindLocations.

func encodeLocations(e *encoder, locs []Location) {
	e.uvarint(uint64(len(locs)))
	for i := range locs {
		e.uvarint(uint64(locs[i].Func))
		e.varint(locs[i].Line)
	}
}

func decodeLocations(d *decoder) []Location {
	n := d.count(kindSpecs[KindLocations].minRecord)
	if n == 0 {
		return nil
	}
	locs := make([]Location, n)
	for i := range locs {
		d.mark(i)
		locs[i].Func = d.u32()
		locs[i].Line = d.varint()
	}
	return locs
}

// KindCoroutines.

const (
	coroExited   = 1 << 0
	coroPanicked = 1 << 1
)

func encodeCoroutines(e *encoder, cs []Coroutine) {
	e.uvarint(uint64(len(cs)))
	var prev uint64
	for i := range cs {
		c := &cs[i]
		e.uvarint(c.ID - prev - 1) // IDs are unique, nonzero and sorted: checked before encoding
		prev = c.ID
		e.uvarint(c.ParentID)
		e.varint(c.Loop)
		e.str(c.Name)
		e.uvarint(uint64(c.SpawnSite))
		var flags uint8
		if c.Exited {
			flags |= coroExited
		}
		if c.Panicked {
			flags |= coroPanicked
		}
		e.u8(flags)
		e.uvarint(c.Resumes)
		encodeCounters(e, &c.Counters)
		e.uvarint(c.Runnable)
		// Most coroutines wait for one or two reasons: a mask of the reasons present
		// keeps the other seven out of the file.
		var mask uint64
		for r, w := range c.Waits {
			if w != (WaitStat{}) {
				mask |= 1 << r
			}
		}
		e.uvarint(mask)
		for r, w := range c.Waits {
			if mask&(1<<r) != 0 {
				e.uvarint(w.Count)
				e.uvarint(w.Ticks)
			}
		}
		e.uvarint(c.LongestSlice)
		e.uvarint(uint64(c.LongestSite))
	}
}

func decodeCoroutines(d *decoder) []Coroutine {
	n := d.count(kindSpecs[KindCoroutines].minRecord)
	if n == 0 {
		return nil
	}
	cs := make([]Coroutine, n)
	var prev uint64
	for i := range cs {
		d.mark(i)
		c := &cs[i]
		at := d.off
		delta := d.uvarint()
		c.ID = prev + delta + 1
		if c.ID <= prev { // wrapped around
			d.off = at
			d.fail(ErrCorrupt, "coroutine ID overflows (previous %d, delta %d)", prev, delta)
			return nil
		}
		prev = c.ID
		c.ParentID = d.uvarint()
		c.Loop = d.varint()
		c.Name = d.str()
		c.SpawnSite = LocID(d.u32())
		at = d.off
		flags := d.u8()
		if flags&^(coroExited|coroPanicked) != 0 {
			d.off = at
			d.fail(ErrCorrupt, "unknown coroutine flags %#x", flags)
		}
		c.Exited = flags&coroExited != 0
		c.Panicked = flags&coroPanicked != 0
		c.Resumes = d.uvarint()
		decodeCounters(d, &c.Counters)
		c.Runnable = d.uvarint()
		at = d.off
		mask := d.uvarint()
		if mask >= 1<<NumWaitReasons {
			d.off = at
			d.fail(ErrCorrupt, "wait reason mask %#x has reasons beyond %d", mask, NumWaitReasons-1)
		}
		for r := range c.Waits {
			if mask&(1<<r) != 0 {
				c.Waits[r].Count = d.uvarint()
				c.Waits[r].Ticks = d.uvarint()
			}
		}
		c.LongestSlice = d.uvarint()
		c.LongestSite = LocID(d.u32())
		if d.err != nil {
			return nil
		}
	}
	return cs
}

// KindWaitSites.

func encodeWaitSites(e *encoder, ws []WaitSite) {
	e.uvarint(uint64(len(ws)))
	for i := range ws {
		w := &ws[i]
		e.uvarint(w.CoroID)
		e.u8(w.Reason)
		e.uvarint(uint64(w.Site))
		e.uvarint(w.Count)
		e.uvarint(w.Ticks)
	}
}

func decodeWaitSites(d *decoder) []WaitSite {
	n := d.count(kindSpecs[KindWaitSites].minRecord)
	if n == 0 {
		return nil
	}
	ws := make([]WaitSite, n)
	for i := range ws {
		d.mark(i)
		w := &ws[i]
		w.CoroID = d.uvarint()
		w.Reason = d.u8()
		w.Site = LocID(d.u32())
		w.Count = d.uvarint()
		w.Ticks = d.uvarint()
	}
	return ws
}

// KindRegions.

func encodeRegions(e *encoder, rs []Region) {
	e.uvarint(uint64(len(rs)))
	for i := range rs {
		r := &rs[i]
		e.str(r.Name)
		e.uvarint(r.Calls)
		encodeCounters(e, &r.Self)
		encodeCounters(e, &r.Cumulative)
	}
}

func decodeRegions(d *decoder) []Region {
	n := d.count(kindSpecs[KindRegions].minRecord)
	if n == 0 {
		return nil
	}
	rs := make([]Region, n)
	for i := range rs {
		d.mark(i)
		r := &rs[i]
		r.Name = d.str()
		r.Calls = d.uvarint()
		decodeCounters(d, &r.Self)
		decodeCounters(d, &r.Cumulative)
	}
	return rs
}

// KindRegionEdges.

func encodeRegionEdges(e *encoder, es []RegionEdge) {
	e.uvarint(uint64(len(es)))
	for i := range es {
		x := &es[i]
		e.varint(int64(x.Caller))
		e.varint(int64(x.Callee))
		e.uvarint(x.Calls)
		encodeCounters(e, &x.Cumulative)
	}
}

func decodeRegionEdges(d *decoder) []RegionEdge {
	n := d.count(kindSpecs[KindRegionEdges].minRecord)
	if n == 0 {
		return nil
	}
	es := make([]RegionEdge, n)
	for i := range es {
		d.mark(i)
		x := &es[i]
		x.Caller = d.i32()
		x.Callee = d.i32()
		x.Calls = d.uvarint()
		decodeCounters(d, &x.Cumulative)
	}
	return es
}

// KindRegionFuncs.

func encodeRegionFuncs(e *encoder, rs []Region) {
	n := 0
	for i := range rs {
		if rs[i].Func {
			n++
		}
	}
	e.uvarint(uint64(n))
	next := 0 // the least index the next entry may have
	for i := range rs {
		r := &rs[i]
		if !r.Func {
			continue
		}
		e.uvarint(uint64(i - next))
		e.str(r.File)
		e.varint(int64(r.Line))
		next = i + 1
	}
}

// decodeRegionFuncs marks the listed regions as functions. It runs after the regions
// section (writeOrder puts it later), so an index past them is an error here.
func decodeRegionFuncs(d *decoder, rs []Region) {
	n := d.count(kindSpecs[KindRegionFuncs].minRecord)
	next := uint64(0)
	for i := 0; i < n; i++ {
		d.mark(i)
		idx := next + d.uvarint()
		file := d.str()
		line := d.i32()
		if d.err != nil {
			return
		}
		if idx >= uint64(len(rs)) || idx < next {
			d.fail(ErrCorrupt, "region %d out of range (the profile has %d regions)", idx, len(rs))
			return
		}
		r := &rs[idx]
		r.Func, r.File, r.Line = true, file, line
		next = idx + 1
	}
}

// KindRegionCoros.

func encodeRegionCoros(e *encoder, gs []RegionCoro) {
	e.uvarint(uint64(len(gs)))
	for i := range gs {
		g := &gs[i]
		e.uvarint(g.CoroID)
		e.uvarint(uint64(uint32(g.Region)))
		e.uvarint(g.Calls)
		encodeCounters(e, &g.Self)
		encodeCounters(e, &g.Cumulative)
	}
}

func decodeRegionCoros(d *decoder) []RegionCoro {
	n := d.count(kindSpecs[KindRegionCoros].minRecord)
	if n == 0 {
		return nil
	}
	gs := make([]RegionCoro, n)
	for i := range gs {
		d.mark(i)
		g := &gs[i]
		g.CoroID = d.uvarint()
		g.Region = int32(d.u32())
		g.Calls = d.uvarint()
		decodeCounters(d, &g.Self)
		decodeCounters(d, &g.Cumulative)
	}
	return gs
}

// KindSamples.

func encodeSamples(e *encoder, ss []Sample) {
	e.uvarint(uint64(len(ss)))
	for i := range ss {
		s := &ss[i]
		e.uvarint(s.CoroID)
		e.uvarint(uint64(len(s.Stack)))
		for _, l := range s.Stack {
			e.uvarint(uint64(l))
		}
		e.uvarint(s.Count)
		e.uvarint(s.Nanos)
	}
}

func decodeSamples(d *decoder) []Sample {
	n := d.count(kindSpecs[KindSamples].minRecord)
	if n == 0 {
		return nil
	}
	ss := make([]Sample, n)
	// Stacks are carved out of shared blocks rather than allocated one by one (a
	// million samples would be a million allocations). Each stack's capacity is cut
	// to its length, so appending to one cannot overwrite its neighbour.
	var block []LocID
	for i := range ss {
		d.mark(i)
		s := &ss[i]
		s.CoroID = d.uvarint()
		depth := d.count(1) // each LocID takes at least a byte
		if depth > 0 {
			if cap(block)-len(block) < depth {
				block = make([]LocID, 0, max(depth, min(4096, d.remaining())))
			}
			at := len(block)
			for range depth {
				block = append(block, LocID(d.u32()))
			}
			s.Stack = block[at:len(block):len(block)]
		}
		s.Count = d.uvarint()
		s.Nanos = d.uvarint()
		if d.err != nil {
			return nil
		}
	}
	return ss
}

// KindSlices.

func encodeSlices(e *encoder, dropped uint64, ss []Slice) {
	e.uvarint(dropped)
	e.uvarint(uint64(len(ss)))
	var prev uint64
	for i := range ss {
		s := &ss[i]
		e.uvarint(s.CoroID)
		e.varint(s.Loop)
		// Timeline order makes consecutive starts close: a signed delta is a few
		// bytes where the absolute TSC value would take eight.
		e.varint(int64(s.Start - prev))
		prev = s.Start
		e.varint(int64(s.End - s.Start))
		e.u8(s.State)
		e.u8(s.Reason)
		e.uvarint(uint64(s.Site))
	}
}

func decodeSlices(d *decoder) (uint64, []Slice) {
	dropped := d.uvarint()
	n := d.count(kindSpecs[KindSlices].minRecord)
	if n == 0 {
		return dropped, nil
	}
	ss := make([]Slice, n)
	var prev uint64
	for i := range ss {
		d.mark(i)
		s := &ss[i]
		s.CoroID = d.uvarint()
		s.Loop = d.varint()
		s.Start = prev + uint64(d.varint()) // wraps like the encoder's subtraction
		prev = s.Start
		s.End = s.Start + uint64(d.varint())
		s.State = d.u8()
		s.Reason = d.u8()
		s.Site = LocID(d.u32())
	}
	return dropped, ss
}

// KindLongSlices.

func encodeLongSlices(e *encoder, ls []LongSlice) {
	e.uvarint(uint64(len(ls)))
	for i := range ls {
		s := &ls[i]
		e.uvarint(s.CoroID)
		e.varint(s.Loop)
		e.uvarint(s.Start)
		encodeCounters(e, &s.Counters)
		e.u8(s.State)
		e.u8(s.Reason)
		e.uvarint(uint64(s.Site))
	}
}

func decodeLongSlices(d *decoder) []LongSlice {
	n := d.count(kindSpecs[KindLongSlices].minRecord)
	if n == 0 {
		return nil
	}
	ls := make([]LongSlice, n)
	for i := range ls {
		d.mark(i)
		s := &ls[i]
		s.CoroID = d.uvarint()
		s.Loop = d.varint()
		s.Start = d.uvarint()
		decodeCounters(d, &s.Counters)
		s.State = d.u8()
		s.Reason = d.u8()
		s.Site = LocID(d.u32())
	}
	return ls
}

// KindEnd.

func encodeEnd(e *encoder, sections int) { e.uvarint(uint64(sections)) }

func decodeEnd(d *decoder) uint64 { return d.uvarint() }
