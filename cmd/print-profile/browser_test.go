package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/render"
	"github.com/coroprof/coroprof/internal/report"
	"github.com/coroprof/coroprof/internal/synth"
)

const xssName = "<script>alert(1)</script>"

// chromium finds the browser, or skips the test (fails it when CI is set: CI installs
// Chromium, so a missing one there is a broken setup, not a reason to pass).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found (CI is set: install it with apt-get install -y chromium)")
	}
	t.Skip("chromium not found; apt-get install -y chromium to run the browser test")
	return ""
}

// TestBrowser opens a report in headless Chromium over the DevTools protocol: the page
// loads from file:// with no console error and no network request, a header click
// sorts a table numerically and toggles, the filter box narrows rows, and a coroutine
// named <script>alert(1)</script> shows as text and runs nothing.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	needEcharts(t)
	dir := t.TempDir()
	p := synth.Profile(7, synth.Options{Coroutines: 120, Samples: 400, Slices: 300, LongSlices: 5, Regions: 4})
	p.Coroutines[0].Name = xssName // whatever Synthetic names, one hostile name is certain
	in, out := filepath.Join(dir, "p.bin"), filepath.Join(dir, "report.html")
	if err := format.WriteFile(in, p); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := run([]string{"-o", out, in}, io.Discard, &stderr); code != 0 {
		t.Fatalf("print-profile exited %d: %s", code, stderr.String())
	}

	c, s, chromeLog := startBrowser(t, bin)
	pageURL := "file://" + out
	openPage(t, c, s, pageURL)

	t.Run("escaping", func(t *testing.T) {
		var r struct {
			AsText  bool `json:"asText"`
			Scripts int  `json:"scripts"`
			Alerted bool `json:"alerted"`
		}
		expr := `(function(){
			var cells = Array.prototype.slice.call(document.querySelectorAll("#table-coroutines td.name"));
			return {asText: cells.some(function(td){ return td.textContent === ` + strconv.Quote(xssName) + `; }),
				scripts: document.querySelectorAll("body script").length,
				alerted: !!window.__alerted};
		})()`
		if err := c.eval(s, expr, &r); err != nil {
			t.Fatal(err)
		}
		if !r.AsText {
			t.Errorf("no coroutine cell shows %s as text", xssName)
		}
		// The page has exactly its own three script elements (data, echarts, report.js).
		if r.Scripts != 3 {
			t.Errorf("%d script elements in the page, want 3: a user name became markup", r.Scripts)
		}
		for _, e := range c.Events() {
			if e.Method == "Page.javascriptDialogOpening" {
				t.Errorf("a dialog opened: user data ran as script: %s", e.Params)
			}
		}
	})

	t.Run("sort", func(t *testing.T) {
		column := func(key string) []string {
			var vals []string
			expr := `(function(){
				var ths = Array.prototype.slice.call(document.querySelectorAll("#table-coroutines th"));
				var i = ths.findIndex(function(th){ return th.getAttribute("data-key") === ` + strconv.Quote(key) + `; });
				return Array.prototype.slice.call(document.querySelectorAll("#table-coroutines tbody tr")).map(function(tr){ return tr.children[i].textContent; });
			})()`
			if err := c.eval(s, expr, &vals); err != nil {
				t.Fatal(err)
			}
			return vals
		}
		click := func(key string) {
			if err := c.eval(s, `document.querySelector('#table-coroutines th[data-key="`+key+`"]').click()`, nil); err != nil {
				t.Fatal(err)
			}
		}
		nums := func(vals []string) []float64 {
			out := make([]float64, len(vals))
			for i, v := range vals {
				f, err := strconv.ParseFloat(strings.Fields(strings.TrimPrefix(v, "≈"))[0], 64)
				if err != nil {
					t.Fatalf("cell %q: %v", v, err)
				}
				out[i] = f
			}
			return out
		}
		// ids 1..120: a lexicographic sort would put 99 before 120.
		click("id")
		ids := nums(column("id"))
		if len(ids) != 120 || !sort.SliceIsSorted(ids, func(i, j int) bool { return ids[i] > ids[j] }) {
			t.Errorf("after one click on id: %v, want 120 ids descending", ids)
		}
		click("id")
		ids = nums(column("id"))
		if !sort.Float64sAreSorted(ids) || ids[0] != 1 {
			t.Errorf("after a second click on id: %v, want ascending from 1", ids)
		}
		click("resumes")
		res := nums(column("resumes"))
		if !sort.SliceIsSorted(res, func(i, j int) bool { return res[i] > res[j] }) {
			t.Errorf("resumes not descending after a click: %v", res)
		}
		click("name")
		names := column("name")
		if !sort.StringsAreSorted(names) {
			t.Errorf("names not ascending after a click: %q", names)
		}
		var aria string
		if err := c.eval(s, `document.querySelector('#table-coroutines th[data-key="name"]').getAttribute("aria-sort")`, &aria); err != nil {
			t.Fatal(err)
		}
		if aria != "ascending" {
			t.Errorf("sorted header says aria-sort=%q", aria)
		}
	})

	// Sorting is stable: rows tied on the column clicked keep the order of the sort
	// before it. Checked on the coroutines table (by id, then by name: Synthetic's
	// names repeat) and on the Non-Aggregate table (by name, then by kind), which must
	// also sort numerically with its empty cells last.
	t.Run("stable", func(t *testing.T) {
		type result struct {
			Ties int      `json:"ties"`
			Bad  []string `json:"bad"`
		}
		stable := func(table, first, then string) result {
			t.Helper()
			expr := `(function(table, first, then){
				function click(k){ document.querySelector('#table-' + table + ' th[data-key="' + k + '"]').click(); }
				function col(k){
					var ths = Array.prototype.slice.call(document.querySelectorAll('#table-' + table + ' th'));
					return ths.findIndex(function(th){ return th.getAttribute("data-key") === k; });
				}
				function rows(){ return Array.prototype.slice.call(document.querySelectorAll('#table-' + table + ' tbody tr')).filter(function(tr){ return tr.id; }); }
				click(first);
				var rank = {};
				rows().forEach(function(tr, i){ rank[tr.id] = i; });
				click(then);
				var j = col(then), rs = rows(), ties = 0, bad = [];
				for (var i = 1; i < rs.length; i++) {
					if (rs[i].children[j].textContent !== rs[i-1].children[j].textContent) continue;
					ties++;
					if (rank[rs[i-1].id] > rank[rs[i].id]) bad.push(rs[i-1].id + " before " + rs[i].id + " (" + rs[i].children[j].textContent + ")");
				}
				return {ties: ties, bad: bad};
			})(` + strconv.Quote(table) + `, ` + strconv.Quote(first) + `, ` + strconv.Quote(then) + `)`
			var r result
			if err := c.eval(s, expr, &r); err != nil {
				t.Fatal(err)
			}
			if r.Ties == 0 {
				t.Errorf("%s: no rows tied on %s: the check checks nothing", table, then)
			}
			if len(r.Bad) > 0 {
				t.Errorf("%s sorted by %s then %s: tied rows out of the first order: %q", table, first, then, r.Bad)
			}
			return r
		}
		stable("coroutines", "id", "name")
		stable("self", "name", "kind")
		stable("self", "samples", "kind")

		var cells []string
		expr := `(function(){
			var th = document.querySelector('#table-self th[data-key="samples"]');
			th.click();
			var i = Array.prototype.indexOf.call(th.parentNode.children, th);
			return Array.prototype.slice.call(document.querySelectorAll('#table-self tbody tr')).map(function(tr){ return tr.children[i].textContent; });
		})()`
		if err := c.eval(s, expr, &cells); err != nil {
			t.Fatal(err)
		}
		var nums []float64
		empty := false
		for _, v := range cells {
			if v == "" {
				empty = true
				continue
			}
			if empty {
				t.Errorf("self table by samples: value %q after an empty cell: %q", v, cells)
				break
			}
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			if err != nil {
				t.Fatalf("cell %q: %v", v, err)
			}
			nums = append(nums, f)
		}
		if len(nums) < 2 || !sort.SliceIsSorted(nums, func(i, j int) bool { return nums[i] > nums[j] }) {
			t.Errorf("self table by samples: %v, want several counts descending", nums)
		}
	})

	// Choosing a coroutine in the flame graph's select redraws it from that
	// coroutine's tree: its root, and its root's children one row below; choosing
	// "all" again brings the whole tree back.
	t.Run("flameselect", func(t *testing.T) {
		var r struct {
			Options int        `json:"options"`
			Got     [][]string `json:"got"`
			Want    [][]string `json:"want"`
		}
		expr := `(function(){
			var data = JSON.parse(document.getElementById("report-data").textContent);
			var sel = document.getElementById("flame-select");
			function drawn(){
				var frs = Array.prototype.slice.call(document.querySelectorAll("#flame-graph .fr"));
				var root = frs.filter(function(d){ return d.style.top === "0px"; }).map(function(d){ return d.textContent; });
				var kids = frs.filter(function(d){ return d.style.top === "18px"; }).map(function(d){ return d.textContent; }).sort();
				return [root.join("|"), kids.join("|")];
			}
			function want(tree){
				return [tree.n, (tree.c || []).filter(function(k){ return k.v / tree.v >= 0.001; }).map(function(k){ return k.n; }).sort().join("|")];
			}
			var got = [], wants = [];
			[1, 2, 0].forEach(function(i){
				if (i >= sel.options.length) return;
				sel.value = String(i);
				sel.dispatchEvent(new Event("change"));
				got.push(drawn());
				wants.push(want(data.flames[i].tree));
			});
			return {options: sel.options.length, got: got, want: wants};
		})()`
		if err := c.eval(s, expr, &r); err != nil {
			t.Fatal(err)
		}
		if r.Options < 3 {
			t.Fatalf("flame select has %d options, want all and at least two coroutines", r.Options)
		}
		for i := range r.Want {
			if r.Got[i][0] != r.Want[i][0] || r.Got[i][1] != r.Want[i][1] {
				t.Errorf("flame choice %d: drew root %q, children %q; want root %q, children %q", i, r.Got[i][0], r.Got[i][1], r.Want[i][0], r.Want[i][1])
			}
		}
		if r.Got[0][0] == r.Got[2][0] || r.Got[1][0] == r.Got[0][0] {
			t.Errorf("the roots drawn do not change with the choice: %q", r.Got)
		}
	})

	t.Run("filter", func(t *testing.T) {
		var n int
		expr := `(function(){
			var f = document.querySelector('[data-table="coroutines"] input.filter');
			f.value = "alert"; f.dispatchEvent(new Event("input"));
			var n = document.querySelectorAll("#table-coroutines tbody tr").length;
			f.value = ""; f.dispatchEvent(new Event("input"));
			return n;
		})()`
		if err := c.eval(s, expr, &n); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, co := range p.Coroutines {
			if strings.Contains(strings.ToLower(co.Name), "alert") {
				want++
			}
		}
		if n != want {
			t.Errorf("filter \"alert\" shows %d rows, want %d", n, want)
		}
	})

	t.Run("links", func(t *testing.T) {
		// A function name in the Non-Aggregate table leads to its call-graph entry, and
		// the entry's name leads back to the row.
		var r struct {
			Href   string `json:"href"`
			Target bool   `json:"target"`
			Back   string `json:"back"`
			Row    bool   `json:"row"`
		}
		expr := `(function(){
			var a = document.querySelector("#table-self td.name a");
			var id = a.getAttribute("href").slice(1), entry = document.getElementById(id);
			var back = entry ? entry.querySelector("a.back").getAttribute("href") : "";
			return {href: a.getAttribute("href"), target: !!entry, back: back, row: !!document.getElementById(back.slice(1))};
		})()`
		if err := c.eval(s, expr, &r); err != nil {
			t.Fatal(err)
		}
		if !r.Target || !r.Row {
			t.Errorf("links: %+v", r)
		}
	})

	t.Run("charts", func(t *testing.T) {
		var n int
		if err := c.eval(s, `document.querySelectorAll("[data-chart] canvas").length`, &n); err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Errorf("%d chart canvases drawn, want 3 (where, top, timeline)", n)
		}
		var frames int
		if err := c.eval(s, `document.querySelectorAll("#flame-graph .fr").length`, &frames); err != nil {
			t.Fatal(err)
		}
		if frames == 0 {
			t.Error("the flame graph drew no frames")
		}
		// Clicking a frame zooms in: it then spans the whole width; clicking the root
		// zooms out again.
		var zoom struct {
			Name   string `json:"name"`
			Before string `json:"before"`
			After  string `json:"after"`
			Reset  string `json:"reset"`
		}
		expr := `(function(){
			var frs = Array.prototype.slice.call(document.querySelectorAll("#flame-graph .fr"));
			var f = frs.filter(function(d){ return d.style.top === "18px"; })[1] || frs[1];
			var name = f.textContent, before = f.style.width;
			f.click();
			var now = Array.prototype.slice.call(document.querySelectorAll("#flame-graph .fr")).filter(function(d){ return d.textContent === name && d.style.top === "18px"; })[0];
			var after = now ? now.style.width : "";
			document.querySelector("#flame-graph .fr").click();
			var back = Array.prototype.slice.call(document.querySelectorAll("#flame-graph .fr")).filter(function(d){ return d.textContent === name && d.style.top === "18px"; })[0];
			return {name: name, before: before, after: after, reset: back ? back.style.width : ""};
		})()`
		if err := c.eval(s, expr, &zoom); err != nil {
			t.Fatal(err)
		}
		if zoom.Before == "100%" || zoom.After != "100%" || zoom.Reset != zoom.Before {
			t.Errorf("flame zoom on %q: width %s, after a click %s, after zooming out %s", zoom.Name, zoom.Before, zoom.After, zoom.Reset)
		}
	})

	// Console errors, exceptions and network requests, over everything above.
	settle(t, c, s)
	checkEvents(t, c.Events(), pageURL)

	// The other golden profiles (several loops; ticks only: no CPU, rusage columns or
	// diagnoses) load as cleanly.
	for _, name := range []string{"multiloop", "ticksonly"} {
		out := filepath.Join(dir, name+".html")
		if code := run([]string{"-o", out, profilePath(name)}, io.Discard, io.Discard); code != 0 {
			t.Fatalf("%s: exit %d", name, code)
		}
		seen := len(c.Events())
		openPage(t, c, s, "file://"+out)
		var rows int
		if err := c.eval(s, `document.querySelectorAll("#table-coroutines tbody tr").length`, &rows); err != nil {
			t.Fatal(err)
		}
		if rows == 0 {
			t.Errorf("%s: no coroutine rows drawn", name)
		}
		settle(t, c, s)
		checkEvents(t, c.Events()[seen:], "file://"+out)
	}

	// 5000 coroutines: the table is virtual (as for 100k, which TestBrowserLarge opens
	// on demand), so make test's browser run covers it.
	t.Run("virtual", func(t *testing.T) {
		p := synth.Profile(8, synth.Options{Coroutines: 5000, Samples: 200})
		in, out := filepath.Join(dir, "5k.bin"), filepath.Join(dir, "5k.html")
		if err := format.WriteFile(in, p); err != nil {
			t.Fatal(err)
		}
		if code := run([]string{"-o", out, in}, io.Discard, io.Discard); code != 0 {
			t.Fatalf("exit %d", code)
		}
		seen := len(c.Events())
		openPage(t, c, s, "file://"+out)
		checkVirtual(t, c, s, p)
		settle(t, c, s)
		checkEvents(t, c.Events()[seen:], "file://"+out)
	})

	// A sample 400,000 frames deep: the model keeps 512 of them, and the page draws the
	// flame graph without error.
	t.Run("deep", func(t *testing.T) {
		p := synth.Profile(9, synth.Options{Coroutines: 3, Samples: 1})
		st := make([]format.LocID, 400_000)
		for i := range st {
			st[i] = format.LocID(1 + (i*7)%len(p.Locations))
		}
		p.Samples[0].Stack = st
		in, out := filepath.Join(dir, "deep.bin"), filepath.Join(dir, "deep.html")
		if err := format.WriteFile(in, p); err != nil {
			t.Fatal(err)
		}
		if code := run([]string{"-o", out, in}, io.Discard, io.Discard); code != 0 {
			t.Fatalf("exit %d", code)
		}
		seen := len(c.Events())
		openPage(t, c, s, "file://"+out)
		var r struct {
			Frames int    `json:"frames"`
			Root   string `json:"root"`
		}
		if err := c.eval(s, `(function(){ var frs = document.querySelectorAll("#flame-graph .fr");
			return {frames: frs.length, root: frs.length > 1 ? frs[1].textContent : ""}; })()`, &r); err != nil {
			t.Fatal(err)
		}
		if r.Frames < 512 || r.Frames > 515 || r.Root != report.TruncatedFrame(400_000-report.MaxStackDepth) {
			t.Errorf("deep flame graph: %d frames, first under the root %q; want 512 to 515 and %q", r.Frames, r.Root, report.TruncatedFrame(400_000-report.MaxStackDepth))
		}
		settle(t, c, s)
		checkEvents(t, c.Events()[seen:], "file://"+out)
	})

	// The page's flame graph walks its tree without recursion: a tree 20,000 frames
	// deep (deeper than any the model makes) draws without overflowing the script's
	// stack.
	t.Run("deeptree", func(t *testing.T) {
		m, err := report.Build(synth.Profile(10, synth.Options{Coroutines: 2, Samples: 1}))
		if err != nil {
			t.Fatal(err)
		}
		m.Flame = &report.FlameNode{Name: "all", Value: 1}
		for n, i := m.Flame, 0; i < 20_000; i++ {
			n.Children = []*report.FlameNode{{Name: "f" + strconv.Itoa(i), Value: 1}}
			n = n.Children[0]
		}
		out := filepath.Join(dir, "deeptree.html")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		// (The page's data is compact JSON: only indenting has encoding/json's depth limit.)
		if err := render.Write(f, render.HTML, render.Input{Model: m}, render.Options{}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		seen := len(c.Events())
		openPage(t, c, s, "file://"+out)
		var frames int
		if err := c.eval(s, `document.querySelectorAll("#flame-graph .fr").length`, &frames); err != nil {
			t.Fatal(err)
		}
		if frames != 20_001 {
			t.Errorf("a 20,001-frame chain drew %d frames", frames)
		}
		settle(t, c, s)
		checkEvents(t, c.Events()[seen:], "file://"+out)
	})
	if t.Failed() {
		t.Logf("chromium stderr:\n%s", chromeLog())
	}
}

