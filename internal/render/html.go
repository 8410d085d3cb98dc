package render

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/web"
)

// HTMLOptions tunes the page.
type HTMLOptions struct {
	// Echarts is the echarts runtime to inline; empty means web.Echarts() (the
	// committed runtime embedded at build time, web/third_party/echarts).
	Echarts string
	// CallGraphMax caps the call-graph entries (functions by cumulative ticks); 0: 300.
	CallGraphMax int
	// FlameCoroutines caps the coroutines with a flame graph of their own; 0: 30.
	FlameCoroutines int
}

// column describes one table column to the page's script.
type column struct {
	Key   string  `json:"k"`
	Label string  `json:"l"`
	Type  string  `json:"t"`             // "int", "sec" (seconds), "str", "name"
	Total float64 `json:"tot,omitempty"` // percentages of this total (excluding <wait>)
	Title string  `json:"title,omitempty"`
	Est   bool    `json:"est,omitempty"` // an estimate in rows flagged as estimates
}

// Row flags, the second cell of every table row.
const (
	rowEstimate = 1 << iota // the row's costs are estimates
	rowNoPct                // no percentages (the <wait> row: percentages exclude it)
	rowInGraph              // the row has a call-graph entry
	rowBucket               // <main> or <wait>
)

// table is one sortable table; every row is [key, flags, cells...] where key names
// the row's anchor (function index or coroutine id; -1 for none).
type table struct {
	ID    string          `json:"id"`
	Cols  []column        `json:"cols"`
	Rows  [][]interface{} `json:"rows"`
	Sort  int             `json:"sort"` // column sorted by first, descending
	Name  int             `json:"name"` // the column the filter box searches
	RowID string          `json:"rowid"`
	Link  string          `json:"link,omitempty"` // name cells link to #<Link><key>
}

// dropZero removes columns that are zero (or empty) in every row, and keeps Sort and
// Name pointing at the same columns.
func (t *table) dropZero() {
	keep := make([]bool, len(t.Cols))
	for i, c := range t.Cols {
		if c.Type == "name" || c.Type == "str" && i == t.Sort {
			keep[i] = true
			continue
		}
		for _, r := range t.Rows {
			if !isZero(r[2+i]) {
				keep[i] = true
				break
			}
		}
	}
	var cols []column
	idx := make([]int, len(t.Cols))
	for i, c := range t.Cols {
		idx[i] = -1
		if keep[i] {
			idx[i] = len(cols)
			cols = append(cols, c)
		}
	}
	for ri, r := range t.Rows {
		out := r[:2]
		for i := range t.Cols {
			if keep[i] {
				out = append(out, r[2+i])
			}
		}
		t.Rows[ri] = out
	}
	t.Cols = cols
	t.Sort, t.Name = max(idx[t.Sort], 0), max(idx[t.Name], 0)
}

func isZero(v interface{}) bool {
	switch x := v.(type) {
	case nil:
		return true
	case uint64:
		return x == 0
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	case string:
		return x == ""
	}
	return false
}

// counterTitles explain the counters' columns; a count without one is a getrusage count.
var counterTitles = map[wire.Counter]string{
	wire.Ticks: "TSC ticks (exact for coroutines, regions, <main> and <wait>; ≈ estimates for sampled functions)",
	wire.CPU:   "thread CPU clock, seconds (exact for coroutines, regions, <main> and <wait>; ≈ estimates for sampled functions, pprof's sampled CPU for unlabelled ones)",
	wire.Utime: "user time, seconds: an estimate that splits the exact CPU time in getrusage's ratio",
	wire.Stime: "system time, seconds: an estimate that splits the exact CPU time in getrusage's ratio",
}

const rusageTitle = "getrusage(RUSAGE_THREAD) count (exact for coroutines, regions, <main> and <wait>; ≈ estimates for sampled functions)"

// quantityCol is one measured quantity column and how a row's cell of it is made.
type quantityCol struct {
	column
	cell func(q report.Quantities, calls uint64) interface{}
}

