package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func write(t *testing.T, path, content string) error {
	t.Helper()
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entries lists dir, to check that no temporary file is left.
func entries(t *testing.T, dir string) []string {
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

// withUmask runs fn under umask u (tests in this package do not run in parallel).
func withUmask(u int, fn func()) {
	old := syscall.Umask(u)
	defer syscall.Umask(old)
	fn()
}

func TestModes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o077, 0o600}, {0o022, 0o644}, {0o002, 0o664}} {
		path := filepath.Join(dir, fmt.Sprintf("new-%03o", c.umask))
		withUmask(c.umask, func() {
			if got := NewFileMode(); got != c.want {
				t.Errorf("umask %03o: NewFileMode %v, want %v", c.umask, got, c.want)
			}
			if err := write(t, path, "x"); err != nil {
				t.Fatal(err)
			}
		})
		if st, _ := os.Stat(path); st.Mode().Perm() != c.want {
			t.Errorf("umask %03o: new file mode %v, want %v", c.umask, st.Mode().Perm(), c.want)
		}
	}
	// A replaced file keeps its own mode whatever the umask.
	path := filepath.Join(dir, "kept")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o640)
	withUmask(0, func() {
		if err := write(t, path, "new"); err != nil {
			t.Fatal(err)
		}
	})
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("replaced file mode %v, want its own 0640", st.Mode().Perm())
	}
	if got := mustRead(t, path); got != "new" {
		t.Errorf("replaced file holds %q", got)
	}
}

func TestReplaceKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file away")
	}
	path := filepath.Join(t.TempDir(), "owned")
	os.WriteFile(path, []byte("old"), 0o644)
	if err := os.Chown(path, 12345, 23456); err != nil {
		t.Fatal(err)
	}
	if err := write(t, path, "new"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 12345 || s.Gid != 23456 {
		t.Errorf("owner %d:%d, want 12345:23456 kept", s.Uid, s.Gid)
	}
}

// TestDevices: a device is written in place, never replaced by a regular file, and a
// write error on it is reported naming it.
func TestDevices(t *testing.T) {
	if err := write(t, "/dev/null", "discarded"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", st.Mode(), err)
	}
	err := write(t, "/dev/full", strings.Repeat("x", 1<<17))
	if err == nil || err.Error() != "writing /dev/full: no space left on device" {
		t.Errorf("/dev/full: %v", err)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("/dev/full: %v is not ENOSPC", err)
	}
	if st, _ := os.Stat("/dev/full"); st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/full is no longer a character device: %v", st.Mode())
	}
}

func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := write(t, fifo, "through the pipe"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("reader got %q", s)
	}
	if st, _ := os.Lstat(fifo); st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", st.Mode())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
}

// TestSymlinks: a link is followed (as the shell's > does): the link stays and what it
// points to is replaced atomically, or created if it does not exist yet.
func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	target := filepath.Join(sub, "target")
	os.WriteFile(target, []byte("old"), 0o600)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("sub/target", link); err != nil {
		t.Fatal(err)
	}
	link2 := filepath.Join(dir, "link2") // a chain of two
	os.Symlink("link", link2)
	if err := write(t, link2, "new"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, link2} {
		if st, _ := os.Lstat(l); st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link: %v", l, st.Mode())
		}
	}
	if got := mustRead(t, target); got != "new" {
		t.Errorf("target holds %q", got)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want 0600 kept", st.Mode().Perm())
	}

	dangling := filepath.Join(dir, "dangling")
	os.Symlink("sub/created", dangling)
	if err := write(t, dangling, "made"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(sub, "created")); got != "made" {
		t.Errorf("dangling link's target holds %q", got)
	}

	// A relative link with ".." inside a symlinked directory: ".." is taken from the
	// directory's real place, as the kernel does, not by cleaning the path.
	real := filepath.Join(dir, "real", "inner")
	os.MkdirAll(real, 0o755)
	os.Symlink("real/inner", filepath.Join(dir, "alias"))
	os.Symlink("../outside", filepath.Join(real, "up"))
	if err := write(t, filepath.Join(dir, "alias", "up"), "climbed"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(dir, "real", "outside")); got != "climbed" {
		t.Errorf("a link with .. in a symlinked directory wrote elsewhere: %q", got)
	}

	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	if err := write(t, loop, "x"); err == nil || !strings.HasPrefix(err.Error(), "writing "+loop+": ") {
		t.Errorf("a link to itself: %v", err)
	}
}

