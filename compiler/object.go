package compiler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nftflow/nftflow/model"
	"github.com/nftflow/nftflow/parser"
)

// objWords flattens an object body line to words; "400/minute" parses as
// a prefix and comes back as one word.
func objWords(args []parser.Expr) []string {
	var out []string
	for _, a := range args {
		switch x := a.(type) {
		case *parser.Prefix:
			v, _ := litText(x.X)
			out = append(out, v+"/"+x.Len.Value())
		case *parser.List:
			out = append(out, objWords(x.Elems)...)
		default:
			out = append(out, words([]parser.Expr{a})...)
		}
	}
	return out
}

// Conntrack timeout states by protocol (the kernel's TCP_CONNTRACK_* and
// UDP_CT_* order), as ct timeout policies name them.
var ctTimeoutStates = map[string][]string{
	"tcp": {"syn_sent", "syn_recv", "established", "fin_wait", "close_wait", "last_ack", "time_wait", "close", "syn_sent2", "retrans", "unacknowledged"},
	"udp": {"unreplied", "replied"},
}

func (c *compiler) object(t *tableCtx, x *parser.ObjectBlock, verb model.Verb) {
	typ, ok := objTypes[x.Kind]
	if !ok {
		c.errorf(x, "unknown object type %q", x.Kind)
		return
	}
	o := &model.Object{Family: t.family, Table: t.name, Name: x.Name.Name(), Type: typ, Pos: c.pos(x)}
	if x.Comment != nil {
		o.Userdata = udataString(0, x.Comment.Name()) // NFTNL_UDATA_OBJ_COMMENT
	}
	if verb == model.VerbDelete || verb == model.VerbDestroy || verb == model.VerbReset {
		c.op(verb, o, x)
		return
	}
	var ws []string
	var policy *parser.SetExpr
	for _, l := range x.Lines {
		ws = append(ws, objWords(l.Args)...)
		for _, a := range l.Args {
			if se, ok := a.(*parser.SetExpr); ok {
				policy = se
			}
		}
	}
	num := func(i int) uint64 {
		v, _ := strconv.ParseUint(wordAt(ws, i), 10, 64)
		return v
	}
	l3 := uint16(t.family)
	protoNum := func(name string) uint8 {
		v, _ := DatatypeByName("inet_proto").Lookup(name)
		return uint8(v)
	}
	var err error
	switch x.Kind {
	case "counter":
		ctr := &model.Counter{}
		for i, w := range ws {
			switch w {
			case "packets":
				ctr.Packets = num(i + 1)
			case "bytes":
				ctr.Bytes = num(i + 1)
			}
		}
		o.Data = ctr
	case "quota":
		q := &model.Quota{}
		for i := 0; i < len(ws); i++ {
			switch w := ws[i]; w {
			case "over":
				q.Flags = 1
			case "until":
			case "used":
				q.Consumed = num(i+1) * max(byteUnits[wordAt(ws, i+2)], 1)
				i += 2
			default:
				if v, perr := strconv.ParseUint(w, 10, 64); perr == nil {
					q.Bytes = v * max(byteUnits[wordAt(ws, i+1)], 1)
					i++
				}
			}
		}
		o.Data = q
	case "limit":
		o.Data, err = objLimit(ws)
	case "ct helper":
		h := &model.CtHelper{L3Proto: l3}
		for i, w := range ws {
			switch w {
			case "type":
				h.Name = parser.Unquote(wordAt(ws, i+1))
				if wordAt(ws, i+2) == "protocol" {
					h.L4Proto = protoNum(wordAt(ws, i+3))
				}
			case "l3proto":
				h.L3Proto = l3proto(wordAt(ws, i+1), l3)
			}
		}
		o.Data = h
	case "ct expectation":
		e := &model.CtExpect{L3Proto: l3}
		for i, w := range ws {
			switch w {
			case "protocol":
				e.L4Proto = protoNum(wordAt(ws, i+1))
			case "dport":
				e.DPort = uint16(num(i + 1))
			case "timeout":
				d, ok := parseTime(wordAt(ws, i+1))
				if !ok {
					err = fmt.Errorf("bad timeout %q", wordAt(ws, i+1))
				}
				e.Timeout = uint32(d / time.Millisecond)
			case "size":
				e.Size = uint8(num(i + 1))
			case "l3proto":
				e.L3Proto = l3proto(wordAt(ws, i+1), l3)
			}
		}
		o.Data = e
	case "ct timeout":
		ct := &model.CtTimeout{L3Proto: l3, Policy: map[uint32]uint32{}}
		proto := ""
		for i, w := range ws {
			switch w {
			case "protocol":
				proto = wordAt(ws, i+1)
				ct.L4Proto = protoNum(proto)
			case "l3proto":
				ct.L3Proto = l3proto(wordAt(ws, i+1), l3)
			}
		}
		if policy != nil {
			err = ctTimeoutPolicy(ct, proto, policy)
		}
		o.Data = ct
	case "synproxy":
		sp := &model.Synproxy{}
		for i, w := range ws {
			switch w {
			case "mss":
				sp.MSS, sp.Flags = uint16(num(i+1)), sp.Flags|1
			case "wscale":
				sp.Wscale, sp.Flags = uint8(num(i+1)), sp.Flags|2
			case "timestamp":
				sp.Flags |= 8 // NF_SYNPROXY_OPT_TIMESTAMP
			case "sack-perm":
				sp.Flags |= 4 // NF_SYNPROXY_OPT_SACK_PERM
			}
		}
		o.Data = sp
	case "secmark":
		o.Data = &model.Secmark{Ctx: parser.Unquote(strings.Join(ws, " "))}
	}
	if err != nil {
		c.errorf(x, "%v", err)
		return
	}
	c.op(verb, o, x)
}

