// Package model is the object model that compiler, kernel and render share:
// tables, chains, sets, flowtables, rules as netlink expression lists,
// conntrack flows and network links. It holds data only: no parsing, no
// sockets, no rendering. It imports none of nftflow's other packages.
package model
