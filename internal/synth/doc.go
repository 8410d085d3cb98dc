// Package synth makes profiles for tests: Profile generates one of any size from a
// seed, Golden lists those kept in testdata/, and Hand is a small one with numbers
// picked by hand. They are test fixtures, kept out of package format's API.
package synth
