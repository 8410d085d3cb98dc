package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiskFull: when the filesystem fills while the temporary is written, the error
// names the output, the previous output is intact and no temporary is left. The
// filesystem is a 64 KiB tmpfs mounted for the test (root only).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer unix.Unmount(dir, 0)
	path := filepath.Join(dir, "out.html")
	os.WriteFile(path, []byte("previous"), 0o644)
	err := write(t, path, strings.Repeat("x", 1<<20))
	if err == nil || err.Error() != "writing "+path+": no space left on device" {
		t.Errorf("disk full: %v", err)
	}
	if got := mustRead(t, path); got != "previous" {
		t.Errorf("the output holds %d bytes, want the previous contents", len(got))
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
}