// quantityColumns are the measured quantity columns, one or more per measured counter
// in counter order (Shrapnel's order: cpu beside ticks, seconds beside ticks); perCall
// adds the /call columns of function tables (ticks and the estimated times). Each
// column carries its cell, so columns and cells cannot disagree.
func (m model) quantityColumns(perCall bool) quantityTable {
	busy := m.Busy.Vec()
	var cols quantityTable
	add := func(c column, cell func(q report.Quantities, calls uint64) interface{}) {
		cols = append(cols, quantityCol{c, cell})
	}
	for c := range wire.NumCounters {
		if !m.Has(c) {
			continue
		}
		name := wire.CounterNames[c]
		switch c.Unit() {
		case wire.UnitTicks:
			add(column{Key: name, Label: name, Type: "int", Total: busy[c], Est: true, Title: counterTitles[c]},
				func(q report.Quantities, _ uint64) interface{} { return q.Count(c) })
			add(column{Key: "secs", Label: "seconds", Type: "sec", Title: "ticks in seconds at the profile's clock rate", Est: true},
				func(q report.Quantities, _ uint64) interface{} { return m.Seconds(float64(q.Count(c))) })
			if perCall {
				add(column{Key: name + "/call", Label: name + "/call", Type: "int", Title: "counted calls only (regions)"},
					func(q report.Quantities, calls uint64) interface{} {
						if calls == 0 {
							return nil
						}
						return uint64(math.Round(float64(q.Count(c)) / float64(calls)))
					})
			}
		case wire.UnitNanos:
			label := name
			if c.Estimate() {
				label += " ≈"
			}
			add(column{Key: name, Label: label, Type: "sec", Total: busy[c] / 1e9, Est: true, Title: counterTitles[c]},
				func(q report.Quantities, _ uint64) interface{} { return q[c] })
			if perCall && c.Estimate() {
				add(column{Key: name + "/call", Label: name + "/call ≈", Type: "sec", Est: true,
					Title: name + " over counted calls (regions): an estimate, as " + name + " is"},
					func(q report.Quantities, calls uint64) interface{} {
						if calls == 0 {
							return nil
						}
						return q[c] / float64(calls)
					})
			}
		default:
			title := counterTitles[c]
			if title == "" {
				title = rusageTitle
			}
			add(column{Key: name, Label: name, Type: "int", Total: busy[c], Est: true, Title: title},
				func(q report.Quantities, _ uint64) interface{} { return q.Count(c) })
		}
	}
	return cols
}

// quantityTable is a table's quantity columns; a table makes them once and each row's
// cells from them.
type quantityTable []quantityCol

func (qc quantityTable) columns() []column {
	cols := make([]column, len(qc))
	for i := range qc {
		cols[i] = qc[i].column
	}
	return cols
}

// cells are q's cells under qc; calls 0 leaves the /call cells empty.
func (qc quantityTable) cells(q report.Quantities, calls uint64) []interface{} {
	cells := make([]interface{}, len(qc))
	for i := range qc {
		cells[i] = qc[i].cell(q, calls)
	}
	return cells
}

// quantityCols are the columns of quantityColumns.
func (m model) quantityCols(perCall bool) []column { return m.quantityColumns(perCall).columns() }

// quantityCells matches quantityCols; calls 0 leaves the /call cells empty.
func (m model) quantityCells(q report.Quantities, calls uint64, perCall bool) []interface{} {
	return m.quantityColumns(perCall).cells(q, calls)
}

// unlabelledCells matches quantityCols(true) for an unlabelled function: its sampled
// CPU time, every other cell empty.
func (m model) unlabelledCells(q report.Quantities) []interface{} {
	cols := m.quantityCols(true)
	cells := make([]interface{}, len(cols))
	for i, c := range cols {
		if c.Key == "cpu" {
			cells[i] = q.Value(wire.CPU)
		}
	}
	return cells
}

