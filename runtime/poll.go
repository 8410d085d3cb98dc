package coro

// The loop's I/O wait, common to both pollers: epoll on Linux (poll_linux.go) and
// poll(2) with a self-pipe wake-up everywhere else and under -tags coro_poll
// (poll_portable.go). Each poller provides open, init, wakeFD, waitIO and dispatch; the
// choice is made at compile time, so the epoll path calls its own methods directly.

// pollNow runs what is due without blocking: expired timers and, when descriptors are
// registered, ready I/O. Called at the start of each run-queue batch.
func (s *Scheduler) pollNow() {
	if s.timers.len() > 0 {
		s.runTimers(nanotime())
	}
	if s.poll.nfds > 0 {
		s.dispatch(s.waitIO(0))
	}
}

// pollWait blocks until something can run: an I/O event, the next timer, or a post to
// the inbox. The epoll timeout is the time to the next timer in milliseconds, rounded
// up so a timer never fires early (epoll_wait's resolution is a millisecond; a timerfd
// would be exact but costs a timerfd_settime whenever the earliest deadline changes,
// and a network loop does not need sub-millisecond timers).
func (s *Scheduler) pollWait() {
	timeout := -1
	if s.timers.len() > 0 {
		now := nanotime()
		if s.runTimers(now) {
			return // something became runnable
		}
		d := s.timers.next() - now
		timeout = int(min((d+999_999)/1_000_000, maxPollMillis))
	}
	if s.inbox.armed.Load() {
		return
	}
	var n int
	if h := s.hooks; h != nil {
		h.BeforePoll()
		n = s.waitIO(timeout)
		h.AfterPoll() // before dispatching: a wake-up (WaitEnd) is scheduler work
	} else {
		n = s.waitIO(timeout)
	}
	s.latency.polled()
	s.dispatch(n)
	if s.timers.len() > 0 {
		s.runTimers(nanotime())
	}
}

// maxPollMillis caps the epoll timeout (epoll_wait takes an int of milliseconds); a
// loop waiting longer just wakes once a day and waits again.
const maxPollMillis = 24 * 3600 * 1000
