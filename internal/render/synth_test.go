package render

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// TestSynthetic builds and renders many generated profiles: conservation closes exactly
// (the generator promises it), sampled estimates add up to what they spread, and the
// page is made without error.
func TestSynthetic(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		opt := synth.Options{Loops: int(seed%3) + 1, Coroutines: int(seed * 7), Samples: int(seed * 40),
			Slices: int(seed * 10), LongSlices: int(seed % 5), Regions: int(seed % 4), TicksOnly: seed%4 == 0}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			p := synth.Profile(seed, opt)
			m := mustBuild(t, p)
			for _, c := range m.Closure {
				if c.Diff != 0 {
					t.Errorf("closure %+v", c)
				}
			}
			// Σ self estimates of sampled functions = Σ totals of the coroutines they
			// scale, for those with samples: nothing invented, nothing lost, and nothing
			// of <main> (whose ledger no sample scales).
			var est, want, unlCPU, wantUnl float64
			for _, f := range m.Functions {
				switch f.Kind {
				case report.KindSampled:
					est += float64(f.Self.Ticks())
				case report.KindUnlabelled:
					unlCPU += f.Self.Value(wire.CPU)
					if f.Self.Ticks() != 0 || f.Cumulative.Ticks() != 0 || f.Self.Count(wire.Minflt) != 0 {
						t.Errorf("unlabelled %s has ledger figures: %+v", f.Name, f.Self)
					}
				}
			}
			for _, c := range m.Coroutines {
				if c.Samples > 0 {
					want += float64(c.Ticks())
				}
			}
			for _, s := range p.Samples {
				if s.CoroID == 0 && len(s.Stack) > 0 && m.Has(wire.CPU) {
					wantUnl += float64(s.Nanos) / 1e9
				}
			}
			if math.Abs(est-want) > float64(len(m.Functions)) { // each estimate rounds once
				t.Errorf("sampled self ticks sum to %.0f, the scaled totals to %.0f", est, want)
			}
			if math.Abs(unlCPU-wantUnl) > 1e-9 {
				t.Errorf("unlabelled self cpu sums to %g, their samples' to %g", unlCPU, wantUnl)
			}
			var b bytes.Buffer
			if err := writeHTML(&b, m.Model, HTMLOptions{Echarts: "/**/"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
