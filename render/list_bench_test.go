package render

import (
	"bytes"
	"testing"

	"github.com/nftflow/nftflow/model"
)

// BenchmarkRuleText decodes `ip saddr 10.0.0.1 tcp dport 1024 counter
// accept`, the rule of bench/list.bench.sh.
func BenchmarkRuleText(b *testing.B) {
	r := &model.Rule{Family: model.FamilyIP, Exprs: []model.Expr{
		&model.Payload{DReg: 1, Base: model.BaseNetwork, Offset: 12, Len: 4}, &model.Cmp{SReg: 1, Data: []byte{10, 0, 0, 1}},
		&model.Meta{Key: 16, DReg: 1}, &model.Cmp{SReg: 1, Data: []byte{6}},
		&model.Payload{DReg: 1, Base: model.BaseTransport, Offset: 2, Len: 2}, &model.Cmp{SReg: 1, Data: []byte{4, 0}},
		&model.Counter{}, &model.Immediate{Verdict: &model.Verdict{Code: 1}},
	}}
	l := NewLister(&bytes.Buffer{}, ListOptions{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.RuleText(r)
	}
}
