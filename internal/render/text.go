package render

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/termtext"
	"github.com/coroprof/coroprof/internal/wire"
)

// TextOptions chooses what -text prints.
type TextOptions struct {
	Top  int    // rows per table (0: all of them)
	Sort string // column to rank rows by: see SortKeys; "" means ticks
}

// SortKeys are the columns -sort accepts: the quantities, then samples, calls,
// resumes and name. A table without the column (calls for coroutines, resumes for
// functions) ranks by ticks.
func SortKeys() []string {
	return append(wire.CounterNames[:], "samples", "calls", "resumes", "name")
}

// CheckSort returns an error naming the valid keys if key is not one of them.
func CheckSort(key string) error {
	if key == "" || slices.Contains(SortKeys(), key) {
		return nil
	}
	return fmt.Errorf("unknown sort column %q (one of %s)", key, strings.Join(SortKeys(), ", "))
}

// Measures reports whether the profile measured the sort column key: a quantity the
// profile has, samples when it was sampled, and the columns that are always there.
func Measures(m *report.Model, key string) bool {
	if q, ok := quantityIndex(key); ok {
		return m.Has(q)
	}
	if key == "samples" {
		return m.HasSamples()
	}
	return true
}

func quantityIndex(key string) (wire.Counter, bool) {
	i := slices.Index(wire.CounterNames[:], key)
	return wire.Counter(i), i >= 0
}

// textTable lays out rows in aligned columns: numbers right-aligned, text left; the
// last column (a name, of any length) is never padded.
type textTable struct {
	head []string
	left []bool // column is text
	rows [][]string
}

func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

