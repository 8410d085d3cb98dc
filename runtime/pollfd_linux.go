//go:build !coro_poll

package coro

import (
	"os"

	"golang.org/x/sys/unix"
)

// pollOpen registers fd with s's epoll.
func (s *Scheduler) pollOpen(fd int) (*pollDesc, error) {
	p := &s.poll
	if err := p.open(); err != nil {
		return nil, err
	}
	pd := p.alloc()
	pd.s, pd.fd = s, fd
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET}
	setEventKey(&ev, pd.key())
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		pd.closed = true
		p.free = append(p.free, pd.slot)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	p.nfds++
	return pd, nil
}

// dispatch handles one epoll event for the descriptor with key k.
func (p *poller) dispatch(k uint64, events uint32) {
	slot := int32(uint32(k))
	if int(slot) >= len(p.descs) {
		return
	}
	pd := p.descs[slot]
	if pd.key() != k || pd.closed {
		return
	}
	if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		pd.hup = true
		events |= unix.EPOLLIN | unix.EPOLLOUT
	}
	if events&unix.EPOLLRDHUP != 0 {
		pd.rdhup = true
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
		if c := pd.rg; c != nil {
			pd.rg = nil
			c.ready()
		} else {
			pd.rready = true
		}
	}
	if events&unix.EPOLLOUT != 0 {
		if c := pd.wg; c != nil {
			pd.wg = nil
			c.ready()
		} else {
			pd.wready = true
		}
	}
}

// armPoll is nothing with epoll: the descriptor was registered for both directions,
// once. (A function, not a method of the poller, so the call compiles to nothing.)
func armPoll(*pollDesc, byte) {}

// close deregisters the descriptor (the caller closes the fd afterwards) and wakes its
// waiters, whose wait returns net.ErrClosed.
func (pd *pollDesc) close() error {
	if pd.closed {
		return nil
	}
	pd.closed = true
	p := &pd.s.poll
	p.nfds--
	var err error
	if e := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, pd.fd, nil); e != nil && e != unix.EBADF && e != unix.ENOENT {
		err = os.NewSyscallError("epoll_ctl", e)
	}
	p.free = append(p.free, pd.slot)
	pd.wakeBoth()
	return err
}
