package coro

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// The debug console's unix socket (package console), which needs the socket before it
// is bound: it is made here and reaches the console through internal/hooks.

// listenUnixOwner listens on a unix socket file that only the owner can connect to,
// for the debug console (package console, through internal/hooks: Runtime.
// ListenUnixOwner). The listener belongs to the caller's loop, and Close removes the
// file.
func listenUnixOwner(path string) (*Listener, error) {
	if path == "" {
		return nil, errors.New("unix socket path is empty")
	}
	if path[0] == '@' || path[0] == 0 {
		return nil, fmt.Errorf("unix socket %q: abstract socket addresses have no permissions; use a file path", path)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	s, err := sysSocket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Listener, error) {
		sysClose(s)
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	// Linux creates the socket file with the socket inode's mode, masked by the
	// umask (unix_bind_bsd in net/unix/af_unix.c), so after this fchmod the file is
	// never more open than 0600. This is per socket, unlike changing the process's
	// umask around bind, which would race with files other goroutines create.
	if err := unix.Fchmod(s, 0o600); err != nil {
		return fail(os.NewSyscallError("fchmod", err))
	}
	if err := unix.Bind(s, &unix.SockaddrUnix{Name: path}); err != nil {
		return fail(os.NewSyscallError("bind", err))
	}
	// And in case a kernel does not honour the inode mode: set the file's mode
	// before listen. Until listen, a connect is refused, so nobody can have slipped
	// in while the file was more open.
	if err := os.Chmod(path, 0o600); err != nil {
		os.Remove(path)
		return fail(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
		os.Remove(path)
		if err == nil {
			err = fmt.Errorf("socket file has mode %v after chmod 0600", fi.Mode().Perm())
		}
		return fail(err)
	}
	if err := unix.Listen(s, listenBacklog()); err != nil {
		os.Remove(path)
		return fail(os.NewSyscallError("listen", err))
	}
	fd, err := newNetFD(s, unix.AF_UNIX, unix.SOCK_STREAM, "unix")
	if err != nil {
		os.Remove(path)
		return fail(err)
	}
	fd.setAddrs(nil)
	fd.raddr = nil
	fd.unlinkPath = path
	return &Listener{fd: fd}, nil
}

// removeStaleSocket removes path if it is a socket nobody listens on (left by a
// process that died). A socket that accepts connections, or a file of another kind,
// is left alone and reported.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket (not removing it)", path)
	}
	// Probe with a non-blocking connect: a unix connect never waits, it succeeds (or
	// says EAGAIN, backlog full) when someone listens and is refused otherwise.
	probe, err := sysSocket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		return err
	}
	err = sysConnect(probe, &unix.SockaddrUnix{Name: path})
	sysClose(probe)
	switch err {
	case nil, unix.EAGAIN, unix.EINPROGRESS:
		return fmt.Errorf("%s: a process is listening on this socket already", path)
	case unix.ECONNREFUSED:
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing stale socket: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("probing existing socket %s: %w", path, os.NewSyscallError("connect", err))
	}
}