func (m model) coroutineTable() *table {
	cols := []column{{Key: "id", Label: "id", Type: "int"}, {Key: "name", Label: "coroutine", Type: "name"},
		{Key: "state", Label: "state", Type: "str"}, {Key: "resumes", Label: "resumes", Type: "int"}}
	loops := len(m.Loops) > 1
	if loops { // which loop (thread) ran it
		cols = append(cols[:2], append([]column{{Key: "loop", Label: "loop", Type: "int"}}, cols[2:]...)...)
	}
	qc := m.quantityColumns(false)
	cols = append(cols, qc.columns()...)
	cols = append(cols,
		column{Key: "samples", Label: "samples", Type: "int", Total: float64(m.TotalSamples)},
		column{Key: "runnable", Label: "runnable s", Type: "sec", Title: "time runnable but not running"},
		column{Key: "longest", Label: "longest slice s", Type: "sec"},
		column{Key: "waits", Label: "waits (count, seconds)", Type: "str", Title: "time parked, by reason"})
	t := &table{ID: "coroutines", Cols: cols, Sort: 4, Name: 1, RowID: "co-"} // Sort: ticks
	if loops {
		t.Sort++
	}
	t.Rows = make([][]interface{}, len(m.Coroutines))
	for i := range m.Coroutines {
		c := &m.Coroutines[i]
		state := "live"
		switch {
		case c.Panicked:
			state = "panicked"
		case c.Exited:
			state = "exited"
		}
		var waits []string
		for _, w := range c.Waits {
			waits = append(waits, fmt.Sprintf("%s %d× %.6f", w.Reason, w.Count, w.Secs))
		}
		r := make([]interface{}, 0, 2+len(cols))
		r = append(r, c.ID, 0, c.ID, c.Name)
		if loops {
			r = append(r, c.Loop)
		}
		r = append(r, state, c.Resumes)
		r = append(r, qc.cells(c.Quantities, 0)...)
		r = append(r, c.Samples, m.Seconds(float64(c.RunnableTicks)), m.Seconds(float64(c.LongestSlice)), strings.Join(waits, ", "))
		t.Rows[i] = r
	}
	t.dropZero()
	return t
}

// waitTable lists where coroutines blocked, by reason and call site.
func (m model) waitTable() *table {
	cols := []column{{Key: "reason", Label: "reason", Type: "str"}, {Key: "count", Label: "parks", Type: "int"},
		{Key: "ticks", Label: "ticks parked", Type: "int"}, {Key: "secs", Label: "seconds", Type: "sec"},
		{Key: "coroutines", Label: "coroutines", Type: "int"}, {Key: "site", Label: "call site", Type: "name"}}
	t := &table{ID: "waits", Cols: cols, Sort: 2, Name: 5, RowID: "ws-"}
	for i, w := range m.WaitSites {
		t.Rows = append(t.Rows, []interface{}{i, 0, w.Reason, w.Count, w.Ticks, w.Seconds, w.Coroutines, w.Site})
	}
	return t
}

// functionTable is the Non-Aggregate (self) or Aggregate (cumulative) table, with
// <main> and <wait> as rows the way Shrapnel shows them.
func (m model) functionTable(id string, cumulative bool, inGraph []bool) *table {
	// The name comes first (Shrapnel put it last: off screen in a table this wide).
	cols := []column{
		{Key: "name", Label: "function", Type: "name"},
		{Key: "kind", Label: "kind", Type: "str", Title: "region: counted exactly; sampled: estimated from a coroutine's CPU samples; " +
			"unlabelled: CPU samples outside any coroutine (off the loop, or the scheduler), with pprof's CPU only; bucket: <main> or <wait>"},
		{Key: "calls", Label: "calls", Type: "int", Title: "calls counted exactly (regions)"},
		{Key: "samples", Label: "samples", Type: "int", Total: float64(m.TotalSamples), Title: "CPU samples, counted exactly (sampled and unlabelled functions)"},
	}
	qc := m.quantityColumns(true)
	cols = append(cols, qc.columns()...)
	t := &table{ID: id, Cols: cols, Sort: 4, Name: 0, RowID: id + "-", Link: "cg-"}
	bucket := func(name string, q report.Quantities, flags int) {
		r := []interface{}{-1, flags | rowBucket, name, "bucket", nil, nil}
		t.Rows = append(t.Rows, append(r, qc.cells(q, 0)...))
	}
	bucket(FrameWait, m.Wait, rowNoPct)
	bucket(FrameMain, m.Main, 0)
	for i := range m.Functions {
		f := &m.Functions[i]
		c := f.Self
		if cumulative {
			c = f.Cumulative
		} else if !inSelfTable(f) {
			continue
		}
		flags := 0
		if f.Estimate {
			flags |= rowEstimate
		}
		if inGraph[i] {
			flags |= rowInGraph
		}
		var calls, samples interface{}
		if f.Counted() {
			calls = c.Calls
		} else {
			samples = c.Samples
		}
		r := []interface{}{i, flags, f.Name, f.Kind, calls, samples}
		cells := qc.cells(c.Quantities, c.Calls)
		if f.Kind == report.KindUnlabelled {
			// Only pprof's CPU time is known for these samples, and it is part of no
			// ledger: no other figure, and no percentage of the loops' totals.
			r[1] = flags | rowNoPct
			cells = m.unlabelledCells(c.Quantities)
		}
		t.Rows = append(t.Rows, append(r, cells...))
	}
	t.dropZero()
	return t
}

