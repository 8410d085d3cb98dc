package format

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/coroprof/coroprof/internal/wire"
)

var synthCases = []SynthOptions{
	{},
	{Coroutines: 1},
	{Coroutines: 5, Samples: 20, Slices: 30, LongSlices: 3, Regions: 3},
	{Loops: 3, Coroutines: 50, Samples: 500, Slices: 400, LongSlices: 10, Regions: 9},
	{Loops: 4, Coroutines: 2, Slices: 10},
	{Coroutines: 40, Samples: 3000, Funcs: 2, TicksOnly: true, Slices: 5},
}

func TestSyntheticDeterministic(t *testing.T) {
	for _, opt := range synthCases {
		a, b := Synthetic(7, opt), Synthetic(7, opt)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%+v: two calls with seed 7 differ", opt)
		}
		if c := Synthetic(8, opt); opt.Coroutines > 0 && reflect.DeepEqual(a, c) {
			t.Errorf("%+v: seeds 7 and 8 give the same profile", opt)
		}
	}
}

func TestSyntheticConsistent(t *testing.T) {
	for i, opt := range synthCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			p := Synthetic(int64(i), opt)
			if err := p.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkSynthetic(t, p, opt)
		})
	}
}

func checkSynthetic(t *testing.T, p *Profile, opt SynthOptions) {
	t.Helper()
	if got, want := len(p.Loops), max(opt.Loops, 1); got != want {
		t.Errorf("%d loops, want %d", got, want)
	}
	if len(p.Coroutines) != opt.Coroutines || len(p.Samples) != opt.Samples || len(p.Regions) != opt.Regions {
		t.Errorf("sizes: %d coroutines %d samples %d regions, asked for %+v", len(p.Coroutines), len(p.Samples), len(p.Regions), opt)
	}
	if opt.Coroutines > 0 && (len(p.Slices) != opt.Slices || len(p.LongSlices) != opt.LongSlices) {
		t.Errorf("%d slices %d long slices, asked for %+v", len(p.Slices), len(p.LongSlices), opt)
	}
	// Conservation, exactly, per loop and per counter.
	for _, l := range p.Loops {
		sum := l.Main
		sum.Add(l.Wait)
		for _, c := range p.Coroutines {
			if c.Loop == l.ID {
				sum.Add(c.Counters)
			}
		}
		if sum != l.Total {
			t.Errorf("loop %d: Σ coroutines + main + wait = %+v, total %+v", l.ID, sum, l.Total)
		}
		if l.Total[wire.Ticks] > p.Meta.StopTick-p.Meta.StartTick {
			t.Errorf("loop %d: %d ticks in an elapsed %d", l.ID, l.Total[wire.Ticks], p.Meta.StopTick-p.Meta.StartTick)
		}
	}
	buckets := []Counters{}
	for _, c := range p.Coroutines {
		buckets = append(buckets, c.Counters)
	}
	for _, l := range p.Loops {
		buckets = append(buckets, l.Main, l.Wait, l.Total)
	}
	for _, c := range buckets {
		if c[wire.Utime]+c[wire.Stime] != c[wire.CPU] {
			t.Errorf("utime %d + stime %d != cpu %d", c[wire.Utime], c[wire.Stime], c[wire.CPU])
		}
		if opt.TicksOnly && (c != Counters{wire.Ticks: c[wire.Ticks]}) {
			t.Errorf("ticks-only profile has counters %+v", c)
		}
	}
	// Wait totals are the sums of the wait sites.
	var waits = map[uint64]*[NumWaitReasons]WaitStat{}
	for _, ws := range p.WaitSites {
		w := waits[ws.CoroID]
		if w == nil {
			w = new([NumWaitReasons]WaitStat)
			waits[ws.CoroID] = w
		}
		w[ws.Reason].Count += ws.Count
		w[ws.Reason].Ticks += ws.Ticks
	}
	for _, c := range p.Coroutines {
		var want [NumWaitReasons]WaitStat
		if w := waits[c.ID]; w != nil {
			want = *w
		}
		if c.Waits != want {
			t.Errorf("coroutine %d: waits %v, sites sum to %v", c.ID, c.Waits, want)
		}
	}
	// Time adds up per coroutine: running, runnable and parked fit in the run.
	elapsed := p.Meta.StopTick - p.Meta.StartTick
	for _, c := range p.Coroutines {
		var parked uint64
		for _, w := range c.Waits {
			parked += w.Ticks
		}
		if c.Counters[wire.Ticks]+c.Runnable+parked > elapsed {
			t.Errorf("coroutine %d: running %d + runnable %d + parked %d ticks > elapsed %d", c.ID, c.Counters[wire.Ticks], c.Runnable, parked, elapsed)
		}
		if c.Resumes == 0 || c.LongestSlice > c.Counters[wire.Ticks] {
			t.Errorf("coroutine %d: %d resumes, longest slice %d of %d ticks", c.ID, c.Resumes, c.LongestSlice, c.Counters[wire.Ticks])
		}
	}
	// Samples stand for no more CPU than was measured (up to the one-sample floor).
	sampled, n := map[uint64]uint64{}, map[uint64]uint64{}
	for _, s := range p.Samples {
		sampled[s.CoroID] += s.Nanos
		n[s.CoroID]++
	}
	period := uint64(1e9 / max(p.Meta.SampleRate, 1))
	for _, c := range p.Coroutines {
		budget := c.Counters[wire.CPU]
		if opt.TicksOnly {
			budget = c.Counters[wire.Ticks] * 1e9 / p.Clock.TicksPerSecond
		}
		if sampled[c.ID] > budget+n[c.ID]*period {
			t.Errorf("coroutine %d: samples stand for %d ns of CPU, it used %d", c.ID, sampled[c.ID], budget)
		}
	}
	for _, l := range p.LongSlices {
		if l.Start+l.Counters[wire.Ticks] > p.Meta.StopTick {
			t.Errorf("long slice %+v ends after StopTick %d", l, p.Meta.StopTick)
		}
	}
	for i := 1; i < len(p.Slices); i++ {
		if p.Slices[i].Start < p.Slices[i-1].Start {
			t.Errorf("slice %d starts before slice %d", i, i-1)
		}
	}
	for i, s := range p.Slices {
		if s.Start < p.Meta.StartTick || s.End > p.Meta.StopTick || s.End < s.Start {
			t.Errorf("slice %d [%d, %d] outside [%d, %d]", i, s.Start, s.End, p.Meta.StartTick, p.Meta.StopTick)
		}
	}
	for i := 1; i < len(p.Samples); i++ {
		if slices.Equal(p.Samples[i].Stack, p.Samples[i-1].Stack) && p.Samples[i].CoroID == p.Samples[i-1].CoroID {
			t.Errorf("samples %d and %d have the same coroutine and stack", i-1, i)
		}
	}
	if opt.Coroutines >= 3 && !slices.ContainsFunc(p.Coroutines, func(c Coroutine) bool { return c.Name == "<script>alert(1)</script>" }) {
		t.Errorf("no coroutine named <script>alert(1)</script>")
	}
}

// sortedSamples must give exactly cmpSample's order, including for stacks that share
// their first frames, are prefixes of each other, or hold the invalid frame 0.
func TestSortedSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var ss []Sample
	for range 5000 {
		st := make([]LocID, r.IntN(5))
		for i := range st {
			st[i] = LocID(r.IntN(3)) // few values: many ties and prefixes, some zeros
		}
		ss = append(ss, Sample{CoroID: uint64(r.IntN(3)), Stack: st, Count: uint64(r.IntN(2)), Nanos: uint64(r.IntN(2))})
	}
	got := sortedSamples(ss)
	want := slices.Clone(ss)
	slices.SortStableFunc(want, cmpSample)
	for i := range want {
		if cmpSample(got[i], want[i]) != 0 {
			t.Fatalf("position %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
