package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// mknodMem makes the memory device 1,minor (/dev/null is 3, /dev/full 7) at path.
func mknodMem(path string, minor int) error {
	return unix.Mknod(path, unix.S_IFCHR|0o666, int(unix.Mkdev(1, uint32(minor))))
}

// TestOutputDiskFull: when the filesystem fills while the output is written, the one
// line names the output (not its hidden temporary), the previous output survives and
// no temporary is left. The filesystem is a 16 KiB tmpfs mounted for the test.
func TestOutputDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=16k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer unix.Unmount(dir, 0)
	out := filepath.Join(dir, "m.json")
	os.WriteFile(out, []byte("previous"), 0o644)
	code, _, errs := runCmd("-json", "-o", out, profilePath("medium"))
	if code != 1 || errs != "print-profile: writing "+out+": no space left on device\n" {
		t.Errorf("disk full: exit %d, %q; want 1 and one line naming %s", code, errs, out)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, []byte("previous")) {
		t.Errorf("the previous output was changed (%d bytes)", len(b))
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("the directory holds %q", names)
	}
}
