package render

import (
	"strings"
	"testing"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// TestEveryCounterInEveryView holds the HTML views to the counters' one definition
// (internal/wire/counters.go): every counter has a column in the quantity tables (with
// and without the /call columns) and in the longest-slices table, and each row's cell
// under a counter's column is that counter's value. A renderer that lists counters by
// name leaves a new counter without a column, or a column without its cell, and fails.
func TestEveryCounterInEveryView(t *testing.T) {
	m := mustBuild(t, synth.Hand())
	var q report.Quantities
	for c := range wire.NumCounters {
		if !m.Has(c) {
			t.Fatalf("synth.Hand does not measure %s", c)
		}
		q[c] = float64(100 + c) // distinct whole numbers
	}
	for _, perCall := range []bool{false, true} {
		cols := m.quantityCols(perCall)
		cells := m.quantityCells(q, 4, perCall)
		if len(cells) != len(cols) {
			t.Fatalf("perCall %v: %d columns, %d cells", perCall, len(cols), len(cells))
		}
		for c := range wire.NumCounters {
			i := -1
			for j, col := range cols {
				if col.Key == wire.CounterNames[c] {
					i = j
				}
			}
			if i < 0 {
				t.Errorf("perCall %v: no column for counter %s", perCall, c)
				continue
			}
			var got float64
			switch v := cells[i].(type) {
			case uint64:
				got = float64(v)
			case float64:
				got = v
			default:
				t.Errorf("perCall %v: cell of %s is %T", perCall, c, cells[i])
			}
			if got != q[c] {
				t.Errorf("perCall %v: cell of %s = %v, want %v", perCall, c, got, q[c])
			}
		}
	}
	labels, lcells := counterLabels(), counterCells(q)
	if len(labels) != int(wire.NumCounters) || len(lcells) != len(labels) {
		t.Fatalf("longest slices: %d labels, %d cells, want %d", len(labels), len(lcells), wire.NumCounters)
	}
	for c := range wire.NumCounters {
		if !strings.HasPrefix(labels[c], wire.CounterNames[c]) {
			t.Errorf("longest slices: column %d is %q, want counter %s", c, labels[c], c)
		}
		if !strings.HasPrefix(lcells[c], "10") {
			t.Errorf("longest slices: cell of %s = %q", c, lcells[c])
		}
	}
}
