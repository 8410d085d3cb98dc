package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/report"
)

// The views beyond one profile's HTML page: -pprof, -json, -text, -http, comparing
// with a BASELINE, and -merge. They share one pipeline: read the inputs, build one
// model (a profile, or the merge of several) or a comparison, then write each output
// asked for.

// viewFlags are the flags and arguments only these views use.
type viewFlags struct {
	top    int
	sort   string
	inputs []string // -merge: every PROFILE given
	set    []string // the flags given on the command line
}

func (v *viewFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&v.top, "top", 20, "with -text: the top `N` rows of each table (0: all)")
	fs.StringVar(&v.sort, "sort", "ticks", "with -text: rank rows by `COLUMN`: "+strings.Join(report.SortKeys(), ", "))
}

// checkViews rejects combinations that cannot mean anything.
func checkViews(c *config) error {
	switch {
	case c.json && c.text:
		return &usageError{"-json and -text both given: choose one"}
	case c.http != "" && (c.json || c.text || c.out != ""):
		return &usageError{"-http serves the report and the pprof UI: it takes no -json, -text or -o"}
	case c.views.top < 0:
		return &usageError{fmt.Sprintf("-top %d: want 0 (all rows) or more", c.views.top)}
	}
	if !c.text {
		for _, f := range c.views.set {
			if f == "top" || f == "sort" {
				return &usageError{"-" + f + " ranks the rows of -text, which was not given"}
			}
		}
	}
	if err := report.CheckSort(c.views.sort); err != nil {
		return &usageError{"-sort: " + err.Error()}
	}
	if c.http != "" {
		if err := checkAddr(c.http); err != nil {
			return &usageError{"-http " + c.http + ": " + err.Error()}
		}
	}
	return nil
}

// httpAddr is -http's ADDR as listened on: "8080" means ":8080" (localhost).
func httpAddr(addr string) string {
	if !strings.Contains(addr, ":") {
		return ":" + addr
	}
	return addr
}

// checkAddr validates -http's ADDR before any input is read, so a typo is bad usage
// said in one line rather than an error from inside pprof's driver.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(httpAddr(addr))
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return errors.New(ae.Err + " (want [HOST]:PORT)")
		}
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// wantsViews reports whether the run needs more than the single HTML page.
func wantsViews(c *config) bool {
	return c.pprof != "" || c.json || c.text || c.merge || c.http != "" || c.baseline != ""
}

// loaded is what the inputs became: one model, or a comparison; or, for -pprof alone,
// just the profile (the model's tables are not needed to write a pprof file).
type loaded struct {
	profile *format.Profile
	model   *report.Model
	cmp     *report.Comparison
}

// pprofOnly reports whether the only output asked for is a pprof file of one profile
// (or of a merge).
func pprofOnly(c *config) bool {
	return c.pprof != "" && !c.json && !c.text && c.out == "" && c.http == "" && c.baseline == ""
}

func readProfile(path string, prog *progress) (*format.Profile, error) {
	prog.stage("reading " + path)
	return format.ReadFile(path) // the error names the file, and where in it the fault is
}

func load(c *config, prog *progress) (*loaded, error) {
	switch {
	case c.merge:
		in := make([]profops.Input, len(c.views.inputs))
		for i, path := range c.views.inputs {
			p, err := readProfile(path, prog)
			if err != nil {
				return nil, err
			}
			in[i] = profops.Input{Name: path, Profile: p}
		}
		prog.stage("merging")
		p, err := profops.Merge(in)
		if err != nil {
			return nil, err
		}
		if pprofOnly(c) {
			return &loaded{profile: p}, nil
		}
		prog.stage("building the model")
		m, err := report.Build(p)
		if err != nil {
			return nil, fmt.Errorf("merged profile: %w", err)
		}
		m.Meta.Merged = len(in)
		return &loaded{model: m}, nil
	case c.baseline != "":
		n, err := readProfile(c.profile, prog)
		if err != nil {
			return nil, err
		}
		o, err := readProfile(c.baseline, prog)
		if err != nil {
			return nil, err
		}
		prog.stage("comparing")
		cmp, err := report.CompareProfiles(c.profile, n, c.baseline, o)
		if err != nil {
			return nil, err
		}
		return &loaded{cmp: cmp}, nil
	}
	p, err := readProfile(c.profile, prog)
	if err != nil {
		return nil, err
	}
	if pprofOnly(c) {
		return &loaded{profile: p}, nil
	}
	prog.stage("building the model")
	m, err := report.Build(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.profile, err)
	}
	return &loaded{model: m}, nil
}

// renderViews is run's entry to every output: the single HTML page goes to render as
// before; the rest is loaded once and written to each output asked for. With -pprof
// or -http alone nothing goes to stdout (a pprof user does not want a page on the
// terminal); -o, -json or -text add it.
func renderViews(c *config, stdout, stderr io.Writer, prog *progress) error {
	if !wantsViews(c) {
		return render(c, stdout, prog)
	}
	l, err := load(c, prog)
	if err != nil {
		return err
	}
	if err := checkSortMeasured(c, l); err != nil {
		return err // before any output is written
	}
	if c.pprof != "" {
		prog.stage("writing " + c.pprof)
		if err := writePprof(c.pprof, l); err != nil {
			return err
		}
	}
	if c.http != "" {
		return serveHTTP(c.http, l, stderr, nil, nil)
	}
	if c.pprof != "" && !c.json && !c.text && c.out == "" {
		return nil
	}
	prog.stage("writing the output")
	return writeOutput(c.out, stdout, func(w io.Writer) error { return writeView(w, c, l) })
}

// checkSortMeasured refuses -sort on a quantity the profile did not measure (cpu or
// rusage in a ticks-only profile, samples without sampling): every row would be 0 and
// the ranking meaningless. It is bad input, not bad usage: the flag is valid, the file
// lacks the column.
func checkSortMeasured(c *config, l *loaded) error {
	if !c.text {
		return nil
	}
	type named struct {
		m    *report.Model
		name string
	}
	var ms []named
	switch {
	case l.cmp != nil:
		n, o := l.cmp.Models()
		ms = []named{{n, c.profile}, {o, c.baseline}}
	case l.model != nil:
		name := c.profile
		if c.merge {
			name = "the merged profiles"
		}
		ms = []named{{l.model, name}}
	}
	for _, x := range ms {
		if !x.m.Measures(c.views.sort) {
			return fmt.Errorf("-sort %s: %s was not measured in %s", c.views.sort, c.views.sort, x.name)
		}
	}
	return nil
}

// writeView writes the stdout view: JSON, text or HTML, of a model or a comparison.
func writeView(w io.Writer, c *config, l *loaded) error {
	o := report.TextOptions{Top: c.views.top, Sort: c.views.sort}
	if l.cmp != nil {
		switch {
		case c.json:
			return report.WriteCompareJSON(w, l.cmp)
		case c.text:
			return report.WriteCompareText(w, l.cmp, o)
		}
		return report.WriteCompareHTML(w, l.cmp)
	}
	switch {
	case c.json:
		return report.WriteJSON(w, l.model)
	case c.text:
		return report.WriteText(w, l.model, o)
	}
	return report.WriteHTML(w, l.model, report.HTMLOptions{})
}
