package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/wire"
)

// Comparing two runs. Coroutine IDs and line numbers change from run to run, so rows
// are matched by name: coroutines of the same name are summed on each side (and
// counted), functions are matched by kind and name. A row present on one side only is
// "added" or "removed"; its other side is zero. Both runs must have measured the same
// quantities and both sampled or neither, or the differences would be artefacts of how
// they were profiled. When the clocks run at different rates, OLD's ticks are
// converted to NEW's rate.

// Row statuses.
const (
	StatusBoth    = "both"
	StatusAdded   = "added"   // in NEW only
	StatusRemoved = "removed" // in OLD only
)

// Delta is NEW minus OLD for every quantity, indexed by counter: counts as signed whole
// numbers, times in seconds. Its JSON is as Quantities' (quantities_json.go).
type Delta [wire.NumCounters]float64

func sub(a, b uint64) int64 {
	if a >= b {
		return int64(min(a-b, math.MaxInt64))
	}
	return -int64(min(b-a, math.MaxInt64))
}

func deltaOf(n, o Quantities) Delta {
	var d Delta
	for c := range wire.NumCounters {
		if c.Unit() == wire.UnitNanos {
			d[c] = n[c] - o[c]
		} else {
			d[c] = float64(sub(n.Count(c), o.Count(c)))
		}
	}
	return d
}

// Value returns counter c of d in output units (seconds for the times).
func (d Delta) Value(c wire.Counter) float64 { return d[c] }

// QDiff is one bucket on both sides.
type QDiff struct {
	New   Quantities `json:"new"`
	Old   Quantities `json:"old"`
	Delta Delta      `json:"delta"`
}

func qdiff(n, o Quantities) QDiff { return QDiff{New: n, Old: o, Delta: deltaOf(n, o)} }

// CoroSide is every coroutine of one name on one side, summed.
type CoroSide struct {
	Count   int    `json:"count"` // coroutines of this name
	Resumes uint64 `json:"resumes"`
	Quantities
	Samples uint64 `json:"samples"`
}

// CoroDiff compares the coroutines of one name.
type CoroDiff struct {
	Name   string   `json:"name"`
	Status string   `json:"status"`
	New    CoroSide `json:"new"`
	Old    CoroSide `json:"old"`
	Delta
	DeltaCount   int   `json:"delta_count"`
	DeltaResumes int64 `json:"delta_resumes"`
	DeltaSamples int64 `json:"delta_samples"`
}

// CostDiff compares a function's self or cumulative cost.
type CostDiff struct {
	New Cost `json:"new"`
	Old Cost `json:"old"`
	Delta
	DeltaCalls   int64 `json:"delta_calls"`
	DeltaSamples int64 `json:"delta_samples"`
}

func costDiff(n, o Cost) CostDiff {
	return CostDiff{New: n, Old: o, Delta: deltaOf(n.Quantities, o.Quantities),
		DeltaCalls: sub(n.Calls, o.Calls), DeltaSamples: sub(n.Samples, o.Samples)}
}

// FuncDiff compares the functions of one kind and name.
type FuncDiff struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Status     string   `json:"status"`
	Estimate   bool     `json:"estimate"`
	Self       CostDiff `json:"self"`
	Cumulative CostDiff `json:"cumulative"`
}

// Counted reports whether the function's figures and calls were counted exactly.
func (f *FuncDiff) Counted() bool { return f.Kind == KindRegion || f.Kind == KindExact }

// Side describes one of the compared runs.
type Side struct {
	File       string   `json:"file"`
	Program    string   `json:"program"`
	Host       string   `json:"host"`
	Clock      Clock    `json:"clock"`
	Measured   []string `json:"measured"`
	TotalTicks uint64   `json:"total_ticks"`
	Duration   float64  `json:"duration"`
	Coroutines int      `json:"coroutines"`
	Samples    uint64   `json:"samples"`
	Notes      []string `json:"notes,omitempty"`
}

// Comparison is NEW against OLD. Rows are ordered by |Δ ticks|, largest first.
type Comparison struct {
	New        Side       `json:"new"`
	Old        Side       `json:"old"`
	Measured   []string   `json:"measured"`
	Total      QDiff      `json:"total"`
	Busy       QDiff      `json:"busy"` // everything but <wait>
	Main       QDiff      `json:"main"`
	Wait       QDiff      `json:"wait"`
	Coroutines []CoroDiff `json:"coroutines"`
	Functions  []FuncDiff `json:"functions"`

	newM, oldM *Model
}

// compareSet is the part of Measured two runs must share to be compared.
const compareSet = profops.QuantitySet | format.MeasSamples

func describeCompared(ms format.Measured) string {
	s := profops.DescribeMeasured(ms)
	if ms&format.MeasSamples != 0 {
		return s + ", with CPU samples"
	}
	return s + ", without CPU samples"
}

