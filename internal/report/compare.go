package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/google/pprof/profile"
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

// Delta is NEW minus OLD for every quantity: counts as signed integers, times in seconds.
type Delta struct {
	Ticks   int64   `json:"ticks"`
	CPU     float64 `json:"cpu"`
	Utime   float64 `json:"utime"`
	Stime   float64 `json:"stime"`
	Minflt  int64   `json:"minflt"`
	Majflt  int64   `json:"majflt"`
	Inblock int64   `json:"inblock"`
	Oublock int64   `json:"oublock"`
	Nvcsw   int64   `json:"nvcsw"`
	Nivcsw  int64   `json:"nivcsw"`
}

func sub(a, b uint64) int64 {
	if a >= b {
		return int64(min(a-b, math.MaxInt64))
	}
	return -int64(min(b-a, math.MaxInt64))
}

func deltaOf(n, o Quantities) Delta {
	return Delta{Ticks: sub(n.Ticks, o.Ticks), CPU: n.CPU - o.CPU, Utime: n.Utime - o.Utime, Stime: n.Stime - o.Stime,
		Minflt: sub(n.Minflt, o.Minflt), Majflt: sub(n.Majflt, o.Majflt), Inblock: sub(n.Inblock, o.Inblock),
		Oublock: sub(n.Oublock, o.Oublock), Nvcsw: sub(n.Nvcsw, o.Nvcsw), Nivcsw: sub(n.Nivcsw, o.Nivcsw)}
}

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
	c := &Comparison{New: side(newName, n), Old: side(oldName, o), Measured: n.Measured, newM: n, oldM: o,
		Total: qdiff(n.Total, o.Total), Busy: qdiff(n.Busy, o.Busy), Main: qdiff(n.Main, o.Main), Wait: qdiff(n.Wait, o.Wait)}

	// Coroutines by name.
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
			v.add(co.Quantities.Vec())
			s.Quantities = v.Quantities()
			s.Count++
			s.Resumes += co.Resumes
			s.Samples += co.Samples
		}
	}
	addCoro(n.Coroutines, true)
	addCoro(o.Coroutines, false)
	for _, name := range names {
		d := sides[name]
		d.Status = status(d.New.Count > 0, d.Old.Count > 0)
		d.Delta = deltaOf(d.New.Quantities, d.Old.Quantities)
		d.DeltaCount = d.New.Count - d.Old.Count
		d.DeltaResumes = sub(d.New.Resumes, d.Old.Resumes)
		d.DeltaSamples = sub(d.New.Samples, d.Old.Samples)
		c.Coroutines = append(c.Coroutines, *d)
	}
	slices.SortStableFunc(c.Coroutines, func(a, b CoroDiff) int {
		return cmp.Or(cmp.Compare(absI(b.Ticks), absI(a.Ticks)), cmp.Compare(a.Name, b.Name))
	})

	// Functions by kind and name.
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
	addFunc(n.Functions, true)
	addFunc(o.Functions, false)
	for _, k := range keys {
		d := fd[k]
		d.Self = costDiff(d.Self.New, d.Self.Old)
		d.Cumulative = costDiff(d.Cumulative.New, d.Cumulative.Old)
		c.Functions = append(c.Functions, *d)
	}
	slices.SortStableFunc(c.Functions, func(a, b FuncDiff) int {
		return cmp.Or(cmp.Compare(absI(b.Self.Ticks), absI(a.Self.Ticks)), cmp.Compare(absI(b.Cumulative.Ticks), absI(a.Cumulative.Ticks)),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return c
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

// deltaValue is q of d as a float, in output units.
func deltaValue(d *Delta, q wire.Counter) float64 {
	switch q {
	case wire.Ticks:
		return float64(d.Ticks)
	case wire.CPU:
		return d.CPU
	case wire.Utime:
		return d.Utime
	case wire.Stime:
		return d.Stime
	case wire.Minflt:
		return float64(d.Minflt)
	case wire.Majflt:
		return float64(d.Majflt)
	case wire.Inblock:
		return float64(d.Inblock)
	case wire.Oublock:
		return float64(d.Oublock)
	case wire.Nvcsw:
		return float64(d.Nvcsw)
	}
	return float64(d.Nivcsw)
}

// relative is Δ/old as a percentage string ("new" when old is zero and Δ is not).
func relative(delta, old float64) string {
	switch {
	case old == 0 && delta == 0:
		return ""
	case old == 0:
		return "new"
	}
	return strconv.FormatFloat(100*delta/old, 'f', 1, 64) + "%"
}

// WriteCompareJSON writes the comparison as indented JSON (docs/JSON.md, "Comparison").
func WriteCompareJSON(w io.Writer, c *Comparison) error {
	return writeJSON(w, struct {
		Schema string `json:"schema"`
		Kind   string `json:"kind"`
		*Comparison
	}{JSONSchema, "comparison", c})
}

func signedInt(v float64) string {
	if v > 0 {
		return "+" + strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func signedSec(v float64) string {
	if v > 0 {
		return "+" + fmtSec(v)
	}
	return fmtSec(v)
}

// WriteCompareText writes the comparison as aligned text: the buckets, then the
// coroutines and functions with the largest |Δ| of the chosen column first. Each
// table shows NEW, OLD, Δ and Δ% of that column (ticks for name, calls and resumes).
func WriteCompareText(w io.Writer, c *Comparison, o TextOptions) error {
	if err := CheckSort(o.Sort); err != nil {
		return err
	}
	if o.Sort == "" {
		o.Sort = "ticks"
	}
	q := pctOf(o.Sort)
	if !c.newM.Has(q) {
		return fmt.Errorf("cannot sort by %s: the profiles did not measure it", o.Sort)
	}
	isSec := q == wire.CPU || q == wire.Utime || q == wire.Stime
	val := func(qs *Quantities) string {
		if isSec {
			return fmtSec(quantityValue(qs, q))
		}
		return fmtInt(uint64(quantityValue(qs, q)))
	}
	dlt := func(d *Delta) string {
		if isSec {
			return signedSec(deltaValue(d, q))
		}
		return signedInt(deltaValue(d, q))
	}
	qname := wire.Names[q]
	if q == wire.Utime || q == wire.Stime {
		qname += "≈" // always an estimate (splits the exact CPU time)
	}
	bw := bufio.NewWriter(w)
	t := &textTable{head: []string{"", "file", "program", "host", "duration s", "ticks", "coroutines", "samples"}, left: []bool{true, true, true, true}}
	for _, s := range []struct {
		label string
		s     *Side
	}{{"NEW", &c.New}, {"OLD", &c.Old}} {
		t.add(s.label, s.s.File, s.s.Program, s.s.Host, fmtSec(s.s.Duration), fmtInt(s.s.TotalTicks), strconv.Itoa(s.s.Coroutines), fmtInt(s.s.Samples))
	}
	t.left = append(t.left, false, false, false, false)
	t.write(bw)
	fmt.Fprintf(bw, "measured: %s\n", strings.Join(c.Measured, ", "))
	for _, s := range []*Side{&c.New, &c.Old} {
		for _, n := range s.Notes {
			fmt.Fprintf(bw, "note (%s): %s\n", s.File, n)
		}
	}

	fmt.Fprintf(bw, "\nWhere the time went: %s\n", qname)
	t = &textTable{head: []string{"new", "old", "Δ", "Δ%", "bucket"}, left: []bool{false, false, false, false, true}}
	for _, b := range []struct {
		name string
		d    *QDiff
	}{{"everything but <wait>", &c.Busy}, {"<main>", &c.Main}, {"<wait>", &c.Wait}, {"total", &c.Total}} {
		t.add(val(&b.d.New), val(&b.d.Old), dlt(&b.d.Delta), relative(deltaValue(&b.d.Delta, q), quantityValue(&b.d.Old, q)), b.name)
	}
	t.write(bw)

	// Coroutines.
	ci := make([]int, len(c.Coroutines))
	for i := range ci {
		ci[i] = i
	}
	ci = topN(ci, o.Top, func(a, b int) int {
		x, y := &c.Coroutines[a], &c.Coroutines[b]
		if o.Sort == "name" {
			return cmp.Compare(x.Name, y.Name)
		}
		kx, ky := math.Abs(deltaValue(&x.Delta, q)), math.Abs(deltaValue(&y.Delta, q))
		switch o.Sort {
		case "samples":
			kx, ky = float64(absI(x.DeltaSamples)), float64(absI(y.DeltaSamples))
		case "resumes":
			kx, ky = float64(absI(x.DeltaResumes)), float64(absI(y.DeltaResumes))
		}
		return cmp.Or(cmp.Compare(ky, kx), cmp.Compare(x.Name, y.Name))
	})
	by := o.Sort
	if by == "calls" {
		by = "ticks"
	}
	fmt.Fprint(bw, title("Coroutines by name", len(ci), len(c.Coroutines), "|Δ "+by+"|"))
	t = &textTable{head: []string{"n new", "n old", "new " + qname, "old " + qname, "Δ", "Δ%", "status", "coroutine"},
		left: []bool{false, false, false, false, false, false, true, true}}
	for _, i := range ci {
		d := &c.Coroutines[i]
		t.add(strconv.Itoa(d.New.Count), strconv.Itoa(d.Old.Count), val(&d.New.Quantities), val(&d.Old.Quantities),
			dlt(&d.Delta), relative(deltaValue(&d.Delta, q), quantityValue(&d.Old.Quantities, q)), d.Status, d.Name)
	}
	t.write(bw)

	for _, cumulative := range []bool{false, true} {
		pick := func(f *FuncDiff) *CostDiff {
			if cumulative {
				return &f.Cumulative
			}
			return &f.Self
		}
		fi := make([]int, len(c.Functions))
		for i := range fi {
			fi[i] = i
		}
		fi = topN(fi, o.Top, func(a, b int) int {
			x, y := &c.Functions[a], &c.Functions[b]
			if o.Sort == "name" {
				return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Kind, y.Kind))
			}
			px, py := pick(x), pick(y)
			kx, ky := math.Abs(deltaValue(&px.Delta, q)), math.Abs(deltaValue(&py.Delta, q))
			switch o.Sort {
			case "samples":
				kx, ky = float64(absI(px.DeltaSamples)), float64(absI(py.DeltaSamples))
			case "calls":
				kx, ky = float64(absI(px.DeltaCalls)), float64(absI(py.DeltaCalls))
			}
			return cmp.Or(cmp.Compare(ky, kx), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Kind, y.Kind))
		})
		what := "Functions, self"
		if cumulative {
			what = "Functions, cumulative"
		}
		by := o.Sort
		if by == "resumes" {
			by = "ticks"
		}
		fmt.Fprint(bw, title(what, len(fi), len(c.Functions), "|Δ "+by+"|"))
		t = &textTable{head: []string{"samples new", "samples old", "new " + qname, "old " + qname, "Δ", "Δ%", "status", "kind", "function"},
			left: []bool{false, false, false, false, false, false, true, true, true}}
		for _, i := range fi {
			f := &c.Functions[i]
			p := pick(f)
			mark := ""
			if f.Estimate {
				mark = "≈"
			}
			sn, so := fmtInt(p.New.Samples), fmtInt(p.Old.Samples)
			if f.Kind == KindRegion {
				sn, so = "", ""
			}
			t.add(sn, so, mark+val(&p.New.Quantities), mark+val(&p.Old.Quantities), mark+dlt(&p.Delta),
				relative(deltaValue(&p.Delta, q), quantityValue(&p.Old.Quantities, q)), f.Status, f.Kind, f.Name)
		}
		t.write(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing text: %w", err)
	}
	return nil
}

// Models returns the two models compared (OLD's with its ticks converted to NEW's
// clock when the rates differed).
func (c *Comparison) Models() (newM, oldM *Model) { return c.newM, c.oldM }

// Pprof returns the difference as one pprof profile, the way `go tool pprof
// -diff_base` builds it: NEW's samples, and OLD's negated and labelled pprof::base, so
// any pprof reader shows NEW minus OLD with percentages of OLD.
func (c *Comparison) Pprof() (*profile.Profile, error) {
	n, err := c.newM.Pprof()
	if err != nil {
		return nil, err
	}
	o, err := c.oldM.Pprof()
	if err != nil {
		return nil, err
	}
	o.SetLabel("pprof::base", []string{"true"})
	o.Scale(-1)
	d, err := profile.Merge([]*profile.Profile{n, o})
	if err != nil {
		return nil, fmt.Errorf("building the pprof difference: %w", err)
	}
	return d, nil
}
