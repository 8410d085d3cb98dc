//go:build !unix

package atomicfile

import "os"

// The platform's part of the policy where there is no Unix (Windows): no owners to
// keep, no umask, and no advisory lock, so a stale temporary file cannot be told from
// a live writer's and is left alone (the policy's other guarantees hold: the output is
// replaced by a rename only when complete).

const (
	inPlaceFlags = 0
	staleFlags   = 0
)

type owner struct{}

func ownerOf(os.FileInfo) owner { return owner{} }

func (owner) give(*os.File) {}

// writable refuses a read-only file, as the shell would.
func writable(_ string, st os.FileInfo) error {
	if st.Mode().Perm()&0o200 == 0 {
		return os.ErrPermission
	}
	return nil
}

func lock(*os.File) error { return nil }

// unlockedStale is false: without a lock a live writer's file looks the same.
func unlockedStale(*os.File) bool { return false }

func umask() os.FileMode { return 0 }
