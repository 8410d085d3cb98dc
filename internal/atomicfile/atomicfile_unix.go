//go:build unix

package atomicfile

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The platform's part of the policy on Unix: owners, access(2), flock(2), the umask.

const (
	inPlaceFlags = syscall.O_NOCTTY                        // a terminal written in place is not made ours
	staleFlags   = syscall.O_NOFOLLOW | syscall.O_NONBLOCK // a stale temporary is a plain file
)

// owner is a replaced file's owner and group (st nil: none, a new file).
type owner struct{ st *syscall.Stat_t }

func ownerOf(st os.FileInfo) owner {
	o, _ := st.Sys().(*syscall.Stat_t)
	return owner{o}
}

// give makes f owned as o where o differs from this process (an error is ignored:
// only root may give a file away).
func (o owner) give(f *os.File) {
	if s := o.st; s != nil && (int(s.Uid) != os.Geteuid() || int(s.Gid) != os.Getegid()) {
		f.Chown(int(s.Uid), int(s.Gid))
	}
}

// writable reports whether this process may write target, as the shell's > would.
func writable(target string, _ os.FileInfo) error { return unix.Access(target, unix.W_OK) }

// lock takes f's lock for as long as it is open.
func lock(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) }

// unlockedStale reports whether nobody holds f's lock (its writer is gone), taking it.
func unlockedStale(f *os.File) bool { return lock(f) == nil }

func umask() os.FileMode {
	u := syscall.Umask(0)
	syscall.Umask(u)
	return os.FileMode(u)
}
