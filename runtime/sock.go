package coro

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// This file holds the raw socket system calls, each retried on EINTR and wrapped with
// os.NewSyscallError so a failure names the call. Nothing here parks: EAGAIN is
// returned to the caller (netfd.go), which parks on the poller and tries again.
// Creating, accepting, reading and writing differ by platform: sock_linux.go (one
// system call each, Linux flags) and sock_portable.go (POSIX calls, every other Unix
// and -tags coro_poll).

// sysRecvfrom reads one datagram and its source address, retrying EINTR.
func sysRecvfrom(fd int, p []byte) (int, unix.Sockaddr, error) {
	for {
		n, sa, err := unix.Recvfrom(fd, p, 0)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, sa, err
	}
}

// sysSendto sends one datagram to sa, retrying EINTR. The kernel sends a datagram
// whole or not at all, so success means len(p) bytes went.
func sysSendto(fd int, p []byte, sa unix.Sockaddr) error {
	for {
		err := unix.Sendto(fd, p, 0, sa)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// sysConnect starts a connect. On a non-blocking socket it normally returns
// EINPROGRESS; the result is then read with SO_ERROR once the socket is writable.
// An EINTR means the connect goes on asynchronously, exactly like EINPROGRESS (a
// second connect would fail with EALREADY), so it is reported as EINPROGRESS.
func sysConnect(fd int, sa unix.Sockaddr) error {
	err := unix.Connect(fd, sa)
	if err == unix.EINTR {
		return unix.EINPROGRESS
	}
	return err
}

// sysSoError reads and clears the socket's pending error (SO_ERROR).
func sysSoError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// sysClose closes fd. EINTR is not retried: on Linux and the BSDs the descriptor is
// released even when close reports EINTR, and a retry could close a descriptor another
// thread just got.
func sysClose(fd int) error {
	if err := unix.Close(fd); err != nil && err != unix.EINTR {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// listenBacklog is the backlog passed to listen: the kernel's somaxconn, as package
// net uses, so bursts of clients (the 100-client tutorial, the 1000-client test) are
// queued instead of refused.
var listenBacklog = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	if n > 1<<16-1 {
		n = 1<<16 - 1
	}
	return n
})

func setsockoptInt(fd, level, opt, value int, name string) error {
	if err := unix.SetsockoptInt(fd, level, opt, value); err != nil {
		return os.NewSyscallError("setsockopt "+name, err)
	}
	return nil
}
