package coro

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// The debug console: Shrapnel's backdoor, as a line protocol. ServeConsole listens on
// a unix socket (or loopback TCP) and serves each connection from its own coroutine on
// the loop, one command per line, one reply block per line, each block ending in an
// empty line, so `nc -U PATH` and `socat - UNIX-CONNECT:PATH` are usable by hand and
// a script can pair every line it sends with one block it reads. The commands live in
// console_cmds.go; docs/console.md is the user's guide.
//
// The console never holds up the loop on behalf of a client: a session that reads
// slowly or not at all parks in its own Write, which gives up after
// consoleWriteTimeout and closes the session; replies are built whole but capped at
// maxConsoleReply; input lines are capped at maxConsoleLine; an idle session is a
// coroutine parked in Read, holding no lock or resource the loop needs.

// Limits of the console; variables so that tests can shorten them.
var (
	// consoleWriteTimeout bounds the time one reply may take to be written; a client
	// that does not read for that long is disconnected.
	consoleWriteTimeout = 10 * time.Second
	// maxConsoleReply caps one reply's size; a longer listing is cut, with a line
	// saying how many lines were left out.
	maxConsoleReply = 1 << 20
)

const (
	// maxConsoleLine caps an input line (without its newline); a longer one is
	// dropped and answered with an error.
	maxConsoleLine = 4096
	// maxConsoleSessions caps simultaneous sessions; when a new client comes and the
	// cap is reached, the session idle for the longest is closed to make room, so
	// abandoned sessions cannot lock the console.
	maxConsoleSessions = 16
)

// consoleProfilerFuncs are the profiler's entry points, registered by package
// profiler (which imports this package, so it cannot be called directly).
type consoleProfilerFuncs struct {
	start func(file string) error
	stop  func() error
}

var consoleProfiler atomic.Pointer[consoleProfilerFuncs]

// SetConsoleProfiler registers the functions the console's "profile start FILE" and
// "profile stop" call. Package profiler registers itself from an init function, so a
// program that imports it (even as `import _ ".../profiler"`) can be profiled from
// the console; without it, "profile start" answers that the profiler is not linked
// in. Passing nil for either removes the registration.
func SetConsoleProfiler(start func(file string) error, stop func() error) {
	if start == nil || stop == nil {
		consoleProfiler.Store(nil)
		return
	}
	consoleProfiler.Store(&consoleProfilerFuncs{start: start, stop: stop})
}

// ServeConsole starts the debug console on the caller's loop (the default loop when
// called from outside any loop, before EventLoop), listening on address:
//
//   - network "unix": address is a socket path. The socket file is created with mode
//     0600 (owner only), since the console can stop the program and write files. A
//     socket file left by a process that died is replaced; one that a live process
//     listens on, or a file that is not a socket, is an error. Abstract addresses
//     ("@name") are refused: they have no permissions. The file is removed when the
//     loop ends.
//   - network "tcp", "tcp4" or "tcp6": address must be a loopback host (127.0.0.1,
//     ::1 or localhost) and a port. Any local user can connect to it: prefer unix.
//
// The console is off unless a program calls ServeConsole. It runs as coroutines: one
// that accepts, named "coro.console", and one per session. Like any coroutine they
// keep the loop alive, so a loop serving the console ends by Exit (the console's own
// "exit" command, SIGINT or SIGTERM), not by running out of coroutines. Type "help"
// in a session for the commands; docs/console.md describes them.
func ServeConsole(network, address string) error {
	_, err := serveConsole(network, address)
	return err
}

