package profiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	coro "github.com/coroprof/coroprof/runtime"
)

// TestBadPathAtStart: a profile path that cannot be written fails Go and Start at
// once, with one line naming it, before any work is done: a whole session is not lost
// to a typo discovered at the write.
func TestBadPathAtStart(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "dir", "p.bin")
	for _, c := range []struct{ path, want string }{
		{missing, "profiler: writing " + missing + ": no such file or directory"},
		{dir, "profiler: writing " + dir + ": is a directory"},
	} {
		ran := false
		err := Go(func() { ran = true; coro.EventLoop() }, File(c.path))
		if err == nil || err.Error() != c.want || ran {
			t.Errorf("Go(File(%s)): %v, fn ran: %v; want %q before fn runs", c.path, err, ran, c.want)
		}
		if err := Start(File(c.path)); err == nil || err.Error() != c.want {
			t.Errorf("Start(File(%s)): %v; want %q", c.path, err, c.want)
		}
		if err := Stop(); err != ErrNotActive {
			t.Errorf("after a refused Start, Stop: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the checks left %d files", len(entries))
	}
	// A good path still works, and the check leaves nothing behind.
	good := filepath.Join(dir, "p.bin")
	if err := Go(coro.EventLoop, File(good), SampleRate(0)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), "p.bin") {
		t.Errorf("after a profile, the directory holds %v", entries)
	}
}