// Every cell is escaped for the terminal (internal/termtext, the console's escaping
// too): a name's ESC, OSC, BEL, NUL, bidirectional controls or newline show as \x1b,
// \x07, \x00, \u202e, \n and so on, never acted on and never splitting a row.
func (t *textTable) write(w io.Writer) {
	esc := func(r []string) []string {
		out := make([]string, len(r))
		for i, c := range r {
			out[i] = termtext.Escape(c)
		}
		return out
	}
	head := esc(t.head)
	rows := make([][]string, len(t.rows))
	for i, r := range t.rows {
		rows[i] = esc(r)
	}
	width := make([]int, len(t.head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == len(r)-1 && t.left[i]:
				b.WriteString(c)
			case t.left[i]:
				b.WriteString(c + pad)
			default:
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head)
	for _, r := range rows {
		line(r)
	}
}

// dropZero removes the columns whose cells are empty or zero in every row, except
// the ones keep names.
func (t *textTable) dropZero(keep ...int) {
	var cols []int
	for i := range t.head {
		used := slices.Contains(keep, i) || t.left[i]
		for _, r := range t.rows {
			if c := strings.TrimLeft(r[i], "≈+-"); c != "" && strings.Trim(c, "0.%") != "" {
				used = true
				break
			}
		}
		if used {
			cols = append(cols, i)
		}
	}
	pick := func(r []string) []string {
		out := make([]string, len(cols))
		for j, i := range cols {
			out[j] = r[i]
		}
		return out
	}
	t.head = pick(t.head)
	left := make([]bool, len(cols))
	for j, i := range cols {
		left[j] = t.left[i]
	}
	t.left = left
	for k, r := range t.rows {
		t.rows[k] = pick(r)
	}
}

func fmtInt(v uint64) string  { return strconv.FormatUint(v, 10) }
func fmtSec(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
func fmtPct(v, of float64) string {
	if of == 0 {
		return ""
	}
	return strconv.FormatFloat(100*v/of, 'f', 2, 64) + "%"
}

func fmtQuantity(qs *report.Quantities, q wire.Counter) string {
	if q.Unit() == wire.UnitNanos {
		return fmtSec(qs.Value(q))
	}
	return fmtInt(uint64(qs.Value(q)))
}

// textQuantities are the measured quantities with their column heads.
func (m model) textQuantities() ([]wire.Counter, []string) {
	var qs []wire.Counter
	var heads []string
	for q := wire.Ticks; q < wire.NumCounters; q++ {
		if !m.Has(q) {
			continue
		}
		qs = append(qs, q)
		switch {
		case q == wire.CPU:
			heads = append(heads, "cpu s")
		case q.Estimate():
			heads = append(heads, wire.CounterNames[q]+"≈ s")
		default:
			heads = append(heads, wire.CounterNames[q])
		}
	}
	return qs, heads
}

// pctOf is the quantity the "%" column shows for a sort key: the key itself when it
// is a quantity, else ticks.
func pctOf(key string) wire.Counter {
	if q, ok := quantityIndex(key); ok {
		return q
	}
	return wire.Ticks
}

// writeText writes the header and the tables as aligned plain text for a terminal:
// where the time went, then the top coroutines and functions (self, then cumulative)
// ranked by o.Sort. Percentages exclude <wait>, as in the HTML report; ≈ marks
// estimates.
func writeText(w io.Writer, rm *report.Model, o TextOptions) error {
	m := model{rm}
	if err := CheckSort(o.Sort); err != nil {
		return err
	}
	if o.Sort == "" {
		o.Sort = "ticks"
	}
	bw := bufio.NewWriter(w)
	m.textHeader(bw)
	m.textBuckets(bw, o)
	m.textLoops(bw)
	m.textCoroutines(bw, o)
	m.textWaitSites(bw, o)
	m.textFunctions(bw, o, false)
	m.textFunctions(bw, o, true)
	m.textLongSlices(bw, o)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing text: %w", err)
	}
	return nil
}

func (m model) textHeader(w io.Writer) {
	t := &textTable{head: []string{"profile", strings.Join(append([]string{m.Meta.Program}, m.Meta.Args...), " ")},
		left: []bool{true, true}}
	t.add("host", fmt.Sprintf("%s (%s/%s, %s)", m.Meta.Host, m.Meta.GOOS, m.Meta.GOARCH, m.Meta.GoVersion))
	inv := "invariant"
	if !m.Clock.Invariant {
		inv = "not invariant: ticks may not track time"
	}
	t.add("clock", fmt.Sprintf("%s, %d ticks/s, %s", m.Clock.Source, m.Clock.TicksPerSecond, inv))
	t.add("duration", fmt.Sprintf("%s s wall, %d ticks (%s s)", fmtSec(m.Meta.Duration), m.TotalTicks, fmtSec(m.Seconds(float64(m.TotalTicks)))))
	t.add("measured", strings.Join(m.Measured, ", "))
	if m.HasSamples() {
		t.add("samples", m.samplesText())
	}
	closure, _ := m.closureText()
	t.add("closure", closure)
	if e := m.estimateClosureText(); e != "" {
		t.add("utime/stime", e)
	}
	for _, n := range m.Meta.Notes {
		t.add("note", n)
	}
	t.write(w)
}

// quantityHeads returns the column heads for the measured quantities with "%" and
// seconds beside the quantity pct.
func (m model) quantityHeads(pct wire.Counter) ([]string, []wire.Counter) {
	qs, heads := m.textQuantities()
	var out []string
	for i, q := range qs {
		out = append(out, heads[i])
		if q == wire.Ticks {
			out = append(out, "s")
		}
		if q == pct {
			out = append(out, "%")
		}
	}
	return out, qs
}

func (m model) quantityRow(q *report.Quantities, qs []wire.Counter, pct wire.Counter, approx bool, noPct bool) []string {
	busy := m.Busy
	var out []string
	mark := ""
	if approx {
		mark = "≈"
	}
	for _, k := range qs {
		out = append(out, mark+fmtQuantity(q, k))
		if k == wire.Ticks {
			out = append(out, mark+fmtSec(m.Seconds(float64(q.Ticks()))))
		}
		if k == pct {
			if noPct {
				out = append(out, "")
			} else {
				out = append(out, fmtPct(q.Value(k), busy.Value(k)))
			}
		}
	}
	return out
}

func (m model) textBuckets(w io.Writer, o TextOptions) {
	pct := pctOf(o.Sort)
	heads, qs := m.quantityHeads(pct)
	fmt.Fprintf(w, "\nWhere the time went (%% of everything but <wait>)\n")
	t := &textTable{head: append(heads, "bucket")}
	t.left = make([]bool, len(t.head))
	t.left[len(t.head)-1] = true
	var coros report.Vec
	for i := range m.Coroutines {
		coros.Add(m.Coroutines[i].Quantities.Vec())
	}
	cq := coros.Quantities()
	t.add(append(m.quantityRow(&cq, qs, pct, false, false), fmt.Sprintf("coroutines (%d)", len(m.Coroutines)))...)
	t.add(append(m.quantityRow(&m.Main, qs, pct, false, false), FrameMain)...)
	t.add(append(m.quantityRow(&m.Wait, qs, pct, false, true), FrameWait)...)
	t.add(append(m.quantityRow(&m.Total, qs, pct, false, true), "total")...)
	t.write(w)
}

// topN sorts idx with cmpf (stable) and keeps the first n (0: all).
func topN(idx []int, n int, cmpf func(a, b int) int) []int {
	slices.SortStableFunc(idx, cmpf)
	if n > 0 && len(idx) > n {
		idx = idx[:n]
	}
	return idx
}

func title(what string, shown, of int, key string) string {
	if shown < of {
		return fmt.Sprintf("\n%s: top %d of %d by %s\n", what, shown, of, key)
	}
	return fmt.Sprintf("\n%s: %d by %s\n", what, of, key)
}

func (m model) textCoroutines(w io.Writer, o TextOptions) {
	pct := pctOf(o.Sort)
	heads, qs := m.quantityHeads(pct)
	idx := make([]int, len(m.Coroutines))
	for i := range idx {
		idx[i] = i
	}
	key := func(c *report.Coroutine) float64 {
		switch o.Sort {
		case "samples":
			return float64(c.Samples)
		case "resumes":
			return float64(c.Resumes)
		}
		return c.Quantities.Value(pctOf(o.Sort))
	}
	idx = topN(idx, o.Top, func(a, b int) int {
		ca, cb := &m.Coroutines[a], &m.Coroutines[b]
		if o.Sort == "name" {
			return cmp.Or(cmp.Compare(ca.Name, cb.Name), cmp.Compare(ca.ID, cb.ID))
		}
		return cmp.Or(cmp.Compare(key(cb), key(ca)), cmp.Compare(cb.Ticks(), ca.Ticks()), cmp.Compare(ca.ID, cb.ID))
	})
	by := o.Sort
	if by == "calls" {
		by = "ticks" // coroutines count resumes, not calls
	}
	fmt.Fprint(w, title("Coroutines", len(idx), len(m.Coroutines), by))
	t := &textTable{head: append(append([]string{"id", "resumes"}, heads...), "samples", "coroutine")}
	t.left = make([]bool, len(t.head))
	t.left[len(t.head)-1] = true
	for _, i := range idx {
		c := &m.Coroutines[i]
		r := append([]string{fmtInt(c.ID), fmtInt(c.Resumes)}, m.quantityRow(&c.Quantities, qs, pct, false, false)...)
		t.add(append(r, fmtInt(c.Samples), c.Name)...)
	}
	t.dropZero(0, 1, 2)
	t.write(w)
}

func (m model) textFunctions(w io.Writer, o TextOptions, cumulative bool) {
	pct := pctOf(o.Sort)
	heads, qs := m.quantityHeads(pct)
	cost := func(f *report.Function) *report.Cost {
		if cumulative {
			return &f.Cumulative
		}
		return &f.Self
	}
	key := func(f *report.Function) float64 {
		c := cost(f)
		switch o.Sort {
		case "samples":
			return float64(c.Samples)
		case "calls":
			return float64(c.Calls)
		}
		return c.Quantities.Value(pctOf(o.Sort))
	}
	idx := make([]int, len(m.Functions))
	for i := range idx {
		idx[i] = i
	}
	idx = topN(idx, o.Top, func(a, b int) int {
		fa, fb := &m.Functions[a], &m.Functions[b]
		if o.Sort == "name" {
			return cmp.Or(cmp.Compare(fa.Name, fb.Name), cmp.Compare(fa.Kind, fb.Kind))
		}
		return cmp.Or(cmp.Compare(key(fb), key(fa)), cmp.Compare(cost(fb).Ticks(), cost(fa).Ticks()),
			cmp.Compare(fa.Name, fb.Name), cmp.Compare(fa.Kind, fb.Kind))
	})
	what := "Functions, self (Non-Aggregate)"
	if cumulative {
		what = "Functions, cumulative (Aggregate)"
	}
	by := o.Sort
	if by == "resumes" {
		by = "ticks" // functions have calls (regions) or samples, not resumes
	}
	fmt.Fprint(w, title(what, len(idx), len(m.Functions), by))
	if len(m.Functions) == 0 {
		fmt.Fprintln(w, "(no regions and no samples)")
		return
	}
	t := &textTable{head: append(append([]string{"calls", "samples"}, heads...), "kind", "function")}
	t.left = make([]bool, len(t.head))
	t.left[len(t.head)-1], t.left[len(t.head)-2] = true, true
	for _, i := range idx {
		f := &m.Functions[i]
		c := cost(f)
		calls, samples := "", ""
		if f.Counted() {
			calls = fmtInt(c.Calls)
		} else {
			samples = fmtInt(c.Samples)
		}
		var q []string
		if f.Kind == report.KindUnlabelled {
			q = m.unlabelledRow(&c.Quantities, qs, pct)
		} else {
			q = m.quantityRow(&c.Quantities, qs, pct, f.Estimate, false)
		}
		t.add(append(append([]string{calls, samples}, q...), f.Kind, f.Name)...)
	}
	t.dropZero(2)
	t.write(w)
	if slices.ContainsFunc(idx, func(i int) bool { return m.Functions[i].Kind == report.KindSampled }) {
		fmt.Fprintln(w, "≈ sampled: estimated from each coroutine's exact ledger by the function's share of its samples")
	}
	if slices.ContainsFunc(idx, func(i int) bool { return m.Functions[i].Kind == report.KindUnlabelled }) {
		fmt.Fprintln(w, unlabelledNote)
	}
}

// unlabelledNote explains KindUnlabelled rows under a text table.
const unlabelledNote = "≈ unlabelled: samples with no coroutine label, off the loop (GC, Offload workers, the profiler) or the scheduler between coroutines;" +
	" cpu is pprof's sampled estimate, in no ledger and no percentage; no ticks or rusage were measured for them"

// unlabelledRow formats an unlabelled function's cost for quantityHeads' columns: only
// its sampled CPU time, marked as the estimate it is; ticks and rusage were not measured
// for it and stay empty, and no percentage of the loops' totals is given.
func (m model) unlabelledRow(q *report.Quantities, qs []wire.Counter, pct wire.Counter) []string {
	var out []string
	for _, k := range qs {
		cell := ""
		if k == wire.CPU {
			cell = "≈" + fmtSec(q.Value(wire.CPU))
		}
		out = append(out, cell)
		if k == wire.Ticks {
			out = append(out, "")
		}
		if k == pct {
			out = append(out, "")
		}
	}
	return out
}

// textWaitSites lists where coroutines blocked, by ticks parked (the model's order).
func (m model) textWaitSites(w io.Writer, o TextOptions) {
	if len(m.WaitSites) == 0 {
		return
	}
	n := len(m.WaitSites)
	if o.Top > 0 {
		n = min(n, o.Top)
	}
	fmt.Fprint(w, title("Blocking call sites", n, len(m.WaitSites), "ticks parked"))
	t := &textTable{head: []string{"parks", "ticks", "s", "coroutines", "reason", "site"},
		left: []bool{false, false, false, false, true, true}}
	for _, ws := range m.WaitSites[:n] {
		t.add(fmtInt(ws.Count), fmtInt(ws.Ticks), fmtSec(ws.Seconds), strconv.Itoa(ws.Coroutines), ws.Reason, ws.Site)
	}
	t.write(w)
}

// textLongSlices lists the longest run slices with their diagnoses.
func (m model) textLongSlices(w io.Writer, o TextOptions) {
	if len(m.LongSlices) == 0 {
		return
	}
	n := len(m.LongSlices)
	if o.Top > 0 {
		n = min(n, o.Top)
	}
	fmt.Fprint(w, title("Longest slices", n, len(m.LongSlices), "length"))
	t := &textTable{head: []string{"s", "start s", "id", "ended", "diagnosis", "coroutine"},
		left: []bool{false, false, false, true, true, true}}
	for _, ls := range m.LongSlices[:n] {
		t.add(fmtSec(ls.Seconds), fmtSec(ls.Start), fmtInt(ls.Coro), ls.Ended, ls.Diagnosis, ls.Name)
	}
	t.write(w)
}
