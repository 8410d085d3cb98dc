package main

import (
	"os"
	"testing"

	"github.com/coroprof/coroprof/web"
)

// needEcharts skips a test that renders a page when the build has no echarts runtime
// (`make assets` not run), and fails it under CI, where make test fetches it first.
func needEcharts(t *testing.T) {
	t.Helper()
	if _, err := web.Echarts(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}
