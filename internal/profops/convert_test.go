package profops_test

import (
	"math/big"
	"slices"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// loopTicks sums the tick buckets of each loop: coroutines, <main>, <wait>.
func loopTicks(p *format.Profile) map[int64]uint64 {
	sum := map[int64]uint64{}
	for _, c := range p.Coroutines {
		sum[c.Loop] += c.Counters[wire.Ticks]
	}
	for _, l := range p.Loops {
		sum[l.ID] += l.Main[wire.Ticks] + l.Wait[wire.Ticks]
	}
	return sum
}

// TestMergeConversionCloses: merging profiles whose clock rates differ (3 GHz into
// 2.1 GHz, a ratio that rounds almost every bucket) keeps every loop's closure exact,
// each converted bucket within one tick of its exact value, and total_ticks the sum of
// the inputs' elapsed ticks each converted. Converting each bucket on its own left a
// residue of tens of ticks per loop.
func TestMergeConversionCloses(t *testing.T) {
	a := synth.Profile(1, synth.Options{Loops: 2, Coroutines: 40, Samples: 10})
	b := synth.Profile(2, synth.Options{Loops: 3, Coroutines: 97, Samples: 10})
	b.Clock.TicksPerSecond = 3_000_000_007
	for _, in := range []*format.Profile{a, b} {
		for id, s := range loopTicks(in) {
			for _, l := range in.Loops {
				if l.ID == id && s != l.Total[wire.Ticks] {
					t.Fatalf("input loop %d does not close: %d vs %d", id, s, l.Total[wire.Ticks])
				}
			}
		}
	}
	merged, err := profops.Merge([]profops.Input{{Name: "a", Profile: a}, {Name: "b", Profile: b}})
	if err != nil {
		t.Fatal(err)
	}
	sums := loopTicks(merged)
	for _, l := range merged.Loops {
		if sums[l.ID] != l.Total[wire.Ticks] {
			t.Errorf("merged loop %d: buckets sum to %d, Total %d (residue %d)", l.ID, sums[l.ID], l.Total[wire.Ticks], int64(sums[l.ID])-int64(l.Total[wire.Ticks]))
		}
	}
	// Each of b's coroutines within a tick of its exact converted value.
	num := new(big.Rat).SetFrac64(int64(a.Clock.TicksPerSecond), int64(b.Clock.TicksPerSecond))
	byID := map[uint64]format.Coroutine{}
	for _, c := range merged.Coroutines {
		byID[c.ID] = c
	}
	maxA := slices.MaxFunc(a.Coroutines, func(x, y format.Coroutine) int { return int(x.ID) - int(y.ID) }).ID
	for _, c := range b.Coroutines {
		got := byID[c.ID+maxA].Counters[wire.Ticks]
		exact := new(big.Rat).Mul(new(big.Rat).SetInt64(int64(c.Counters[wire.Ticks])), num)
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(got)), exact)
		if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
			t.Errorf("coroutine %d: %d ticks converted to %d, exact %s", c.ID, c.Counters[wire.Ticks], got, exact.FloatString(2))
		}
	}
	conv := func(v uint64) uint64 {
		x := new(big.Int).Mul(new(big.Int).SetUint64(v), new(big.Int).SetUint64(a.Clock.TicksPerSecond))
		return x.Div(x, new(big.Int).SetUint64(b.Clock.TicksPerSecond)).Uint64()
	}
	want := (a.Meta.StopTick - a.Meta.StartTick) + conv(b.Meta.StopTick-b.Meta.StartTick)
	if got := merged.Meta.StopTick - merged.Meta.StartTick; got != want {
		t.Errorf("merged elapsed %d ticks, want %d (a's plus b's converted)", got, want)
	}
}

// TestMergeArgs: a merge of runs with different command lines shows each input's;
// runs of the same command line keep it as it was.
func TestMergeArgs(t *testing.T) {
	a, b := synth.Hand(), synth.Hand()
	b.Meta.Program, b.Meta.Args = "/bin/other", []string{"-x", "two words", ""}
	merged, err := profops.Merge([]profops.Input{{Name: "a.bin", Profile: a}, {Name: "b.bin", Profile: b}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.bin: " + a.Meta.Program, `b.bin: /bin/other -x "two words" ""`}
	for _, arg := range a.Meta.Args {
		want[0] += " " + arg
	}
	if !slices.Equal(merged.Meta.Args, want) {
		t.Errorf("merged args %q, want %q", merged.Meta.Args, want)
	}
	same, err := profops.Merge([]profops.Input{{Name: "a.bin", Profile: a}, {Name: "c.bin", Profile: synth.Hand()}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(same.Meta.Args, a.Meta.Args) {
		t.Errorf("merged args of one command line %q, want %q", same.Meta.Args, a.Meta.Args)
	}
}
