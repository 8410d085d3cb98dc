package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/synth"
	"github.com/google/pprof/profile"
	"golang.org/x/sys/unix"
)

// mknod makes a character device like /dev/null (1,3) or /dev/full (1,7) in the test's
// own directory, so a broken writer replaces the test's copy, never the system's.
func mknod(t *testing.T, path string, minor int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	if err := mknodMem(path, minor); err != nil {
		t.Skipf("mknod: %v", err)
	}
}

// TestOutputKinds: -o and -pprof follow atomicfile's policy: devices and FIFOs are
// written in place and stay what they were, a symbolic link stays a link and its
// target is replaced keeping its mode, "-" is standard output, a directory is refused,
// and every failure is exit 1 with one line naming the output.
func TestOutputKinds(t *testing.T) {
	dir := t.TempDir()
	small := profilePath("small")
	_, want, _ := runCmd("-text", small)

	null := filepath.Join(dir, "null")
	mknod(t, null, 3)
	if code, _, errs := runCmd("-text", "-o", null, small); code != 0 {
		t.Errorf("-o a null device: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd("-pprof", null, small); code != 0 {
		t.Errorf("-pprof a null device: exit %d, %q", code, errs)
	}
	if st, _ := os.Lstat(null); st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("the null device became %v", st.Mode())
	}

	full := filepath.Join(dir, "full")
	mknod(t, full, 7)
	for _, args := range [][]string{{"-text", "-o", full, small}, {"-pprof", full, small}} {
		code, out, errs := runCmd(args...)
		if code != 1 || out != "" || errs != "print-profile: writing "+full+": no space left on device\n" {
			t.Errorf("print-profile %q: exit %d, stderr %q; want 1 and one line naming %s", args, code, errs, full)
		}
	}
	if st, _ := os.Lstat(full); st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("the full device became %v", st.Mode())
	}

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The test holds both ends (O_RDWR never blocks on Linux), so the writer's open
	// does not wait for a reader and a writer that replaced the FIFO cannot hang the
	// test; the report (12 KB) fits the pipe's buffer.
	rd, err := unix.Open(fifo, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0) // raw: os would wait in its poller
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rd)
	if code, _, errs := runCmd("-text", "-o", fifo, small); code != 0 {
		t.Errorf("-o FIFO: exit %d, %q", code, errs)
	}
	buf := make([]byte, 1<<16)
	n, _ := unix.Read(rd, buf)
	if string(buf[:max(n, 0)]) != want {
		t.Errorf("the FIFO's reader got %d bytes, want the %d of -text", n, len(want))
	}
	if st, _ := os.Lstat(fifo); st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", st.Mode())
	}

	target := filepath.Join(dir, "target.txt")
	os.WriteFile(target, []byte("old"), 0o600)
	link := filepath.Join(dir, "link.txt")
	os.Symlink("target.txt", link)
	if code, _, errs := runCmd("-text", "-o", link, small); code != 0 {
		t.Errorf("-o symlink: exit %d, %q", code, errs)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link became %v", st.Mode())
	}
	if b, _ := os.ReadFile(target); string(b) != want {
		t.Errorf("the link's target holds %d bytes, want the report", len(b))
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("the link's target has mode %v, want its 0600 kept", st.Mode().Perm())
	}

	if code, out, errs := runCmd("-text", "-o", "-", small); code != 0 || out != want {
		t.Errorf("-o -: exit %d, %q, stdout %d bytes, want the %d of -text", code, errs, len(out), len(want))
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`-o - created a file named "-"`)
	}
	if code, out, errs := runCmd("-pprof", "-", small); code != 0 || !strings.HasPrefix(out, "\x1f\x8b") {
		t.Errorf("-pprof -: exit %d, %q, stdout %q...; want a gzipped pprof", code, errs, out[:min(len(out), 8)])
	}
	if code, _, errs := runCmd("-pprof", "-", "-text", small); code != 2 || strings.Count(errs, "\n") != 1 {
		t.Errorf("-pprof - -text: exit %d, %q; want 2 (both on stdout)", code, errs)
	}

	if code, _, errs := runCmd("-text", "-o", dir, small); code != 1 || errs != "print-profile: writing "+dir+": is a directory\n" {
		t.Errorf("-o a directory: exit %d, %q", code, errs)
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "fifo full link.txt null target.txt" {
		t.Errorf("the directory holds %q", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestHostileInputs: inputs that are not profile files get exit 1 and one line naming
// them, at once: an endless device, a directory, a file declaring a huge section.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.bin")
	b := append([]byte("COROPRF\x00"), 1, 0, 0, 0, 2, 0, 0, 0)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0x40) // length 2^62
	os.WriteFile(huge, b, 0o644)
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "print-profile: /dev/zero: format: at offset 0: not a coroutine profile"},
		{dir, "print-profile: read " + dir + ": is a directory"},
		{huge, "print-profile: " + huge + `: format: section "strings" at offset 12: the section declares 4611686018427387904 bytes`},
	} {
		code, out, errs := runCmd("-text", c.path)
		if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, c.want) {
			t.Errorf("print-profile -text %s: exit %d, stderr %q; want 1 and one line starting %q", c.path, code, errs, c.want)
		}
	}
}

