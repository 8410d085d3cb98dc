package render

import (
	"fmt"
	"io"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/wire"
)

// The per-loop views of a profile that recorded several event loops (profiler.Loops):
// each loop's buckets (its coroutines, <main>, <wait>) beside the sum over all loops,
// in the HTML page's "Event loops" table and the text view's "Per loop" table. Each
// loop is its own thread, so its figures close on their own (Closure has one check
// per loop and quantity); the totals elsewhere in the report are the loops' sums.

// loopCoroutines sums the coroutines of each loop, by loop ID.
func (m model) loopCoroutines() map[int64]*loopSum {
	sums := make(map[int64]*loopSum, len(m.Loops))
	for _, l := range m.Loops {
		sums[l.ID] = &loopSum{}
	}
	for i := range m.Coroutines {
		c := &m.Coroutines[i]
		if s := sums[c.Loop]; s != nil {
			s.n++
			s.v.Add(c.Quantities.Vec())
		}
	}
	return sums
}

type loopSum struct {
	n int
	v report.Vec
}

// loopTable is the HTML table of the loops, with a last row for all of them together.
func (m model) loopTable() *table {
	cols := []column{
		{Key: "loop", Label: "loop", Type: "name"},
		{Key: "coroutines", Label: "coroutines", Type: "int"},
		{Key: "elapsed", Label: "elapsed s", Type: "sec", Title: "the loop thread's ticks from its first stamp to its last"},
		{Key: "run", Label: "coroutines s", Type: "sec", Title: "ticks charged to the loop's coroutines"},
		{Key: "main", Label: "<main> s", Type: "sec", Title: "the scheduler's own work"},
		{Key: "wait", Label: "<wait> s", Type: "sec", Title: "blocked in epoll_wait"},
		{Key: "busy", Label: "busy %", Type: "str", Title: "(coroutines + <main>) / elapsed"},
	}
	if m.Has(wire.CPU) {
		cols = append(cols,
			column{Key: "cpu", Label: "cpu", Type: "sec", Title: "the loop thread's CPU clock, seconds"},
			column{Key: "cpu-run", Label: "coroutines cpu", Type: "sec"},
			column{Key: "cpu-main", Label: "<main> cpu", Type: "sec"})
	}
	if m.Has(wire.Utime) {
		cols = append(cols,
			column{Key: "nvcsw", Label: "nvcsw", Type: "int"},
			column{Key: "nivcsw", Label: "nivcsw", Type: "int"})
	}
	t := &table{ID: "loops", Cols: cols, Sort: 2, Name: 0, RowID: "lp-"}
	sums := m.loopCoroutines()
	row := func(key int64, name string, n int, total, main, wait, run report.Quantities) []interface{} {
		busy := "–"
		if total.Ticks() > 0 {
			busy = fmt.Sprintf("%.1f", 100*float64(total.Ticks()-min(wait.Ticks(), total.Ticks()))/float64(total.Ticks()))
		}
		r := []interface{}{key, rowNoPct, name, n,
			m.Seconds(float64(total.Ticks())), m.Seconds(float64(run.Ticks())),
			m.Seconds(float64(main.Ticks())), m.Seconds(float64(wait.Ticks())), busy}
		if m.Has(wire.CPU) {
			r = append(r, total.Value(wire.CPU), run.Value(wire.CPU), main.Value(wire.CPU))
		}
		if m.Has(wire.Utime) {
			r = append(r, total.Count(wire.Nvcsw), total.Count(wire.Nivcsw))
		}
		return r
	}
	var all loopSum
	for _, l := range m.Loops {
		s := sums[l.ID]
		all.n += s.n
		all.v.Add(s.v)
		t.Rows = append(t.Rows, row(l.ID, fmt.Sprintf("loop %d", l.ID), s.n, l.Total, l.Main, l.Wait, s.v.Quantities()))
	}
	t.Rows = append(t.Rows, row(-1, "all loops", all.n, m.Total, m.Main, m.Wait, all.v.Quantities()))
	return t
}

// textLoops prints the per-loop buckets when the profile has several loops.
func (m model) textLoops(w io.Writer) {
	if len(m.Loops) < 2 {
		return
	}
	fmt.Fprintf(w, "\nPer loop (each loop is one thread; seconds of its own ticks)\n")
	t := &textTable{head: []string{"loop", "coroutines", "elapsed s", "coroutines s", "<main> s", "<wait> s", "busy %", "cpu s"}}
	t.left = make([]bool, len(t.head))
	t.left[0] = true
	sums := m.loopCoroutines()
	add := func(name string, n int, total, main, wait, run report.Quantities) {
		busy := "–"
		if total.Ticks() > 0 {
			busy = fmt.Sprintf("%.1f", 100*float64(total.Ticks()-min(wait.Ticks(), total.Ticks()))/float64(total.Ticks()))
		}
		cpu := ""
		if m.Has(wire.CPU) {
			cpu = fmtSec(total.Value(wire.CPU))
		}
		t.add(name, fmt.Sprint(n), fmtSec(m.Seconds(float64(total.Ticks()))), fmtSec(m.Seconds(float64(run.Ticks()))),
			fmtSec(m.Seconds(float64(main.Ticks()))), fmtSec(m.Seconds(float64(wait.Ticks()))), busy, cpu)
	}
	var all loopSum
	for _, l := range m.Loops {
		s := sums[l.ID]
		all.n += s.n
		all.v.Add(s.v)
		add(fmt.Sprintf("loop %d", l.ID), s.n, l.Total, l.Main, l.Wait, s.v.Quantities())
	}
	add("all loops", all.n, m.Total, m.Main, m.Wait, all.v.Quantities())
	t.write(w)
}
