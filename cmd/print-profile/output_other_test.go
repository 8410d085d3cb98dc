//go:build !linux

package main

import "errors"

// mknodMem: device numbers are the OS's own; the test makes Linux's only.
func mknodMem(string, int) error { return errors.ErrUnsupported }
