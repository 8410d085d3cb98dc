package format

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileModes: a new profile gets 0666 less the umask, as os.Create gives
// (0600 under umask 077), and a replaced one keeps its own mode (a 0600 profile stays
// 0600).
func TestWriteFileModes(t *testing.T) {
	dir := t.TempDir()
	p := Synthetic(6, smallOpts)
	old := syscall.Umask(0o077)
	err := WriteFile(filepath.Join(dir, "new.bin"), p)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "new.bin")); st.Mode().Perm() != 0o600 {
		t.Errorf("new profile under umask 077: mode %v, want 0600", st.Mode().Perm())
	}
	kept := filepath.Join(dir, "kept.bin")
	os.WriteFile(kept, []byte("old"), 0o600)
	if err := WriteFile(kept, p); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(kept); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced 0600 profile: mode %v, want 0600 kept", st.Mode().Perm())
	}
}

// TestWriteFileKinds: a device is written in place, not replaced by a regular file
// (the test makes its own null device), and a temporary file that a killed writer
// left (.NAME.tmp-DIGITS, unlocked) is removed by the next WriteFile to the same
// path.
func TestWriteFileKinds(t *testing.T) {
	dir := t.TempDir()
	p := Synthetic(6, smallOpts)
	if os.Geteuid() == 0 {
		null := filepath.Join(dir, "null")
		if err := mknodNull(null); err != nil {
			t.Skipf("mknod: %v", err)
		}
		if err := WriteFile(null, p); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Lstat(null); st.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("the null device became %v", st.Mode())
		}
		os.Remove(null)
	}
	stale := filepath.Join(dir, ".p.bin.tmp-4242")
	os.WriteFile(stale, []byte("a killed writer's partial profile"), 0o600)
	if err := WriteFile(filepath.Join(dir, "p.bin"), p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("the stale temporary %s was left", stale)
	}
}