// inSelfTable says whether f has a row in the Non-Aggregate table: a function with
// no self samples and no calls (only ever on the stack above sampled code) has no
// self cost to show, and half the rows of a sampled profile would be such zeros. It
// keeps its row in the Aggregate table, and the JSON output keeps every function.
func inSelfTable(f *report.Function) bool { return f.Self.Calls != 0 || f.Self.Samples != 0 }

// cgEdgesMax caps the callers (and callees) listed per call-graph entry; the rest are
// summed on one line, so a function called from thousands of places stays readable
// and the page stays small.
const cgEdgesMax = 20

// cgEntry is one function of the call graph, rendered by html/template.
type cgEntry struct {
	Index   int
	Back    string // the table the name links back to: "self", or "cumulative" for a function not in it
	Name    string
	Kind    string
	Unit    string // "calls" or "samples"
	Est     bool
	Summary string
	Total   uint64 // Σ of the function's callers' counts (or its own count)
	Callers []cgEdge
	Callees []cgEdge
}

type cgEdge struct {
	Index  int // -1: no entry to link to
	Name   string
	Count  uint64
	Of     uint64
	Share  string
	Linked bool
}

func (m model) callGraph(limit int) ([]cgEntry, []bool, int) {
	order := make([]int, len(m.Functions))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return m.Functions[order[a]].Cumulative.Ticks() > m.Functions[order[b]].Cumulative.Ticks()
	})
	omitted := 0
	if len(order) > limit {
		omitted = len(order) - limit
		order = order[:limit]
	}
	in := make([]bool, len(m.Functions))
	for _, i := range order {
		in[i] = true
	}
	sort.Ints(order) // the model's order: by self ticks
	entries := make([]cgEntry, 0, len(order))
	for _, i := range order {
		f := &m.Functions[i]
		e := cgEntry{Index: i, Back: "self", Name: f.Name, Kind: f.Kind, Est: f.Estimate, Unit: "samples", Total: f.Cumulative.Samples,
			Callers: cgEdges(f.Callers, in), Callees: cgEdges(f.Callees, in), Summary: m.cgSummary(f)}
		if !inSelfTable(f) {
			e.Back = "cumulative"
		}
		if f.Counted() {
			e.Unit, e.Total = "calls", f.Cumulative.Calls
		}
		entries = append(entries, e)
	}
	return entries, in, omitted
}

// cgEdges lists a function's callers or callees: the cgEdgesMax largest, linked
// when their function has an entry (in), and the rest summed on one line.
func cgEdges(es []report.Edge, in []bool) []cgEdge {
	var sum uint64
	for _, e := range es {
		sum += e.Count
	}
	n := min(len(es), cgEdgesMax)
	out := make([]cgEdge, n, n+1)
	for i, e := range es[:n] {
		out[i] = cgEdge{Index: e.Function, Name: e.Name, Count: e.Count, Of: sum,
			Share: fmt.Sprintf("%.1f%%", 100*e.Share), Linked: e.Function >= 0 && in[e.Function]}
	}
	if rest := es[n:]; len(rest) > 0 {
		var c uint64
		for _, e := range rest {
			c += e.Count
		}
		out = append(out, cgEdge{Index: -1, Name: fmt.Sprintf("… %d more, each smaller", len(rest)), Count: c, Of: sum,
			Share: fmt.Sprintf("%.1f%%", 100*float64(c)/float64(max(sum, 1)))})
	}
	return out
}