// checkEvents fails the test for uncaught exceptions, console or log errors and
// warnings, and any request other than the page itself.
func checkEvents(t *testing.T, evs []cdpMessage, pageURL string) {
	t.Helper()
	for _, e := range evs {
		switch e.Method {
		case "Runtime.exceptionThrown":
			t.Errorf("%s: uncaught exception: %s", pageURL, e.Params)
		case "Runtime.consoleAPICalled":
			var p struct{ Type string }
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "warning" || p.Type == "assert" {
				t.Errorf("%s: console %s: %s", pageURL, p.Type, e.Params)
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Text, URL string }
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				t.Errorf("%s: log %s: %s %s", pageURL, p.Entry.Level, p.Entry.Text, p.Entry.URL)
			}
		case "Network.requestWillBeSent":
			var p struct{ Request struct{ URL string } }
			json.Unmarshal(e.Params, &p)
			if u := p.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") {
				t.Errorf("%s: network request for %s", pageURL, u)
			}
		}
	}
}

// startBrowser starts headless Chromium with a DevTools port and attaches to a new
// page; it returns the client, the page's session and a function giving Chromium's
// stderr so far. Chromium runs in a process group of its own with a profile directory
// of its own (not in t.TempDir, whose single removal attempt races Chromium's helper
// processes): when the test ends the whole group is killed and waited for, then the
// directory is removed, with retries while a dying helper still writes into it.
func startBrowser(t *testing.T, bin string) (*cdpClient, string, func() string) {
	profile, err := os.MkdirTemp("", "print-profile-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAllRetry(t, profile) })
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: the browser and its helpers
		cmd.Wait()
		// Helpers reparented to init are gone from the group only once they die: wait
		// (briefly) until none is left, so none writes the profile directory after it
		// is removed.
		for i := 0; i < 100 && syscall.Kill(-cmd.Process.Pid, 0) == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	})
	var logMu sync.Mutex
	var chromeLog strings.Builder
	logs := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return chromeLog.String()
	}
	type found struct {
		url string
		err error
	}
	ch := make(chan found, 1)
	go func() {
		u, err := devtoolsURL(errPipe, &chromeLog, &logMu)
		ch <- found{u, err}
	}()
	var wsURL string
	select {
	case f := <-ch:
		if f.err != nil {
			t.Fatal(f.err, logs())
		}
		wsURL = f.url
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not announce its DevTools endpoint in 30 s")
	}
	c, err := cdpDial(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var target struct{ TargetID string }
	if err := c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := c.call(att.SessionID, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c, att.SessionID, logs
}

// removeAllRetry removes dir, retrying for a few seconds while something still
// writes into it.
func removeAllRetry(t *testing.T, dir string) {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("removing %s: %v", dir, err)
}

// settle waits until the page has drawn two more frames and run the tasks queued
// before them. Its answer comes after every event Chromium emitted before it (one
// connection, in order), so the events read afterwards include any console error
// or exception from the work done so far: a condition, not a guess like a sleep.
func settle(t *testing.T, c *cdpClient, s string) {
	t.Helper()
	var ready string
	if err := c.eval(s, `new Promise(function(done){ requestAnimationFrame(function(){ requestAnimationFrame(function(){
		setTimeout(function(){ done(document.body.getAttribute("data-ready") || ""); }, 0); }); }); })`, &ready); err != nil {
		t.Fatal(err)
	}
	if ready != "1" {
		t.Fatalf("the page is not ready (data-ready %q)", ready)
	}
}

// openPage navigates the session to url and waits until the page's script is done.
func openPage(t *testing.T, c *cdpClient, s, url string) time.Duration {
	start := time.Now()
	if err := c.call(s, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.waitEvent(func(m cdpMessage) bool { return m.SessionID == s && m.Method == "Page.loadEventFired" }, 120*time.Second); err != nil {
		t.Fatal("page load:", err)
	}
	var ready bool
	for deadline := time.Now().Add(60 * time.Second); !ready && time.Now().Before(deadline); {
		if err := c.eval(s, `document.body && document.body.getAttribute("data-ready") === "1"`, &ready); err != nil {
			t.Fatal(err)
		}
		if !ready {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatal("the page's script never finished (body data-ready unset)")
	}
	return time.Since(start)
}

// checkVirtual checks the coroutines table of p's page, which has more rows than the
// page draws whole: only a window of rows is in the DOM, the spacers account for the
// rest, scrolling to the end draws the last row in either sort order, and a link to a
// coroutine in the middle draws and highlights its row. It returns how long the
// scroll to the end and a sort by name took, in milliseconds.
func checkVirtual(t *testing.T, c *cdpClient, s string, p *format.Profile) (scrollMS, sortMS float64) {
	t.Helper()
	n := len(p.Coroutines)
	ids := make([]uint64, n)
	for i, co := range p.Coroutines {
		ids[i] = co.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var r struct {
		Drawn int     `json:"drawn"`
		Total float64 `json:"total"`
		Count string  `json:"count"`
	}
	expr := `(function(){
		var trs = document.querySelectorAll("#table-coroutines tbody tr:not(.spacer)"), h = trs[0].offsetHeight, total = trs.length;
		document.querySelectorAll("#table-coroutines tbody tr.spacer td").forEach(function(td){ total += td.offsetHeight / h; });
		return {drawn: trs.length, total: total, count: document.querySelector('[data-table="coroutines"] .count').textContent};
	})()`
	if err := c.eval(s, expr, &r); err != nil {
		t.Fatal(err)
	}
	if r.Drawn == 0 || r.Drawn > 2000 || r.Drawn >= n {
		t.Errorf("%d of %d coroutine rows in the DOM, want a window of them", r.Drawn, n)
	}
	if math.Abs(r.Total-float64(n)) > 1 {
		t.Errorf("rows and spacers stand for %.1f rows, want %d", r.Total, n)
	}
	if want := fmt.Sprintf("%d rows (drawn as you scroll)", n); r.Count != want {
		t.Errorf("row count says %q, want %q", r.Count, want)
	}
	// Sorted by id, descending then ascending: the end of the table is the smallest id,
	// then the largest.
	toEnd := `new Promise(function(done){
		var t0 = performance.now();
		window.scrollTo(0, document.getElementById("table-coroutines").getBoundingClientRect().bottom + window.pageYOffset - window.innerHeight);
		requestAnimationFrame(function(){ requestAnimationFrame(function(){
			var trs = document.querySelectorAll("#table-coroutines tbody tr:not(.spacer)");
			done({drawn: trs.length, last: trs[trs.length-1].id, ms: performance.now() - t0});
		}); });
	})`
	for i, want := range []uint64{ids[0], ids[n-1]} {
		if err := c.eval(s, `window.scrollTo(0, 0); document.querySelector('#table-coroutines th[data-key="id"]').click()`, nil); err != nil {
			t.Fatal(err)
		}
		var end struct {
			Drawn int     `json:"drawn"`
			Last  string  `json:"last"`
			MS    float64 `json:"ms"`
		}
		if err := c.eval(s, toEnd, &end); err != nil {
			t.Fatal(err)
		}
		scrollMS = max(scrollMS, end.MS)
		if end.Last != fmt.Sprintf("co-%d", want) || end.Drawn == 0 || end.Drawn > 2000 {
			t.Errorf("click %d on id, scrolled to the end: %d rows drawn, last %s; want a window ending at co-%d", i+1, end.Drawn, end.Last, want)
		}
	}
	if err := c.eval(s, `(function(){ var t0 = performance.now(); document.querySelector('#table-coroutines th[data-key="name"]').click(); return performance.now() - t0; })()`, &sortMS); err != nil {
		t.Fatal(err)
	}
	// A link to a coroutine deep in the table draws and highlights its row.
	id := fmt.Sprintf("co-%d", ids[n/2])
	var found bool
	if err := c.eval(s, `new Promise(function(done){
		window.addEventListener("hashchange", function(){ requestAnimationFrame(function(){
			var e = document.getElementById(`+strconv.Quote(id)+`); done(!!e && e.classList.contains("target")); }); }, {once: true});
		location.hash = "#`+id+`"; })`, &found); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("#%s did not draw and highlight its row", id)
	}
	return scrollMS, sortMS
}

// TestBrowserLarge opens the report of the large profile (PRINT_PROFILE_LARGE, see
// bench_test.go) and logs how long the page takes to become ready, to draw the end of
// the coroutines table and to sort it: a measurement for docs/PERFORMANCE.md, run by
// hand. TestBrowser's virtual subtest checks the same behaviour on 5000 rows.
func TestBrowserLarge(t *testing.T) {
	in := os.Getenv("PRINT_PROFILE_LARGE")
	if in == "" {
		t.Skip("PRINT_PROFILE_LARGE not set")
	}
	bin := chromium(t)
	needEcharts(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "large.html")
	if code := run([]string{"-o", out, in}, io.Discard, os.Stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	p, err := format.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	c, s, _ := startBrowser(t, bin)
	t.Logf("page ready in %v", openPage(t, c, s, "file://"+out))
	scroll, sortMS := checkVirtual(t, c, s, p)
	t.Logf("%d rows: scrolled to the end in %.0f ms, sorted by name in %.0f ms", len(p.Coroutines), scroll, sortMS)
	settle(t, c, s)
	checkEvents(t, c.Events(), "file://"+out)
}
