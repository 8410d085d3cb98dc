package coro

import (
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// UDPConn is a datagram socket on the event loop, from ListenPacket; it implements
// net.PacketConn. ReadFrom parks until a datagram arrives, WriteTo until the socket
// can take one. Like Conn, it may be used from any goroutine, and concurrent calls in
// one direction queue.
type UDPConn struct {
	fd *netFD
}

var _ net.PacketConn = (*UDPConn)(nil)

// ReadFrom reads one datagram into p and returns its length and sender (a
// *net.UDPAddr). A datagram longer than p is truncated, as with package net.
func (u *UDPConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if u.fd.pd.s.curG.load() != getg() {
		return u.readFromForeign(p)
	}
	return u.readFromLocked(p)
}

func (u *UDPConn) readFromForeign(p []byte) (n int, addr net.Addr, err error) {
	fd := u.fd
	if fd.otherLoop() {
		return 0, nil, fd.opError("read", ErrWrongLoop)
	}
	if ferr := fd.foreign(true, func() { n, addr, err = u.readFromLocked(p) }); ferr != nil {
		return 0, nil, fd.opError("read", ferr)
	}
	return n, addr, err
}

func (u *UDPConn) readFromLocked(p []byte) (int, net.Addr, error) {
	fd := u.fd
	if err := fd.rlk.lock(fd.pd.s, WaitRead); err != nil {
		return 0, nil, fd.opError("read", err)
	}
	n, addr, err := u.readFrom1(p)
	fd.rlk.unlock()
	return n, addr, err
}

func (u *UDPConn) readFrom1(p []byte) (int, net.Addr, error) {
	fd := u.fd
	if fd.closed {
		return 0, nil, fd.opError("read", net.ErrClosed)
	}
	if fd.rdl.expired() {
		return 0, nil, fd.opError("read", os.ErrDeadlineExceeded)
	}
	for {
		n, sa, err := sysRecvfrom(fd.fd, p)
		if err == nil {
			fd.nonBlocking()
			return n, sockaddrToAddr(unix.SOCK_DGRAM, sa), nil
		}
		if err != unix.EAGAIN {
			return 0, nil, fd.opError("read", os.NewSyscallError("recvfrom", err))
		}
		if err := fd.wait(modeRead); err != nil {
			return 0, nil, fd.opError("read", err)
		}
	}
}

// WriteTo sends p as one datagram to addr (a *net.UDPAddr).
func (u *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if u.fd.pd.s.curG.load() != getg() {
		return u.writeToForeign(p, addr)
	}
	return u.writeToLocked(p, addr)
}

func (u *UDPConn) writeToForeign(p []byte, addr net.Addr) (n int, err error) {
	fd := u.fd
	if fd.otherLoop() {
		return 0, fd.opError("write", ErrWrongLoop)
	}
	if ferr := fd.foreign(true, func() { n, err = u.writeToLocked(p, addr) }); ferr != nil {
		return 0, fd.opError("write", ferr)
	}
	return n, err
}

func (u *UDPConn) writeToLocked(p []byte, addr net.Addr) (int, error) {
	fd := u.fd
	if err := fd.wlk.lock(fd.pd.s, WaitWrite); err != nil {
		return 0, fd.opError("write", err)
	}
	n, err := u.writeTo1(p, addr)
	fd.wlk.unlock()
	return n, err
}

func (u *UDPConn) writeTo1(p []byte, addr net.Addr) (int, error) {
	fd := u.fd
	if fd.closed {
		return 0, fd.opError("write", net.ErrClosed)
	}
	sa, err := addrToSockaddr(fd.family, addr)
	if err != nil {
		return 0, &net.OpError{Op: "write", Net: fd.net, Source: fd.laddr, Addr: addr, Err: err}
	}
	for {
		if fd.wdl.expired() {
			return 0, fd.opError("write", os.ErrDeadlineExceeded)
		}
		err := sysSendto(fd.fd, p, sa)
		if err == nil {
			fd.nonBlocking()
			return len(p), nil
		}
		if err != unix.EAGAIN {
			return 0, &net.OpError{Op: "write", Net: fd.net, Source: fd.laddr, Addr: addr, Err: os.NewSyscallError("sendto", err)}
		}
		if err := fd.wait(modeWrite); err != nil {
			return 0, &net.OpError{Op: "write", Net: fd.net, Source: fd.laddr, Addr: addr, Err: err}
		}
	}
}

// WriteToAddrPort is WriteTo for a netip.AddrPort.
func (u *UDPConn) WriteToAddrPort(p []byte, ap netip.AddrPort) (int, error) {
	return u.WriteTo(p, net.UDPAddrFromAddrPort(ap))
}

// Close closes the socket; coroutines waiting on it wake with net.ErrClosed.
func (u *UDPConn) Close() error { return u.fd.opError("close", u.fd.close()) }

// LocalAddr returns the bound address (a *net.UDPAddr).
func (u *UDPConn) LocalAddr() net.Addr { return u.fd.laddr }

// SetDeadline sets the read and write deadlines; see Conn.SetReadDeadline.
func (u *UDPConn) SetDeadline(t time.Time) error {
	return u.fd.setDeadlines(true, true, t)
}

// SetReadDeadline sets the deadline for ReadFrom.
func (u *UDPConn) SetReadDeadline(t time.Time) error {
	return u.fd.setDeadlines(true, false, t)
}

// SetWriteDeadline sets the deadline for WriteTo.
func (u *UDPConn) SetWriteDeadline(t time.Time) error {
	return u.fd.setDeadlines(false, true, t)
}
