//go:build coro_poll || darwin || dragonfly || freebsd || netbsd || openbsd

package coro

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// The portable socket calls: POSIX only, so darwin (which has neither SOCK_NONBLOCK,
// SOCK_CLOEXEC nor accept4) and the BSDs run the same code that -tags coro_poll runs on
// Linux in CI. Close-on-exec is set under syscall.ForkLock, as package net does where
// the flags are missing, so no fork+exec in between can inherit the descriptor.

// sysSocket creates a non-blocking, close-on-exec socket.
func sysSocket(family, sotype int) (int, error) {
	for {
		syscall.ForkLock.RLock()
		fd, err := unix.Socket(family, sotype, 0)
		if err == nil {
			unix.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		if err := setNonblock(fd); err != nil {
			return -1, err
		}
		return fd, nil
	}
}

// sysAccept accepts one connection and makes the new socket non-blocking and
// close-on-exec. Errors are returned raw so the caller can tell EAGAIN and EMFILE apart.
func sysAccept(fd int) (int, unix.Sockaddr, error) {
	for {
		syscall.ForkLock.RLock()
		nfd, sa, err := unix.Accept(fd)
		if err == nil {
			unix.CloseOnExec(nfd)
		}
		syscall.ForkLock.RUnlock()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, nil, err
		}
		if err := setNonblock(nfd); err != nil {
			return -1, nil, err
		}
		return nfd, sa, nil
	}
}

// setNonblock makes fd non-blocking, closing it on failure.
func setNonblock(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("fcntl", err)
	}
	return nil
}

// sysRead reads into p, retrying EINTR. n is 0 at end of stream.
func sysRead(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}

// sysWrite writes from p, retrying EINTR. A write to a closed peer fails with EPIPE:
// Go's runtime ignores the SIGPIPE it raises for descriptors other than 1 and 2.
func sysWrite(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err == nil {
			return n, nil
		}
		if err != unix.EINTR {
			return 0, err
		}
	}
}
