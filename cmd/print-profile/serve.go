package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coroprof/coroprof/internal/render"
	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
)

// -http ADDR: pprof's own web UI (graph, flame graph, top, peek, source) through
// github.com/google/pprof/driver, fed the profile in memory, beside the HTML report.
// The driver is given a flag set that holds exactly the arguments we choose, a fetcher
// that hands over our profile, a UI that never prompts, and an HTTP server hook so we
// own the listener: pprof's pages under /ui/, the report at /report, an index at /.
// An ADDR without a host (":8080") binds localhost, as pprof itself does: a profile
// names functions, files and hosts, and should not be on the network by accident.

// Paths served besides pprof's UI.
const (
	pathUI     = "/ui/"
	pathReport = "/report"
)

// serveHTTP serves until stop is closed (never, when stop is nil). ready, if not nil,
// is called with the base URL once the listener is open.
func serveHTTP(addr string, in render.Input, stderr io.Writer, ready func(url string), stop <-chan struct{}) error {
	addr = httpAddr(addr) // "-http 8080" means port 8080 on localhost
	pp, base, err := uiProfiles(in)
	if err != nil {
		return err
	}
	// The report is rendered once, up front, so a fault shows at once, not on a click.
	var page bytes.Buffer
	reportErr := render.Write(&page, render.HTML, in, render.Options{})
	if reportErr != nil {
		fmt.Fprintf(stderr, "print-profile: the report will not be served: %s\n", oneLine(reportErr))
	}
	args := []string{"-http=" + addr, "-no_browser", "-symbolize=none"}
	sources := map[string]*profile.Profile{"coroprof": pp}
	if base != nil {
		args = append(args, "-diff_base=baseline")
		sources["baseline"] = base
	}
	args = append(args, "coroprof")
	fs := &pprofFlags{fs: flag.NewFlagSet("pprof", flag.ContinueOnError), args: args}
	fs.fs.SetOutput(io.Discard)
	return driver.PProf(&driver.Options{
		Flagset: fs,
		Fetch:   fetcher(sources),
		UI:      &pprofUI{w: stderr},
		HTTPServer: func(a *driver.HTTPServerArgs) error {
			return listenAndServe(a, page.Bytes(), reportErr, stderr, ready, stop)
		},
	})
}

// uiProfiles are the profiles the pprof UI shows: one, or NEW with OLD as its
// -diff_base (so the UI's own diff view, with percentages of OLD, applies).
func uiProfiles(in render.Input) (pp, base *profile.Profile, err error) {
	if in.Comparison == nil {
		pp, err = render.PprofProfile(in.Model.Profile())
		return pp, nil, err
	}
	n, o := in.Comparison.Models()
	if pp, err = render.PprofProfile(n.Profile()); err != nil {
		return nil, nil, err
	}
	base, err = render.PprofProfile(o.Profile())
	return pp, base, err
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>coroprof</title></head>
<body style="font: 15px system-ui, sans-serif; margin: 2em">
<h1>coroprof</h1>
<ul>
<li><a href="report">the report</a> ({{.}})</li>
<li><a href="ui/">pprof</a>: flame graph, graph, top, peek, source; <code>sample</code> chooses cpu, wall, ticks, parked, …;
<code>tagfocus</code> on <code>coro_name</code> narrows to coroutines</li>
</ul>
</body></html>
`))

func listenAndServe(a *driver.HTTPServerArgs, page []byte, reportErr error, stderr io.Writer, ready func(string), stop <-chan struct{}) error {
	ln, err := net.Listen("tcp", a.Hostport)
	if err != nil {
		return fmt.Errorf("-http: %w", err)
	}
	// pprof's handlers are keyed by exact path, relative to the prefix they are served
	// under (their redirects are relative), as in pprof's own server.
	ui := http.StripPrefix(strings.TrimSuffix(pathUI, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := a.Handlers[r.URL.Path]
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	mux := http.NewServeMux()
	mux.Handle(pathUI, ui)
	mux.HandleFunc(pathReport, func(w http.ResponseWriter, r *http.Request) {
		if reportErr != nil {
			http.Error(w, reportErr.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexPage.Execute(w, fmt.Sprintf("%d bytes", len(page)))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stderr, "print-profile: serving on %s (pprof UI at %s, report at %s); interrupt to stop\n",
		url, strings.TrimSuffix(url, "/")+pathUI, strings.TrimSuffix(url, "/")+pathReport)
	if ready != nil {
		ready(url)
	}
	if stop != nil {
		go func() {
			<-stop
			srv.Close()
		}()
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("-http: %w", err)
	}
	return nil
}

// fetcher hands the driver our profiles by source name (copies: the driver edits
// what it is given).
type fetcher map[string]*profile.Profile

func (f fetcher) Fetch(src string, _, _ time.Duration) (*profile.Profile, string, error) {
	p, ok := f[src]
	if !ok {
		return nil, "", fmt.Errorf("no profile %q", src)
	}
	// An empty source URL: pprof would otherwise treat the profile as fetched from a
	// remote host and save a copy of it under $HOME/pprof.
	return p.Copy(), "", nil
}

// pprofFlags is the driver's command line: exactly the arguments we chose.
type pprofFlags struct {
	fs    *flag.FlagSet
	args  []string
	extra []string
}

func (f *pprofFlags) Bool(n string, d bool, u string) *bool          { return f.fs.Bool(n, d, u) }
func (f *pprofFlags) Int(n string, d int, u string) *int             { return f.fs.Int(n, d, u) }
func (f *pprofFlags) Float64(n string, d float64, u string) *float64 { return f.fs.Float64(n, d, u) }
func (f *pprofFlags) String(n, d, u string) *string                  { return f.fs.String(n, d, u) }
func (f *pprofFlags) StringList(n, d, u string) *[]*string {
	return &[]*string{f.fs.String(n, d, u)}
}
func (f *pprofFlags) ExtraUsage() string      { return strings.Join(f.extra, "\n") }
func (f *pprofFlags) AddExtraUsage(eu string) { f.extra = append(f.extra, eu) }
func (f *pprofFlags) Parse(usage func()) []string {
	f.fs.Usage = usage
	if err := f.fs.Parse(f.args); err != nil {
		return nil // the driver then says no source was given
	}
	return f.fs.Args()
}

// pprofUI is a UI that never prompts: the driver's messages go to stderr, except its
// "Serving web UI" line, which listenAndServe replaces with the real address.
type pprofUI struct{ w io.Writer }

func (u *pprofUI) ReadLine(string) (string, error) { return "", io.EOF }
func (u *pprofUI) Print(args ...interface{}) {
	msg := fmt.Sprint(args...)
	if strings.HasPrefix(msg, "Serving web UI") {
		return
	}
	fmt.Fprintln(u.w, "pprof:", strings.TrimRight(msg, "\n"))
}
func (u *pprofUI) PrintErr(args ...interface{})        { u.Print(args...) }
func (u *pprofUI) IsTerminal() bool                    { return false }
func (u *pprofUI) WantBrowser() bool                   { return false }
func (u *pprofUI) SetAutoComplete(func(string) string) {}
