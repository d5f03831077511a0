package render

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"time"

	"github.com/nftflow/nftflow/compiler"
)

// Short names of the datatype ids used by the listing.
const (
	lsTVerdict     = compiler.TypeVerdict
	lsTNFProto     = compiler.TypeNFProto
	lsTInteger     = compiler.TypeInteger
	lsTString      = compiler.TypeString
	lsTLLAddr      = compiler.TypeLLAddr
	lsTIPAddr      = compiler.TypeIPAddr
	lsTIP6Addr     = compiler.TypeIP6Addr
	lsTEtherAddr   = compiler.TypeEtherAddr
	lsTEtherType   = compiler.TypeEtherType
	lsTARPOp       = compiler.TypeARPOp
	lsTInetProto   = compiler.TypeInetProto
	lsTInetService = compiler.TypeInetService
	lsTTCPFlag     = compiler.TypeTCPFlag
	lsTDCCPPkt     = compiler.TypeDCCPPktType
	lsTTime        = compiler.TypeTime
	lsTMark        = compiler.TypeMark
	lsTIfindex     = compiler.TypeIfindex
	lsTClassid     = compiler.TypeClassid
	lsTUID         = compiler.TypeUID
	lsTGID         = compiler.TypeGID
	lsTCtState     = compiler.TypeCtState
	lsTCtDir       = compiler.TypeCtDir
	lsTCtStatus    = compiler.TypeCtStatus
	lsTCtLabel     = compiler.TypeCtLabel
	lsTPktType     = compiler.TypePktType
	lsTIfname      = compiler.TypeIfname
	lsTBoolean     = compiler.TypeBoolean
	lsTTimeHour    = compiler.TypeTimeHour
	lsTDevgroup    = compiler.TypeDevgroup
	lsTTimeDate    = compiler.TypeTimeDate
	lsTTimeDay     = compiler.TypeTimeDay
	lsTRealm       = compiler.TypeRealm
)

// lsDtype is a datatype as the listing needs it.
type lsDtype struct {
	id   uint32
	name string
	dt   *compiler.Datatype // nil for unknown ids
}

func lsDtypeByID(id uint32) lsDtype {
	d := compiler.DatatypeByID(id)
	if d == nil {
		return lsDtype{id: id, name: fmt.Sprintf("type%d", id)}
	}
	return lsDtype{id: id, name: d.Name, dt: d}
}

func lsDtypeByName(name string) lsDtype {
	d := compiler.DatatypeByName(name)
	if d == nil {
		return lsDtype{id: lsTInteger, name: "integer", dt: compiler.DatatypeByID(lsTInteger)}
	}
	return lsDtype{id: d.ID, name: d.Name, dt: d}
}

// bytesBits returns the size of the datatype in bytes, 0 when variable.
func (d lsDtype) bytes() int {
	if d.dt == nil || d.dt.Bits == 0 {
		return 0
	}
	return int(d.dt.Bits+7) / 8
}

// hostOrder reports whether values of the type sit in registers in host
// (little-endian) byte order.
func (d lsDtype) hostOrder() bool {
	return d.dt != nil && d.dt.Order == compiler.HostOrder
}

// lsToInt reads a register value as an unsigned integer.
func lsToInt(b []byte, host bool) *big.Int {
	v := make([]byte, len(b))
	copy(v, b)
	if host {
		for i, j := 0, len(v)-1; i < j; i, j = i+1, j-1 {
			v[i], v[j] = v[j], v[i]
		}
	}
	return new(big.Int).SetBytes(v)
}

