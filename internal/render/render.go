// Package render writes the views of the report model (package report): the
// self-contained HTML page, aligned text, JSON and pprof, of one model or of a
// comparison of two. Write is the one door, a table of formats, as google/pprof's
// internal/report.Generate switches on its output format; the model is built once
// and every format only reads it.
//
// # Views
//
// The HTML page is rendered from web's embedded templates. Tables are drawn by the
// page's script from embedded JSON: sortable on every column, filterable, all-zero
// columns dropped, and above 1000 rows virtual (every row reachable by scrolling,
// only those near the viewport in the DOM), so 100k coroutines stay responsive. The
// header, the call graph (300 functions by cumulative ticks, 20 callers and callees
// each) and the longest slices are rendered by html/template; the charts are
// go-echarts options drawn by the embedded echarts runtime; the flame graph is a
// small div renderer of its own, over trees pruned below 1/5000 of their root. Every
// user string reaches the page escaped: by html/template, or as JSON whose <, > and &
// are \u-escaped and which the script only ever assigns to textContent.
//
// Text is for a terminal (-text, ranked by -sort, cut by -top); JSON is the whole
// model (docs/JSON.md); pprof spreads each coroutine's exact ledger over its CPU
// samples (pprof.go says how), and needs no model: PprofProfile converts a profile.
package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
)

// Input is what a view renders: one model (of a profile, or of a merge), or a
// comparison of two. For pprof, a profile alone will do: it needs no model.
type Input struct {
	Model      *report.Model
	Comparison *report.Comparison
	Profile    *format.Profile // the pprof view's input when Model is nil
}

// Options tunes the views; each reads its own.
type Options struct {
	HTML HTMLOptions
	Text TextOptions
}

// The formats Write knows.
const (
	HTML  = "html"
	JSON  = "json"
	Text  = "text"
	Pprof = "pprof" // gzipped protocol buffer, for go tool pprof
)

// view is one format's writers: of a model, and of a comparison.
type view struct {
	name       string
	model      func(w io.Writer, m *report.Model, o Options) error
	comparison func(w io.Writer, c *report.Comparison, o Options) error
}

// formats is the output switch.
var formats = []view{
	{HTML, func(w io.Writer, m *report.Model, o Options) error { return writeHTML(w, m, o.HTML) },
		func(w io.Writer, c *report.Comparison, _ Options) error { return writeCompareHTML(w, c) }},
	{JSON, func(w io.Writer, m *report.Model, _ Options) error { return writeJSON(w, m) },
		func(w io.Writer, c *report.Comparison, _ Options) error { return writeCompareJSON(w, c) }},
	{Text, func(w io.Writer, m *report.Model, o Options) error { return writeText(w, m, o.Text) },
		func(w io.Writer, c *report.Comparison, o Options) error { return writeCompareText(w, c, o.Text) }},
	{Pprof, func(w io.Writer, m *report.Model, _ Options) error { return writePprof(w, m.Profile()) },
		func(w io.Writer, c *report.Comparison, _ Options) error { return writeComparePprof(w, c) }},
}

// Formats lists the formats Write knows.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// Write renders in as the format named to w.
func Write(w io.Writer, name string, in Input, o Options) error {
	i := slices.IndexFunc(formats, func(f view) bool { return f.name == name })
	if i < 0 {
		return fmt.Errorf("no output format %q (one of %s)", name, strings.Join(Formats(), ", "))
	}
	f := formats[i]
	switch {
	case in.Comparison != nil:
		return f.comparison(w, in.Comparison, o)
	case in.Model != nil:
		return f.model(w, in.Model, o)
	case in.Profile != nil && name == Pprof:
		return writePprof(w, in.Profile)
	}
	return fmt.Errorf("rendering %s: nothing to render", name)
}

// model and comparison carry the renderers' methods on the report's types.
type model struct{ *report.Model }

type comparison struct{ *report.Comparison }

// newM is the model of NEW, whose measured quantities the comparison's columns follow.
func (c comparison) newM() model {
	n, _ := c.Models()
	return model{n}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