// cgSummary is the line under a call-graph entry's name: its self and cumulative
// figures, ≈ where they are estimates.
func (m model) cgSummary(f *report.Function) string {
	if f.Kind == report.KindUnlabelled {
		if m.Has(wire.CPU) {
			return fmt.Sprintf("self cpu≈%.6f cumulative cpu≈%.6f (pprof's sampled CPU, outside any coroutine: no ticks or rusage measured)",
				f.Self.Value(wire.CPU), f.Cumulative.Value(wire.CPU))
		}
		return "outside any coroutine: no ticks or rusage measured"
	}
	approx := ""
	if f.Estimate {
		approx = "≈"
	}
	s := []string{fmt.Sprintf("self ticks=%s%d cumulative ticks=%s%d", approx, f.Self.Ticks(), approx, f.Cumulative.Ticks())}
	if m.Has(wire.CPU) {
		s = append(s, fmt.Sprintf("cpu=%s%.6f", approx, f.Cumulative.Value(wire.CPU)))
	}
	if m.Has(wire.Utime) {
		s = append(s, fmt.Sprintf("utime≈%.6f stime≈%.6f", f.Cumulative.Value(wire.Utime), f.Cumulative.Value(wire.Stime)))
	}
	return strings.Join(s, " ")
}

// flameSet is one choice of the flame graph's selector.
type flameSet struct {
	Label string            `json:"label"`
	Tree  *report.FlameNode `json:"tree"`
}

func (m model) flames(n int) []flameSet {
	if m.Flame == nil {
		return nil
	}
	label := fmt.Sprintf("all coroutines (%d samples)", m.Flame.Value)
	if m.UnlabelledSamples > 0 {
		label = fmt.Sprintf("all samples (%d; %d unlabelled, under %s)", m.Flame.Value, m.UnlabelledSamples, report.UnlabelledFrame)
	}
	out := []flameSet{{Label: label, Tree: m.Flame}}
	ids := make([]int, 0, len(m.Coroutines))
	for i := range m.Coroutines {
		if m.Coroutines[i].Samples > 0 {
			ids = append(ids, i)
		}
	}
	sort.SliceStable(ids, func(a, b int) bool { return m.Coroutines[ids[a]].Samples > m.Coroutines[ids[b]].Samples })
	if len(ids) > n {
		ids = ids[:n]
	}
	coros := make([]uint64, len(ids))
	for n, i := range ids {
		coros[n] = m.Coroutines[i].ID
	}
	trees := m.FlamesOf(coros)
	for _, i := range ids {
		c := &m.Coroutines[i]
		if t := trees[c.ID]; t != nil {
			t.Name = coroLabel(c.Name, c.ID)
			out = append(out, flameSet{Label: fmt.Sprintf("%s (%d samples)", coroLabel(c.Name, c.ID), c.Samples), Tree: t})
		}
	}
	return out
}

// pageData is everything the template and the page's script need.
type pageData struct {
	M          *report.Model
	Cmdline    string
	Clock      string
	Measured   string
	Charged    string // what the intro says was charged: only what was measured
	HasCPU     bool
	HasRusage  bool
	Process    string // "pid N", or how many profiles a merged page sums
	Closure    string
	ClosureOK  bool
	EstClosure string // utime/stime closure, "" when not measured
	Duration   string
	Samples    string
	Graph      []cgEntry
	Omitted    int
	Long       []report.LongSlice
	Data       pageJSON
	Echarts    template.JS
	Script     template.JS
	Style      template.CSS
}

// pageJSON is embedded as JSON (escaped by html/template) for the page's script.
type pageJSON struct {
	TicksPerSecond uint64                            `json:"tps"`
	Tables         []*table                          `json:"tables"`
	Charts         map[string]map[string]interface{} `json:"charts"`
	Flames         []flameSet                        `json:"flames"`
}

