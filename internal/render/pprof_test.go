package render

import (
	"bytes"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// roundTrip writes m's pprof profile, parses it back with pprof's own parser (which
// validates) and returns it.
func roundTrip(t *testing.T, m model) *profile.Profile {
	t.Helper()
	pp, err := PprofProfile(m.Profile())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatal("pprof output is not gzipped")
	}
	back, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if err := back.CheckValid(); err != nil {
		t.Fatalf("CheckValid after round trip: %v", err)
	}
	return back
}

func typeIndex(t *testing.T, pp *profile.Profile, typ string) int {
	t.Helper()
	for i, st := range pp.SampleType {
		if st.Type == typ {
			return i
		}
	}
	t.Fatalf("no sample type %q in %v", typ, pp.SampleType)
	return -1
}

// sumBy adds up one sample type over the samples keep accepts.
func sumBy(pp *profile.Profile, idx int, keep func(*profile.Sample) bool) int64 {
	var s int64
	for _, x := range pp.Sample {
		if keep == nil || keep(x) {
			s += x.Value[idx]
		}
	}
	return s
}

func leafName(s *profile.Sample) string { return s.Location[0].Line[0].Function.Name }

func stackNames(s *profile.Sample) []string {
	var out []string
	for _, l := range s.Location {
		out = append(out, l.Line[0].Function.Name)
	}
	return out
}

// floorNanos is ticks·1e9/tps rounded down, computed independently of the code under
// test with big integers.
func floorNanos(ticks, tps uint64) int64 {
	var x big.Int
	x.SetUint64(ticks)
	x.Mul(&x, big.NewInt(1e9))
	x.Quo(&x, new(big.Int).SetUint64(tps))
	return x.Int64()
}

// TestPprofHand checks the spreading of the ledger over samples with numbers worked
// out by hand from handProfile.
func TestPprofHand(t *testing.T) {
	pp := roundTrip(t, mustBuild(t, synth.Hand()))
	if pp.DefaultSampleType != "cpu" {
		t.Errorf("default sample type %q, want cpu (CPU was measured)", pp.DefaultSampleType)
	}
	ticks, wall, samples := typeIndex(t, pp, "ticks"), typeIndex(t, pp, "wall"), typeIndex(t, pp, "samples")
	cpu := typeIndex(t, pp, "cpu")
	type want struct {
		stack         string
		coro          string
		ticks, cpu, n int64
	}
	// Coroutine a (6000 ticks, 3000 ns CPU) has samples of count 3 and 1: ¾ and ¼.
	// Coroutine b (2000 ticks) has one sample. <main> (1000 ticks) and <wait> are frames
	// of their own with their exact ledgers: the sample outside any coroutine is not
	// charged <main>'s (checked below).
	wants := []want{
		{"f main.a", "a", 4500, 2250, 3},
		{"g f main.a", "a", 1500, 750, 1},
		{"f f main.a", "b", 2000, 1000, 2},
		{"<main>", "<main>", 1000, 500, 0},
		{"<wait>", "<wait>", 1000, 100, 0},
	}
	for _, w := range wants {
		found := false
		for _, s := range pp.Sample {
			if strings.Join(stackNames(s), " ") != w.stack || s.Value[ticks] == 0 {
				continue
			}
			found = true
			if got := s.Label[wire.LabelCoroName]; !slices.Equal(got, []string{w.coro}) {
				t.Errorf("%s: coro_name %q, want %q", w.stack, got, w.coro)
			}
			if s.Value[ticks] != w.ticks || s.Value[cpu] != w.cpu || s.Value[samples] != w.n {
				t.Errorf("%s: ticks %d cpu %d samples %d, want %d %d %d", w.stack, s.Value[ticks], s.Value[cpu], s.Value[samples], w.ticks, w.cpu, w.n)
			}
			// 1000 ticks per second: a tick is a millisecond.
			if s.Value[wall] != w.ticks*1_000_000 {
				t.Errorf("%s: wall %d ns, want %d", w.stack, s.Value[wall], w.ticks*1_000_000)
			}
		}
		if !found {
			t.Errorf("no sample with stack %q", w.stack)
		}
	}
	// The unlabelled sample: its count and pprof's 10 ms of CPU, nothing of <main>.
	unl := 0
	for _, s := range pp.Sample {
		if strings.Join(stackNames(s), " ") != "g "+FrameUnlabelled {
			continue
		}
		unl++
		if s.Value[samples] != 1 || s.Value[cpu] != 10_000_000 || s.Value[ticks] != 0 || s.Value[wall] != 0 ||
			!slices.Equal(s.Label[wire.LabelCoroName], []string{FrameUnlabelled}) {
			t.Errorf("unlabelled sample values %v labels %v", s.Value, s.Label)
		}
	}
	if unl != 1 {
		t.Errorf("%d samples with stack g %s, want 1", unl, FrameUnlabelled)
	}
	for _, s := range pp.Sample {
		if s.Label[wire.LabelCoroName][0] == "a" {
			if got := s.NumLabel[wire.LabelCoroID]; !slices.Equal(got, []int64{1}) {
				t.Errorf("coroutine a's sample has coro_id %v", got)
			}
		}
	}
	if pp.Period != 10_000_000 || pp.PeriodType == nil || pp.PeriodType.Type != "cpu" {
		t.Errorf("period %d %v, want 10ms of cpu at 100 Hz", pp.Period, pp.PeriodType)
	}
}

