package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/profiler"
	coro "github.com/coroprof/coroprof/runtime"
)

// builtin is one built-in command: its name, its argument synopsis, one line of help,
// and the function that answers it (given the rest of the line, trimmed).
type builtin struct {
	name, args, help string
	run              func(ss *session, rest string) (*reply, after)
}

// builtins is the command table, in the order help lists it. (Filled in by init: help
// refers to the table itself.)
var builtins []builtin

func init() {
	builtins = []builtin{
		{"help", "", "this list", cmdHelp},
		{"ps", "", "list the loop's coroutines: id, name, state, wait reason, where each one waits", cmdPs},
		{"stack", "ID", "one coroutine's state, spawn site and goroutine stack", cmdStack},
		{"stats", "", "loop statistics: coroutines, run queue, timers, fds, slices, longest slice", cmdStats},
		{"profile", "start [-f] FILE | stop", "start the profiler writing to FILE (an existing FILE only if it is a profile, or with -f), or stop it and write the file", cmdProfile},
		{"latency", "[DURATION | off]", "show or set the latency warning threshold (e.g. 50ms)", cmdLatency},
		{"exit", "", "end the event loop: the program's EventLoop returns", cmdExit},
		{"quit", "", "close this session (the program goes on)", cmdQuit},
	}
}

func findBuiltin(name string) *builtin {
	for i := range builtins {
		if builtins[i].name == name {
			return &builtins[i]
		}
	}
	return nil
}

// A program's own commands (Handle).

// handler is one command registered with Handle.
type handler struct {
	name, help string
	fn         func(w io.Writer, args []string) error
}

var (
	handlersMu sync.Mutex
	handlers   []*handler // in registration order, as help lists them
)

// Limits of a program's commands.
const (
	maxNameLen = 32
	maxHelpLen = 200
)

// Handle adds the command name to every console of the program (those serving now
// and later), listed by help after the built-in ones, with its help line. A session's
// line "name ARG..." calls fn on the loop, from the session's coroutine, with the
// line's words after the name (split at spaces and tabs; the line has already passed
// the console's input rules: at most 4096 bytes, UTF-8 text without control
// characters), and sends what fn wrote as the reply. fn runs like any coroutine code:
// it may read the program's state without locks, and must not block the loop (use
// the runtime's blocking calls, or coro.Offload).
//
// The reply follows the built-in commands' rules: each line of output is one reply
// line, escaped (control characters, bidirectional controls and invalid UTF-8 shown as
// \x1b, \u202e, \xff: internal/termtext), empty lines are
// dropped (an empty line ends a reply block), and the reply is capped at 1 MB with a
// note of the lines left out. If fn returns an error, or panics, the reply is the one
// line "error: " and the message instead of fn's output, and the session goes on.
//
// name must be 1 to 32 characters of lower-case letters, digits, '-' and '_',
// starting with a letter, and must not be a built-in command or one already
// registered; help must be one line of at most 200 bytes of text; fn must not be nil.
// Handle returns an error naming the broken rule and registers nothing. Safe from any
// goroutine.
func Handle(name, help string, fn func(w io.Writer, args []string) error) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("console: Handle(%q): %w", clip(name, 40), err)
	}
	if len(help) > maxHelpLen {
		return fmt.Errorf("console: Handle(%q): help is %d bytes, more than %d", name, len(help), maxHelpLen)
	}
	if _, _, ok := notText([]byte(help)); !ok || strings.TrimSpace(help) == "" {
		return fmt.Errorf("console: Handle(%q): help must be one non-empty line of text (no control characters, valid UTF-8)", name)
	}
	if fn == nil {
		return fmt.Errorf("console: Handle(%q): nil function", name)
	}
	if findBuiltin(name) != nil {
		return fmt.Errorf("console: Handle(%q): %s is a built-in command", name, name)
	}
	handlersMu.Lock()
	defer handlersMu.Unlock()
	for _, h := range handlers {
		if h.name == name {
			return fmt.Errorf("console: Handle(%q): already registered", name)
		}
	}
	handlers = append(handlers, &handler{name: name, help: help, fn: fn})
	return nil
}

func checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("a command name is 1 to %d characters", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_'):
		default:
			return errors.New("a command name is lower-case letters, digits, '-' and '_', starting with a letter")
		}
	}
	return nil
}

func findHandler(name string) *handler {
	handlersMu.Lock()
	defer handlersMu.Unlock()
	for _, h := range handlers {
		if h.name == name {
			return h
		}
	}
	return nil
}

func allHandlers() []*handler {
	handlersMu.Lock()
	defer handlersMu.Unlock()
	return append([]*handler(nil), handlers...)
}

// replyWriter collects a handler's output for its reply; it never fails, and stops
// keeping bytes past the reply cap, counting the lines it left out for the reply's
// note.
type replyWriter struct {
	buf      bytes.Buffer
	dropped  int  // whole lines left out
	partial  bool // a line left out has no newline yet
	overflow bool
}

func (w *replyWriter) Write(p []byte) (int, error) {
	n := len(p)
	if !w.overflow {
		room := maxReply + 1 - w.buf.Len()
		if len(p) <= room {
			return w.buf.Write(p)
		}
		// Keep up to the last newline that fits: the rest is left out whole.
		keep := bytes.LastIndexByte(p[:room], '\n') + 1
		w.buf.Write(p[:keep])
		p = p[keep:]
		w.overflow = true
	}
	w.dropped += bytes.Count(p, []byte("\n"))
	if len(p) > 0 {
		w.partial = p[len(p)-1] != '\n'
	}
	return n, nil
}

// runHandler calls a program's command and turns its output or error into a reply.
func runHandler(h *handler, args []string) (r *reply) {
	var w replyWriter
	defer func() {
		if v := recover(); v != nil {
			if coro.Unwinding(v) {
				panic(v) // the loop is ending: let the runtime unwind this coroutine
			}
			r = errorReply("%s: panicked: %v", h.name, v)
		}
	}()
	if err := h.fn(&w, args); err != nil {
		return errorReply("%s: %v", h.name, err)
	}
	r = &reply{}
	r.text(w.buf.String())
	r.dropped += w.dropped
	if w.partial {
		r.dropped++
	}
	return r
}

// noArgs answers a command that takes no argument but got some.
func noArgs(name, rest string) *reply {
	if rest == "" {
		return nil
	}
	return errorReply("%s takes no argument (got %q)", name, clip(rest, 40))
}

