package main

import (
	"fmt"
	"io"

	"github.com/coroprof/coroprof/internal/report"
	"github.com/google/pprof/profile"
)

// pprofOf is the pprof profile of what was loaded: the model's, or for a comparison
// the difference NEW − OLD (OLD's samples negated and labelled pprof::base, as
// `go tool pprof -diff_base` makes it).
func pprofOf(l *loaded) (*profile.Profile, error) {
	switch {
	case l.cmp != nil:
		return l.cmp.Pprof()
	case l.model != nil:
		return l.model.Pprof()
	}
	return report.Pprof(l.profile)
}

// writePprof writes the gzipped pprof profile to path, atomically.
func writePprof(path string, l *loaded) error {
	pp, err := pprofOf(l)
	if err != nil {
		return err
	}
	if l.model == nil && l.cmp == nil {
		l.profile = nil // nothing else needs it: let the collector have it while pprof encodes
	}
	return writeOutput(path, nil, func(w io.Writer) error {
		if err := pp.Write(w); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	})
}