// TestPprofConservation: on a synthetic profile, every ledger sample type adds up
// exactly to Σ coroutines + <main> + <wait> (cpu: plus the unlabelled samples' own
// CPU time, which no ledger holds), per coroutine and in total; parks add up to the
// coroutines' wait counts; samples to the samples taken.
func TestPprofConservation(t *testing.T) {
	for _, opt := range []synth.Options{
		{Coroutines: 40, Samples: 300},
		{Coroutines: 40, Samples: 300, Loops: 3},
		{Coroutines: 12, TicksOnly: true},
		{Coroutines: 9, Samples: 25, TicksOnly: true},
	} {
		p := synth.Profile(11, opt)
		m := mustBuild(t, p)
		pp := roundTrip(t, m)
		want := map[wire.Counter]uint64{}
		var wantWall int64
		tps := p.Clock.TicksPerSecond
		for _, c := range p.Coroutines {
			r := c.Counters
			for q := range r {
				want[wire.Counter(q)] += r[q]
			}
			wantWall += floorNanos(c.Counters[wire.Ticks], tps)
			// Per coroutine: its samples carry exactly its ledger.
			got := sumBy(pp, typeIndex(t, pp, "ticks"), func(s *profile.Sample) bool {
				return slices.Equal(s.NumLabel[wire.LabelCoroID], []int64{int64(c.ID)})
			})
			if uint64(got) != c.Counters[wire.Ticks] {
				t.Errorf("%+v: coroutine %d: pprof ticks %d, ledger %d", opt, c.ID, got, c.Counters[wire.Ticks])
			}
			var parks uint64
			for _, w := range c.Waits {
				parks += w.Count
			}
			gotParks := sumBy(pp, typeIndex(t, pp, "parks"), func(s *profile.Sample) bool {
				return slices.Equal(s.NumLabel[wire.LabelCoroID], []int64{int64(c.ID)})
			})
			if uint64(gotParks) != parks {
				t.Errorf("%+v: coroutine %d: parks %d, want %d", opt, c.ID, gotParks, parks)
			}
		}
		// Unlabelled samples add pprof's CPU time and nothing else.
		for _, s := range p.Samples {
			if s.CoroID == 0 && s.Count > 0 && m.Has(wire.CPU) {
				want[wire.CPU] += s.Nanos
			}
		}
		for _, l := range p.Loops {
			for _, c := range []format.Counters{l.Main, l.Wait} {
				r := c
				for q := range r {
					want[wire.Counter(q)] += r[q]
				}
			}
			wantWall += floorNanos(l.Wait[wire.Ticks], tps) + floorNanos(l.Main[wire.Ticks], tps)
		}
		for q := wire.Ticks; q < wire.NumCounters; q++ {
			if !m.Has(q) {
				for _, st := range pp.SampleType {
					if st.Type == wire.CounterNames[q] {
						t.Errorf("%+v: sample type %s present but not measured", opt, st.Type)
					}
				}
				continue
			}
			if got := sumBy(pp, typeIndex(t, pp, wire.CounterNames[q]), nil); uint64(got) != want[q] {
				t.Errorf("%+v: Σ %s = %d, ledger %d", opt, wire.CounterNames[q], got, want[q])
			}
		}
		if got := sumBy(pp, typeIndex(t, pp, "wall"), nil); got != wantWall {
			t.Errorf("%+v: Σ wall = %d ns, want %d", opt, got, wantWall)
		}
		if opt.Samples > 0 {
			var n uint64
			for _, s := range p.Samples {
				n += s.Count
			}
			if got := sumBy(pp, typeIndex(t, pp, "samples"), nil); uint64(got) != n {
				t.Errorf("%+v: Σ samples %d, want %d", opt, got, n)
			}
		}
		wantDefault := "cpu"
		if opt.TicksOnly {
			wantDefault = "wall"
		}
		if pp.DefaultSampleType != wantDefault {
			t.Errorf("%+v: default sample type %q, want %q", opt, pp.DefaultSampleType, wantDefault)
		}
		// Coroutines without samples are frames of their own.
		for _, c := range p.Coroutines {
			if slices.ContainsFunc(p.Samples, func(s format.Sample) bool { return s.CoroID == c.ID }) {
				continue
			}
			if !slices.ContainsFunc(pp.Sample, func(s *profile.Sample) bool { return leafName(s) == FrameCoroutine(c.Name) }) {
				t.Errorf("%+v: no frame %q for unsampled coroutine %d", opt, FrameCoroutine(c.Name), c.ID)
			}
		}
	}
}

