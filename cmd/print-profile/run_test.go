package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coroprof/coroprof/format"
)

var update = flag.Bool("update", false, "rewrite the golden structure files in testdata/")

// profiles are format's golden profiles at the repository root.
var profiles = []string{"small", "medium", "multiloop", "ticksonly"}

// profilePath names a golden profile; PRINT_PROFILE_TESTDATA points at another copy of
// the directory (for example the committed files, while format's are being rewritten).
func profilePath(name string) string {
	dir := os.Getenv("PRINT_PROFILE_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "testdata")
	}
	return filepath.Join(dir, name+".bin")
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestGolden renders each golden profile and compares the page's structure (sections,
// header fields, table columns and leading rows, charts, call graph, flame graph and
// longest slices; not the inlined runtime) with testdata/NAME.structure.
func TestGolden(t *testing.T) {
	needEcharts(t)
	for _, name := range profiles {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCmd(profilePath(name))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := structure(t, out)
			golden := filepath.Join("testdata", name+".structure")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("structure of %s differs from %s (go test -update after a deliberate change):\n%s", name, golden, diff(string(want), got))
			}
		})
	}
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			if b.Len() > 4000 {
				break
			}
		}
	}
	return b.String()
}

var (
	reTag      = regexp.MustCompile(`<[^>]*>`)
	reSection  = regexp.MustCompile(`<section id="([^"]+)"`)
	reH2       = regexp.MustCompile(`<h2>(.*?)</h2>`)
	reMeta     = regexp.MustCompile(`<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>`)
	reCG       = regexp.MustCompile(`(?s)<div class="cg" id="(cg-\d+)">\s*<div class="cgh">(.*?)</div>(.*?)</table>`)
	reCGRow    = regexp.MustCompile(`<tr class="(caller|self|callee)">(.*?)</tr>`)
	reLongRow  = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	reTR       = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	reDiag     = regexp.MustCompile(`<b class="diag">(.*?)</b>`)
	reData     = regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`)
	reScripts  = regexp.MustCompile(`<script`)
	reChartDiv = regexp.MustCompile(`data-chart="([^"]+)"`)
)

func text(s string) string {
	return html.UnescapeString(strings.Join(strings.Fields(reTag.ReplaceAllString(s, " ")), " "))
}

