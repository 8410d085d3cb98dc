// Package web holds what print-profile's HTML page is made of: the html/template files
// in templates/, the page's own script and style sheet, and the echarts runtime, all
// embedded in the binary so the page is one self-contained file.
//
// The echarts runtime is third-party code fetched at build time (`make assets`, which
// runs `npm pack echarts@` + EchartsVersion into assets/), never committed. A directory is
// embedded rather than the file because //go:embed of a missing file breaks the
// build; a missing runtime is instead reported when a page is rendered.
package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
)

// EchartsVersion is the echarts release go-echarts v2.6.7 targets (its README and
// docs/en-us/dive-into.md name v5.4.3); the Makefile's assets target pins the same.
const EchartsVersion = "5.4.3"

//go:embed templates
var templates embed.FS

//go:embed assets
var assets embed.FS

// ErrNoEcharts is returned when the build did not fetch the echarts runtime.
var ErrNoEcharts = errors.New("echarts runtime missing: run `make assets` (it fetches echarts " + EchartsVersion + " from the npm registry into web/assets/) and rebuild")

// Templates parses every *.html template with funcs available to them.
func Templates(funcs template.FuncMap) (*template.Template, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing embedded templates: %w", err)
	}
	return t, nil
}

// Static returns one of the page's own static files from templates/ (report.js,
// report.css): trusted text written in this repository, inlined verbatim.
func Static(name string) (string, error) {
	b, err := fs.ReadFile(templates, "templates/"+name)
	if err != nil {
		return "", fmt.Errorf("embedded file %s: %w", name, err)
	}
	return string(b), nil
}

// Echarts returns the echarts runtime (echarts.min.js), or ErrNoEcharts.
func Echarts() (string, error) {
	b, err := fs.ReadFile(assets, "assets/echarts.min.js")
	if err != nil || len(b) == 0 {
		return "", ErrNoEcharts
	}
	return string(b), nil
}
