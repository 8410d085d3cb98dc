package main

import (
	"testing"

	"github.com/coroprof/coroprof/web"
)

// needEcharts fails a test that renders a page when the embedded echarts runtime does
// not match its committed checksum (web/third_party/echarts).
func needEcharts(t *testing.T) {
	t.Helper()
	if _, err := web.Echarts(); err != nil {
		t.Fatal(err)
	}
}