// structure is the page reduced to what a reader sees, one fact a line.
func structure(t *testing.T, page string) string {
	t.Helper()
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p("scripts %d", len(reScripts.FindAllString(page, -1)))
	for _, m := range reSection.FindAllStringSubmatch(page, -1) {
		p("section %s", m[1])
	}
	for _, m := range reH2.FindAllStringSubmatch(page, -1) {
		p("h2 %s", text(m[1]))
	}
	for _, m := range reMeta.FindAllStringSubmatch(page, -1) {
		p("meta %s: %s", text(m[1]), text(m[2]))
	}
	for _, m := range reChartDiv.FindAllStringSubmatch(page, -1) {
		p("chart div %s", m[1])
	}
	dm := reData.FindStringSubmatch(page)
	if dm == nil {
		t.Fatal("no embedded report data")
	}
	var data struct {
		TPS    uint64 `json:"tps"`
		Tables []struct {
			ID   string `json:"id"`
			Cols []struct {
				K, L, T string
				Tot     float64
				Est     bool
			} `json:"cols"`
			Rows [][]any `json:"rows"`
			Sort int     `json:"sort"`
			Name int     `json:"name"`
		} `json:"tables"`
		Charts map[string]struct {
			Series []struct {
				Type string `json:"type"`
				Data []any  `json:"data"`
			} `json:"series"`
		} `json:"charts"`
		Flames []struct {
			Label string `json:"label"`
			Tree  struct {
				V uint64 `json:"v"`
				C []any  `json:"c"`
			} `json:"tree"`
		} `json:"flames"`
	}
	if err := json.Unmarshal([]byte(dm[1]), &data); err != nil {
		t.Fatalf("embedded data is not JSON: %v", err)
	}
	for _, tb := range data.Tables {
		var cols []string
		for _, c := range tb.Cols {
			s := c.K + ":" + c.T
			if c.Tot != 0 {
				s += "%"
			}
			if c.Est {
				s += "≈"
			}
			cols = append(cols, s)
		}
		p("table %s: %d rows, sorted by %s, filtered on %s", tb.ID, len(tb.Rows), tb.Cols[tb.Sort].K, tb.Cols[tb.Name].K)
		p("  columns %s", strings.Join(cols, " "))
		for i, r := range tb.Rows {
			if i == 5 {
				break
			}
			cells, _ := json.Marshal(r)
			p("  row %s", cells)
		}
	}
	for _, k := range []string{"where", "top", "timeline"} {
		c, ok := data.Charts[k]
		if !ok {
			p("chart %s: none", k)
			continue
		}
		for _, s := range c.Series {
			p("chart %s: %s series, %d items", k, s.Type, len(s.Data))
		}
	}
	for _, f := range data.Flames {
		p("flame %q: %d samples, %d root children", f.Label, f.Tree.V, len(f.Tree.C))
	}
	cgs := reCG.FindAllStringSubmatch(page, -1)
	p("call graph: %d entries", len(cgs))
	for i, m := range cgs {
		if i == 4 {
			break
		}
		p("  %s %s", m[1], text(m[2]))
		for _, r := range reCGRow.FindAllStringSubmatch(m[3], -1) {
			p("    %s %s", r[1], text(r[2]))
		}
	}
	if lm := reLongRow.FindStringSubmatch(page[strings.Index(page, `<section id="longest">`):]); lm != nil {
		rows := reTR.FindAllStringSubmatch(lm[1], -1)
		p("longest slices: %d", len(rows))
		for _, r := range rows {
			if d := reDiag.FindStringSubmatch(r[1]); d != nil {
				p("  %s", text(r[1][:strings.Index(r[1], "</td>")])+" → "+text(d[1]))
			}
		}
	} else {
		p("longest slices: none")
	}
	return b.String()
}