// serveConsole is ServeConsole returning the listener, so tests can learn a port.
func serveConsole(network, address string) (*Listener, error) {
	var ln *Listener
	var err error
	switch network {
	case "unix":
		ln, err = listenConsoleUnix(address)
	case "tcp", "tcp4", "tcp6":
		ln, err = listenConsoleTCP(network, address)
	default:
		err = fmt.Errorf("network %q: want unix, or tcp, tcp4, tcp6 on a loopback address", network)
	}
	if err != nil {
		return nil, fmt.Errorf("coro: console: %w", err)
	}
	s := CurrentScheduler()
	if s == nil {
		s = defaultSched
	}
	con := &console{s: s, ln: ln}
	s.SpawnNamed("coro.console", con.serve)
	return ln, nil
}

// listenConsoleUnix listens on a unix socket file that only the owner can connect to.
func listenConsoleUnix(path string) (*Listener, error) {
	if path == "" {
		return nil, errors.New("unix socket path is empty")
	}
	if path[0] == '@' || path[0] == 0 {
		return nil, fmt.Errorf("unix socket %q: abstract socket addresses have no permissions; use a file path", path)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	s, err := sysSocket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Listener, error) {
		sysClose(s)
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	// Linux creates the socket file with the socket inode's mode, masked by the
	// umask (unix_bind_bsd in net/unix/af_unix.c), so after this fchmod the file is
	// never more open than 0600. This is per socket, unlike changing the process's
	// umask around bind, which would race with files other goroutines create.
	if err := unix.Fchmod(s, 0o600); err != nil {
		return fail(os.NewSyscallError("fchmod", err))
	}
	if err := unix.Bind(s, &unix.SockaddrUnix{Name: path}); err != nil {
		return fail(os.NewSyscallError("bind", err))
	}
	// And in case a kernel does not honour the inode mode: set the file's mode
	// before listen. Until listen, a connect is refused, so nobody can have slipped
	// in while the file was more open.
	if err := os.Chmod(path, 0o600); err != nil {
		os.Remove(path)
		return fail(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
		os.Remove(path)
		if err == nil {
			err = fmt.Errorf("socket file has mode %v after chmod 0600", fi.Mode().Perm())
		}
		return fail(err)
	}
	if err := unix.Listen(s, listenBacklog()); err != nil {
		os.Remove(path)
		return fail(os.NewSyscallError("listen", err))
	}
	fd, err := newNetFD(s, unix.AF_UNIX, unix.SOCK_STREAM, "unix")
	if err != nil {
		os.Remove(path)
		return fail(err)
	}
	fd.setAddrs(nil)
	fd.raddr = nil
	fd.unlinkPath = path
	return &Listener{fd: fd}, nil
}

// removeStaleSocket removes path if it is a socket nobody listens on (left by a
// process that died). A socket that accepts connections, or a file of another kind,
// is left alone and reported.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket (not removing it)", path)
	}
	// Probe with a non-blocking connect: a unix connect never waits, it succeeds (or
	// says EAGAIN, backlog full) when someone listens and is refused otherwise.
	probe, err := sysSocket(unix.AF_UNIX, unix.SOCK_STREAM)
	if err != nil {
		return err
	}
	err = sysConnect(probe, &unix.SockaddrUnix{Name: path})
	sysClose(probe)
	switch err {
	case nil, unix.EAGAIN, unix.EINPROGRESS:
		return fmt.Errorf("%s: a process is listening on this socket already", path)
	case unix.ECONNREFUSED:
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing stale socket: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("probing existing socket %s: %w", path, os.NewSyscallError("connect", err))
	}
}

// listenConsoleTCP listens on a loopback TCP address and refuses any other.
func listenConsoleTCP(network, address string) (*Listener, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var ip netip.Addr
	switch {
	case host == "localhost" && network == "tcp6":
		ip = netip.IPv6Loopback()
	case host == "localhost":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		if ip, err = netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("address %q: the console listens on loopback only (127.0.0.1, ::1 or localhost)", address)
		}
	}
	return Listen(network, net.JoinHostPort(ip.String(), port))
}

// console is one ServeConsole: its listener and live sessions.
type console struct {
	s        *Scheduler
	ln       *Listener
	sessions []*consoleSession
	nextID   int
}

