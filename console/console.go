package console

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coroprof/coroprof/internal/hooks"
	"github.com/coroprof/coroprof/internal/termtext"
	coro "github.com/coroprof/coroprof/runtime"
)

// rt is the runtime's internal table: the loop counters for "stats" and the owner-only
// unix socket (internal/hooks).
var rt = hooks.Get[*coro.Scheduler, *coro.Coro]()

// Limits of the console; variables so that tests can shorten them.
var (
	// writeTimeout bounds the time one reply may take to be written; a client that
	// does not read for that long is disconnected.
	writeTimeout = 10 * time.Second
	// maxReply caps one reply's size; a longer listing is cut, with a line saying how
	// many lines were left out.
	maxReply = 1 << 20
)

const (
	// maxLine caps an input line (without its newline); a longer one is dropped and
	// answered with an error.
	maxLine = 4096
	// maxSessions caps simultaneous sessions; when a new client comes and the cap is
	// reached, the session idle for the longest is closed to make room, so abandoned
	// sessions cannot lock the console.
	maxSessions = 16
)

// Serve starts the debug console on the caller's loop (the default loop when called
// from outside any loop, before EventLoop), listening on address:
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
// Call Serve before EventLoop or from a coroutine (the socket belongs to the loop's
// poller); from another goroutine while the loop runs it fails at once, saying so
// (use coro.Call to run it on the loop). The console runs as coroutines: one that
// accepts, named "coro.console", and one per session. Like any coroutine they keep the loop alive, so a loop serving the console
// ends by Exit (the console's own "exit" command, SIGINT or SIGTERM), not by running
// out of coroutines.
func Serve(network, address string) error {
	_, err := serve(network, address)
	return err
}

// serve is Serve returning the console, so tests can look at it (on its loop).
func serve(network, address string) (*console, error) {
	var ln net.Listener
	var err error
	switch network {
	case "unix":
		ln, err = listenUnix(address)
	case "tcp", "tcp4", "tcp6":
		ln, err = listenTCP(network, address)
	default:
		err = fmt.Errorf("network %q: want unix, or tcp, tcp4, tcp6 on a loopback address", network)
	}
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	s := coro.CurrentScheduler()
	if s == nil {
		s = coro.Default()
	}
	con := &console{s: s, ln: ln}
	s.SpawnNamed("coro.console", con.serve)
	return con, nil
}

// listenUnix checks the path and listens through the runtime (the socket's mode must
// be set before bind, on the socket itself; see runtime/console_listen.go).
func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("unix socket path is empty")
	}
	if path[0] == '@' || path[0] == 0 {
		return nil, fmt.Errorf("unix socket %q: abstract socket addresses have no permissions; use a file path", path)
	}
	return rt.ListenUnixOwner(path)
}

// listenTCP listens on a loopback TCP address and refuses any other.
func listenTCP(network, address string) (net.Listener, error) {
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
	return coro.Listen(network, net.JoinHostPort(ip.String(), port))
}

// console is one Serve: its loop, listener and live sessions. Its fields are only
// touched by its coroutines, on its loop.
type console struct {
	s        *coro.Scheduler
	ln       net.Listener
	sessions []*session
	nextID   int
}

// serve accepts sessions until the listener is closed or the loop ends (the deferred
// Close then removes the socket file).
func (con *console) serve() {
	defer con.ln.Close()
	for {
		conn, err := con.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "coro: console: %v (console stopped)\n", err)
			}
			return
		}
		if len(con.sessions) >= maxSessions {
			con.evictIdlest()
		}
		con.nextID++
		ss := &session{con: con, conn: conn, id: con.nextID, since: time.Now()}
		con.sessions = append(con.sessions, ss)
		con.s.SpawnNamed(fmt.Sprintf("coro.console session %d", ss.id), ss.run)
	}
}

// evictIdlest closes the session that has been waiting for input the longest (or,
// if every one is busy, the oldest): its coroutine wakes from Read or Write with
// net.ErrClosed and ends.
func (con *console) evictIdlest() {
	var victim *session
	for _, ss := range con.sessions {
		if victim == nil || (!ss.busy && victim.busy) || (ss.busy == victim.busy && ss.since.Before(victim.since)) {
			victim = ss
		}
	}
	victim.conn.Close()
	con.drop(victim)
}

func (con *console) drop(ss *session) {
	for i, x := range con.sessions {
		if x == ss {
			con.sessions = append(con.sessions[:i], con.sessions[i+1:]...)
			return
		}
	}
}

// session is one client connection.
type session struct {
	con   *console
	conn  net.Conn
	c     *coro.Coro // its coroutine, once it runs
	id    int
	busy  bool      // running a command or writing its reply
	since time.Time // when the last line was read (or the connection came)
	lines int       // lines read, for error messages
}

// run reads lines and answers each with one reply block until the client leaves,
// says quit, or the reply cannot be written in time.
func (ss *session) run() {
	ss.c = coro.Current()
	defer func() {
		ss.conn.Close()
		ss.con.drop(ss)
	}()
	lr := lineReader{conn: ss.conn, buf: make([]byte, maxLine+1)}
	for {
		line, tooLong, err := lr.next()
		if err != nil {
			return // end of stream, closed or broken: nobody left to answer
		}
		ss.lines++
		ss.since = time.Now()
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
			coro.Exit() // does not return: the loop unwinds every coroutine, this one too
			return
		}
	}
}

// send writes one reply block, giving up after writeTimeout.
func (ss *session) send(r *reply) bool {
	ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
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
func (ss *session) execute(line []byte, tooLong bool) (*reply, after) {
	if tooLong {
		return errorReply("line %d is longer than %d bytes (dropped)", ss.lines, maxLine), afterNothing
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
	if cmd := findBuiltin(name); cmd != nil {
		return cmd.run(ss, strings.TrimSpace(rest))
	}
	if h := findHandler(name); h != nil {
		return runHandler(h, strings.Fields(rest)), afterNothing
	}
	return errorReply("unknown command %q: type help for the commands", clip(name, 40)), afterNothing
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

// lineReader splits a session's input into lines of at most maxLine bytes, through a
// fixed buffer (len(buf) is maxLine+1: a longest line and its newline). A longer line
// is dropped up to its newline and reported once.
type lineReader struct {
	conn     net.Conn
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

// reply is one reply block under construction: lines of text, capped at maxReply
// bytes. No line is empty, since an empty line ends the block.
type reply struct {
	b       []byte
	dropped int // lines left out over the cap
}

// line adds one line, escaped so that it stays one line of plain text whatever it
// holds (a coroutine's name, a program's command output): control characters (C0,
// DEL and C1, which a terminal would act on, newlines that would split the block),
// bidirectional controls (RLO and the rest, which reorder what is shown) and invalid
// UTF-8 are shown as Go-style escapes (\x1b, \n, \u202e, \xff) and a backslash is
// doubled, by internal/termtext, print-profile -text's escaping too. An empty s adds
// nothing.
func (r *reply) line(s string) {
	if s == "" {
		return
	}
	s = termtext.Escape(s)
	if len(r.b)+len(s)+1 > maxReply {
		r.dropped++
		return
	}
	r.b = append(r.b, s...)
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
		r.b = fmt.Appendf(r.b, "... %d more lines not shown (a reply is capped at %d bytes)\n", r.dropped, maxReply)
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