// hostileNames are names a program may give its coroutines, functions or arguments
// that a terminal would act on or that would break a line.
var hostileNames = []string{
	"esc\x1b[2J\x1b[31mred",      // clear screen, colour
	"osc\x1b]0;owned title\x07",  // window title, BEL
	"nul\x00byte",                // NUL
	"rlo\u202etxt.exe",           // right-to-left override
	"split\nrow\r\n",             // newlines
	"bad utf8 \xff\xfe",          // invalid UTF-8
	"c1 \u009b2J",                // 8-bit CSI
	strings.Repeat("long", 5000), // very long
}

// TestTextHostileNames: -text shows every hostile name escaped (\x1b, \n, \u202e,
// \xff ...): no control byte but the line ends, no bidirectional control, valid
// UTF-8, one row per coroutine. -json and the HTML page keep the bytes as data, in
// their own escaping (JSON \u001b; html/template), and the pprof file carries the
// names unchanged for pprof's own display.
func TestTextHostileNames(t *testing.T) {
	p := synth.Profile(11, synth.Options{Coroutines: len(hostileNames), Samples: 20})
	for i := range p.Coroutines {
		p.Coroutines[i].Name = hostileNames[i%len(hostileNames)]
	}
	p.Meta.Args = append(p.Meta.Args, "arg\x1b]52;c;cGF3bmVk\x07")
	p.Meta.Notes = append(p.Meta.Notes, "note\u202eevil\n")
	path := filepath.Join(t.TempDir(), "hostile.bin")
	if err := format.WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("-text", "-top", "0", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !utf8.ValidString(out) {
		t.Error("-text output is not valid UTF-8")
	}
	for i, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Fatalf("-text output holds %U at byte %d: %q", r, i, out[max(i-20, 0):min(i+20, len(out))])
		}
	}
	for _, want := range []string{`esc\x1b[2J\x1b[31mred`, `osc\x1b]0;owned title\x07`, `nul\x00byte`, `rlo\u202etxt.exe`,
		`split\nrow\r\n`, `bad utf8 \xff\xfe`, `c1 \u009b2J`, `arg\x1b]52;c;cGF3bmVk\x07`, `note\u202eevil\n`} {
		if !strings.Contains(out, want) {
			t.Errorf("-text does not show %s", want)
		}
	}
	code, out, errs = runCmd("-json", path)
	if code != 0 || strings.ContainsAny(out, "\x1b\x00\x07") || !strings.Contains(out, `esc\u001b[2J`) {
		t.Errorf("-json: exit %d, %q: control bytes not escaped as JSON", code, errs)
	}
	// pprof prints labels and frame names as they are: they are escaped in the file.
	pb := filepath.Join(t.TempDir(), "h.pb.gz")
	if code, _, errs := runCmd("-pprof", pb, path); code != 0 {
		t.Fatalf("-pprof: exit %d, %q", code, errs)
	}
	f, err := os.Open(pb)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pp, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, s := range pp.Sample {
		shown = append(shown, s.Label["coro_name"]...)
	}
	for _, fn := range pp.Function {
		shown = append(shown, fn.Name)
	}
	found := false
	for _, name := range shown {
		found = found || name == `rlo\u202etxt.exe`
		if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool {
			return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e)
		}) {
			t.Errorf("pprof name %q is not escaped", name)
		}
	}
	if !found {
		t.Errorf("no pprof label shows the RLO name escaped")
	}
}
