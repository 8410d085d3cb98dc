package coro

import (
	"errors"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// The socket layer: Listen, Dial and ListenPacket make non-blocking, close-on-exec
// sockets registered once (edge-triggered) with the loop's poller, and return types
// that implement the standard interfaces (net.Listener, net.Conn, net.PacketConn) so
// the standard library's protocol code runs on coroutines. See netfd.go for the I/O
// protocol and Conn for the rules.

// Listen announces on a local address, like net.Listen. network is "tcp", "tcp4",
// "tcp6" or "unix". For TCP an empty host (":8080") listens on every local address
// (dual-stack for "tcp" where IPv6 is available); a host name is resolved without
// blocking the loop. A unix listener removes its socket file when closed.
//
// Listen may be called from a coroutine (the listener is its loop's), or from any other
// goroutine (the listener is the default loop's: made there while it runs, or here
// before EventLoop).
func Listen(network, address string) (*Listener, error) {
	return ListenConfig{}.Listen(network, address)
}

// ListenPacket announces on a local datagram address, like net.ListenPacket. network
// is "udp", "udp4" or "udp6".
func ListenPacket(network, address string) (*UDPConn, error) {
	return ListenConfig{}.ListenPacket(network, address)
}

// ListenConfig holds options for listening, like net.ListenConfig. The zero value is
// what Listen and ListenPacket use.
type ListenConfig struct {
	// ReusePort sets SO_REUSEPORT before binding, so several sockets, each with
	// ReusePort, may listen on the same address and port, and the kernel spreads the
	// incoming connections (or datagrams) over them by a hash of the peer's address.
	// This is how several loops, one per OS thread, serve one address: each loop
	// listens on its own socket from one of its coroutines. With port 0 the first
	// socket gets a port from the kernel; listen on the others with its Addr. Only
	// sockets of the same user may share a port. Not for "unix".
	ReusePort bool
}

// Listen is Listen with lc's options. The listener belongs to the caller's loop (the
// default loop when the caller is not a coroutine and that loop is not running yet).
func (lc ListenConfig) Listen(network, address string) (ln *Listener, err error) {
	if fromGoroutine() {
		if ferr := foreignCall(defaultSched, true, func() { ln, err = lc.Listen(network, address) }); ferr != nil {
			return nil, &net.OpError{Op: "listen", Net: network, Addr: stringAddr{network, address}, Err: ferr}
		}
		return ln, err
	}
	fd, err := listen(network, address, unix.SOCK_STREAM, lc.ReusePort)
	if err != nil {
		return nil, err
	}
	return &Listener{fd: fd}, nil
}

// ListenPacket is ListenPacket with lc's options.
func (lc ListenConfig) ListenPacket(network, address string) (u *UDPConn, err error) {
	if fromGoroutine() {
		if ferr := foreignCall(defaultSched, true, func() { u, err = lc.ListenPacket(network, address) }); ferr != nil {
			return nil, &net.OpError{Op: "listen", Net: network, Addr: stringAddr{network, address}, Err: ferr}
		}
		return u, err
	}
	fd, err := listen(network, address, unix.SOCK_DGRAM, lc.ReusePort)
	if err != nil {
		return nil, err
	}
	return &UDPConn{fd: fd}, nil
}

func listen(network, address string, want int, reusePort bool) (*netFD, error) {
	opErr := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: stringAddr{network, address}, Err: err}
	}
	sotype, err := parseNetwork(network)
	if err != nil {
		return nil, opErr(err)
	}
	if sotype != want {
		if want == unix.SOCK_STREAM {
			return nil, opErr(errors.New("not a stream network (use ListenPacket)"))
		}
		return nil, opErr(errors.New("not a datagram network (use Listen)"))
	}
	if network == "unix" {
		if reusePort {
			return nil, opErr(errors.New("ReusePort is for TCP and UDP, not unix sockets"))
		}
		fd, err := bindSocket(unix.AF_UNIX, sotype, network, &unix.SockaddrUnix{Name: address}, -1, false)
		if err != nil {
			return nil, opErr(err)
		}
		if address != "" && address[0] != '@' { // '@': abstract namespace, no file
			fd.unlinkPath = address
		}
		return fd, nil
	}
	addrs, port, err := resolveHostPort(network, address)
	if err != nil {
		return nil, opErr(err)
	}
	restrict := ipNetworkFamily(network)
	if len(addrs) == 0 {
		// Every local address: dual-stack for "tcp"/"udp" if the kernel can, else IPv4.
		if restrict != '4' {
			sa := &unix.SockaddrInet6{Port: int(port)}
			v6only := 0
			if restrict == '6' {
				v6only = 1
			}
			fd, err := bindSocket(unix.AF_INET6, sotype, network, sa, v6only, reusePort)
			if err == nil || restrict == '6' {
				if err != nil {
					return nil, opErr(err)
				}
				return fd, nil
			}
		}
		fd, err := bindSocket(unix.AF_INET, sotype, network, &unix.SockaddrInet4{Port: int(port)}, -1, reusePort)
		if err != nil {
			return nil, opErr(err)
		}
		return fd, nil
	}
	var firstErr error
	for _, a := range addrs {
		family, err := familyForIP(a, restrict)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		sa, err := sockaddrFromAddrPort(family, netip.AddrPortFrom(a, port))
		if err != nil {
			return nil, opErr(err)
		}
		v6only := -1
		if family == unix.AF_INET6 {
			v6only = 1 // a specific IPv6 address, or "tcp6"/"udp6"
			if a.IsUnspecified() && restrict == 0 {
				v6only = 0 // "[::]:port" on "tcp"/"udp": dual-stack, as package net does
			}
		}
		fd, err := bindSocket(family, sotype, network, sa, v6only, reusePort)
		if err == nil {
			return fd, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, opErr(firstErr)
}

// bindSocket creates a socket, binds it to sa, and for a stream socket listens.
// v6only sets IPV6_V6ONLY when >= 0; reusePort sets SO_REUSEPORT.
func bindSocket(family, sotype int, network string, sa unix.Sockaddr, v6only int, reusePort bool) (*netFD, error) {
	s, err := sysSocket(family, sotype)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*netFD, error) {
		sysClose(s)
		return nil, err
	}
	if family != unix.AF_UNIX && sotype == unix.SOCK_STREAM {
		// As package net does: a restarted server can bind while old connections
		// linger in TIME_WAIT.
		if err := setsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1, "SO_REUSEADDR"); err != nil {
			return fail(err)
		}
	}
	if reusePort {
		if err := setsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1, "SO_REUSEPORT"); err != nil {
			return fail(err)
		}
	}
	if family == unix.AF_INET6 && v6only >= 0 {
		if err := setsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only, "IPV6_V6ONLY"); err != nil {
			return fail(err)
		}
	}
	if err := unix.Bind(s, sa); err != nil {
		return fail(os.NewSyscallError("bind", err))
	}
	if sotype == unix.SOCK_STREAM {
		if err := unix.Listen(s, listenBacklog()); err != nil {
			return fail(os.NewSyscallError("listen", err))
		}
	}
	fd, err := newNetFD(s, family, sotype, network)
	if err != nil {
		return fail(err)
	}
	fd.setAddrs(nil)
	fd.raddr = nil
	return fd, nil
}

