package compiler

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nftflow/nftflow/parser"
)

// encodeInt lays v out in n bytes in the given byte order.
func encodeInt(v *big.Int, n uint32, order ByteOrder) []byte {
	b := make([]byte, n)
	vb := v.Bytes() // big-endian, minimal
	if len(vb) > int(n) {
		vb = vb[len(vb)-int(n):]
	}
	copy(b[int(n)-len(vb):], vb)
	if order == HostOrder {
		reverse(b)
	}
	return b
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

// parseNumber parses decimal, 0x hex, 0b binary and 0o/leading-0 octal.
func parseNumber(s string) (*big.Int, bool) {
	v := new(big.Int)
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		_, ok := v.SetString(s[2:], 16)
		return v, ok
	case strings.HasPrefix(s, "0b"):
		_, ok := v.SetString(s[2:], 2)
		return v, ok
	}
	_, ok := v.SetString(s, 10)
	return v, ok
}

// parseTime parses nft time strings: 1d2h3m4s5ms, or a bare number of
// seconds.
func parseTime(s string) (time.Duration, bool) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, true
	}
	var d time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		n, _ := strconv.ParseUint(s[:i], 10, 64)
		s = s[i:]
		j := 0
		for j < len(s) && (s[j] < '0' || s[j] > '9') {
			j++
		}
		unit := s[:j]
		s = s[j:]
		switch unit {
		case "d":
			d += time.Duration(n) * 24 * time.Hour
		case "h":
			d += time.Duration(n) * time.Hour
		case "m":
			d += time.Duration(n) * time.Minute
		case "s":
			d += time.Duration(n) * time.Second
		case "ms":
			d += time.Duration(n) * time.Millisecond
		default:
			return 0, false
		}
	}
	return d, true
}

// litText returns the text of a literal-like node (Literal, Ident).
func litText(e parser.Expr) (string, bool) {
	switch x := e.(type) {
	case *parser.Literal:
		return x.Value(), true
	case *parser.Ident:
		return x.Name(), true
	case *parser.Paren:
		return litText(x.X)
	}
	return "", false
}

// encodeScalar encodes one constant of datatype dt (nbits wide) into
// nbytes bytes, in the type's byte order. It understands symbols, numbers,
// addresses, strings and the '|' combination of flags.
func encodeScalar(dt *Datatype, nbytes uint32, order ByteOrder, e parser.Expr) ([]byte, error) {
	switch x := e.(type) {
	case *parser.Binary:
		if x.Op == "&" || x.Op == "and" || x.Op == "^" || x.Op == "xor" {
			a, err := encodeScalar(dt, nbytes, order, x.X)
			if err != nil {
				return nil, err
			}
			b, err := encodeScalar(dt, nbytes, order, x.Y)
			if err != nil {
				return nil, err
			}
			for i := range a {
				if x.Op == "&" || x.Op == "and" {
					a[i] &= b[i]
				} else {
					a[i] ^= b[i]
				}
			}
			return a, nil
		}
		if x.Op == "|" || x.Op == "or" {
			a, err := encodeScalar(dt, nbytes, order, x.X)
			if err != nil {
				return nil, err
			}
			b, err := encodeScalar(dt, nbytes, order, x.Y)
			if err != nil {
				return nil, err
			}
			for i := range a {
				a[i] |= b[i]
			}
			return a, nil
		}
	case *parser.List:
		out := make([]byte, nbytes)
		for _, el := range x.Elems {
			b, err := encodeScalar(dt, nbytes, order, el)
			if err != nil {
				return nil, err
			}
			for i := range out {
				out[i] |= b[i]
			}
		}
		return out, nil
	case *parser.Paren:
		return encodeScalar(dt, nbytes, order, x.X)
	}
	s, ok := litText(e)
	if !ok {
		return nil, fmt.Errorf("unsupported value %T", e)
	}
	quoted := false
	if l, ok := e.(*parser.Literal); ok && l.Kind == parser.LitString {
		quoted = true
	}
	if dt != nil && !quoted {
		if v, ok := dt.Lookup(s); ok {
			return encodeInt(new(big.Int).SetUint64(v), nbytes, order), nil
		}
	}
	name := ""
	if dt != nil {
		name = dt.Name
	}
	switch {
	case dt != nil && (dt.IsA("string") || name == "ifname"):
		b := make([]byte, nbytes)
		copy(b, s)
		return b, nil
	case name == "ct_label":
		// labels are bit numbers (connlabel.conf names are not read)
		n, err := strconv.ParseUint(s, 0, 8)
		if err != nil || n > 127 {
			return nil, fmt.Errorf("bad ct label %q", s)
		}
		return encodeInt(new(big.Int).Lsh(big.NewInt(1), uint(n)), nbytes, order), nil
	case name == "iface_index" && s == "lo":
		// the loopback device is ifindex 1 in every network namespace
		return encodeInt(big.NewInt(1), nbytes, order), nil
	case name == "ipv4_addr" || name == "ipv6_addr":
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		a, err := netip.ParseAddr(s)
		if err != nil {
			if v, ok := parseNumber(s); ok {
				return encodeInt(v, nbytes, BigEndian), nil
			}
			return nil, fmt.Errorf("bad address %q", s)
		}
		if b := a.AsSlice(); len(b) == int(nbytes) {
			return b, nil
		}
		if a.Is4In6() && nbytes == 4 {
			return a.Unmap().AsSlice(), nil
		}
		return nil, fmt.Errorf("%s is not an %s", s, name)
	case name == "ether_addr" || name == "ll_addr":
		parts := strings.Split(s, ":")
		b := make([]byte, 0, len(parts))
		for _, p := range parts {
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad link layer address %q", s)
			}
			b = append(b, byte(v))
		}
		if len(b) != int(nbytes) {
			return nil, fmt.Errorf("bad link layer address %q", s)
		}
		return b, nil
	case name == "time" || name == "hour":
		if name == "hour" {
			if hh, mm, ok := strings.Cut(s, ":"); ok {
				h, _ := strconv.Atoi(hh)
				m, _ := strconv.Atoi(mm)
				return encodeInt(big.NewInt(int64(h*3600+m*60)), nbytes, order), nil
			}
		}
		if d, ok := parseTime(s); ok {
			return encodeInt(big.NewInt(d.Milliseconds()), nbytes, order), nil
		}
	case name == "mark" || name == "classid":
		if maj, mn, ok := strings.Cut(s, ":"); ok && name == "classid" {
			a, _ := strconv.ParseUint(maj, 16, 16)
			b, _ := strconv.ParseUint(mn, 16, 16)
			return encodeInt(new(big.Int).SetUint64(a<<16|b), nbytes, order), nil
		}
	}
	if v, ok := parseNumber(s); ok {
		return encodeInt(v, nbytes, order), nil
	}
	if dt != nil && dt.Name == "inet_service" {
		if v, err := strconv.ParseUint(s, 10, 16); err == nil {
			return encodeInt(new(big.Int).SetUint64(v), nbytes, order), nil
		}
	}
	return nil, fmt.Errorf("could not parse %s value %q", name, s)
}

// be16 and friends build register data.
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