// serve accepts sessions until the listener is closed or the loop ends (the deferred
// Close then removes the socket file).
func (con *console) serve() {
	defer con.ln.Close()
	for {
		conn, err := con.ln.AcceptConn()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "coro: console: %v (console stopped)\n", err)
			}
			return
		}
		if len(con.sessions) >= maxConsoleSessions {
			con.evictIdlest()
		}
		con.nextID++
		ss := &consoleSession{con: con, conn: conn, id: con.nextID, since: nanotime()}
		con.sessions = append(con.sessions, ss)
		con.s.SpawnNamed(fmt.Sprintf("coro.console session %d", ss.id), ss.run)
	}
}

// evictIdlest closes the session that has been waiting for input the longest (or,
// if every one is busy, the oldest): its coroutine wakes from Read or Write with
// net.ErrClosed and ends.
func (con *console) evictIdlest() {
	var victim *consoleSession
	for _, ss := range con.sessions {
		if victim == nil || (!ss.busy && victim.busy) || (ss.busy == victim.busy && ss.since < victim.since) {
			victim = ss
		}
	}
	victim.conn.Close()
	con.drop(victim)
}

func (con *console) drop(ss *consoleSession) {
	for i, x := range con.sessions {
		if x == ss {
			con.sessions = append(con.sessions[:i], con.sessions[i+1:]...)
			return
		}
	}
}

// consoleSession is one client connection.
type consoleSession struct {
	con   *console
	conn  *Conn
	id    int
	busy  bool  // running a command or writing its reply
	since int64 // nanotime of the last line read (or of the connection)
	lines int   // lines read, for error messages
}

// run reads lines and answers each with one reply block until the client leaves,
// says quit, or the reply cannot be written in time.
func (ss *consoleSession) run() {
	defer func() {
		ss.conn.Close()
		ss.con.drop(ss)
	}()
	lr := lineReader{conn: ss.conn, buf: make([]byte, maxConsoleLine+1)}
	for {
		line, tooLong, err := lr.next()
		if err != nil {
			return // end of stream, closed or broken: nobody left to answer
		}
		ss.lines++
		ss.since = nanotime()
		ss.busy = true
		r, after := ss.execute(line, tooLong)
		if !ss.send(r) {
			return
		}
		ss.busy = false
		switch after {
		case afterQuit:
			return
		case afterExit:
			Exit() // does not return: the loop unwinds every coroutine, this one too
			return
		}
	}
}

// send writes one reply block, giving up after consoleWriteTimeout.
func (ss *consoleSession) send(r *reply) bool {
	ss.conn.SetWriteDeadline(time.Now().Add(consoleWriteTimeout))
	_, err := ss.conn.Write(r.finish())
	return err == nil
}

// after says what a session does once a reply is written.
type after uint8

const (
	afterNothing after = iota
	afterQuit          // close this session
	afterExit          // end the event loop
)

// execute checks a line and runs its command.
func (ss *consoleSession) execute(line []byte, tooLong bool) (*reply, after) {
	if tooLong {
		return errorReply("line %d is longer than %d bytes (dropped)", ss.lines, maxConsoleLine), afterNothing
	}
	line = bytes.TrimSuffix(line, []byte("\r")) // telnet and socat CRLF send \r\n
	if i, b, ok := notText(line); !ok {
		if b < 0 {
			return errorReply("line %d is not text: invalid UTF-8 at byte %d", ss.lines, i+1), afterNothing
		}
		return errorReply("line %d is not text: control byte 0x%02x at byte %d", ss.lines, b, i+1), afterNothing
	}
	text := strings.TrimSpace(string(line))
	if text == "" {
		return errorReply("empty line: type help for the commands"), afterNothing
	}
	name, rest, _ := strings.Cut(text, " ")
	cmd := findConsoleCommand(name)
	if cmd == nil {
		return errorReply("unknown command %q: type help for the commands", clip(name, 40)), afterNothing
	}
	return cmd.run(ss, strings.TrimSpace(rest))
}

