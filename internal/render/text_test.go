package render

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coroprof/coroprof/internal/synth"
	"github.com/coroprof/coroprof/internal/wire"
)

// section returns the lines of the table under the title that starts with prefix.
func section(t *testing.T, out, prefix string) []string {
	t.Helper()
	blocks := strings.Split(out, "\n\n")
	for _, b := range blocks {
		if strings.HasPrefix(b, prefix) {
			lines := strings.Split(strings.TrimRight(b, "\n"), "\n")
			return lines[1:] // header, rows
		}
	}
	t.Fatalf("no section %q in\n%s", prefix, out)
	return nil
}

// textColumn returns the cells of one right-aligned column (by its header word) of an
// aligned table: each cell ends where the header does.
func textColumn(t *testing.T, table []string, head string) []string {
	t.Helper()
	h := []rune(table[0])
	end := -1
	for i := 0; i+len(head) <= len(h); i++ {
		if string(h[i:i+len(head)]) == head && (i == 0 || h[i-1] == ' ') && (i+len(head) == len(h) || h[i+len(head)] == ' ') {
			end = i + len(head)
			break
		}
	}
	if end < 0 {
		t.Fatalf("no column %q in %q", head, table[0])
	}
	var out []string
	for _, r := range table[1:] {
		rr := []rune(r)
		if end > len(rr) {
			t.Fatalf("row shorter than the header: %q", r)
		}
		f := strings.Fields(string(rr[:end]))
		out = append(out, f[len(f)-1])
	}
	return out
}

func TestTextTopAndSort(t *testing.T) {
	m := mustBuild(t, synth.Profile(6, synth.Options{Coroutines: 40, Samples: 200, Regions: 3}))
	for _, key := range []string{"ticks", "cpu", "resumes", "samples", "minflt"} {
		var b bytes.Buffer
		if err := writeText(&b, m.Model, TextOptions{Top: 7, Sort: key}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		table := section(t, out, "Coroutines: top 7 of 40 by "+key)
		if len(table) != 8 {
			t.Fatalf("sort %s: %d rows, want 7 and a header", key, len(table)-1)
		}
		head := key
		if key == "cpu" {
			head = "cpu s"
		}
		var prev float64 = -1
		for i, cell := range textColumn(t, table, head) {
			v, err := strconv.ParseFloat(strings.TrimPrefix(cell, "≈"), 64)
			if err != nil {
				t.Fatalf("sort %s: cell %q", key, cell)
			}
			if i > 0 && v > prev {
				t.Errorf("sort %s: row %d (%v) above row %d (%v) is smaller", key, i-1, prev, i, v)
			}
			prev = v
		}
		// The 7th value is at least as large as any coroutine left out.
		var left int
		for _, c := range m.Coroutines {
			var v float64
			switch key {
			case "resumes":
				v = float64(c.Resumes)
			case "samples":
				v = float64(c.Samples)
			default:
				q, _ := quantityIndex(key)
				v = c.Quantities.Value(q)
			}
			if v > prev+1e-9 {
				left++
			}
		}
		if left > 6 {
			t.Errorf("sort %s: %d coroutines exceed the last row shown", key, left)
		}
	}
}

// TestTextAligned: every row of a table has its columns at the same positions, and
// estimates carry ≈.
func TestTextAligned(t *testing.T) {
	m := mustBuild(t, synth.Profile(6, synth.Options{Coroutines: 10, Samples: 50, Regions: 2}))
	var b bytes.Buffer
	if err := writeText(&b, m.Model, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	table := section(t, b.String(), "Functions, self")
	// The kind column starts at the same rune offset in every line.
	re := regexp.MustCompile(`\s(sampled|region|unlabelled|kind)\s`)
	pos := -1
	for _, line := range table {
		if strings.HasPrefix(line, "≈ ") { // the footnotes
			continue
		}
		loc := re.FindStringIndex(line)
		if loc == nil {
			t.Fatalf("no kind cell in %q", line)
		}
		p := utf8.RuneCountInString(line[:loc[0]])
		if pos >= 0 && p != pos {
			t.Errorf("kind column at %d, was %d: %q", p, pos, line)
		}
		pos = p
		if strings.Contains(line, " sampled ") && !strings.Contains(line, "≈") {
			t.Errorf("a sampled function's row has no ≈: %q", line)
		}
		if strings.Contains(line, " region ") && strings.Contains(line, "≈") {
			t.Errorf("an exact region's row has ≈: %q", line)
		}
	}
	if err := writeText(&b, m.Model, TextOptions{Sort: "bogus"}); err == nil || !strings.Contains(err.Error(), "ticks, cpu") {
		t.Errorf("bad sort key: %v", err)
	}
}

// TestTextTicksOnly: columns of quantities that were not measured are absent.
func TestTextTicksOnly(t *testing.T) {
	m := mustBuild(t, synth.Profile(4, synth.Options{Coroutines: 5, TicksOnly: true}))
	var b bytes.Buffer
	if err := writeText(&b, m.Model, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"cpu s", "utime", "minflt"} {
		if strings.Contains(b.String(), absent) {
			t.Errorf("ticks-only text shows %q", absent)
		}
	}
	if err := writeText(&b, m.Model, TextOptions{Sort: "cpu"}); err != nil {
		t.Error(err) // ranking by an unmeasured quantity is harmless: all zero, then ticks
	}
}

// TestTextUnlabelledAndClosure: an unlabelled function shows its samples and pprof's
// CPU (≈) and nothing else; the closure line covers exact quantities, and the
// utime/stime drift has a line of its own marked ≈.
func TestTextUnlabelledAndClosure(t *testing.T) {
	p := synth.Hand()
	p.Coroutines[0].Counters[wire.Utime] += 5
	p.Coroutines[0].Counters[wire.Stime] -= 5
	m := mustBuild(t, p)
	var b bytes.Buffer
	if err := writeText(&b, m.Model, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "\nclosure      0: every exact quantity closes exactly") {
		t.Errorf("closure line:\n%s", out)
	}
	if !strings.Contains(out, "\nutime/stime  ≈ estimates") || !strings.Contains(out, "stime on loop 1, diff -5 ns") {
		t.Errorf("utime/stime closure line:\n%s", out)
	}
	if !strings.Contains(out, "1 unlabelled") {
		t.Errorf("samples line does not count the unlabelled sample:\n%s", out)
	}
	table := section(t, out, "Functions, self")
	var row string
	for _, l := range table {
		if strings.HasSuffix(l, " unlabelled  g") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no unlabelled row for g in\n%s", strings.Join(table, "\n"))
	}
	// Its samples, pprof's CPU time marked ≈, and no other figure: no ticks, seconds,
	// percentage or rusage, which nothing measured for it.
	if f := strings.Fields(row); strings.Join(f, " ") != "1 ≈0.010000 unlabelled g" {
		t.Errorf("unlabelled row %q, want only its samples and ≈cpu", row)
	}
	if c := textColumn(t, []string{table[0], row}, "cpu s")[0]; c != "≈0.010000" {
		t.Errorf("unlabelled cpu cell %q is not under cpu s", c)
	}
	if !strings.Contains(out, "≈ unlabelled: samples with no coroutine label") {
		t.Errorf("no footnote for the unlabelled rows:\n%s", out)
	}
}
