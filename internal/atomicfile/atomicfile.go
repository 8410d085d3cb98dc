// Package atomicfile writes an output file so that nothing is lost and nothing is
// overwritten by surprise: the one writer behind the profile file (format.WriteFile)
// and print-profile's -o and -pprof.
//
// # Policy
//
// What happens depends on what the path names, after following symbolic links (as a
// shell's > does: the link stays, the file it points to is written):
//
//   - nothing, or a regular file: the output is written to a temporary file in the
//     same directory, synced, and renamed over the path only when complete, so a crash
//     or a full disk never leaves a file that looks whole and never loses the previous
//     one. A new file gets mode 0666 less the umask, as os.Create gives; a replaced
//     file keeps its mode (and, where permitted, its owner and group). A regular file
//     this process may not write is refused ("permission denied"), as the shell would,
//     although the rename could replace it. A replaced file is a new inode: its other
//     hard links keep the old contents.
//   - a directory: refused ("is a directory").
//   - anything else (a character device such as /dev/null or /dev/full, a FIFO), and
//     whatever a link into /proc names (/dev/stdout, /dev/fd/N: an open file, perhaps
//     a pipe with no name): it is opened for writing and written in place (a regular
//     file so reached is truncated first, as tee does), never replaced by a regular
//     file.
//
// Every error names the output as given, never the temporary file.
//
// # Temporary files
//
// A temporary file is named .BASE.tmp-DIGITS beside the output BASE and is locked
// (flock) by its writer for as long as it lives. A writer killed outright (SIGKILL,
// a power cut) leaves one behind; the next Create, or Check, for the same path removes
// every file of exactly that pattern whose lock nobody holds (the lock dies with its
// process), and nothing else: files of other names, and the temporaries of a writer
// still running, are left alone.
package atomicfile

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Error is a failure to write an output; it names the output as the caller gave it.
type Error struct {
	Path string // the output, as given to Create
	Err  error  // the cause, without the temporary file's name
}

func (e *Error) Error() string { return "writing " + e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// fail wraps err as an *Error naming path, dropping the name of the file the
// operation was on (a *PathError or *LinkError naming the temporary file).
func fail(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	return &Error{Path: path, Err: err}
}

// File is an output being written. Write buffers; Commit makes the output whole;
// Abort discards it. Exactly one of Commit or Abort must be called.
type File struct {
	path   string // as given: what errors name
	target string // path with symbolic links followed
	f      *os.File
	w      *bufio.Writer
	tmp    string      // temporary file's name; "" when writing in place
	mode   os.FileMode // for the temporary file
	owner  owner       // of a replaced file, where the platform has owners
	err    error       // the first write error
	closed bool
}

// maxLinks bounds the symbolic links followed, as the kernel's ELOOP does.
const maxLinks = 40

// resolve follows symbolic links from path to what they finally name, which may not
// exist (a dangling link: the output is created where it points, as > would). proc
// reports a link into /proc (/dev/stdout, /dev/fd/N): the kernel resolves those to an
// open file, which may have no name to rename over (a pipe), or whose opener expects
// it to stay the same file; they are written in place.
func resolve(path string) (target string, proc bool, err error) {
	p := path
	for range maxLinks {
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return p, false, nil
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", false, err
		}
		if strings.HasPrefix(dir, "/proc/") {
			return path, true, nil // /dev/fd/N: the directory is /proc/PID/fd
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			// Relative to the link's real directory: joined lexically to a path
			// through a symlinked directory, a ".." would climb the wrong tree.
			link = filepath.Join(dir, link)
		}
		if strings.HasPrefix(link, "/proc/") {
			return path, true, nil
		}
		p = link
	}
	return "", false, syscall.ELOOP
}

// inPlace opens target to be written in place: O_CREATE is left out (if it vanished
// meanwhile, failing beats creating a regular file in its place); a regular file
// (reached through /proc) is truncated, as tee or cp would.
func (a *File) inPlace(st os.FileInfo) error {
	flags := os.O_WRONLY | inPlaceFlags
	if st.Mode().IsRegular() {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(a.target, flags, 0)
	if err != nil {
		return fail(a.path, err)
	}
	a.f = f
	a.w = bufio.NewWriterSize(f, 1<<16)
	return nil
}

// Create opens path for writing under the package's policy.
func Create(path string) (*File, error) {
	if path == "" {
		return nil, &Error{Path: `""`, Err: errors.New("empty path")}
	}
	target, proc, err := resolve(path)
	if err != nil {
		return nil, fail(path, err)
	}
	a := &File{path: path, target: target, mode: NewFileMode()}
	st, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !proc:
	case err != nil:
		return nil, fail(path, err)
	case st.IsDir():
		return nil, fail(path, syscall.EISDIR)
	case proc || !st.Mode().IsRegular(): // a device, a FIFO, an open file through /proc
		if err := a.inPlace(st); err != nil {
			return nil, err
		}
		return a, nil
	default:
		if err := writable(target, st); err != nil {
			return nil, fail(path, err)
		}
		a.mode = st.Mode().Perm()
		a.owner = ownerOf(st)
	}
	f, err := createTemp(target)
	if err != nil {
		return nil, fail(path, err)
	}
	a.f, a.tmp = f, f.Name()
	a.w = bufio.NewWriterSize(f, 1<<16)
	return a, nil
}