// notText finds the first byte of line that is not printable text: invalid UTF-8
// (b is -1) or an ASCII control character other than tab. ok when there is none.
func notText(line []byte) (at int, b int, ok bool) {
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return i, int(c), false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		if r == utf8.RuneError && size == 1 {
			return i, -1, false
		}
		i += size
	}
	return 0, 0, true
}

// clip shortens s for quoting in a one-line message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// lineReader splits a session's input into lines of at most maxConsoleLine bytes,
// through a fixed buffer (len(buf) is maxConsoleLine+1: a longest line and its
// newline). A longer line is dropped up to its newline and reported once.
type lineReader struct {
	conn     *Conn
	buf      []byte
	r, w     int   // unread bytes are buf[r:w]
	skipping bool  // inside an overlong line
	err      error // the read error, reported once the buffered lines are used up
}

// next returns the next line without its newline (valid until the next call), or
// tooLong for an overlong line, or (nil, false, err) at the end of the input. A last
// line without a newline is returned as a line.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.r:lr.w], '\n'); i >= 0 {
			line = lr.buf[lr.r : lr.r+i]
			lr.r += i + 1
			if lr.skipping {
				lr.skipping = false
				return nil, true, nil
			}
			return line, false, nil
		}
		if lr.err != nil {
			switch {
			case lr.skipping:
				lr.skipping = false
				lr.r, lr.w = 0, 0
				return nil, true, nil
			case lr.r < lr.w:
				line = lr.buf[lr.r:lr.w]
				lr.r = lr.w
				return line, false, nil
			}
			return nil, false, lr.err
		}
		switch {
		case lr.skipping:
			lr.r, lr.w = 0, 0
		case lr.w-lr.r == len(lr.buf):
			lr.skipping = true // full, and no newline: an overlong line
			lr.r, lr.w = 0, 0
		case lr.r > 0:
			lr.w = copy(lr.buf, lr.buf[lr.r:lr.w])
			lr.r = 0
		}
		n, err := lr.conn.Read(lr.buf[lr.w:])
		lr.w += n
		if err != nil {
			lr.err = err
		}
	}
}

// reply is one reply block under construction: lines of text, capped at
// maxConsoleReply bytes. No line is empty, since an empty line ends the block.
type reply struct {
	b       []byte
	dropped int // lines left out over the cap
}

// line adds one line; control characters (a newline in a coroutine's name, say)
// become '?', so a line stays a line. An empty s adds nothing.
func (r *reply) line(s string) {
	if s == "" {
		return
	}
	if len(r.b)+len(s)+1 > maxConsoleReply {
		r.dropped++
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			c = '?'
		}
		r.b = append(r.b, c)
	}
	r.b = append(r.b, '\n')
}

func (r *reply) linef(format string, args ...any) { r.line(fmt.Sprintf(format, args...)) }

// text adds every non-empty line of s.
func (r *reply) text(s string) {
	for _, l := range strings.Split(s, "\n") {
		r.line(strings.TrimRight(l, "\r"))
	}
}

// finish ends the block: the note about lines left out, then the empty line.
func (r *reply) finish() []byte {
	if r.dropped > 0 {
		r.b = fmt.Appendf(r.b, "... %d more lines not shown (a reply is capped at %d bytes)\n", r.dropped, maxConsoleReply)
		r.dropped = 0
	}
	if len(r.b) == 0 {
		r.b = append(r.b, "ok\n"...)
	}
	return append(r.b, '\n')
}

// errorReply is a one-line error block: "error: " and the message, on one line.
func errorReply(format string, args ...any) *reply {
	msg := fmt.Sprintf(format, args...)
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
	r := &reply{}
	r.line("error: " + clip(msg, 400))
	return r
}
