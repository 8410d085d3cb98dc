package coro

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// This file converts between the kernel's socket addresses (unix.Sockaddr) and the
// standard library's net.Addr types, so that a *Conn reports the same address types
// as a net.Conn from package net does (net.TCPAddr, net.UDPAddr, net.UnixAddr).

// parseNetwork checks a network name and says whether it is a stream or datagram one.
func parseNetwork(network string) (sotype int, err error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		return unix.SOCK_STREAM, nil
	case "udp", "udp4", "udp6":
		return unix.SOCK_DGRAM, nil
	}
	return 0, net.UnknownNetworkError(network)
}

// ipNetworkFamily reports the address family restriction of an IP network name:
// '4', '6' or 0 for either.
func ipNetworkFamily(network string) byte {
	switch network {
	case "tcp4", "udp4":
		return '4'
	case "tcp6", "udp6":
		return '6'
	}
	return 0
}

// sockaddrFromAddrPort builds the kernel address for ip:port in the given family.
// An IPv4 address in an AF_INET6 socket is written in its v4-mapped form.
func sockaddrFromAddrPort(family int, ap netip.AddrPort) (unix.Sockaddr, error) {
	ip := ap.Addr()
	switch family {
	case unix.AF_INET:
		if !ip.Unmap().Is4() {
			return nil, fmt.Errorf("address %s is not IPv4", ip)
		}
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}, nil
	case unix.AF_INET6:
		sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.ParseUint(z, 10, 32); err == nil {
				sa.ZoneId = uint32(n)
			} else {
				return nil, fmt.Errorf("unknown zone %q in address %s", z, ip)
			}
		}
		return sa, nil
	}
	return nil, fmt.Errorf("address family %d is not an IP family", family)
}

// sockaddrToAddr converts a kernel address to the net.Addr type used by package net
// for sockets of type sotype. It returns nil for a nil or unnamed address.
func sockaddrToAddr(sotype int, sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		ip := net.IPv4(a.Addr[0], a.Addr[1], a.Addr[2], a.Addr[3])
		if sotype == unix.SOCK_DGRAM {
			return &net.UDPAddr{IP: ip, Port: a.Port}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port}
	case *unix.SockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, a.Addr[:])
		zone := ""
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			} else {
				zone = strconv.FormatUint(uint64(a.ZoneId), 10)
			}
		}
		if sotype == unix.SOCK_DGRAM {
			return &net.UDPAddr{IP: ip, Port: a.Port, Zone: zone}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port, Zone: zone}
	case *unix.SockaddrUnix:
		if sotype == unix.SOCK_DGRAM {
			return &net.UnixAddr{Name: a.Name, Net: "unixgram"}
		}
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}

// addrToSockaddr converts a net.Addr of package net (TCPAddr, UDPAddr, UnixAddr) to a
// kernel address for a socket of the given family.
func addrToSockaddr(family int, addr net.Addr) (unix.Sockaddr, error) {
	var ip net.IP
	var port int
	var zone string
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UDPAddr:
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UnixAddr:
		if family != unix.AF_UNIX {
			return nil, fmt.Errorf("unix address %q on an IP socket", a.Name)
		}
		return &unix.SockaddrUnix{Name: a.Name}, nil
	case nil:
		return nil, fmt.Errorf("nil address")
	default:
		return nil, fmt.Errorf("unsupported address type %T", addr)
	}
	if family == unix.AF_UNIX {
		return nil, fmt.Errorf("IP address %s on a unix socket", addr)
	}
	var a netip.Addr
	if len(ip) == 0 {
		if family == unix.AF_INET {
			a = netip.IPv4Unspecified()
		} else {
			a = netip.IPv6Unspecified()
		}
	} else {
		var ok bool
		if a, ok = netip.AddrFromSlice(ip); !ok {
			return nil, fmt.Errorf("invalid IP address %v", ip)
		}
		a = a.WithZone(zone)
	}
	if port < 0 || port > 0xffff {
		return nil, fmt.Errorf("port %d out of range", port)
	}
	return sockaddrFromAddrPort(family, netip.AddrPortFrom(a, uint16(port)))
}

// familyForIP picks the socket family for a destination or bind address given the
// network's restriction ('4', '6' or 0). IPv4 addresses use AF_INET sockets unless the
// network is explicitly "tcp6"/"udp6".
func familyForIP(ip netip.Addr, restrict byte) (int, error) {
	is4 := ip.Unmap().Is4()
	switch restrict {
	case '4':
		if !is4 {
			return 0, fmt.Errorf("address %s is not IPv4", ip)
		}
		return unix.AF_INET, nil
	case '6':
		if is4 && !ip.Is4In6() {
			return 0, fmt.Errorf("address %s is not IPv6", ip)
		}
		return unix.AF_INET6, nil
	}
	if is4 {
		return unix.AF_INET, nil
	}
	return unix.AF_INET6, nil
}
