package main

import (
	"fmt"
	"io"

	"github.com/google/pprof/profile"
)

// pprofOf is the pprof profile of what was loaded: the model's, or for a comparison
// the difference NEW − OLD (OLD's samples negated and labelled pprof::base, as
// `go tool pprof -diff_base` makes it).
func pprofOf(l *loaded) (*profile.Profile, error) {
	if l.cmp != nil {
		return l.cmp.Pprof()
	}
	return l.model.Pprof()
}

// writePprof writes the gzipped pprof profile to path, atomically.
func writePprof(path string, l *loaded) error {
	pp, err := pprofOf(l)
	if err != nil {
		return err
	}
	return writeOutput(path, nil, func(w io.Writer) error {
		if err := pp.Write(w); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	})
}
