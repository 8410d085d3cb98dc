package coro

// runQueue is the FIFO of runnable coroutines: a ring buffer that grows by doubling, so
// push and pop neither allocate nor move elements in the steady state.
type runQueue struct {
	buf        []*Coro
	head, size int
}

func (q *runQueue) len() int { return q.size }

func (q *runQueue) push(c *Coro) {
	if q.size == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.size)&(len(q.buf)-1)] = c
	q.size++
}

// The ring's length is a power of two, so indexes wrap with a mask.

func (q *runQueue) pop() *Coro {
	if q.size == 0 {
		return nil
	}
	c := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.size--
	return c
}

func (q *runQueue) grow() {
	n := len(q.buf) * 2
	if n == 0 {
		n = 64
	}
	buf := make([]*Coro, n) // a power of two, so indexes wrap with a mask
	for i := 0; i < q.size; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// coroList is an intrusive doubly linked list of the live coroutines of a loop.
type coroList struct {
	head *Coro
	n    int
}

func (l *coroList) add(c *Coro) {
	c.prevLive = nil
	c.nextLive = l.head
	if l.head != nil {
		l.head.prevLive = c
	}
	l.head = c
	l.n++
}

func (l *coroList) remove(c *Coro) {
	if c.prevLive != nil {
		c.prevLive.nextLive = c.nextLive
	} else {
		l.head = c.nextLive
	}
	if c.nextLive != nil {
		c.nextLive.prevLive = c.prevLive
	}
	c.prevLive, c.nextLive = nil, nil
	l.n--
}
