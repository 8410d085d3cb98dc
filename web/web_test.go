package web

import (
	"crypto/sha256"
	"encoding/hex"
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
	// The functions the report's renderer (internal/render) gives the templates; web
	// cannot import it (it imports web), so their names are stood in for here.
	tm, err := Templates(template.FuncMap{
		"seconds":       func(float64) string { return "" },
		"counterLabels": func() []string { return nil },
		"counterCells":  func(any) []string { return nil },
	})
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
		t.Fatal(err)
	}
	if !strings.Contains(js, "echarts") || len(js) < 500_000 {
		t.Errorf("embedded echarts runtime: %d bytes, does not look like echarts.min.js", len(js))
	}
	// The runtime is inlined in a <script> element: it must not close it.
	if strings.Contains(strings.ToLower(js), "</script") {
		t.Error("echarts.min.js contains </script")
	}
}

// TestEchartsChecksum: the committed bundle matches the checksum file the Makefile's
// re-fetch and CI verify, and the licence and notice are beside it.
func TestEchartsChecksum(t *testing.T) {
	js, err := os.ReadFile("third_party/echarts/echarts.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("third_party/echarts/echarts.min.js.sha256")
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.Sum256(js)
	if want := hex.EncodeToString(got[:]) + "  echarts.min.js\n"; string(sum) != want {
		t.Errorf("echarts.min.js.sha256 is %q, want %q (sha256sum's format)", sum, want)
	}
	if _, err := verified(js, sum); err != nil {
		t.Error(err)
	}
	bad := append([]byte(nil), js...)
	bad[len(bad)/2] ^= 1
	if _, err := verified(bad, sum); err == nil || !strings.Contains(err.Error(), "make echarts") {
		t.Errorf("a changed byte: %v, want an error naming make echarts", err)
	}
	for _, f := range []string{"LICENSE", "NOTICE"} {
		b, err := os.ReadFile("third_party/echarts/" + f)
		if err != nil || !strings.Contains(string(b), "Apache") {
			t.Errorf("third_party/echarts/%s: %v (want the package's Apache licence text)", f, err)
		}
	}
}