// writeHTML writes the self-contained HTML report of m to w.
func writeHTML(w io.Writer, rm *report.Model, o HTMLOptions) error {
	m := model{rm}
	if o.CallGraphMax <= 0 {
		o.CallGraphMax = 300
	}
	if o.FlameCoroutines <= 0 {
		o.FlameCoroutines = 30
	}
	a, err := loadAssets(o.Echarts)
	if err != nil {
		return err
	}
	graph, inGraph, omitted := m.callGraph(o.CallGraphMax)
	d := m.header()
	d.M, d.Graph, d.Omitted, d.Long = rm, graph, omitted, m.LongSlices
	// These three are this repository's own code and the pinned echarts build,
	// embedded at compile time: trusted text, never user data.
	d.Echarts, d.Script, d.Style = template.JS(a.echarts), template.JS(a.script), template.CSS(a.style)
	d.Data = m.pageJSON(inGraph, o.FlameCoroutines)
	return a.page.ExecuteTemplate(w, "report.html", d)
}

// assets are the page's template and the code and style it inlines.
type assets struct {
	page                   *template.Template
	echarts, script, style string
}

// loadAssets reads the embedded assets; echarts, if not empty, replaces the echarts
// runtime embedded at build time (web.Echarts, which fails when `make assets` was
// not run).
func loadAssets(echarts string) (assets, error) {
	a := assets{echarts: echarts}
	var err error
	if a.echarts == "" {
		if a.echarts, err = web.Echarts(); err != nil {
			return a, err
		}
	}
	if a.script, err = web.Static("report.js"); err != nil {
		return a, err
	}
	if a.style, err = web.Static("report.css"); err != nil {
		return a, err
	}
	a.page, err = web.Templates(template.FuncMap{
		"seconds":       func(f float64) string { return fmt.Sprintf("%.6f", f) },
		"counterLabels": counterLabels,
		"counterCells":  counterCells,
	})
	return a, err
}

// header is the page's header: the run, its clock, what was measured, the closure.
func (m model) header() pageData {
	d := pageData{
		Cmdline: strings.Join(append([]string{m.Meta.Program}, m.Meta.Args...), " "),
		Clock: fmt.Sprintf("%s at %d ticks/s (%s)", m.Clock.Source, m.Clock.TicksPerSecond,
			map[bool]string{true: "invariant", false: "not invariant: ticks may not track time"}[m.Clock.Invariant]),
		Measured: strings.Join(m.Measured, ", "),
		Duration: fmt.Sprintf("%.6f s wall, %d ticks (%.6f s)", m.Meta.Duration, m.TotalTicks, m.Seconds(float64(m.TotalTicks))),
	}
	d.Closure, d.ClosureOK = m.closureText()
	d.Charged, d.HasCPU, d.HasRusage, d.Process = m.chargedText(), m.Has(wire.CPU), m.Has(wire.Utime), m.processText()
	d.EstClosure = m.estimateClosureText()
	d.Samples = "off"
	if m.HasSamples() {
		d.Samples = m.samplesText()
	}
	return d
}

// pageJSON is the data the page's script draws: the tables, the charts and the flame
// graphs (of all samples and of the flames coroutines with the most samples).
func (m model) pageJSON(inGraph []bool, flames int) pageJSON {
	// The parts only read the model: make them on both cores.
	d := pageJSON{TicksPerSecond: m.Clock.TicksPerSecond, Tables: make([]*table, 4)}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.Tables[0] = m.coroutineTable()
	}()
	go func() {
		defer wg.Done()
		d.Flames = m.flames(flames)
	}()
	d.Tables[1] = m.functionTable("self", false, inGraph)
	d.Tables[2] = m.functionTable("cumulative", true, inGraph)
	d.Tables[3] = m.waitTable()
	d.Charts = map[string]map[string]interface{}{"where": m.whereChart(), "top": m.topChart()}
	wg.Wait()
	// Only after Wait: append may move Tables while the goroutine above writes Tables[0].
	if len(m.Loops) > 1 {
		d.Tables = append(d.Tables, m.loopTable())
	}
	if len(m.Slices) > 0 {
		d.Charts["timeline"] = m.timelineChart()
	}
	return d
}