// Check reports whether path could be written under the package's policy, creating
// and removing a temporary file beside it where Create would (so a missing or
// read-only directory shows now, not after the work), and removes stale temporaries.
// The error names path.
func Check(path string) error {
	if target, proc, err := resolve(path); err == nil {
		if st, err := os.Stat(target); err == nil && (proc || !st.Mode().IsRegular()) && !st.IsDir() {
			// A device or FIFO: opening it could block (a FIFO waits for a reader)
			// or act on it; whether it may be opened for writing is enough.
			if err := writable(target, st); err != nil {
				return fail(path, err)
			}
			return nil
		}
	}
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.Abort()
	return nil
}

// tmpPrefix is the temporary files' name before the random digits.
func tmpPrefix(target string) string { return "." + filepath.Base(target) + ".tmp-" }

// createTemp creates and locks a temporary file beside target, after removing stale
// ones. The lock is taken after the file exists, so a concurrent cleaner could find it
// unlocked in between and remove it: the name is then checked to still be this file.
func createTemp(target string) (*os.File, error) {
	dir := filepath.Dir(target)
	removeStale(dir, tmpPrefix(target))
	for range 10 {
		f, err := os.CreateTemp(dir, tmpPrefix(target)+"*")
		if err != nil {
			return nil, err
		}
		if err := lock(f); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if same(f, f.Name()) {
			return f, nil
		}
		f.Close() // removed by a cleaner before the lock was taken: try another name
	}
	return nil, errors.New("could not keep a temporary file beside it (removed by another process each time)")
}

// same reports whether name still refers to the open file f.
func same(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(name)
	return err == nil && os.SameFile(a, b)
}

// removeStale removes the temporary files in dir named prefix+DIGITS whose lock no
// process holds: those a killed writer left.
func removeStale(dir, prefix string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, n := range names {
		digits, ok := strings.CutPrefix(n, prefix)
		if !ok || digits == "" {
			continue
		}
		if _, err := strconv.ParseUint(digits, 10, 64); err != nil {
			continue
		}
		name := filepath.Join(dir, n)
		f, err := os.OpenFile(name, os.O_RDONLY|staleFlags, 0)
		if err != nil {
			continue
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() &&
			unlockedStale(f) && same(f, name) {
			os.Remove(name)
		}
		f.Close()
	}
}

// TempName is the temporary file being written, or "" when the output is written in
// place. A signal handler may remove it.
func (a *File) TempName() string { return a.tmp }

// Write buffers p for the output. A failure is an *Error naming the output.
func (a *File) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	n, err := a.w.Write(p)
	if err != nil {
		a.err = fail(a.path, err)
	}
	return n, a.err
}

// Commit makes the output whole: flushes, and for a temporary file syncs it, gives it
// its mode, renames it over the output and syncs the directory. On failure the output
// is as it was before Create (or, written in place, holds what was written).
func (a *File) Commit() error {
	if a.closed {
		return &Error{Path: a.path, Err: errors.New("already committed or aborted")}
	}
	if a.err != nil {
		a.Abort()
		return a.err
	}
	if err := a.w.Flush(); err != nil {
		a.Abort()
		return fail(a.path, err)
	}
	if a.tmp == "" {
		a.closed = true
		if err := a.f.Close(); err != nil {
			return fail(a.path, err)
		}
		return nil
	}
	if err := a.finishTemp(); err != nil {
		a.Abort()
		return fail(a.path, err)
	}
	a.closed = true
	if err := a.f.Close(); err != nil {
		os.Remove(a.tmp)
		return fail(a.path, err)
	}
	if err := os.Rename(a.tmp, a.target); err != nil {
		os.Remove(a.tmp)
		return fail(a.path, err)
	}
	// The rename is durable only once the directory is synced. The file is complete
	// either way, so a directory that cannot be opened or synced is not an error.
	if d, err := os.Open(filepath.Dir(a.target)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (a *File) finishTemp() error {
	a.owner.give(a.f)                         // best effort: only root may give a file away
	if err := a.f.Chmod(a.mode); err != nil { // after Chown, which may clear mode bits
		return err
	}
	return a.f.Sync()
}

// Abort discards the output: a temporary file is removed (the output is untouched); a
// device or FIFO is closed. Calling it after Commit does nothing.
func (a *File) Abort() {
	if a.closed {
		return
	}
	a.closed = true
	a.f.Close()
	if a.tmp != "" {
		os.Remove(a.tmp)
	}
}

// NewFileMode is the mode os.Create gives a new file: 0666 less the umask. The umask
// is read from /proc/self/status (Linux 4.7+), which, unlike syscall.Umask, does not
// change it for a moment under the process's other threads.
func NewFileMode() os.FileMode {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if u, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return 0o666 &^ os.FileMode(u)
				}
			}
		}
	}
	return 0o666 &^ umask()
}
