package compiler

import "github.com/nftflow/nftflow/model"

// SystemFacts is a System made of facts gathered beforehand: read from the
// kernel (kernel.ReadSystem), or loaded from a saved topology with the
// features of a chosen kernel version (model.FeaturesForVersion).
type SystemFacts struct {
	Topo model.Topology
	Feat model.Features
}

// Topology returns the devices and routes.
func (s SystemFacts) Topology() model.Topology { return s.Topo }

// Features returns the kernel's features.
func (s SystemFacts) Features() model.Features { return s.Feat }

var _ System = SystemFacts{}
