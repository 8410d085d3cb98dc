package coro

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file holds the raw socket system calls, each retried on EINTR and wrapped with
// os.NewSyscallError so a failure names the call. Nothing here parks: EAGAIN is
// returned to the caller (netfd.go), which parks on the poller and tries again.

// sysSocket creates a non-blocking, close-on-exec socket in one call, so no other
// thread's fork+exec can inherit it between socket and fcntl.
func sysSocket(family, sotype int) (int, error) {
	for {
		fd, err := unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, os.NewSyscallError("socket", err)
		}
		return fd, nil
	}
}

// sysAccept accepts one connection; the new socket is non-blocking and close-on-exec
// from birth (accept4). Errors are returned raw so the caller can tell EAGAIN and
// EMFILE apart.
func sysAccept(fd int) (int, unix.Sockaddr, error) {
	for {
		nfd, sa, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		return nfd, sa, err
	}
}

// sysRead reads into p, retrying EINTR. n is 0 at end of stream.
//
// sysRead and sysWrite use RawSyscall, not Syscall: on a non-blocking socket they
// never block, so the runtime's entersyscall/exitsyscall bookkeeping (and sysmon
// taking the loop's P away during a long copy, then the thread fighting to get one
// back) is pure cost on the hottest path of the loop. A 16 KiB loopback write, which
// runs the receiving side's TCP stack inline, is the longest of them: tens of µs.
//
// They are recvfrom/sendto with no address rather than read/write: the socket calls
// go straight to the protocol, skipping the VFS layer that read(2)/write(2) cross
// (fdget_pos, rw_verify_area, the kiocb, fsnotify), a few percent of a loopback
// request's CPU (docs/PERFORMANCE.md). MSG_NOSIGNAL turns a write to a closed peer
// into EPIPE without raising SIGPIPE.
func sysRead(fd int, p []byte) (int, error) {
	ptr := unsafe.Pointer(&zeroByte)
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(ptr), uintptr(len(p)), 0, 0, 0)
		if e == 0 {
			return int(r), nil
		}
		if e != unix.EINTR {
			return 0, e
		}
	}
}

// sysWrite writes from p, retrying EINTR (see sysRead).
func sysWrite(fd int, p []byte) (int, error) {
	ptr := unsafe.Pointer(&zeroByte)
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(ptr), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
		if e == 0 {
			return int(r), nil
		}
		if e != unix.EINTR {
			return 0, e
		}
	}
}

// zeroByte gives an empty buffer a valid address.
var zeroByte byte

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

// sysClose closes fd. EINTR is not retried: on Linux the descriptor is released even
// when close reports EINTR, and a retry could close a descriptor another thread just got.
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