// TestPprofParked: parked time sits on a <wait: REASON> frame above the call site.
func TestPprofParked(t *testing.T) {
	p := synth.Hand()
	p.WaitSites = []format.WaitSite{{CoroID: 1, Reason: 2, Site: 2, Count: 4, Ticks: 3000}}
	p.Coroutines[1].Waits[2] = format.WaitStat{Count: 5, Ticks: 3500}
	p.Coroutines[1].Runnable = 250
	pp := roundTrip(t, mustBuild(t, p))
	parked, parks, runnable := typeIndex(t, pp, "parked"), typeIndex(t, pp, "parks"), typeIndex(t, pp, "runnable")
	var atSite, rest, run bool
	for _, s := range pp.Sample {
		switch strings.Join(stackNames(s), " ") {
		case "<wait: read> f":
			atSite = s.Value[parked] == 3_000_000_000 && s.Value[parks] == 4 && slices.Equal(s.Label[wire.LabelWaitReason], []string{"read"})
		case "<wait: read>":
			rest = s.Value[parked] == 500_000_000 && s.Value[parks] == 1
		case "<runnable>":
			run = s.Value[runnable] == 250_000_000 && s.Label[wire.LabelCoroName][0] == "a"
		}
	}
	if !atSite || !rest || !run {
		t.Errorf("parked at site %v, rest of the reason %v, runnable %v", atSite, rest, run)
	}
}

// TestPprofSampleTypesStable: the sample types depend on the measured set only, so
// -diff_base accepts two runs measured alike.
func TestPprofSampleTypesStable(t *testing.T) {
	a := roundTrip(t, mustBuild(t, synth.Profile(1, synth.Options{Coroutines: 3, Samples: 5})))
	b := roundTrip(t, mustBuild(t, synth.Profile(2, synth.Options{Coroutines: 30, Samples: 50, Loops: 2})))
	// profile.Merge refuses profiles whose sample types differ, as -diff_base does.
	if _, err := profile.Merge([]*profile.Profile{a, b}); err != nil {
		t.Error(err)
	}
}

// TestPprofDeterministic: the same model gives the same bytes.
func TestPprofDeterministic(t *testing.T) {
	var out [2]bytes.Buffer
	for i := range out {
		pp, err := PprofProfile(synth.Profile(5, synth.Options{Coroutines: 30, Samples: 100}))
		if err != nil {
			t.Fatal(err)
		}
		if err := pp.WriteUncompressed(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Error("two conversions of the same profile differ")
	}
}
