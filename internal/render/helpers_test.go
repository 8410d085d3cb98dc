package render

import (
	"testing"

	"github.com/coroprof/coroprof/format"
	"github.com/coroprof/coroprof/internal/report"
)

// mustBuild is the model of p, with the renderers' methods.
func mustBuild(t *testing.T, p *format.Profile) model {
	t.Helper()
	m, err := report.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return model{m}
}