// Dial connects to address, like net.Dial. network is "tcp", "tcp4", "tcp6", "unix",
// "udp", "udp4" or "udp6" (a connected UDP socket: each Write sends one datagram). A
// host name is resolved without blocking the loop, and its addresses are tried in
// order until one connects. An empty or unspecified host means this machine.
//
// Dial waits for the connection from a coroutine; bound it with WithTimeout. From a
// goroutine outside every loop, while the default loop runs, the connection is made by
// a coroutine of the default loop and the goroutine waits for it; before EventLoop, a
// Dial that must wait for the connect fails with ErrNotCoroutine.
func Dial(network, address string) (c *Conn, err error) {
	if fromGoroutine() {
		if ferr := foreignCall(defaultSched, true, func() { c, err = Dial(network, address) }); ferr != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Addr: stringAddr{network, address}, Err: ferr}
		}
		return c, err
	}
	opErr := func(addr net.Addr, err error) error {
		if addr == nil {
			addr = stringAddr{network, address}
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
	}
	sotype, err := parseNetwork(network)
	if err != nil {
		return nil, opErr(nil, err)
	}
	if network == "unix" {
		sa := &unix.SockaddrUnix{Name: address}
		fd, err := dialSocket(unix.AF_UNIX, sotype, network, sa)
		if err != nil {
			return nil, opErr(nil, err)
		}
		return &Conn{fd: fd}, nil
	}
	addrs, port, err := resolveHostPort(network, address)
	if err != nil {
		return nil, opErr(nil, err)
	}
	restrict := ipNetworkFamily(network)
	if len(addrs) == 0 || (len(addrs) == 1 && addrs[0].IsUnspecified()) {
		if restrict == '6' || (len(addrs) == 1 && addrs[0].Is6()) {
			addrs = []netip.Addr{netip.IPv6Loopback()}
		} else {
			addrs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
		}
	}
	var firstErr error
	var firstAddr net.Addr
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, port)
		var naddr net.Addr = net.TCPAddrFromAddrPort(ap)
		if sotype == unix.SOCK_DGRAM {
			naddr = net.UDPAddrFromAddrPort(ap)
		}
		family, err := familyForIP(a, restrict)
		if err == nil {
			var sa unix.Sockaddr
			if sa, err = sockaddrFromAddrPort(family, ap); err == nil {
				var fd *netFD
				if fd, err = dialSocket(family, sotype, network, sa); err == nil {
					return &Conn{fd: fd}, nil
				}
			}
		}
		if firstErr == nil {
			firstErr, firstAddr = err, naddr
		}
		if isInterrupt(err) {
			break // a timeout or Interrupt ends the whole Dial
		}
	}
	return nil, opErr(firstAddr, firstErr)
}

// fromGoroutine reports whether a socket is being made by a goroutine outside every
// loop while the default loop runs: the socket is then made on that loop (its poller
// belongs to the loop's thread), by a coroutine for Dial, which waits for the connect.
// Before EventLoop (or between runs) it is made here, as it always was.
func fromGoroutine() bool {
	return CurrentScheduler() == nil && defaultSched.running.Load()
}

// isInterrupt reports whether err ended a wait for reasons other than the socket:
// WithTimeout, Interrupt.
func isInterrupt(err error) bool {
	return errors.Is(err, ErrTimeout) || errors.Is(err, ErrInterrupted)
}

// dialSocket creates a socket and connects it to sa, waiting if needed.
func dialSocket(family, sotype int, network string, sa unix.Sockaddr) (*netFD, error) {
	s, err := sysSocket(family, sotype)
	if err != nil {
		return nil, err
	}
	fd, err := newNetFD(s, family, sotype, network)
	if err != nil {
		sysClose(s)
		return nil, err
	}
	if err := fd.connect(sa); err != nil {
		fd.close()
		return nil, err
	}
	if family != unix.AF_UNIX && sotype == unix.SOCK_STREAM {
		setsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1, "TCP_NODELAY")
	}
	fd.setAddrs(sa) // the peer is the address connected to: no getpeername
	return fd, nil
}

// stringAddr names an address that could not be resolved, for error messages.
type stringAddr struct{ net, addr string }

func (a stringAddr) Network() string { return a.net }
func (a stringAddr) String() string  { return a.addr }
