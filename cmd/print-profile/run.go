package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
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

flags:
`

// config is the parsed command line. The views other than HTML live in compare.go
// (dispatch), pprof.go, serve.go and internal/report.
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
	fs.StringVar(&c.out, "o", "", "write the report to `FILE` (replaced atomically) instead of stdout")
	fs.StringVar(&c.pprof, "pprof", "", "write a pprof profile to `FILE` (one sample type per measured quantity)")
	fs.BoolVar(&c.json, "json", false, "print the whole model as JSON")
	fs.BoolVar(&c.text, "text", false, "print the tables as text")
	fs.BoolVar(&c.merge, "merge", false, "merge the profiles given instead of comparing them")
	fs.StringVar(&c.http, "http", "", "serve the report and an interactive pprof UI on `ADDR` (localhost unless ADDR names a host)")
	c.views.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	switch rest := fs.Args(); {
	case c.merge && len(rest) > 0:
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
	return c, nil
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

func render(c *config, stdout io.Writer, prog *progress) error {
	prog.stage("reading " + c.profile)
	p, err := format.ReadFile(c.profile)
	if err != nil {
		return err // names the file, and the section, record and offset of a fault
	}
	prog.stage("building the model")
	m, err := report.Build(p)
	if err != nil {
		return fmt.Errorf("%s: %w", c.profile, err)
	}
	prog.stage("writing HTML")
	return writeOutput(c.out, stdout, func(w io.Writer) error {
		return report.WriteHTML(w, m, report.HTMLOptions{})
	})
}

// writeOutput runs write into stdout, or into a temporary file beside path that is
// renamed over path only once it is complete, so a failed or interrupted run never
// leaves a file that looks whole.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) (err error) {
	if path == "" {
		bw := bufio.NewWriterSize(stdout, 1<<16)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating the output: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// oneLine keeps an error to the single line print-profile promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
