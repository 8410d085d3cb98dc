package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/coroprof/coroprof/internal/atomicfile"
)

// Exit statuses.
const (
	exitOK    = 0
	exitInput = 1 // unreadable or invalid input, or the output could not be written
	exitUsage = 2
)

const usage = `usage: print-profile [flags] PROFILE [BASELINE]
       print-profile -merge [flags] PROFILE...

Renders PROFILE (a coro_profile.bin written by the profiler) as one self-contained
HTML page on stdout: open it from a file, offline. With BASELINE, shows NEW (PROFILE)
minus OLD (BASELINE), matching coroutines and functions by name. -merge sums profiles
of several processes into one report.

  print-profile -pprof cpu.pb.gz PROFILE    then: go tool pprof cpu.pb.gz
  print-profile -text -top 10 -sort cpu PROFILE
  print-profile -json PROFILE | jq .coroutines    (keys: docs/JSON.md)
  print-profile -http :8080 PROFILE         pprof's web UI and the report, on localhost

pprof sample types: samples, cpu (the default when measured), wall, ticks, utime,
stime, minflt … nivcsw, parked, parks, runnable; labels coro_name, coro_id, loop,
spawn_site, wait_reason; synthetic frames <main>, <wait>, <coroutine NAME>,
<wait: REASON>, <runnable>. Try: go tool pprof -sample_index=wall -tags cpu.pb.gz

Flags may come before or after the profiles; -- ends them. An output (-o, -pprof)
may not be an input or the other output; "-" is standard output. A regular output
file is written to a temporary file beside it (.FILE.tmp-N, removed by the next run if
a crash left it) and renamed over FILE when complete, keeping FILE's mode (0666 less
the umask when new); a symbolic link is followed and stays a link; a device or FIFO
(/dev/null, a pipe) is written in place; a directory is refused. Exit status: 0
success, 1 bad input or an output that could not be written, 2 bad usage.

flags:
`

// config is the parsed command line. views.go reads the inputs and writes the
// outputs (through internal/render), serve.go serves -http.
type config struct {
	out      string // -o: write to this file (atomically) instead of stdout
	pprof    string // -pprof FILE
	json     bool
	text     bool
	merge    bool
	http     string
	profile  string
	baseline string
	views    viewFlags
}

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parseArgs(args []string, stdout io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("print-profile", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.StringVar(&c.out, "o", "", "write the report to `FILE` (replaced atomically; - is stdout) instead of stdout")
	fs.StringVar(&c.pprof, "pprof", "", "write a pprof profile to `FILE` (replaced atomically; - is stdout; one sample type per measured quantity)")
	fs.BoolVar(&c.json, "json", false, "print the whole model as JSON")
	fs.BoolVar(&c.text, "text", false, "print the tables as text")
	fs.BoolVar(&c.merge, "merge", false, "merge the profiles given instead of comparing them")
	fs.StringVar(&c.http, "http", "", "serve the report and an interactive pprof UI on `ADDR` (localhost unless ADDR names a host)")
	c.views.register(fs)
	flags, rest := splitArgs(fs, args)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	rest = append(fs.Args(), rest...) // fs.Args() holds what follows a "--" in flags
	fs.Visit(func(f *flag.Flag) { c.views.set = append(c.views.set, f.Name) })
	switch {
	case c.merge && len(rest) == 1:
		return nil, &usageError{"-merge needs at least two profiles, got one: " + rest[0]}
	case c.merge && len(rest) > 1:
		c.profile, c.views.inputs = rest[0], rest
	case len(rest) == 0:
		return nil, &usageError{"no PROFILE given (print-profile -h for usage)"}
	case len(rest) == 1:
		c.profile = rest[0]
	case len(rest) == 2:
		c.profile, c.baseline = rest[0], rest[1]
	default:
		return nil, &usageError{fmt.Sprintf("too many arguments: %q (want PROFILE [BASELINE])", rest)}
	}
	if err := checkViews(c); err != nil {
		return nil, err
	}
	if err := checkOutputs(c); err != nil {
		return nil, err
	}
	return c, nil
}

// splitArgs separates flags from operands so flags may follow PROFILE, as in
// `print-profile small.bin -text`: an argument starting with "-" is a flag, taking the
// next argument as its value unless it is boolean or written -flag=value; "--" ends
// the flags (it is kept, so fs.Parse drops it and leaves what follows as operands);
// a lone "-" is an operand. An unknown flag is left for fs.Parse to report.
func splitArgs(fs *flag.FlagSet, args []string) (flags, operands []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(flags, args[i:]...), operands
		}
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, operands
}

