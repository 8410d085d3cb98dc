package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/profops"
	"github.com/coroprof/coroprof/internal/render"
	"github.com/coroprof/coroprof/internal/report"
)

// Every run is one pipeline: read each input once (load), make one model (of a
// profile, or of the merge of several) or a comparison, then write each output the
// command line asks for (the outputs table), each through render.Write, the one
// switch of formats.

// viewFlags are the flags and arguments of the views and of -merge.
type viewFlags struct {
	top    int
	sort   string
	inputs []string // -merge: every PROFILE given
	set    []string // the flags given on the command line
}

func (v *viewFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&v.top, "top", 20, "with -text: the top `N` rows of each table (0: all)")
	fs.StringVar(&v.sort, "sort", "ticks", "with -text: rank rows by `COLUMN`: "+strings.Join(render.SortKeys(), ", "))
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
	if err := render.CheckSort(c.views.sort); err != nil {
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

// inputs are the profiles named on the command line, in order: PROFILE [BASELINE],
// or every PROFILE of -merge.
func (c *config) inputs() []string {
	switch {
	case c.merge:
		return c.views.inputs
	case c.baseline != "":
		return []string{c.profile, c.baseline}
	}
	return []string{c.profile}
}

// pprofOnly reports whether the only output asked for is a pprof file of one profile
// (or of a merge): then the model's tables are not needed, only the profile.
func pprofOnly(c *config) bool {
	return c.pprof != "" && !c.json && !c.text && c.out == "" && c.http == "" && c.baseline == ""
}

// load is the one read path: it reads every input once, then makes what the outputs
// render: the model of the profile or of the merge of several, or the comparison of
// PROFILE with BASELINE, or for a pprof file alone just the profile.
func load(c *config, prog *progress) (render.Input, error) {
	paths := c.inputs()
	ps := make([]*format.Profile, len(paths))
	for i, path := range paths {
		prog.stage("reading " + path)
		p, err := format.ReadFile(path)
		if err != nil {
			return render.Input{}, err // names the file, and the section, record and offset of a fault
		}
		ps[i] = p
	}
	p, name := ps[0], c.profile
	switch {
	case c.merge:
		in := make([]profops.Input, len(ps))
		for i := range ps {
			in[i] = profops.Input{Name: paths[i], Profile: ps[i]}
		}
		prog.stage("merging")
		merged, err := profops.Merge(in)
		if err != nil {
			return render.Input{}, err
		}
		p, name = merged, "merged profile"
	case c.baseline != "":
		prog.stage("comparing")
		diff, err := report.CompareProfiles(c.profile, ps[0], c.baseline, ps[1])
		if err != nil {
			return render.Input{}, err
		}
		return render.Input{Comparison: diff}, nil
	}
	if pprofOnly(c) {
		return render.Input{Profile: p}, nil
	}
	prog.stage("building the model")
	m, err := report.Build(p)
	if err != nil {
		return render.Input{}, fmt.Errorf("%s: %w", name, err)
	}
	if c.merge {
		m.Meta.Merged = len(ps)
	}
	return render.Input{Model: m}, nil
}

// output is one file (or stdout) the command writes: whether the command line asks
// for it, where it goes ("" is stdout) and in which of render's formats.
type output struct {
	want   func(c *config) bool
	path   func(c *config) string
	format func(c *config) string
}

// outputs are written in this order. -http serves instead of writing to stdout, and a
// -pprof file alone puts nothing on stdout (a pprof user does not want a page on the
// terminal); -o, -json or -text add the view.
var outputs = []output{
	{ // -pprof FILE
		want:   func(c *config) bool { return c.pprof != "" },
		path:   func(c *config) string { return c.pprof },
		format: func(*config) string { return render.Pprof },
	},
	{ // the view: HTML, or -json, or -text; to stdout or -o FILE
		want:   func(c *config) bool { return c.http == "" && (c.pprof == "" || c.json || c.text || c.out != "") },
		path:   func(c *config) string { return c.out },
		format: viewFormat,
	},
}

// viewFormat is the format of the view -json, -text or neither ask for.
func viewFormat(c *config) string {
	switch {
	case c.json:
		return render.JSON
	case c.text:
		return render.Text
	}
	return render.HTML
}

// renderOptions are the views' options from the command line.
func renderOptions(c *config) render.Options {
	return render.Options{Text: render.TextOptions{Top: c.views.top, Sort: c.views.sort}}
}

// renderViews is run's entry to every output: load once, then write each output
// asked for, then serve if -http asked for that.
func renderViews(c *config, stdout, stderr io.Writer, prog *progress) error {
	in, err := load(c, prog)
	if err != nil {
		return err
	}
	if err := checkSortMeasured(c, in); err != nil {
		return err // before any output is written
	}
	var wanted []output
	for _, o := range outputs {
		if o.want(c) {
			wanted = append(wanted, o)
		}
	}
	for i, o := range wanted {
		last := i == len(wanted)-1 && c.http == ""
		path, format := o.path(c), o.format(c)
		prog.stage("writing " + cmp.Or(path, format))
		err := writeOutput(path, stdout, func(w io.Writer) error {
			view := in
			if last {
				// Nothing after this output reads the inputs: drop them here, so the
				// collector may take what the view has done with (the profile, once
				// -pprof has converted it) while the output is encoded.
				in = render.Input{}
			}
			return render.Write(w, format, view, renderOptions(c))
		})
		if err != nil {
			return err
		}
	}
	if c.http != "" {
		return serveHTTP(c.http, in, stderr, nil, nil)
	}
	return nil
}

// checkSortMeasured refuses -sort on a quantity the profile did not measure (cpu or
// rusage in a ticks-only profile, samples without sampling): every row would be 0 and
// the ranking meaningless. It is bad input, not bad usage: the flag is valid, the file
// lacks the column.
func checkSortMeasured(c *config, in render.Input) error {
	if !c.text {
		return nil
	}
	type named struct {
		m    *report.Model
		name string
	}
	var ms []named
	switch {
	case in.Comparison != nil:
		n, o := in.Comparison.Models()
		ms = []named{{n, c.profile}, {o, c.baseline}}
	case in.Model != nil:
		name := c.profile
		if c.merge {
			name = "the merged profiles"
		}
		ms = []named{{in.Model, name}}
	}
	for _, x := range ms {
		if !render.Measures(x.m, c.views.sort) {
			return fmt.Errorf("-sort %s: %s was not measured in %s", c.views.sort, c.views.sort, x.name)
		}
	}
	return nil
}
