//go:build !coro_poll

package coro

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

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