// checkOutputs refuses an output file that is one of the inputs, or the other output
// ("-", standard output, may be named by one of them only):
// the atomic rename would replace the profile being read with the report, and exit 0.
// Paths are compared cleaned and absolute, and, when both exist, by os.SameFile (so a
// link or another spelling of the same file is caught too).
func checkOutputs(c *config) error {
	inputs := []string{c.profile}
	if c.baseline != "" {
		inputs = append(inputs, c.baseline)
	}
	if c.merge {
		inputs = c.views.inputs
	}
	if c.pprof == "-" && (c.out != "" || c.json || c.text) {
		return &usageError{"-pprof - and the report would both go to standard output: give one of them a file"}
	}
	outs := []struct{ flag, path string }{{"-o", c.out}, {"-pprof", c.pprof}}
	for i, o := range outs {
		if o.path == "" || o.path == "-" {
			continue
		}
		for _, in := range inputs {
			if sameFile(o.path, in) {
				return &usageError{fmt.Sprintf("%s %s is also an input profile: refusing to overwrite it", o.flag, o.path)}
			}
		}
		for _, o2 := range outs[i+1:] {
			if o2.path != "" && sameFile(o.path, o2.path) {
				return &usageError{fmt.Sprintf("%s %s and %s %s are the same file: give each output its own", o.flag, o.path, o2.flag, o2.path)}
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	if abs, err := filepath.Abs(a); err == nil {
		a = abs
	}
	if abs, err := filepath.Abs(b); err == nil {
		b = abs
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// run is print-profile without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "print-profile: %s\n", oneLine(err))
		return exitUsage
	}
	prog := newProgress(stderr)
	defer prog.done()
	if err := renderViews(c, stdout, stderr, prog); err != nil {
		fmt.Fprintf(stderr, "print-profile: %s\n", oneLine(err))
		return exitInput
	}
	return exitOK
}

// writeOutput runs write into stdout (path "" or "-"), or into path under
// atomicfile's policy: a regular file (or a new one) is written to a temporary file
// beside it and renamed over it only once complete, keeping its mode (a new file gets
// 0666 less the umask); a device or FIFO is written in place; a symbolic link is
// followed; a directory is refused. So a failed or interrupted run never leaves a file
// that looks whole, and an interrupt (SIGINT, SIGTERM) while the temporary exists
// removes it before the process ends. Errors name path, never the temporary file.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) (err error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(stdout, 1<<16)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("writing to standard output: %w", err)
		}
		return nil
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	stopWatch := removeOnSignal(f.TempName())
	defer func() {
		if err != nil {
			f.Abort()
		}
		stopWatch()
	}()
	if err := write(f); err != nil {
		if ae := (*atomicfile.Error)(nil); errors.As(err, &ae) {
			return ae // "writing PATH: no space left on device", whatever the view wrapped round it
		}
		return err
	}
	return f.Commit()
}

// interrupted ends the process after an interrupt removed the temporary output; tests
// replace it.
var interrupted = func(sig os.Signal) {
	fmt.Fprintf(os.Stderr, "print-profile: %v: the output was not written\n", sig)
	code := 128 + int(syscall.SIGINT)
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code) // the status a shell reports for a process killed by sig
}

// removeOnSignal removes tmp if SIGINT or SIGTERM arrives before the returned stop is
// called, then calls interrupted. Without it the default action would end the process
// and leave the partial temporary file behind.
func removeOnSignal(tmp string) (stop func()) {
	if tmp == "" {
		return func() {} // written in place: nothing to remove
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case sig := <-sigs:
			os.Remove(tmp)
			interrupted(sig)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		<-finished
	}
}

// oneLine keeps an error to the single line print-profile promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
