// Package kernel is the only nftflow package that opens netlink sockets: it
// sends model objects to the kernel and reads them back (nf_tables,
// ctnetlink conntrack, rtnetlink links), and holds the network namespace
// helpers (netns.go) the commands use for --netns.
//
// It imports model and never parser or render: it takes objects and
// returns objects and errors keyed to messages.
package kernel
