package web

import (
	"html/template"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPinnedVersion: the Makefile fetches the echarts release web.EchartsVersion names.
func TestPinnedVersion(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Skip("no Makefile:", err)
	}
	m := regexp.MustCompile(`(?m)^ECHARTS_VERSION\s*=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile sets no ECHARTS_VERSION")
	}
	if string(m[1]) != EchartsVersion {
		t.Errorf("Makefile fetches echarts %s, web.EchartsVersion is %s", m[1], EchartsVersion)
	}
}

func TestEmbedded(t *testing.T) {
	tm, err := Templates(template.FuncMap{"seconds": func(float64) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if tm.Lookup("report.html") == nil {
		t.Error("report.html is not among the embedded templates")
	}
	for _, name := range []string{"report.js", "report.css"} {
		s, err := Static(name)
		if err != nil || len(s) == 0 {
			t.Errorf("Static(%s): %d bytes, %v", name, len(s), err)
		}
	}
	if _, err := Static("missing.js"); err == nil {
		t.Error("Static of a missing file succeeded")
	}
	js, err := Echarts()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		if !strings.Contains(err.Error(), "make assets") {
			t.Errorf("missing runtime error does not say what to run: %v", err)
		}
		t.Skip(err)
	}
	// The runtime is inlined in a <script> element: it must not close it.
	if strings.Contains(strings.ToLower(js), "</script") {
		t.Error("echarts.min.js contains </script")
	}
}
