package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// A profile of several loops shows each loop's buckets and their sum: the table's last
// row adds up the loop rows, and each loop row adds up that loop's coroutines.
func TestLoopsPerLoopAndTotal(t *testing.T) {
	p := synth.Profile(5, synth.Options{Loops: 3, Coroutines: 12, Samples: 10, Slices: 10})
	m := mustBuild(t, p)
	tb := m.loopTable()
	if len(tb.Rows) != len(p.Loops)+1 {
		t.Fatalf("%d rows, want one per loop (%d) and the total", len(tb.Rows), len(p.Loops))
	}
	col := func(key string) int {
		for i, c := range tb.Cols {
			if c.Key == key {
				return 2 + i
			}
		}
		t.Fatalf("no column %q", key)
		return 0
	}
	var n int
	var elapsed, run float64
	for i, l := range p.Loops {
		r := tb.Rows[i]
		var want int
		var wantRun uint64
		for _, c := range p.Coroutines {
			if c.Loop == l.ID {
				want++
				wantRun += c.Counters[wire.Ticks]
			}
		}
		if r[col("loop")] != fmt.Sprintf("loop %d", l.ID) || r[col("coroutines")] != want {
			t.Errorf("row %d: %v %v, want loop %d with %d coroutines", i, r[col("loop")], r[col("coroutines")], l.ID, want)
		}
		if got := r[col("elapsed")].(float64); got != m.Seconds(float64(l.Total[wire.Ticks])) {
			t.Errorf("loop %d elapsed %v, its total is %d ticks", l.ID, got, l.Total[wire.Ticks])
		}
		if got := r[col("run")].(float64); got != m.Seconds(float64(wantRun)) {
			t.Errorf("loop %d coroutines %v s, they sum to %d ticks", l.ID, got, wantRun)
		}
		n += want
		elapsed += r[col("elapsed")].(float64)
		run += r[col("run")].(float64)
	}
	last := tb.Rows[len(tb.Rows)-1]
	if last[col("loop")] != "all loops" || last[col("coroutines")] != n || n != len(p.Coroutines) {
		t.Errorf("total row %v, %v coroutines; want all loops, %d", last[col("loop")], last[col("coroutines")], len(p.Coroutines))
	}
	if got := last[col("elapsed")].(float64); !loopNear(got, elapsed) {
		t.Errorf("total elapsed %v, the loops sum to %v", got, elapsed)
	}
	if got := last[col("run")].(float64); !loopNear(got, run) {
		t.Errorf("total coroutines %v s, the loops sum to %v", got, run)
	}

	var b bytes.Buffer
	if err := writeText(&b, m.Model, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range p.Loops {
		if !strings.Contains(out, fmt.Sprintf("\nloop %d ", l.ID)) {
			t.Errorf("the text view has no row for loop %d", l.ID)
		}
	}
	var html bytes.Buffer
	if err := writeHTML(&html, m.Model, HTMLOptions{Echarts: "/**/"}); err != nil { // the page, not the echarts runtime, is under test
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), `data-table="loops"`) {
		t.Error("the page has no loops table")
	}

	// One loop: nothing per loop (the totals are that loop's).
	one := mustBuild(t, synth.Profile(5, synth.Options{Coroutines: 4}))
	b.Reset()
	if err := writeText(&b, one.Model, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "Per loop") {
		t.Error("a one-loop profile has a per-loop table")
	}
}

func loopNear(a, b float64) bool { d := a - b; return d < 1e-9*max(1, b) && d > -1e-9*max(1, b) }