// lsFormatValue prints register data b as a value of type d, as nft does.
// host says whether b is in host byte order.
func lsFormatValue(d lsDtype, b []byte, host bool) string {
	switch d.id {
	case lsTIPAddr:
		if len(b) == 4 {
			return netip.AddrFrom4([4]byte(b)).String()
		}
	case lsTIP6Addr:
		if len(b) == 16 {
			a := netip.AddrFrom16([16]byte(b))
			if a.Is4In6() {
				return "::ffff:" + a.Unmap().String()
			}
			// inet_ntop prints IPv4-compatible addresses (six zero words,
			// then a non-zero one) with a dotted quad.
			if lsAllZero(b[:12]) && (b[12] != 0 || b[13] != 0) {
				return "::" + netip.AddrFrom4([4]byte(b[12:])).String()
			}
			return a.String()
		}
	case lsTEtherAddr, lsTLLAddr:
		parts := make([]string, len(b))
		for i, c := range b {
			parts[i] = fmt.Sprintf("%02x", c)
		}
		return strings.Join(parts, ":")
	case lsTString, lsTIfname:
		return lsQuote(lsCString(b))
	case lsTVerdict:
		if len(b) >= 4 {
			return lsVerdictName(int32(binary.NativeEndian.Uint32(b)), "")
		}
	}
	v := lsToInt(b, host)
	switch d.id {
	case lsTCtLabel:
		// Labels print as bit numbers (nft has no connlabel.conf names).
		if v.BitLen() > 0 && new(big.Int).And(v, new(big.Int).Sub(v, big.NewInt(1))).Sign() == 0 {
			return fmt.Sprint(v.BitLen() - 1)
		}
	case lsTUID, lsTGID:
		return v.String()
	case lsTDevgroup, lsTRealm:
		if name, ok := d.dt.SymbolName(v.Uint64()); ok {
			return lsQuote(name)
		}
		return v.String()
	case lsTTime:
		return lsFormatDuration(time.Duration(v.Uint64()) * time.Millisecond)
	case lsTTimeDate:
		t := time.Unix(0, int64(v.Uint64())).Local()
		return lsQuote(t.Format("2006-01-02 15:04:05"))
	case lsTTimeDay:
		if name, ok := d.dt.SymbolName(v.Uint64()); ok {
			return lsQuote(strings.ToUpper(name[:1]) + name[1:])
		}
	case lsTTimeHour:
		sec := v.Uint64()
		if sec%60 != 0 {
			return lsQuote(fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60))
		}
		return lsQuote(fmt.Sprintf("%02d:%02d", sec/3600, sec/60%60))
	}
	if d.dt != nil && d.dt.Bitmask && len(d.dt.Symbols) > 0 {
		return lsFormatBitmask(d, v)
	}
	if d.dt != nil && d.dt.Bitmask {
		return fmt.Sprintf("0x%x", v)
	}
	if d.dt != nil && v.IsUint64() && d.id != lsTInetService {
		if name, ok := d.dt.SymbolName(v.Uint64()); ok {
			return name
		}
	}
	switch d.id {
	case lsTMark:
		return fmt.Sprintf("0x%08x", v)
	case lsTEtherType:
		return fmt.Sprintf("0x%04x", v)
	case compiler.TypeDSCP:
		return fmt.Sprintf("0x%02x", v)
	case lsTClassid:
		u := v.Uint64()
		return fmt.Sprintf("%x:%x", u>>16, u&0xffff)
	case lsTCtLabel, lsTCtState, lsTCtStatus, lsTTCPFlag:
		return fmt.Sprintf("0x%x", v)
	case lsTBoolean:
		if v.Sign() != 0 {
			return "exists"
		}
		return "missing"
	}
	return v.String()
}

// lsFormatBitmask prints flags as "a,b" in the order of the symbol table;
// unnamed bits print as hex.
func lsFormatBitmask(d lsDtype, v *big.Int) string {
	if !v.IsUint64() {
		return fmt.Sprintf("0x%x", v)
	}
	u := v.Uint64()
	if u == 0 {
		if name, ok := d.dt.SymbolName(0); ok {
			return name
		}
		return "0x0"
	}
	var parts []string
	for _, s := range d.dt.Symbols {
		if s.Value != 0 && u&s.Value == s.Value {
			parts = append(parts, s.Name)
			u &^= s.Value
		}
	}
	if u != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", u))
	}
	return strings.Join(parts, ",")
}

// lsCString returns b up to its first NUL.
func lsCString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func lsProtoName(p uint8) string {
	d := compiler.DatatypeByID(lsTInetProto)
	if name, ok := d.SymbolName(uint64(p)); ok {
		return name
	}
	return fmt.Sprint(p)
}

func lsVerdictName(code int32, chain string) string {
	switch code {
	case 0:
		return "drop"
	case 1:
		return "accept"
	case 3:
		return "queue"
	case -1:
		return "continue"
	case -2:
		return "break"
	case -3:
		return "jump " + chain
	case -4:
		return "goto " + chain
	case -5:
		return "return"
	}
	return fmt.Sprintf("verdict %d", code)
}

// lsPrefixLen returns the length of a contiguous leading-ones mask, or -1.
func lsPrefixLen(mask []byte) int {
	n := 0
	seenZero := false
	for _, c := range mask {
		for bit := 7; bit >= 0; bit-- {
			if c&(1<<bit) != 0 {
				if seenZero {
					return -1
				}
				n++
			} else {
				seenZero = true
			}
		}
	}
	return n
}

// lsRangeAsPrefix returns the prefix length when [lo, hi] is exactly a
// prefix block, or -1.
func lsRangeAsPrefix(lo, hi []byte) int {
	if len(lo) != len(hi) {
		return -1
	}
	n := len(lo) * 8
	i := 0
	for ; i < n; i++ {
		if lsBitAt(lo, i) != lsBitAt(hi, i) {
			break
		}
	}
	for j := i; j < n; j++ {
		if lsBitAt(lo, j) != 0 || lsBitAt(hi, j) != 1 {
			return -1
		}
	}
	return i
}

func lsBitAt(b []byte, i int) byte { return (b[i/8] >> (7 - i%8)) & 1 }