// CompareProfiles compares NEW (newP, named newName in messages) with OLD. It refuses
// runs that measured different quantities, with a message saying how each was made.
func CompareProfiles(newName string, newP *format.Profile, oldName string, oldP *format.Profile) (*Comparison, error) {
	if newP == nil || oldP == nil {
		return nil, fmt.Errorf("comparing: no profile")
	}
	nm, om := (newP.Measured|format.MeasTicks)&compareSet, (oldP.Measured|format.MeasTicks)&compareSet
	if nm != om {
		return nil, fmt.Errorf("cannot compare %s (measured %s) with %s (measured %s): profile both runs the same way",
			newName, describeCompared(nm), oldName, describeCompared(om))
	}
	if oldP.Clock.TicksPerSecond != newP.Clock.TicksPerSecond && oldP.Clock.TicksPerSecond != 0 {
		conv, err := profops.ConvertClock(oldName, oldP, newP.Clock.TicksPerSecond)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", oldName, err)
		}
		conv.Meta.Notes = append([]string{fmt.Sprintf("ticks converted from %d to %d ticks/s to compare with %s",
			oldP.Clock.TicksPerSecond, newP.Clock.TicksPerSecond, newName)}, conv.Meta.Notes...)
		oldP = conv
	}
	n, err := Build(newP)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", newName, err)
	}
	o, err := Build(oldP)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", oldName, err)
	}
	return Compare(newName, n, oldName, o), nil
}

func side(file string, m *Model) Side {
	return Side{File: file, Program: m.Meta.Program, Host: m.Meta.Host, Clock: m.Clock, Measured: m.Measured,
		TotalTicks: m.TotalTicks, Duration: m.Meta.Duration, Coroutines: len(m.Coroutines), Samples: m.TotalSamples, Notes: m.Meta.Notes}
}

// Compare compares two models built from profiles CompareProfiles accepted.
func Compare(newName string, n *Model, oldName string, o *Model) *Comparison {
	return &Comparison{New: side(newName, n), Old: side(oldName, o), Measured: n.Measured, newM: n, oldM: o,
		Total: qdiff(n.Total, o.Total), Busy: qdiff(n.Busy, o.Busy), Main: qdiff(n.Main, o.Main), Wait: qdiff(n.Wait, o.Wait),
		Coroutines: compareCoroutines(n.Coroutines, o.Coroutines), Functions: compareFunctions(n.Functions, o.Functions)}
}

// compareCoroutines matches coroutines by name, summing each side's coroutines of a
// name, ordered by |Δ ticks|.
func compareCoroutines(nc, oc []Coroutine) []CoroDiff {
	sides := map[string]*CoroDiff{}
	var names []string
	addCoro := func(ms []Coroutine, isNew bool) {
		for i := range ms {
			co := &ms[i]
			d := sides[co.Name]
			if d == nil {
				d = &CoroDiff{Name: co.Name}
				sides[co.Name] = d
				names = append(names, co.Name)
			}
			s := &d.Old
			if isNew {
				s = &d.New
			}
			v := s.Quantities.Vec()
			v.Add(co.Quantities.Vec())
			s.Quantities = v.Quantities()
			s.Count++
			s.Resumes += co.Resumes
			s.Samples += co.Samples
		}
	}
	addCoro(nc, true)
	addCoro(oc, false)
	var out []CoroDiff
	for _, name := range names {
		d := sides[name]
		d.Status = status(d.New.Count > 0, d.Old.Count > 0)
		d.Delta = deltaOf(d.New.Quantities, d.Old.Quantities)
		d.DeltaCount = d.New.Count - d.Old.Count
		d.DeltaResumes = sub(d.New.Resumes, d.Old.Resumes)
		d.DeltaSamples = sub(d.New.Samples, d.Old.Samples)
		out = append(out, *d)
	}
	slices.SortStableFunc(out, func(a, b CoroDiff) int {
		return cmp.Or(cmp.Compare(absI(b.Ticks()), absI(a.Ticks())), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// compareFunctions matches functions by kind and name, ordered by |Δ self ticks|,
// then |Δ cumulative ticks|.
func compareFunctions(nf, of []Function) []FuncDiff {
	type key struct{ kind, name string }
	fd := map[key]*FuncDiff{}
	var keys []key
	addFunc := func(fs []Function, isNew bool) {
		for i := range fs {
			f := &fs[i]
			k := key{f.Kind, f.Name}
			d := fd[k]
			if d == nil {
				d = &FuncDiff{Name: f.Name, Kind: f.Kind}
				fd[k] = d
				keys = append(keys, k)
			}
			d.Estimate = d.Estimate || f.Estimate
			if isNew {
				d.Self.New, d.Cumulative.New = f.Self, f.Cumulative
			} else {
				d.Self.Old, d.Cumulative.Old = f.Self, f.Cumulative
			}
			if isNew {
				d.Status = StatusAdded
			} else if d.Status == StatusAdded {
				d.Status = StatusBoth
			} else {
				d.Status = StatusRemoved
			}
		}
	}
	addFunc(nf, true)
	addFunc(of, false)
	var out []FuncDiff
	for _, k := range keys {
		d := fd[k]
		d.Self = costDiff(d.Self.New, d.Self.Old)
		d.Cumulative = costDiff(d.Cumulative.New, d.Cumulative.Old)
		out = append(out, *d)
	}
	slices.SortStableFunc(out, func(a, b FuncDiff) int {
		return cmp.Or(cmp.Compare(absI(b.Self.Ticks()), absI(a.Self.Ticks())), cmp.Compare(absI(b.Cumulative.Ticks()), absI(a.Cumulative.Ticks())),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

func status(inNew, inOld bool) string {
	switch {
	case inNew && inOld:
		return StatusBoth
	case inNew:
		return StatusAdded
	}
	return StatusRemoved
}

func absI(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Models returns the two models compared (OLD's with its ticks converted to NEW's
// clock when the rates differed).
func (c *Comparison) Models() (newM, oldM *Model) { return c.newM, c.oldM }

// Ticks returns d's ticks.
func (d Delta) Ticks() int64 { return whole(d[wire.Ticks]) }
