package render

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/termtext"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/google/pprof/profile"
)

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

// writeCompareText writes the comparison as aligned text: the runs, the buckets, then
// the coroutines and functions with the largest |Δ| of the chosen column first. Each
// table shows NEW, OLD, Δ and Δ% of that column (ticks for name, calls and resumes).
func writeCompareText(w io.Writer, rc *report.Comparison, o TextOptions) error {
	c := comparison{rc}
	if err := CheckSort(o.Sort); err != nil {
		return err
	}
	if o.Sort == "" {
		o.Sort = "ticks"
	}
	d := diffText{c: c, o: o, q: pctOf(o.Sort)}
	if !c.newM().Has(d.q) {
		return fmt.Errorf("cannot sort by %s: the profiles did not measure it", o.Sort)
	}
	d.qname = wire.CounterNames[d.q]
	if d.q.Estimate() {
		d.qname += "≈" // always an estimate (splits the exact CPU time)
	}
	bw := bufio.NewWriter(w)
	d.runs(bw)
	d.buckets(bw)
	d.coroutines(bw)
	d.functions(bw, false)
	d.functions(bw, true)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing text: %w", err)
	}
	return nil
}

// diffText writes the text tables of a comparison, each of the counter q.
type diffText struct {
	c     comparison
	o     TextOptions
	q     wire.Counter
	qname string // q's name, ≈ for the estimates
}

func (d *diffText) isSec() bool { return d.q.Unit() == wire.UnitNanos }

// val formats one side's q.
func (d *diffText) val(qs *report.Quantities) string {
	if d.isSec() {
		return fmtSec(qs.Value(d.q))
	}
	return fmtInt(uint64(qs.Value(d.q)))
}

// dlt formats q's Δ with its sign.
func (d *diffText) dlt(delta *report.Delta) string {
	if d.isSec() {
		return signedSec(delta.Value(d.q))
	}
	return signedInt(delta.Value(d.q))
}

// runs writes the two runs, what they measured and their notes.
func (d *diffText) runs(w io.Writer) {
	c := d.c
	t := &textTable{head: []string{"", "file", "program", "host", "duration s", "ticks", "coroutines", "samples"}, left: []bool{true, true, true, true}}
	for _, s := range []struct {
		label string
		s     *report.Side
	}{{"NEW", &c.New}, {"OLD", &c.Old}} {
		t.add(s.label, s.s.File, s.s.Program, s.s.Host, fmtSec(s.s.Duration), fmtInt(s.s.TotalTicks), strconv.Itoa(s.s.Coroutines), fmtInt(s.s.Samples))
	}
	t.left = append(t.left, false, false, false, false)
	t.write(w)
	fmt.Fprintf(w, "measured: %s\n", strings.Join(c.Measured, ", "))
	for _, s := range []*report.Side{&c.New, &c.Old} {
		for _, n := range s.Notes {
			fmt.Fprintf(w, "note (%s): %s\n", termtext.Escape(s.File), termtext.Escape(n))
		}
	}
}

// buckets writes where the time went on both sides.
func (d *diffText) buckets(w io.Writer) {
	c, q := d.c, d.q
	fmt.Fprintf(w, "\nWhere the time went: %s\n", d.qname)
	t := &textTable{head: []string{"new", "old", "Δ", "Δ%", "bucket"}, left: []bool{false, false, false, false, true}}
	for _, b := range []struct {
		name string
		d    *report.QDiff
	}{{"everything but <wait>", &c.Busy}, {FrameMain, &c.Main}, {FrameWait, &c.Wait}, {"total", &c.Total}} {
		t.add(d.val(&b.d.New), d.val(&b.d.Old), d.dlt(&b.d.Delta), relative(b.d.Delta.Value(q), b.d.Old.Value(q)), b.name)
	}
	t.write(w)
}

