package report

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/coroprof/coroprof/format"
)

// TestSynthetic builds and renders many generated profiles: conservation closes exactly
// (the generator promises it), sampled estimates add up to what they spread, and the
// page is made without error.
func TestSynthetic(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		opt := format.SynthOptions{Loops: int(seed%3) + 1, Coroutines: int(seed * 7), Samples: int(seed * 40),
			Slices: int(seed * 10), LongSlices: int(seed % 5), Regions: int(seed % 4), TicksOnly: seed%4 == 0}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			p := format.Synthetic(seed, opt)
			m := mustBuild(t, p)
			for _, c := range m.Closure {
				if c.Diff != 0 {
					t.Errorf("closure %+v", c)
				}
			}
			// Σ self estimates of sampled functions = Σ totals of the coroutines (and
			// <main>) they scale, for those with samples: nothing invented, nothing lost.
			var est, want float64
			for _, f := range m.Functions {
				if f.Kind == KindSampled {
					est += float64(f.Self.Ticks)
				}
			}
			for _, c := range m.Coroutines {
				if c.Samples > 0 {
					want += float64(c.Ticks)
				}
			}
			var mainSamples uint64
			for _, s := range p.Samples {
				if s.CoroID == 0 {
					mainSamples += s.Count
				}
			}
			if mainSamples > 0 {
				want += float64(m.Main.Ticks)
			}
			if math.Abs(est-want) > float64(len(m.Functions)) { // each estimate rounds once
				t.Errorf("sampled self ticks sum to %.0f, the scaled totals to %.0f", est, want)
			}
			var b bytes.Buffer
			if err := WriteHTML(&b, m, HTMLOptions{Echarts: "/**/"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