func cmdHelp(ss *session, rest string) (*reply, after) {
	if r := noArgs("help", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("commands (one per line; every reply ends with an empty line):")
	for _, c := range builtins {
		r.linef("  %-28s %s", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	if hs := allHandlers(); len(hs) > 0 {
		r.line("this program's commands:")
		for _, h := range hs {
			r.linef("  %-28s %s", h.name, h.help)
		}
	}
	r.line("notes:")
	r.line("  ps and stack read every goroutine's stack (runtime.Stack, a brief stop of the world),")
	r.line("  so a parked coroutine's stack is where it waits; a coroutine that has not run yet has none.")
	r.line("  stats counts slices and the longest slice only while the latency check is on, to within its tick.")
	r.line("  profile FILE is relative to the program's working directory; an existing FILE that is not a profile is replaced only with -f, and keeps its mode.")
	return r, afterNothing
}

func cmdPs(ss *session, rest string) (*reply, after) {
	if r := noArgs("ps", rest); r != nil {
		return r, afterNothing
	}
	list := ss.con.s.Coroutines()
	var n [4]int
	for _, c := range list {
		if int(c.State) < len(n) {
			n[c.State]++
		}
	}
	r := &reply{}
	r.linef("%d coroutines: %d running, %d runnable, %d waiting", len(list),
		n[coro.StateRunning], n[coro.StateRunnable], n[coro.StateWaiting])
	r.linef("%6s  %-32s  %-8s  %-8s  %s", "ID", "NAME", "STATE", "WAIT", "WHERE")
	for _, c := range list {
		reason := "-"
		if c.State == coro.StateWaiting {
			reason = c.Reason.String()
		}
		where := c.Where
		if where == "" {
			where = "-"
		}
		r.linef("%6d  %-32s  %-8s  %-8s  %s", c.ID, c.Name, c.State, reason, where)
	}
	return r, afterNothing
}

func cmdStack(ss *session, rest string) (*reply, after) {
	if rest == "" || strings.ContainsAny(rest, " \t") {
		return errorReply("usage: stack ID (one coroutine ID, as ps lists them)"), afterNothing
	}
	id, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return errorReply("stack: %q is not a coroutine ID (a decimal number, as ps lists them)", clip(rest, 40)), afterNothing
	}
	c, ok := ss.con.s.Lookup(id)
	if !ok {
		return errorReply("stack: no live coroutine with ID %d on this loop", id), afterNothing
	}
	r := &reply{}
	state := c.State.String()
	if c.State == coro.StateWaiting {
		state += " (" + c.Reason.String() + ")"
	}
	r.linef("coroutine %d (%s): %s", c.ID, c.Name, state)
	if c.ParentID != 0 {
		r.linef("parent: %d", c.ParentID)
	}
	if c.Spawned != "" {
		r.linef("spawned at: %s", c.Spawned)
	}
	if c.Where != "" {
		r.linef("where: %s", c.Where)
	}
	if c.Stack == "" {
		r.line("stack: none (the coroutine has not run yet)")
		return r, afterNothing
	}
	r.line("stack:")
	r.text(c.Stack)
	return r, afterNothing
}

func cmdStats(ss *session, rest string) (*reply, after) {
	if r := noArgs("stats", rest); r != nil {
		return r, afterNothing
	}
	st, err := rt.LoopStats(ss.con.s)
	if err != nil {
		return errorReply("stats: %v", err), afterNothing
	}
	r := &reply{}
	r.linef("loop: %d", st.Loop)
	r.linef("coroutines: %d (%d running, %d runnable, %d waiting)", st.Coroutines,
		st.States[coro.StateRunning], st.States[coro.StateRunnable], st.States[coro.StateWaiting])
	var w []string
	for i, n := range st.Waiting {
		if n > 0 {
			w = append(w, fmt.Sprintf("%s %d", coro.WaitReason(i), n))
		}
	}
	if len(w) > 0 {
		r.linef("waiting: %s", strings.Join(w, ", "))
	}
	r.linef("run queue: %d", st.RunQueue)
	r.linef("timers: %d", st.Timers)
	r.linef("fds: %d (sockets registered with the poller)", st.FDs)
	if st.SliceCounting {
		r.linef("slices: %d", st.Slices)
	} else {
		r.linef("slices: %d (not counted now: the latency check is off)", st.Slices)
	}
	switch {
	case st.LongestSlice <= 0:
		r.line("longest slice: none measured yet")
	case st.SliceCounting:
		r.linef("longest slice: %v by coroutine %d (%s), to within %v", st.LongestSlice, st.LongestID, st.LongestName, st.SliceResolution)
	default:
		r.linef("longest slice: %v by coroutine %d (%s)", st.LongestSlice, st.LongestID, st.LongestName)
	}
	if st.LatencyWarning > 0 {
		r.linef("latency warning: %v", st.LatencyWarning)
	} else {
		r.line("latency warning: off")
	}
	r.linef("console sessions: %d", len(ss.con.sessions))
	r.linef("goroutines: %d (the whole process)", runtime.NumGoroutine())
	return r, afterNothing
}

// profileFile is the file the console's last "profile start" named, for the reply to
// "profile stop". Only console coroutines touch it, and a program's loops may each
// serve a console: hence the lock.
var (
	profileMu   sync.Mutex
	profileFile string
)

func cmdProfile(ss *session, rest string) (*reply, after) {
	sub, arg, _ := strings.Cut(rest, " ")
	arg = strings.TrimSpace(arg)
	switch sub {
	case "start":
		force := false
		if f, rest, _ := strings.Cut(arg, " "); f == "-f" {
			force, arg = true, strings.TrimSpace(rest)
		}
		if arg == "" {
			return errorReply("usage: profile start [-f] FILE"), afterNothing
		}
		abs, err := filepath.Abs(arg)
		if err != nil {
			abs = arg
		}
		if !force {
			if err := mayReplace(arg); err != nil {
				return errorReply("profile start: %v", err), afterNothing
			}
		}
		if err := profiler.Start(profiler.File(arg), profiler.AllLoops()); err != nil {
			return errorReply("profile start: %v", err), afterNothing
		}
		profileMu.Lock()
		profileFile = abs
		profileMu.Unlock()
		r := &reply{}
		r.linef("profiling; profile stop writes %s", abs)
		return r, afterNothing
	case "stop":
		if arg != "" {
			return errorReply("usage: profile stop (no argument)"), afterNothing
		}
		if err := profiler.Stop(); err != nil {
			return errorReply("profile stop: %v", err), afterNothing
		}
		profileMu.Lock()
		file := profileFile
		profileFile = ""
		profileMu.Unlock()
		r := &reply{}
		if file != "" {
			r.linef("profile written to %s", file)
		} else {
			r.line("profile written")
		}
		return r, afterNothing
	}
	return errorReply("usage: profile start [-f] FILE | profile stop"), afterNothing
}

// mayReplace is profile start's rule for an existing path (docs/console.md): a
// console user may be anyone who can reach the socket, and the program may be able to
// write files they could not, so an existing file is replaced only if it is a
// coroutine profile (it starts with the profile magic: an earlier profile start, or
// coro_profile.bin), or with profile start -f. A missing file, or a path that is not
// there yet, is fine; a directory is refused by the profiler's own check. A replaced
// file keeps its mode (internal/atomicfile).
func mayReplace(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // missing (the profiler's check says if it cannot be created)
	}
	if st.IsDir() {
		return nil // the profiler's check says "is a directory"
	}
	if st.Mode().IsRegular() {
		if f, err := os.Open(path); err == nil {
			magic := make([]byte, len(format.Magic))
			_, rerr := io.ReadFull(f, magic)
			f.Close()
			if rerr == nil && string(magic) == format.Magic {
				return nil
			}
		}
	}
	return fmt.Errorf("%s exists and is not a coroutine profile: not replacing it (profile start -f %s replaces it)", path, path)
}

func cmdLatency(ss *session, rest string) (*reply, after) {
	s := ss.con.s
	show := func(d time.Duration) string {
		if d <= 0 {
			return "off"
		}
		return d.String()
	}
	if rest == "" {
		st, err := rt.LoopStats(s)
		if err != nil {
			return errorReply("latency: %v", err), afterNothing
		}
		r := &reply{}
		r.linef("latency warning threshold: %s", show(st.LatencyWarning))
		return r, afterNothing
	}
	var d time.Duration
	if rest != "off" {
		var err error
		d, err = time.ParseDuration(rest)
		if err != nil || d < 0 {
			return errorReply("latency: %q is not a duration (e.g. 50ms, 1s, 0 or off)", clip(rest, 40)), afterNothing
		}
		// A nonzero duration that parses below 1µs (0.000001ns rounds to 0) would
		// quietly turn the check off, or ask for a precision it does not have.
		if d < time.Microsecond && strings.ContainsAny(rest, "123456789") {
			return errorReply("latency: %q is below 1µs: give 1µs or more, or 0 or off to turn the warning off", clip(rest, 40)), afterNothing
		}
	}
	prev := s.SetLatencyWarning(d)
	r := &reply{}
	r.linef("latency warning threshold: %s (was %s)", show(d), show(prev))
	return r, afterNothing
}

func cmdExit(ss *session, rest string) (*reply, after) {
	if r := noArgs("exit", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("exiting: the event loop ends and its coroutines are unwound")
	return r, afterExit
}

func cmdQuit(ss *session, rest string) (*reply, after) {
	if r := noArgs("quit", rest); r != nil {
		return r, afterNothing
	}
	r := &reply{}
	r.line("bye")
	return r, afterQuit
}
