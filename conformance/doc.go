// Package conformance runs nftflow against the nftables project's own test
// data (the shared corpus, see internal/corpus) and checks each suite's
// count against ratchet.txt, so progress never silently regresses.
//
// Run it with `make conformance`; each suite prints one line
// "SUITE passed/total". Suites skip cleanly when the corpus is absent.
package conformance