// TestBadInput: every damaged file is exit 1 with exactly one line naming the file,
// never a panic (a panic fails the test by crashing it).
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(profilePath("small"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := func(what string, data []byte, want string) {
		t.Helper()
		path := filepath.Join(dir, "bad.bin")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCmd(path)
		if code != 1 || out != "" {
			t.Fatalf("%s: exit %d with %d bytes of output, want 1 and none; stderr %q", what, code, len(out), errs)
		}
		if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "print-profile: "+path+": ") {
			t.Fatalf("%s: stderr %q, want one line naming the file", what, errs)
		}
		if want != "" && !strings.Contains(errs, want) {
			t.Fatalf("%s: stderr %q does not say %q", what, errs, want)
		}
	}
	check("empty", nil, "empty")
	check("wrong magic", append([]byte("NOTAPROF"), good[8:]...), "not a coroutine profile")
	future := bytes.Clone(good)
	binary.LittleEndian.PutUint32(future[len(format.Magic):], format.Version+1)
	check("future version", future, "unsupported profile version")
	for n := 1; n < len(good); n++ { // truncated at every byte, so at and inside every section
		check(fmt.Sprintf("truncated to %d bytes", n), good[:n], "")
	}
	for i := range good { // every byte flipped
		bad := bytes.Clone(good)
		bad[i] ^= 0xff
		check(fmt.Sprintf("byte %d flipped", i), bad, "")
	}
	check("trailing garbage", append(bytes.Clone(good), 0), "")

	code, _, errs := runCmd(filepath.Join(dir, "missing.bin"))
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "missing.bin") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no PROFILE"},
		{[]string{"-nosuchflag", "x.bin"}, "-nosuchflag"},
		{[]string{"a", "b", "c"}, "too many arguments"},
		{[]string{"-o"}, "-o"},
		{[]string{"-json", "-text", "x.bin"}, "-json and -text"},
		{[]string{"-text", "-sort", "bogus", "x.bin"}, "unknown sort column"},
		{[]string{"-top", "-1", "-text", "x.bin"}, "-top -1"},
		{[]string{"-http", ":0", "-json", "x.bin"}, "-http"},
		{[]string{"-merge", "x.bin"}, "-merge needs at least two profiles"},
		{[]string{"-top", "5", "x.bin"}, "-top ranks the rows of -text"},
		{[]string{"-sort", "cpu", "-json", "x.bin"}, "-sort ranks the rows of -text"},
		{[]string{"x.bin", "-sort", "cpu"}, "-sort ranks the rows of -text"},
		{[]string{"-http", "foo:bar", "x.bin"}, `-http foo:bar: port "bar"`},
		{[]string{"-http", "99999", "x.bin"}, "-http 99999: port"},
		{[]string{"-http", "1:2:3", "x.bin"}, "-http 1:2:3: too many colons"},
	} {
		code, out, errs := runCmd(c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("print-profile %q: exit %d, stdout %q, stderr %q; want 2 and one line with %q", c.args, code, out, errs, c.want)
		}
	}
	code, out, errs := runCmd("-h")
	if code != 0 || !strings.HasPrefix(out, "usage: print-profile") || !strings.Contains(out, "-pprof") || errs != "" {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestOutputFile: -o writes the same page as stdout, and a failed run leaves neither
// the file nor a temporary beside it.
func TestOutputFile(t *testing.T) {
	needEcharts(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	code, stdout, errs := runCmd("-o", out, profilePath("small"))
	if code != 0 || stdout != "" {
		t.Fatalf("-o: exit %d, stdout %d bytes, stderr %q", code, len(stdout), errs)
	}
	_, page, _ := runCmd(profilePath("small"))
	if b, err := os.ReadFile(out); err != nil || string(b) != page {
		t.Fatalf("-o file differs from stdout (%d vs %d bytes, %v)", len(b), len(page), err)
	}
	// A bad input must not replace the good report, nor leave a temporary.
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, []byte("junk"), 0o644)
	if code, _, _ := runCmd("-o", out, bad); code != 1 {
		t.Fatalf("bad input with -o: exit %d", code)
	}
	if b, _ := os.ReadFile(out); string(b) != page {
		t.Error("a failed run changed the existing report")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the output directory: %q", names)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "r.html")
	if code, _, errs := runCmd("-o", missing, profilePath("small")); code != 1 || errs != "print-profile: writing "+missing+": no such file or directory\n" {
		t.Errorf("-o into a missing directory: exit %d, %q; want 1 naming the path given", code, errs)
	}
}

// TestOutputIsInput: an output that is an input profile (by the same or another
// spelling, or a hard link), or the other output, is refused as bad usage before
// anything is written, and the profile is left as it was.
func TestOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile(profilePath("small"))
	if err != nil {
		t.Fatal(err)
	}
	s, o := filepath.Join(dir, "s.bin"), filepath.Join(dir, "old.bin")
	for _, p := range []string{s, o} {
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.bin")
	if err := os.Link(s, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "sub", "..", "s.bin") // s.bin spelled another way
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", s, s}, "-o " + s + " is also an input"},
		{[]string{"-pprof", s, s}, "-pprof " + s + " is also an input"},
		{[]string{"-o", o, s, o}, "-o " + o + " is also an input"},
		{[]string{"-json", "-o", other, s}, "is also an input"},
		{[]string{"-o", link, s}, "is also an input"},
		{[]string{"-merge", "-pprof", o, s, o}, "-pprof " + o + " is also an input"},
		{[]string{"-merge", "-o", s, s, o}, "is also an input"},
		{[]string{"-pprof", filepath.Join(dir, "x"), "-o", filepath.Join(dir, "x"), s}, "are the same file"},
	} {
		code, out, errs := runCmd(c.args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("print-profile %q: exit %d, stdout %d bytes, stderr %q; want 2 and one line with %q", c.args, code, len(out), errs, c.want)
		}
	}
	for _, p := range []string{s, o} {
		if b, _ := os.ReadFile(p); !bytes.Equal(b, orig) {
			t.Errorf("%s was changed", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("an output was written although the outputs collide")
	}
}

// TestInterspersedFlags: flags may follow PROFILE, and "--" ends them.
func TestInterspersedFlags(t *testing.T) {
	code, want, errs := runCmd("-text", "-top", "3", profilePath("small"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, args := range [][]string{
		{profilePath("small"), "-text", "-top", "3"},
		{"-text", profilePath("small"), "-top=3"},
		{"-top", "3", "-text", "--", profilePath("small")},
	} {
		if code, got, errs := runCmd(args...); code != 0 || got != want {
			t.Errorf("print-profile %q: exit %d, %q; output differs from -text -top 3 PROFILE: %v", args, code, errs, got != want)
		}
	}
	// After "--" a leading dash is a file name, not a flag.
	if code, _, errs := runCmd("-text", "--", "-text"); code != 1 || !strings.Contains(errs, "-text") {
		t.Errorf(`-text -- -text: exit %d, %q; want 1 (no file named "-text")`, code, errs)
	}
}

// TestSortUnmeasured: ranking by a quantity the profile did not measure is bad input
// naming the file, in one line, with nothing written.
func TestSortUnmeasured(t *testing.T) {
	for _, args := range [][]string{
		{"-text", "-sort", "cpu", profilePath("ticksonly")},
		{"-text", "-sort", "minflt", profilePath("ticksonly")},
	} {
		code, out, errs := runCmd(args...)
		if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "was not measured in "+profilePath("ticksonly")) {
			t.Errorf("print-profile %q: exit %d, stdout %d bytes, stderr %q", args, code, len(out), errs)
		}
	}
	if code, _, errs := runCmd("-text", "-sort", "ticks", profilePath("ticksonly")); code != 0 {
		t.Errorf("-sort ticks on a ticks-only profile: exit %d, %q", code, errs)
	}
}

// TestOutputMode: a new -o file gets 0666 less the umask, as os.Create would give it,
// and a replaced file keeps its mode.
func TestOutputMode(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	f, err := os.Create(ref)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(ref)
	out := filepath.Join(dir, "r.txt")
	if code, _, errs := runCmd("-text", "-o", out, profilePath("small")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, _ := os.Stat(out); got.Mode().Perm() != st.Mode().Perm() {
		t.Errorf("new output mode %v, os.Create gives %v", got.Mode().Perm(), st.Mode().Perm())
	}
	if err := os.Chmod(out, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd("-text", "-o", out, profilePath("small")); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, _ := os.Stat(out); got.Mode().Perm() != 0o600 {
		t.Errorf("replaced output mode %v, want its own 0600 kept", got.Mode().Perm())
	}
}

// TestOutputInterrupted: SIGINT during the write removes the temporary file, so no
// partial output is left behind (the real handler then exits 130).
func TestOutputInterrupted(t *testing.T) {
	dir := t.TempDir()
	got := make(chan os.Signal, 1)
	old := interrupted
	interrupted = func(sig os.Signal) { got <- sig }
	defer func() { interrupted = old }()
	out := filepath.Join(dir, "r.html")
	err := writeOutput(out, nil, func(w io.Writer) error {
		io.WriteString(w, "partial")
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case sig := <-got:
			if sig != os.Interrupt {
				t.Errorf("interrupted by %v", sig)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("SIGINT never reached the handler")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("after SIGINT the directory holds %d files, want none", len(entries))
		}
		return errors.New("stop") // the real handler would have exited
	})
	if err == nil {
		t.Fatal("writeOutput succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left", len(entries))
	}
}
