package coro

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Name resolution never blocks the loop: a lookup that is not an address literal runs
// net.DefaultResolver (which may read files, talk DNS, or call into cgo's getaddrinfo)
// on its own goroutine through Offload, and the calling coroutine parks meanwhile.
// Outside a coroutine (main, before EventLoop) the lookup simply runs in place.

// LookupNetIP looks up host's addresses for network "ip", "ip4" or "ip6", like
// net.DefaultResolver.LookupNetIP, without blocking the event loop.
func LookupNetIP(network, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	err := offloadOrRun(func() error {
		var err error
		addrs, err = net.DefaultResolver.LookupNetIP(context.Background(), network, host)
		return err
	})
	return addrs, err
}

// LookupHost looks up host's addresses, like net.LookupHost, without blocking the
// event loop.
func LookupHost(host string) ([]string, error) {
	var addrs []string
	err := offloadOrRun(func() error {
		var err error
		addrs, err = net.DefaultResolver.LookupHost(context.Background(), host)
		return err
	})
	return addrs, err
}

// offloadOrRun runs fn through Offload from a coroutine, or directly elsewhere.
func offloadOrRun(fn func() error) error {
	if currentOrNil() == nil {
		return fn()
	}
	return Offload(fn)
}

// resolveHostPort splits address into its host (possibly empty) and port, and
// resolves the host to IP addresses of the network's family ('4', '6' or either).
// An empty host yields no addresses: the caller picks a wildcard or loopback.
func resolveHostPort(network, address string) (addrs []netip.Addr, port uint16, err error) {
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return nil, 0, err
	}
	p, err := resolvePort(network, service)
	if err != nil {
		return nil, 0, err
	}
	if host == "" {
		return nil, p, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, p, nil
	}
	ipnet := "ip"
	switch ipNetworkFamily(network) {
	case '4':
		ipnet = "ip4"
	case '6':
		ipnet = "ip6"
	}
	addrs, err = LookupNetIP(ipnet, host)
	if err != nil {
		return nil, 0, err
	}
	if len(addrs) == 0 {
		return nil, 0, &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	return addrs, p, nil
}

// resolvePort parses a numeric port, or looks a service name up (/etc/services) off
// the loop.
func resolvePort(network, service string) (uint16, error) {
	if service == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(service, 10, 16); err == nil {
		return uint16(n), nil
	}
	var p int
	err := offloadOrRun(func() error {
		var err error
		p, err = net.DefaultResolver.LookupPort(context.Background(), network, service)
		return err
	})
	if err != nil {
		return 0, err
	}
	if p < 0 || p > 0xffff {
		return 0, fmt.Errorf("port %d of service %q out of range", p, service)
	}
	return uint16(p), nil
}