// objLimit parses "rate [over] N[/unit | bytes/unit] [burst N [bytes]]".
func objLimit(ws []string) (*model.Limit, error) {
	lm := &model.Limit{}
	for i := 0; i < len(ws); i++ {
		switch w := ws[i]; w {
		case "rate":
		case "over":
			lm.Flags = 1
		case "burst":
			b, err := strconv.ParseUint(wordAt(ws, i+1), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("bad burst %q", wordAt(ws, i+1))
			}
			if u := byteUnits[wordAt(ws, i+2)]; u != 0 {
				b *= u
				i++
			} else if wordAt(ws, i+2) == "packets" {
				i++
			}
			lm.Burst = uint32(b)
			i++
		default:
			num, per, ok := strings.Cut(w, "/")
			v, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad rate %q", w)
			}
			if !ok {
				// "1024 bytes/second"
				unit, p, _ := strings.Cut(wordAt(ws, i+1), "/")
				if byteUnits[unit] == 0 {
					return nil, fmt.Errorf("bad rate unit %q", wordAt(ws, i+1))
				}
				v *= byteUnits[unit]
				lm.Type = 1
				per = p
				i++
			}
			lm.Rate = v
			lm.Unit = rateUnits[per]
			if lm.Unit == 0 {
				return nil, fmt.Errorf("bad rate period %q", per)
			}
		}
	}
	if lm.Burst == 0 && lm.Type == 0 {
		lm.Burst = 5
	}
	return lm, nil
}

func ctTimeoutPolicy(ct *model.CtTimeout, proto string, se *parser.SetExpr) error {
	states := ctTimeoutStates[proto]
	for _, el := range se.Elems() {
		var k, v string
		switch x := el.(type) {
		case *parser.MapElem:
			k, _ = litText(x.Key)
			v, _ = litText(x.Value)
		default:
			s, _ := litText(el)
			k, v, _ = strings.Cut(s, ":")
		}
		idx := -1
		for i, st := range states {
			if st == strings.TrimSpace(k) {
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("unknown %s conntrack state %q", proto, k)
		}
		d, ok := parseTime(strings.TrimSpace(v))
		if !ok {
			return fmt.Errorf("bad timeout %q", v)
		}
		ct.Policy[uint32(idx)] = uint32(d / time.Second)
	}
	return nil
}

// l3proto maps an l3proto keyword (a family name) to its NFPROTO value.
func l3proto(w string, def uint16) uint16 {
	if f, ok := model.ParseFamily(w); ok {
		return uint16(f)
	}
	if v, ok := DatatypeByName("nf_proto").Lookup(w); ok {
		return uint16(v)
	}
	return def
}
