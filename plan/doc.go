// Package plan computes the smallest nf_tables batch that makes the
// kernel's tables equal to the tables a ruleset file declares: unchanged
// rules keep their handles and counters, changed rules are replaced in
// place, set elements are added and removed one by one, and objects the
// file does not mention are left alone.
//
// It is pure logic over model objects: the desired tables (compiled from a
// file) and the current ones (read from the kernel) go in, a model.Batch
// and a list of changes for people come out. It imports model only, never
// parser, compiler, kernel or render, and opens no sockets.
package plan