func TestRefused(t *testing.T) {
	dir := t.TempDir()
	if err := write(t, dir, "x"); err == nil || err.Error() != "writing "+dir+": is a directory" {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "p.bin")
	err := write(t, missing, "x")
	if err == nil || err.Error() != "writing "+missing+": no such file or directory" {
		t.Errorf("missing directory: %v", err)
	}
	if err := Check(missing); err == nil || err.Error() != "writing "+missing+": no such file or directory" {
		t.Errorf("Check of a missing directory: %v", err)
	}
	if err := Check(dir); err == nil {
		t.Errorf("Check of a directory passed")
	}
	if err := Check(filepath.Join(dir, "fine")); err != nil {
		t.Errorf("Check of a new file: %v", err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Errorf("Check left %q", names)
	}
}

// TestAbort: an aborted or failed output leaves the previous file and no temporary.
func TestAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	os.WriteFile(path, []byte("previous"), 0o644)
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(f.TempName()), ".out.tmp-") {
		t.Errorf("temporary name %q", f.TempName())
	}
	io.WriteString(f, "partial")
	f.Abort()
	if got := mustRead(t, path); got != "previous" {
		t.Errorf("after Abort the output holds %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
}

// TestStale: Create removes temporaries of its own pattern that no live writer holds,
// and nothing else.
func TestStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.bin")
	keep := []string{".p.bin.tmp-abc", ".p.bin.tmp-", ".q.bin.tmp-123", "p.bin.tmp-123", ".p.bin.tmp-12.x"}
	for _, n := range append([]string{".p.bin.tmp-123", ".p.bin.tmp-9"}, keep...) {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	live, err := Create(path) // a writer still at work: its lock keeps its temporary
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if err := write(t, path, "done"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(entries(t, dir), " ")
	want := strings.Join(append(keep, filepath.Base(live.TempName()), "p.bin"), " ")
	for _, n := range strings.Fields(want) {
		if !strings.Contains(" "+got+" ", " "+n+" ") {
			t.Errorf("%s was removed; directory: %s", n, got)
		}
	}
	for _, n := range []string{".p.bin.tmp-123", ".p.bin.tmp-9"} {
		if strings.Contains(" "+got+" ", " "+n+" ") {
			t.Errorf("stale %s was kept", n)
		}
	}
}

// TestKilledChild is the child of TestSIGKILL: it starts an output, writes part of it,
// reports its temporary file and waits to be killed.
func TestKilledChild(t *testing.T) {
	path := os.Getenv("ATOMICFILE_CHILD")
	if path == "" {
		t.Skip("child of TestSIGKILL only")
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 1<<20))
	f.w.Flush()
	fmt.Println(f.TempName())
	select {}
}

// TestSIGKILL: a writer killed outright leaves its temporary file; the next writer of
// the same path removes it.
func TestSIGKILL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.bin")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD="+path)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child reported nothing")
	}
	tmp := sc.Text()
	if err := Check(path); err != nil { // the child is alive: its temporary stays
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("a live writer's temporary was removed: %v", err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if st, err := os.Stat(tmp); err != nil || st.Size() != 1<<20 {
		t.Fatalf("the killed child's temporary: %v", err)
	}
	if err := write(t, path, "next run"); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "p.bin" {
		t.Errorf("after the next run the directory holds %q, want just p.bin", names)
	}
}

// TestProcLinks: /dev/stdout and /dev/fd/N name an open file through /proc; it is
// written in place: a pipe gets the bytes, a regular file is truncated and written,
// and no temporary is made beside anything.
func TestProcLinks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := fmt.Sprintf("/dev/fd/%d", w.Fd())
	if err := write(t, path, "through /dev/fd"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b, _ := io.ReadAll(r); string(b) != "through /dev/fd" {
		t.Errorf("the pipe got %q", b)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "out")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	io.WriteString(f, "old contents, longer")
	if err := write(t, fmt.Sprintf("/dev/fd/%d", f.Fd()), "new"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, file); got != "new" {
		t.Errorf("the file holds %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
}

// TestCheckFIFO: Check of a FIFO does not open it (which would wait for a reader).
func TestCheckFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Check(fifo); err != nil {
		t.Fatal(err)
	}
}