// coroutines writes the coroutines by name, the largest |Δ| of the sort column first.
func (d *diffText) coroutines(w io.Writer) {
	c, q, o := d.c, d.q, d.o
	ci := make([]int, len(c.Coroutines))
	for i := range ci {
		ci[i] = i
	}
	ci = topN(ci, o.Top, func(a, b int) int {
		x, y := &c.Coroutines[a], &c.Coroutines[b]
		if o.Sort == "name" {
			return cmp.Compare(x.Name, y.Name)
		}
		kx, ky := math.Abs(x.Delta.Value(q)), math.Abs(y.Delta.Value(q))
		switch o.Sort {
		case "samples":
			kx, ky = float64(abs(x.DeltaSamples)), float64(abs(y.DeltaSamples))
		case "resumes":
			kx, ky = float64(abs(x.DeltaResumes)), float64(abs(y.DeltaResumes))
		}
		return cmp.Or(cmp.Compare(ky, kx), cmp.Compare(x.Name, y.Name))
	})
	by := o.Sort
	if by == "calls" {
		by = "ticks"
	}
	fmt.Fprint(w, title("Coroutines by name", len(ci), len(c.Coroutines), "|Δ "+by+"|"))
	t := &textTable{head: []string{"n new", "n old", "new " + d.qname, "old " + d.qname, "Δ", "Δ%", "status", "coroutine"},
		left: []bool{false, false, false, false, false, false, true, true}}
	for _, i := range ci {
		cd := &c.Coroutines[i]
		t.add(strconv.Itoa(cd.New.Count), strconv.Itoa(cd.Old.Count), d.val(&cd.New.Quantities), d.val(&cd.Old.Quantities),
			d.dlt(&cd.Delta), relative(cd.Delta.Value(q), cd.Old.Quantities.Value(q)), cd.Status, cd.Name)
	}
	t.write(w)
}

// functions writes the functions' self or cumulative costs by kind and name, the
// largest |Δ| of the sort column first.
func (d *diffText) functions(w io.Writer, cumulative bool) {
	c, q, o := d.c, d.q, d.o
	pick := func(f *report.FuncDiff) *report.CostDiff {
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
		kx, ky := math.Abs(px.Delta.Value(q)), math.Abs(py.Delta.Value(q))
		switch o.Sort {
		case "samples":
			kx, ky = float64(abs(px.DeltaSamples)), float64(abs(py.DeltaSamples))
		case "calls":
			kx, ky = float64(abs(px.DeltaCalls)), float64(abs(py.DeltaCalls))
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
	fmt.Fprint(w, title(what, len(fi), len(c.Functions), "|Δ "+by+"|"))
	t := &textTable{head: []string{"samples new", "samples old", "new " + d.qname, "old " + d.qname, "Δ", "Δ%", "status", "kind", "function"},
		left: []bool{false, false, false, false, false, false, true, true, true}}
	for _, i := range fi {
		f := &c.Functions[i]
		p := pick(f)
		mark := ""
		if f.Estimate {
			mark = "≈"
		}
		sn, so := fmtInt(p.New.Samples), fmtInt(p.Old.Samples)
		if f.Counted() {
			sn, so = "", ""
		}
		t.add(sn, so, mark+d.val(&p.New.Quantities), mark+d.val(&p.Old.Quantities), mark+d.dlt(&p.Delta),
			relative(p.Delta.Value(q), p.Old.Quantities.Value(q)), f.Status, f.Kind, f.Name)
	}
	t.write(w)
}

// pprofDiff returns the difference as one pprof profile, the way `go tool pprof
// -diff_base` builds it: NEW's samples, and OLD's negated and labelled pprof::base, so
// any pprof reader shows NEW minus OLD with percentages of OLD.
func pprofDiff(c *report.Comparison) (*profile.Profile, error) {
	nm, om := c.Models()
	n, err := PprofProfile(nm.Profile())
	if err != nil {
		return nil, err
	}
	o, err := PprofProfile(om.Profile())
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

// writeComparePprof writes the comparison's pprof difference, gzipped.
func writeComparePprof(w io.Writer, c *report.Comparison) error {
	pp, err := pprofDiff(c)
	if err != nil {
		return err
	}
	if err := pp.Write(w); err != nil {
		return fmt.Errorf("writing the pprof profile: %w", err)
	}
	return nil
}