// chargedText names what the profile measured, for the intro ("every tick, CPU
// nanosecond and rusage event"): a ticks-only page must not talk about CPU time.
func (m model) chargedText() string {
	parts := []string{"tick"}
	if m.Has(wire.CPU) {
		parts = append(parts, "CPU nanosecond")
	}
	if m.Has(wire.Utime) {
		parts = append(parts, "rusage event")
	}
	switch len(parts) {
	case 1:
		return parts[0]
	case 2:
		return parts[0] + " and " + parts[1]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// processText is the header's process: a merged profile has no single pid
// (profops.Merge leaves it 0 and lists each input's pid in its first note).
func (m model) processText() string {
	switch {
	case m.Meta.Merged > 0:
		return fmt.Sprintf("merged %d profiles, pids in the note below", m.Meta.Merged)
	case m.Meta.PID != 0:
		return fmt.Sprintf("pid %d", m.Meta.PID)
	}
	return "pid not recorded"
}

// closureText summarises conservation over the exact quantities (ticks, cpu, the
// rusage counters): the worst relative closure error, and whether it is small enough
// to trust the books. utime and stime are left to estimateClosureText: they split each
// bucket's exact CPU time in getrusage's ratio, so their sum cannot close by
// construction, and an error there says nothing about the accounting.
func (m model) closureText() (string, bool) {
	if m.WorstClosure < 0 {
		return "not checked (no loop totals)", false
	}
	c := m.Closure[m.WorstClosure]
	if c.Diff == 0 {
		n := 0
		for _, c := range m.Closure {
			if !c.Estimate {
				n++
			}
		}
		loops := "loops"
		if len(m.Loops) == 1 {
			loops = "loop"
		}
		return fmt.Sprintf("0: every exact quantity closes exactly (%d checks over %d %s)", n, len(m.Loops), loops), true
	}
	return fmt.Sprintf("worst %.4f%%: %s on loop %d, Σ coroutines + <main> + <wait> = %d vs total %d (diff %+d)",
		100*c.Relative, c.Quantity, c.Loop, c.Sum, c.Total, c.Diff), c.Relative < 1e-3
}

// estimateClosureText reports how far the utime/stime estimates are from their loop
// totals ("" when rusage was not measured), marked as the estimates they are.
func (m model) estimateClosureText() string {
	if m.WorstEstimateClosure < 0 {
		return ""
	}
	c := m.Closure[m.WorstEstimateClosure]
	if c.Diff == 0 {
		return "≈ estimates (utime, stime): close exactly"
	}
	return fmt.Sprintf("≈ estimates, not expected to close (each bucket's exact cpu split in getrusage's ratio): worst %.4f%%: %s on loop %d, diff %+d ns",
		100*c.Relative, c.Quantity, c.Loop, c.Diff)
}

// samplesText describes the CPU samples, and how many of them had no coroutine label.
func (m model) samplesText() string {
	t := fmt.Sprintf("%d samples at %d Hz", m.TotalSamples, m.Meta.SampleRate)
	if m.UnlabelledSamples > 0 {
		t += fmt.Sprintf("; %d unlabelled (no coroutine: off the loop, or the scheduler between coroutines)", m.UnlabelledSamples)
		if m.Has(wire.CPU) {
			t += fmt.Sprintf(", ≈%.6f s cpu by pprof", m.UnlabelledCPU)
		}
	}
	return t
}

// counterLabels heads a table with every counter: its name, "≈" after an estimate.
func counterLabels() []string {
	var l []string
	for c := range wire.NumCounters {
		if c.Estimate() {
			l = append(l, wire.CounterNames[c]+" ≈")
		} else {
			l = append(l, wire.CounterNames[c])
		}
	}
	return l
}

// counterCells are q's cells under counterLabels: times in seconds to the
// nanosecond, ticks and counts as integers.
func counterCells(q report.Quantities) []string {
	var cells []string
	for c := range wire.NumCounters {
		if c.Unit() == wire.UnitNanos {
			cells = append(cells, fmt.Sprintf("%.6f", q[c]))
		} else {
			cells = append(cells, strconv.FormatUint(q.Count(c), 10))
		}
	}
	return cells
}
