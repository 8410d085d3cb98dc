// Package web holds what print-profile's HTML page is made of: the html/template files
// in templates/, the page's own script and style sheet, and the echarts runtime, all
// embedded in the binary so the page is one self-contained file.
//
// The echarts runtime is third-party code, committed unmodified with its licence under
// third_party/echarts/ (its README.md says where it comes from and how `make echarts`
// re-fetches and verifies it), so a fresh clone builds a complete print-profile with Go
// alone.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"sync"
)

// EchartsVersion is the echarts release go-echarts v2.6.7 targets (its README and
// docs/en-us/dive-into.md name v5.4.3); the Makefile's echarts target pins the same.
const EchartsVersion = "5.4.3"

//go:embed templates
var templates embed.FS

//go:embed third_party/echarts/echarts.min.js third_party/echarts/echarts.min.js.sha256
var echarts embed.FS

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

// Echarts returns the echarts runtime (echarts.min.js). It fails only when the embedded
// copy does not match the SHA-256 committed beside it (an edited or truncated file):
// checked once, at the first call.
var Echarts = sync.OnceValues(func() (string, error) {
	const dir = "third_party/echarts/"
	js, err := fs.ReadFile(echarts, dir+"echarts.min.js")
	if err != nil {
		return "", err
	}
	sum, err := fs.ReadFile(echarts, dir+"echarts.min.js.sha256")
	if err != nil {
		return "", err
	}
	return verified(js, sum)
})

// verified returns js if its SHA-256 is the one sum (sha256sum's format) names.
func verified(js, sum []byte) (string, error) {
	want, _, _ := strings.Cut(string(sum), " ")
	if got := sha256.Sum256(js); hex.EncodeToString(got[:]) != want {
		return "", fmt.Errorf("web/third_party/echarts/echarts.min.js does not match its SHA-256 in echarts.min.js.sha256 (run make echarts to fetch echarts %s again)", EchartsVersion)
	}
	return string(js), nil
}
