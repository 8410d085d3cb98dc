package main

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
)

// TestCompareBrowser opens the comparison page in headless Chromium: it draws its four
// tables with the report's script from file:// with no error and no network request, a
// click on Δ ticks sorts numerically, and a hostile coroutine name is text.
func TestCompareBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	newP := synth.Profile(51, synth.Options{Coroutines: 40, Samples: 200, Regions: 3})
	oldP := synth.Profile(52, synth.Options{Coroutines: 30, Samples: 150, Regions: 2})
	newP.Coroutines[0].Name = xssName
	newBin, oldBin, out := filepath.Join(dir, "new.bin"), filepath.Join(dir, "old.bin"), filepath.Join(dir, "diff.html")
	for path, p := range map[string]*format.Profile{newBin: newP, oldBin: oldP} {
		if err := format.WriteFile(path, p); err != nil {
			t.Fatal(err)
		}
	}
	var stderr strings.Builder
	if code := run([]string{"-o", out, newBin, oldBin}, io.Discard, &stderr); code != 0 {
		t.Fatalf("print-profile exited %d: %s", code, stderr.String())
	}
	c, s, _ := startBrowser(t, bin)
	pageURL := "file://" + out
	openPage(t, c, s, pageURL)

	var r struct {
		Tables  []string `json:"tables"`
		AsText  bool     `json:"asText"`
		Scripts int      `json:"scripts"`
	}
	expr := `(function(){
		var cells = Array.prototype.slice.call(document.querySelectorAll("#table-coroutines td"));
		return {tables: Array.prototype.slice.call(document.querySelectorAll("table.sortable")).map(function(t){ return t.id; }),
			asText: cells.some(function(td){ return td.textContent === ` + strconv.Quote(xssName) + `; }),
			scripts: document.querySelectorAll("body script").length};
	})()`
	if err := c.eval(s, expr, &r); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"table-buckets", "table-coroutines", "table-self", "table-cumulative"} {
		if !strings.Contains(strings.Join(r.Tables, " "), id) {
			t.Errorf("table %s not drawn (tables: %q)", id, r.Tables)
		}
	}
	if !r.AsText {
		t.Errorf("no coroutine cell shows %s as text", xssName)
	}
	if r.Scripts != 2 {
		t.Errorf("%d script elements, want 2 (data, report.js): a user name became markup", r.Scripts)
	}

	// Δ ticks sorts numerically, descending on the first click, ascending on the second.
	column := func() []float64 {
		var vals []string
		expr := `(function(){
			var ths = Array.prototype.slice.call(document.querySelectorAll("#table-coroutines th"));
			var i = ths.findIndex(function(th){ return th.getAttribute("data-key") === "Δ ticks"; });
			return Array.prototype.slice.call(document.querySelectorAll("#table-coroutines tbody tr")).map(function(tr){ return tr.children[i].textContent; });
		})()`
		if err := c.eval(s, expr, &vals); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, 0, len(vals))
		for _, v := range vals {
			f, err := strconv.ParseFloat(strings.TrimPrefix(v, "≈"), 64)
			if err != nil {
				t.Fatalf("Δ ticks cell %q: %v", v, err)
			}
			out = append(out, f)
		}
		return out
	}
	click := func() {
		if err := c.eval(s, `document.querySelector('#table-coroutines th[data-key="Δ ticks"]').click()`, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, wantDesc := range []bool{false, true} { // the table starts sorted on Δ ticks, descending
		click()
		v := column()
		if len(v) < 2 {
			t.Fatalf("%d rows in the coroutines table", len(v))
		}
		for j := 1; j < len(v); j++ {
			if (wantDesc && v[j] > v[j-1]) || (!wantDesc && v[j] < v[j-1]) {
				t.Errorf("click %d: Δ ticks not %s: %v", i+1, map[bool]string{true: "descending", false: "ascending"}[wantDesc], v)
				break
			}
		}
	}
	checkEvents(t, c.Events(), pageURL)
}
