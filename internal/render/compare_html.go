package render

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/wire"
	"github.com/coroprof/coroprof/web"
)

// The comparison page reuses the report page's script and style sheet (web's
// report.js draws any table described by the embedded JSON: sortable, filterable,
// "show more"), so it is as self-contained and offline as the report, and needs no
// charts runtime.

var compareTemplate = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>coroprof comparison: {{.C.New.File}} vs {{.C.Old.File}}</title>
<style>{{.Style}}</style>
</head>
<body>
<nav id="nav">
<a href="#header">runs</a>
<a href="#buckets">where the time went</a>
<a href="#coroutines">coroutines</a>
<a href="#self">non-aggregate</a>
<a href="#cumulative">aggregate</a>
</nav>
<section id="header">
<h1>coroprof comparison</h1>
<table class="plain" id="runs">
<thead><tr><th></th><th>file</th><th>program</th><th>host</th><th>clock</th><th>duration s</th><th>ticks</th><th>coroutines</th><th>samples</th></tr></thead>
<tbody>
{{- range .Sides}}
<tr><th>{{.Label}}</th><td>{{.S.File}}</td><td>{{.S.Program}}</td><td>{{.S.Host}}</td><td>{{.S.Clock.Source}} {{.S.Clock.TicksPerSecond}}/s</td><td class="num">{{printf "%.6f" .S.Duration}}</td><td class="num">{{.S.TotalTicks}}</td><td class="num">{{.S.Coroutines}}</td><td class="num">{{.S.Samples}}</td></tr>
{{- end}}
</tbody>
</table>
<p>measured: <span id="measured">{{.Measured}}</span></p>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
<p class="legend">Δ is NEW minus OLD; Δ% is Δ over OLD ("new" where OLD is zero). Coroutines are matched by name
(all coroutines of a name summed on each side), functions by kind and name, so IDs and line numbers may differ between runs.
Rows only in NEW are <em>added</em>, rows only in OLD <em>removed</em>. <span class="est">≈</span>: costs of sampled functions are estimates.</p>
</section>
<section id="buckets" class="tsec"><h2>Where the time went</h2><div class="tablebox" data-table="buckets"></div></section>
<section id="coroutines" class="tsec"><h2>Coroutines by name</h2><div class="tablebox" data-table="coroutines"></div></section>
<section id="self" class="tsec"><h2>Non-Aggregate Timings <small>(self)</small></h2><div class="tablebox" data-table="self"></div></section>
<section id="cumulative" class="tsec"><h2>Aggregate Timings <small>(cumulative)</small></h2><div class="tablebox" data-table="cumulative"></div></section>
<script type="application/json" id="report-data">{{.Data}}</script>
<script>{{.Script}}</script>
</body>
</html>
`))

type compareSide struct {
	Label string
	S     *report.Side
}

type comparePage struct {
	C        *report.Comparison
	Sides    []compareSide
	Measured string
	Notes    []string
	Data     pageJSON
	Script   template.JS
	Style    template.CSS
}

// pct2 rounds a percentage to two decimals for the page (nil: no percentage).
func pct2(delta, old float64) interface{} {
	if old == 0 {
		return nil
	}
	return math.Round(10000*delta/old) / 100
}

// diffCols are, for each measured quantity, NEW, OLD, Δ and Δ% of it (ticks and cpu)
// or just Δ (the rest, to keep the tables readable; -json has every figure).
func (c comparison) diffCols() []column {
	m := c.newM()
	var cols []column
	for q := wire.Ticks; q < wire.NumCounters; q++ {
		if !m.Has(q) {
			continue
		}
		typ, name := "int", wire.CounterNames[q]
		if q.Unit() == wire.UnitNanos {
			typ = "sec"
		}
		if q == wire.Ticks || q == wire.CPU {
			cols = append(cols, column{Key: "new " + name, Label: "new " + name, Type: typ, Est: true},
				column{Key: "old " + name, Label: "old " + name, Type: typ, Est: true})
		}
		label := "Δ " + name
		if q.Estimate() {
			label += " ≈" // always an estimate (splits the exact CPU time)
		}
		cols = append(cols, column{Key: "Δ " + name, Label: label, Type: typ, Est: true})
		if q == wire.Ticks || q == wire.CPU {
			cols = append(cols, column{Key: "Δ% " + name, Label: "Δ% " + name, Type: "int", Title: "Δ over OLD, percent"})
		}
	}
	return cols
}

func (c comparison) diffCells(n, o *report.Quantities, d *report.Delta) []interface{} {
	m := c.newM()
	var cells []interface{}
	for q := wire.Ticks; q < wire.NumCounters; q++ {
		if !m.Has(q) {
			continue
		}
		if q == wire.Ticks || q == wire.CPU {
			cells = append(cells, n.Value(q), o.Value(q))
		}
		cells = append(cells, d.Value(q))
		if q == wire.Ticks || q == wire.CPU {
			cells = append(cells, pct2(d.Value(q), o.Value(q)))
		}
	}
	return cells
}

func (c comparison) bucketTable() *table {
	cols := append([]column{{Key: "bucket", Label: "bucket", Type: "name"}}, c.diffCols()...)
	t := &table{ID: "buckets", Cols: cols, Sort: 0, Name: 0, RowID: "bucket-"}
	for i, b := range []struct {
		name string
		d    *report.QDiff
	}{{"everything but <wait>", &c.Busy}, {FrameMain, &c.Main}, {FrameWait, &c.Wait}, {"total", &c.Total}} {
		r := []interface{}{i, rowBucket, b.name}
		t.Rows = append(t.Rows, append(r, c.diffCells(&b.d.New, &b.d.Old, &b.d.Delta)...))
	}
	return t
}

func (c comparison) coroDiffTable() *table {
	cols := []column{{Key: "name", Label: "coroutine", Type: "name"}, {Key: "status", Label: "status", Type: "str"},
		{Key: "n new", Label: "n new", Type: "int"}, {Key: "n old", Label: "n old", Type: "int"}}
	cols = append(cols, c.diffCols()...)
	cols = append(cols, column{Key: "Δ resumes", Label: "Δ resumes", Type: "int"}, column{Key: "Δ samples", Label: "Δ samples", Type: "int"})
	t := &table{ID: "coroutines", Cols: cols, Sort: 6, Name: 0, RowID: "cd-"}
	for i := range c.Coroutines {
		d := &c.Coroutines[i]
		r := []interface{}{i, 0, d.Name, d.Status, d.New.Count, d.Old.Count}
		r = append(r, c.diffCells(&d.New.Quantities, &d.Old.Quantities, &d.Delta)...)
		t.Rows = append(t.Rows, append(r, d.DeltaResumes, d.DeltaSamples))
	}
	t.dropZero()
	return t
}

func (c comparison) funcDiffTable(id string, cumulative bool) *table {
	cols := []column{{Key: "name", Label: "function", Type: "name"}, {Key: "kind", Label: "kind", Type: "str"},
		{Key: "status", Label: "status", Type: "str"}, {Key: "Δ calls", Label: "Δ calls", Type: "int"},
		{Key: "Δ samples", Label: "Δ samples", Type: "int"}}
	cols = append(cols, c.diffCols()...)
	t := &table{ID: id, Cols: cols, Sort: 7, Name: 0, RowID: id + "-"}
	for i := range c.Functions {
		f := &c.Functions[i]
		p := &f.Self
		if cumulative {
			p = &f.Cumulative
		}
		flags := 0
		if f.Estimate {
			flags |= rowEstimate
		}
		var calls, samples interface{} = p.DeltaCalls, p.DeltaSamples
		if f.Counted() {
			samples = nil
		} else {
			calls = nil
		}
		r := []interface{}{i, flags, f.Name, f.Kind, f.Status, calls, samples}
		t.Rows = append(t.Rows, append(r, c.diffCells(&p.New.Quantities, &p.Old.Quantities, &p.Delta)...))
	}
	t.dropZero()
	return t
}

// writeCompareHTML writes the comparison as one self-contained page.
func writeCompareHTML(w io.Writer, rc *report.Comparison) error {
	c := comparison{rc}
	script, err := web.Static("report.js")
	if err != nil {
		return err
	}
	style, err := web.Static("report.css")
	if err != nil {
		return err
	}
	d := comparePage{
		C:        rc,
		Sides:    []compareSide{{"NEW", &c.New}, {"OLD", &c.Old}},
		Measured: strings.Join(c.Measured, ", "),
		// The page's own script and style, embedded at compile time: trusted text.
		Script: template.JS(script),
		Style:  template.CSS(style),
		Data: pageJSON{
			TicksPerSecond: c.New.Clock.TicksPerSecond,
			Tables: []*table{c.bucketTable(), c.coroDiffTable(), c.funcDiffTable("self", false),
				c.funcDiffTable("cumulative", true)},
			Charts: map[string]map[string]interface{}{},
			Flames: []flameSet{},
		},
	}
	for _, s := range d.Sides {
		for _, n := range s.S.Notes {
			d.Notes = append(d.Notes, fmt.Sprintf("%s (%s): %s", s.Label, s.S.File, n))
		}
	}
	if err := compareTemplate.Execute(w, d); err != nil {
		return fmt.Errorf("writing the comparison page: %w", err)
	}
	return nil
}
